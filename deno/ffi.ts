/**
 * The Deno side of the FFI port: `Deno.dlopen` and the symbol table of the C ABI.
 * @module
 */

import type {
  NativeCallback,
  NativeLibrary,
  Runtime,
  SubscriberHandle,
} from "../bindings/native.ts";

const abiProbeSymbols = {
  /** uint32_t tracing_bridge_abi_version(void) */
  tracing_bridge_abi_version: { parameters: [], result: "u32" },
} as const;

/** The C ABI as these bindings call it: every name must be exported by the library. */
export const symbols = {
  ...abiProbeSymbols,
  /** const char *tracing_bridge_version(void) */
  tracing_bridge_version: { parameters: [], result: "pointer" },
  /** result tracing_bridge_last_error_result(void) */
  tracing_bridge_last_error_result: { parameters: [], result: "u32" },
  /** result tracing_bridge_last_error_message(uint8_t *buf, size_t len, size_t *out_written) */
  tracing_bridge_last_error_message: { parameters: ["buffer", "usize", "buffer"], result: "u32" },
  /** result tracing_bridge_subscriber_new(const uint8_t *config, size_t len, subscriber **out) */
  tracing_bridge_subscriber_new: { parameters: ["buffer", "usize", "buffer"], result: "u32" },
  /** result tracing_bridge_subscriber_install_global(subscriber *) */
  tracing_bridge_subscriber_install_global: { parameters: ["pointer"], result: "u32" },
  /** result tracing_bridge_subscriber_install_current_thread(subscriber *) */
  tracing_bridge_subscriber_install_current_thread: { parameters: ["pointer"], result: "u32" },
  /** result tracing_bridge_subscriber_flush(subscriber *) */
  tracing_bridge_subscriber_flush: { parameters: ["pointer"], result: "u32" },
  /** result tracing_bridge_subscriber_uninstall(subscriber *) */
  tracing_bridge_subscriber_uninstall: { parameters: ["pointer"], result: "u32" },
  /** void tracing_bridge_subscriber_free(subscriber *) */
  tracing_bridge_subscriber_free: { parameters: ["pointer"], result: "void" },
  /** result tracing_bridge_subscriber_js_attach(subscriber *, void (*wake)(uint32_t, uint32_t), uint8_t *shared, uint32_t len) */
  tracing_bridge_subscriber_js_attach: {
    parameters: ["pointer", "function", "buffer", "u32"],
    result: "u32",
  },
  /** uint32_t tracing_bridge_subscriber_js_drain(subscriber *, uint32_t layer, uint8_t *buf, uint32_t len) */
  tracing_bridge_subscriber_js_drain: {
    parameters: ["pointer", "u32", "buffer", "u32"],
    result: "u32",
  },
  /** uint32_t tracing_bridge_subscriber_js_pending(const subscriber *) */
  tracing_bridge_subscriber_js_pending: { parameters: ["pointer"], result: "u32" },
  /** uint64_t tracing_bridge_subscriber_js_dropped(subscriber *, uint32_t layer) */
  tracing_bridge_subscriber_js_dropped: { parameters: ["pointer", "u32"], result: "u64" },
  /** result tracing_bridge_subscriber_set_filter(subscriber *, const uint8_t *directives, size_t len) */
  tracing_bridge_subscriber_set_filter: {
    parameters: ["pointer", "buffer", "usize"],
    result: "u32",
  },
  /** result tracing_bridge_subscriber_set_layer_filter(subscriber *, uint32_t index, const uint8_t *directives, size_t len) */
  tracing_bridge_subscriber_set_layer_filter: {
    parameters: ["pointer", "u32", "buffer", "usize"],
    result: "u32",
  },
  /** result tracing_bridge_flame_render_svg(const uint8_t *request, size_t len, uint8_t *error_buf, size_t error_len, size_t *out_error_written) */
  tracing_bridge_flame_render_svg: {
    parameters: ["buffer", "usize", "buffer", "usize", "buffer"],
    result: "u32",
    nonblocking: true,
  },
  /** result tracing_bridge_subscriber_stop(subscriber *) */
  tracing_bridge_subscriber_stop: { parameters: ["pointer"], result: "u32" },
  /**
   * result tracing_bridge_subscriber_shutdown(const subscriber *, uint8_t *message,
   *                                           size_t message_len, size_t *out_message_written)
   */
  tracing_bridge_subscriber_shutdown: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "u32",
  },
  /**
   * result tracing_bridge_subscriber_shutdown(const subscriber *, uint8_t *message,
   *                                           size_t message_len, size_t *out_message_written),
   * on Deno's blocking pool: the call returns a Promise.
   */
  tracing_bridge_subscriber_shutdown_nonblocking: {
    name: "tracing_bridge_subscriber_shutdown",
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "u32",
    nonblocking: true,
  },
  /**
   * result tracing_bridge_subscriber_flush_with_message(const subscriber *, uint8_t *message,
   *                                                     size_t message_len, size_t *written),
   * on Deno's blocking pool: the call returns a Promise.
   */
  tracing_bridge_subscriber_flush_with_message_nonblocking: {
    name: "tracing_bridge_subscriber_flush_with_message",
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "u32",
    nonblocking: true,
  },
  /** result tracing_bridge_subscriber_dropped_spans(const subscriber *, uint64_t *out_count) */
  tracing_bridge_subscriber_dropped_spans: { parameters: ["pointer", "buffer"], result: "u32" },
  /** result tracing_bridge_js_callsite_new(uint32_t kind, uint32_t level, const uint8_t *spec, uint32_t len, uint32_t *out_id) */
  tracing_bridge_js_callsite_new: {
    parameters: ["u32", "u32", "buffer", "u32", "buffer"],
    result: "u32",
  },
  /** uint32_t tracing_bridge_js_span_new(uint32_t callsite, uint32_t parent, const uint8_t *values, uint32_t len) */
  tracing_bridge_js_span_new: { parameters: ["u32", "u32", "buffer", "u32"], result: "u32" },
  /** result tracing_bridge_js_event(uint32_t callsite, uint32_t parent, const uint8_t *values, uint32_t len) */
  tracing_bridge_js_event: { parameters: ["u32", "u32", "buffer", "u32"], result: "u32" },
  /** result tracing_bridge_js_span_enter(uint32_t span) */
  tracing_bridge_js_span_enter: { parameters: ["u32"], result: "u32" },
  /** result tracing_bridge_js_span_exit(uint32_t span) */
  tracing_bridge_js_span_exit: { parameters: ["u32"], result: "u32" },
  /** result tracing_bridge_js_span_end(uint32_t span) */
  tracing_bridge_js_span_end: { parameters: ["u32"], result: "u32" },
  /** uint32_t tracing_bridge_js_span_open_count(void) */
  tracing_bridge_js_span_open_count: { parameters: [], result: "u32" },
  /** result tracing_bridge_js_span_set_remote_parent(uint32_t span, const uint8_t *traceparent, uint32_t len, const uint8_t *tracestate, uint32_t len) */
  tracing_bridge_js_span_set_remote_parent: {
    parameters: ["u32", "buffer", "u32", "buffer", "u32"],
    result: "u32",
  },
  /** result tracing_bridge_js_span_trace_context(uint32_t span, uint8_t *buf, uint32_t len, uint32_t *out_written) */
  tracing_bridge_js_span_trace_context: {
    parameters: ["u32", "buffer", "u32", "buffer"],
    result: "u32",
  },
} as const;

