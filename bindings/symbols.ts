/**
 * The C ABI of `tracing_bridge.h`, declared once in Deno's FFI format and checked against
 * `Deno.ForeignLibraryInterface` (when Deno's types are loaded), and {@link bunSymbols}, its
 * mapping to `bun:ffi` definitions. Every parameter is commented with its C type. The
 * runtime-neutral calls over it are in `native.ts`; Deno adds its `nonblocking` variants in
 * `deno/ffi.ts`.
 * @module
 */

import type { SubscriberHandle } from "./native.ts";

/** The native types this table uses, in Deno's names. */
export type NativeType = "u32" | "u64" | "usize" | "pointer" | "buffer" | "function" | "void";

/** One C function, in Deno's format (Bun reads the same fields through {@link bunSymbols}). */
export interface ForeignFunctionShape {
  /** The exported name, when the key is an alias. */
  readonly name?: string;
  /** The parameter types. */
  readonly parameters: readonly NativeType[];
  /** The result type. */
  readonly result: NativeType;
  /** Deno only: run on Deno's blocking pool and return a Promise. */
  readonly nonblocking?: boolean;
}

/**
 * `Deno.ForeignLibraryInterface` under `deno check`; under `tsc` with Bun's types, where there is
 * no `Deno`, the shape of this table. A type only: nothing of `Deno` is touched at run time.
 */
export type ForeignLibraryInterface = typeof globalThis extends {
  Deno: { dlopen(path: never, symbols: infer Interface): unknown };
} ? Interface
  : Readonly<Record<string, ForeignFunctionShape>>;

/** `uint32_t tracing_bridge_abi_version(void)`: checked before the full table is opened. */
export const abiProbeSymbols = {
  tracing_bridge_abi_version: { parameters: [], result: "u32" },
} as const satisfies ForeignLibraryInterface;

/**
 * Every function of the C ABI, as `tracing_bridge.h` declares it (`tests/shared/header.ts`
 * checks the two against each other). `tracing_bridge_result` is a `uint32_t`. Buffers the
 * library reads or writes are `buffer`; handles are `pointer`; the hot path (`js_drain`,
 * `js_span_new`, `js_event`) passes `uint32_t` lengths.
 */
export const symbols = {
  ...abiProbeSymbols,
  /** `const char *tracing_bridge_version(void)` */
  tracing_bridge_version: { parameters: [], result: "pointer" },
  /** `tracing_bridge_result tracing_bridge_last_error_result(void)` */
  tracing_bridge_last_error_result: { parameters: [], result: "u32" },
  tracing_bridge_last_error_message: {
    parameters: [
      "buffer", // uint8_t *buf
      "usize", // size_t len
      "buffer", // size_t *out_written
    ],
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_subscriber_new: {
    parameters: [
      "buffer", // const uint8_t *config
      "usize", // size_t config_len
      "buffer", // struct tracing_bridge_subscriber **out
    ],
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_subscriber_install_global: {
    parameters: ["pointer"], // struct tracing_bridge_subscriber *subscriber
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_subscriber_install_current_thread: {
    parameters: ["pointer"], // struct tracing_bridge_subscriber *subscriber
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_subscriber_flush: {
    parameters: ["pointer"], // struct tracing_bridge_subscriber *subscriber
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_subscriber_uninstall: {
    parameters: ["pointer"], // struct tracing_bridge_subscriber *subscriber
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_subscriber_free: {
    parameters: ["pointer"], // struct tracing_bridge_subscriber *subscriber
    result: "void",
  },
  tracing_bridge_subscriber_set_filter: {
    parameters: [
      "pointer", // struct tracing_bridge_subscriber *subscriber
      "buffer", // const uint8_t *directives
      "usize", // size_t directives_len
    ],
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_subscriber_set_layer_filter: {
    parameters: [
      "pointer", // struct tracing_bridge_subscriber *subscriber
      "u32", // uint32_t layer_index
      "buffer", // const uint8_t *directives
      "usize", // size_t directives_len
    ],
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_flame_render_svg: {
    parameters: [
      "buffer", // const uint8_t *request
      "usize", // size_t request_len
      "buffer", // uint8_t *error_buf
      "usize", // size_t error_len
      "buffer", // size_t *out_error_written
    ],
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_subscriber_stop: {
    parameters: ["pointer"], // struct tracing_bridge_subscriber *subscriber
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_subscriber_shutdown: {
    parameters: [
      "pointer", // const struct tracing_bridge_subscriber *subscriber
      "buffer", // uint8_t *message
      "usize", // size_t message_len
      "buffer", // size_t *out_message_written
    ],
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_subscriber_flush_with_message: {
    parameters: [
      "pointer", // const struct tracing_bridge_subscriber *subscriber
      "buffer", // uint8_t *message
      "usize", // size_t message_len
      "buffer", // size_t *out_message_written
    ],
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_subscriber_dropped_spans: {
    parameters: [
      "pointer", // const struct tracing_bridge_subscriber *subscriber
      "buffer", // uint64_t *out_count
    ],
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_subscriber_diagnostics: {
    parameters: [
      "pointer", // const struct tracing_bridge_subscriber *subscriber
      "buffer", // uint8_t *buf
      "usize", // size_t len
      "buffer", // size_t *out_written
    ],
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_subscriber_js_attach: {
    parameters: [
      "pointer", // struct tracing_bridge_subscriber *subscriber
      "function", // void (*wake)(uint32_t layer_index, uint32_t direct_length); NULL detaches
      "buffer", // uint8_t *shared
      "u32", // uint32_t shared_len
    ],
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_subscriber_js_drain: {
    parameters: [
      "pointer", // struct tracing_bridge_subscriber *subscriber
      "u32", // uint32_t layer_index
      "buffer", // uint8_t *buf
      "u32", // uint32_t len
    ],
    result: "u32", // uint32_t: bytes written | TRACING_BRIDGE_DRAIN_MORE, or NEEDS_BUFFER | size
  },
  tracing_bridge_subscriber_js_pending: {
    parameters: ["pointer"], // const struct tracing_bridge_subscriber *subscriber
    result: "u32", // uint32_t: bit i set while layer i's queue holds records
  },
  tracing_bridge_subscriber_js_dropped: {
    parameters: [
      "pointer", // struct tracing_bridge_subscriber *subscriber
      "u32", // uint32_t layer_index
    ],
    result: "u64", // uint64_t
  },
  tracing_bridge_js_callsite_new: {
    parameters: [
      "u32", // uint32_t kind
      "u32", // uint32_t level
      "buffer", // const uint8_t *spec
      "u32", // uint32_t spec_len
      "buffer", // uint32_t *out_id
    ],
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_js_span_new: {
    parameters: [
      "u32", // uint32_t callsite
      "u32", // uint32_t parent
      "buffer", // const uint8_t *values
      "u32", // uint32_t values_len
    ],
    result: "u32", // uint32_t: the span handle, 0 on failure
  },
  tracing_bridge_js_span_new_entered: {
    parameters: [
      "u32", // uint32_t callsite
      "u32", // uint32_t parent
      "buffer", // const uint8_t *values
      "u32", // uint32_t values_len
    ],
    result: "u32", // uint32_t: the span handle (entered), 0 on failure
  },
  tracing_bridge_js_event: {
    parameters: [
      "u32", // uint32_t callsite
      "u32", // uint32_t parent
      "buffer", // const uint8_t *values
      "u32", // uint32_t values_len
    ],
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_js_span_enter: {
    parameters: ["u32"], // uint32_t span
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_js_span_exit: {
    parameters: ["u32"], // uint32_t span
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_js_span_end: {
    parameters: ["u32"], // uint32_t span
    result: "u32", // tracing_bridge_result
  },
  /** `uint32_t tracing_bridge_js_span_open_count(void)` */
  tracing_bridge_js_span_open_count: { parameters: [], result: "u32" },
  tracing_bridge_js_span_set_remote_parent: {
    parameters: [
      "u32", // uint32_t span
      "buffer", // const uint8_t *traceparent
      "u32", // uint32_t traceparent_len
      "buffer", // const uint8_t *tracestate
      "u32", // uint32_t tracestate_len
    ],
    result: "u32", // tracing_bridge_result
  },
  tracing_bridge_js_span_trace_context: {
    parameters: [
      "u32", // uint32_t span
      "buffer", // uint8_t *buf
      "u32", // uint32_t len
      "buffer", // uint32_t *out_written
    ],
    result: "u32", // tracing_bridge_result
  },
} as const satisfies ForeignLibraryInterface;

/** The functions Deno may also call off the JavaScript thread (`nonblocking`). */
export const OFF_THREAD_FUNCTIONS = [
  "tracing_bridge_subscriber_flush_with_message",
  "tracing_bridge_subscriber_shutdown",
  "tracing_bridge_flame_render_svg",
] as const;

/** The name of a function of {@link symbols}. */
export type SymbolName = keyof typeof symbols;

/** A `bun:ffi` type name, as `bun:ffi`'s `dlopen` accepts it. */
export type BunType = "u32" | "u64" | "ptr" | "void";

/** A `bun:ffi` function definition. */
export interface BunFunction {
  /** The parameter types. */
  readonly args: readonly BunType[];
  /** The result type. */
  readonly returns: BunType;
}

/**
 * Deno's names in Bun's: Bun accepts `"buffer"`, `"usize"` and `"function"` too, but `"ptr"`
 * takes a typed array as fast and also `null`, which a `"function"` slot rejects (detaching
 * passes NULL), and `size_t` is a `u64` in Bun either way.
 */
const BUN_TYPES: Record<NativeType, BunType> = {
  u32: "u32",
  u64: "u64",
  usize: "u64",
  pointer: "ptr",
  buffer: "ptr",
  function: "ptr",
  void: "void",
};

/** `table` as `bun:ffi` definitions, under the same keys. */
export function bunSymbols<const Table extends Readonly<Record<string, ForeignFunctionShape>>>(
  table: Table,
): { readonly [Name in keyof Table]: BunFunction } {
  return Object.fromEntries(
    Object.entries(table).map(([name, { parameters, result }]) => [
      name,
      { args: parameters.map((type) => BUN_TYPES[type]), returns: BUN_TYPES[result] },
    ]),
  ) as unknown as { readonly [Name in keyof Table]: BunFunction };
}

/** What a parameter of a native type takes from the shared code. */
type ParameterOf<Type> = Type extends "u32" | "usize" ? number
  : Type extends "u64" ? number | bigint
  : Type extends "buffer" ? ArrayBufferView | null
  : Type extends "pointer" ? SubscriberHandle
  : Type extends "function" ? unknown
  : never;

/** What a native type returns to the shared code. */
type ResultOf<Type> = Type extends "u32" ? number
  : Type extends "u64" ? number | bigint
  : Type extends "pointer" ? unknown
  : Type extends "void" ? void
  : never;

/** A function of the table as either runtime's `dlopen` returns it. */
type FunctionOf<Definition> = Definition extends {
  readonly parameters: infer Parameters extends readonly NativeType[];
  readonly result: infer Result;
} ? (...args: { readonly [Index in keyof Parameters]: ParameterOf<Parameters[Index]> }) => ResultOf<
    Result
  >
  : never;

/**
 * The opened functions of {@link symbols} with the JavaScript types both runtimes accept and
 * return (a pointer result is the runtime's own pointer value).
 */
export type SymbolFunctions = { readonly [Name in SymbolName]: FunctionOf<typeof symbols[Name]> };

/** The `nonblocking` variants of {@link OFF_THREAD_FUNCTIONS}: the same calls, as Promises. */
export type OffThreadFunctions = {
  readonly [Name in typeof OFF_THREAD_FUNCTIONS[number]]: (
    ...args: Parameters<SymbolFunctions[Name]>
  ) => Promise<number>;
};