const wakeDefinition = { parameters: ["u32", "u32"], result: "void" } as const;

/** A `void (*)(void)` backed by a Deno callback. */
class WakeCallback implements NativeCallback {
  readonly #callback: Deno.UnsafeCallback<typeof wakeDefinition>;

  constructor(fn: (index: number, length: number) => void) {
    this.#callback = new Deno.UnsafeCallback(wakeDefinition, fn);
  }

  get pointer(): Deno.PointerObject {
    return this.#callback.pointer;
  }

  close(): void {
    this.#callback.close();
  }
}

type Pointer = Deno.PointerObject;

function toPointer(handle: SubscriberHandle): Pointer {
  return handle as unknown as Pointer;
}

function openNative(path: string): NativeLibrary {
  const library = Deno.dlopen(path, symbols);
  const native = library.symbols;
  const outPointer = new BigUint64Array(1);
  return {
    abiVersion: () => native.tracing_bridge_abi_version(),
    version() {
      const pointer = native.tracing_bridge_version();
      return pointer === null ? "unknown" : Deno.UnsafePointerView.getCString(pointer);
    },
    lastErrorResult: () => native.tracing_bridge_last_error_result(),
    lastErrorMessage: (buffer, outWritten) =>
      native.tracing_bridge_last_error_message(buffer, BigInt(buffer.length), outWritten),
    subscriberNew(config) {
      outPointer[0] = 0n;
      const result = native.tracing_bridge_subscriber_new(
        config,
        BigInt(config.length),
        outPointer,
      );
      const pointer = Deno.UnsafePointer.create(outPointer[0]);
      return { result, handle: pointer as unknown as SubscriberHandle | null };
    },
    subscriberInstallGlobal: (handle) =>
      native.tracing_bridge_subscriber_install_global(toPointer(handle)),
    subscriberInstallCurrentThread: (handle) =>
      native.tracing_bridge_subscriber_install_current_thread(toPointer(handle)),
    subscriberFlush: (handle) => native.tracing_bridge_subscriber_flush(toPointer(handle)),
    subscriberUninstall: (handle) => native.tracing_bridge_subscriber_uninstall(toPointer(handle)),
    subscriberSetFilter: (handle, directives, length) =>
      native.tracing_bridge_subscriber_set_filter(toPointer(handle), directives, BigInt(length)),
    subscriberSetLayerFilter: (handle, index, directives, length) =>
      native.tracing_bridge_subscriber_set_layer_filter(
        toPointer(handle),
        index,
        directives,
        BigInt(length),
      ),
    // Runs on Deno's blocking pool; the buffers stay referenced until the promise settles.
    flameRenderSvg: (request, errorBuffer, outWritten) =>
      native.tracing_bridge_flame_render_svg(
        request,
        BigInt(request.length),
        errorBuffer,
        BigInt(errorBuffer.length),
        outWritten,
      ),
    subscriberFree: (handle) => native.tracing_bridge_subscriber_free(toPointer(handle)),
    jsAttach: (handle, callback, shared) =>
      native.tracing_bridge_subscriber_js_attach(
        toPointer(handle),
        callback === null ? null : (callback as WakeCallback).pointer,
        shared,
        shared?.length ?? 0,
      ),
    jsDrain: (handle, layerIndex, buffer) =>
      native.tracing_bridge_subscriber_js_drain(
        toPointer(handle),
        layerIndex,
        buffer,
        buffer.length,
      ),
    jsPending: (handle) => native.tracing_bridge_subscriber_js_pending(toPointer(handle)),
    jsDropped: (handle, layerIndex) =>
      Number(native.tracing_bridge_subscriber_js_dropped(toPointer(handle), layerIndex)),
    subscriberStop: (handle) => native.tracing_bridge_subscriber_stop(toPointer(handle)),
    subscriberShutdown: (handle, message, written) =>
      native.tracing_bridge_subscriber_shutdown(
        toPointer(handle),
        message,
        BigInt(message.length),
        written,
      ),
    subscriberDroppedSpans: (handle, outCount) =>
      native.tracing_bridge_subscriber_dropped_spans(toPointer(handle), outCount),
    offThread: {
      flush: (handle, message, written) =>
        native.tracing_bridge_subscriber_flush_with_message_nonblocking(
          toPointer(handle),
          message,
          BigInt(message.length),
          written,
        ),
      shutdown: (handle, message, written) =>
        native.tracing_bridge_subscriber_shutdown_nonblocking(
          toPointer(handle),
          message,
          BigInt(message.length),
          written,
        ),
    },
    jsCallsiteNew: (kind, level, spec, outId) =>
      native.tracing_bridge_js_callsite_new(kind, level, spec, spec.length, outId),
    jsSpanNew: (callsite, parent, values, length) =>
      native.tracing_bridge_js_span_new(callsite, parent, values, length),
    jsEvent: (callsite, parent, values, length) =>
      native.tracing_bridge_js_event(callsite, parent, values, length),
    jsSpanEnter: (span) => native.tracing_bridge_js_span_enter(span),
    jsSpanExit: (span) => native.tracing_bridge_js_span_exit(span),
    jsSpanEnd: (span) => native.tracing_bridge_js_span_end(span),
    jsSpanOpenCount: () => native.tracing_bridge_js_span_open_count(),
    jsSpanSetRemoteParent: (span, traceparent, traceparentLength, tracestate, tracestateLength) =>
      native.tracing_bridge_js_span_set_remote_parent(
        span,
        traceparent,
        traceparentLength,
        tracestate,
        tracestateLength,
      ),
    jsSpanTraceContext: (span, buffer, outWritten) =>
      native.tracing_bridge_js_span_trace_context(span, buffer, buffer.length, outWritten),
    close: () => library.close(),
  };
}

/** The Deno implementation of the runtime port. */
export const denoRuntime: Runtime = {
  name: "deno",
  libraryFileName(stem) {
    switch (Deno.build.os) {
      case "darwin":
        return `lib${stem}.dylib`;
      case "windows":
        return `${stem}.dll`;
      default:
        return `lib${stem}.so`;
    }
  },
  pathFromUrl(url) {
    return decodeURIComponent(url.pathname);
  },
  canReadEnv(name) {
    return Deno.permissions.querySync({ name: "env", variable: name }).state === "granted";
  },
  readEnv(name) {
    // Ask first, so that a program run with --allow-ffi alone neither prompts nor throws.
    const status = Deno.permissions.querySync({ name: "env", variable: name });
    return status.state === "granted" ? Deno.env.get(name) : undefined;
  },
  openAbiProbe(path) {
    const library = Deno.dlopen(path, abiProbeSymbols);
    return {
      abiVersion: () => library.symbols.tracing_bridge_abi_version(),
      close: () => library.close(),
    };
  },
  open: openNative,
  createWakeCallback: (fn) => new WakeCallback(fn),
  startUnrefTimer(fn, ms) {
    const timer = setInterval(fn, ms);
    Deno.unrefTimer(timer);
    return () => clearInterval(timer);
  },
};
