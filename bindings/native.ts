/**
 * The FFI port: the native calls the runtime-neutral core makes ({@link NativeLibrary}), written
 * once over the table of `symbols.ts` by {@link nativeLibrary}. Each runtime adapter (`deno/`,
 * `bun/`) opens that table with its own FFI and supplies only what differs ({@link FfiPort}:
 * pointers, C strings, `nonblocking` calls) and the {@link Runtime} services.
 * @module
 */

import type { OffThreadFunctions, SymbolFunctions } from "./symbols.ts";

/** An opaque `tracing_bridge_subscriber *`, in whatever form the runtime represents pointers. */
export type SubscriberHandle = { readonly __brand: "tracing_bridge_subscriber" };

/** The C ABI of one opened library, with JavaScript types. Results are `tracing_bridge_result`. */
export interface NativeLibrary {
  /** `tracing_bridge_abi_version()`. */
  abiVersion(): number;
  /** `tracing_bridge_version()`, read as a string. */
  version(): string;
  /** `tracing_bridge_last_error_result()`: the result of this thread's last failed call. */
  lastErrorResult(): number;
  /** `tracing_bridge_last_error_message(buffer, buffer.length, outWritten)`. */
  lastErrorMessage(buffer: Uint8Array, outWritten: BigUint64Array): number;
  /** `tracing_bridge_subscriber_new()`; `handle` is set when `result` is OK. */
  subscriberNew(config: Uint8Array): { result: number; handle: SubscriberHandle | null };
  /** `tracing_bridge_subscriber_install_global()`. */
  subscriberInstallGlobal(handle: SubscriberHandle): number;
  /** `tracing_bridge_subscriber_install_current_thread()`. */
  subscriberInstallCurrentThread(handle: SubscriberHandle): number;
  /** `tracing_bridge_subscriber_flush()`. */
  subscriberFlush(handle: SubscriberHandle): number;
  /** `tracing_bridge_subscriber_uninstall()`. */
  subscriberUninstall(handle: SubscriberHandle): number;
  /** `tracing_bridge_subscriber_set_filter(handle, directives, length)`. */
  subscriberSetFilter(handle: SubscriberHandle, directives: Uint8Array, length: number): number;
  /** `tracing_bridge_subscriber_set_layer_filter(handle, index, directives, length)`. */
  subscriberSetLayerFilter(
    handle: SubscriberHandle,
    index: number,
    directives: Uint8Array,
    length: number,
  ): number;
  /**
   * `tracing_bridge_flame_render_svg(request, request.length, errorBuffer, errorBuffer.length,
   * outWritten)`; off the JavaScript thread where the runtime can do that.
   */
  flameRenderSvg(
    request: Uint8Array,
    errorBuffer: Uint8Array,
    outWritten: BigUint64Array,
  ): Promise<number>;
  /** `tracing_bridge_subscriber_free()`. */
  subscriberFree(handle: SubscriberHandle): void;
  /**
   * `tracing_bridge_subscriber_js_attach(handle, callback, shared, shared.length)`; `null`
   * detaches. `shared` must stay alive until detached.
   */
  jsAttach(
    handle: SubscriberHandle,
    callback: NativeCallback | null,
    shared: Uint8Array | null,
  ): number;
  /** `tracing_bridge_subscriber_js_drain(handle, layerIndex, buffer, buffer.length)`. */
  jsDrain(handle: SubscriberHandle, layerIndex: number, buffer: Uint8Array): number;
  /** `tracing_bridge_subscriber_js_pending()`: bit i set while layer i's queue holds records. */
  jsPending(handle: SubscriberHandle): number;
  /** `tracing_bridge_subscriber_js_dropped()`, as a number. */
  jsDropped(handle: SubscriberHandle, layerIndex: number): number;
  /**
   * `tracing_bridge_subscriber_shutdown(handle, message, message.length, messageWritten)`, on
   * the calling thread: flushes and shuts down the layers of a stopped subscriber.
   */
  subscriberShutdown(
    handle: SubscriberHandle,
    message: Uint8Array,
    messageWritten: BigUint64Array,
  ): number;
  /** `tracing_bridge_subscriber_stop()`: uninstall without shutting the layers down. */
  subscriberStop(handle: SubscriberHandle): number;
  /** `tracing_bridge_subscriber_dropped_spans(handle, outCount)`. */
  subscriberDroppedSpans(handle: SubscriberHandle, outCount: BigUint64Array): number;
  /** `tracing_bridge_subscriber_diagnostics(handle, buffer, buffer.length, outWritten)`. */
  subscriberDiagnostics(
    handle: SubscriberHandle,
    buffer: Uint8Array,
    outWritten: BigUint64Array,
  ): number;
  /**
   * The calls that may wait for a receiver, run off the JavaScript thread so that the event
   * loop keeps going (Deno's `nonblocking` symbols). Absent where the runtime has no
   * asynchronous FFI calls (Bun): the core then makes the synchronous calls, which the layers'
   * flush timeouts bound. The error message comes back in `message`, not as the last error.
   */
  readonly offThread?: {
    /** `tracing_bridge_subscriber_flush_with_message()`, off the JavaScript thread. */
    flush(
      handle: SubscriberHandle,
      message: Uint8Array,
      messageWritten: BigUint64Array,
    ): Promise<number>;
    /** `tracing_bridge_subscriber_shutdown()`, off the JavaScript thread. */
    shutdown(
      handle: SubscriberHandle,
      message: Uint8Array,
      messageWritten: BigUint64Array,
    ): Promise<number>;
  } | undefined;
  /** `tracing_bridge_js_callsite_new(kind, level, spec, spec.length, outId)`. */
  jsCallsiteNew(kind: number, level: number, spec: Uint8Array, outId: Uint32Array): number;
  /** `tracing_bridge_js_span_new(callsite, parent, values, length)`: a handle, 0 on failure. */
  jsSpanNew(callsite: number, parent: number, values: Uint8Array, length: number): number;
  /** `tracing_bridge_js_span_new_entered(...)`: as `jsSpanNew`, and entered on this thread. */
  jsSpanNewEntered(callsite: number, parent: number, values: Uint8Array, length: number): number;
  /** `tracing_bridge_js_event(callsite, parent, values, length)`. */
  jsEvent(callsite: number, parent: number, values: Uint8Array, length: number): number;
  /** `tracing_bridge_js_span_enter(span)`. */
  jsSpanEnter(span: number): number;
  /** `tracing_bridge_js_span_exit(span)`. */
  jsSpanExit(span: number): number;
  /** `tracing_bridge_js_span_end(span)`. */
  jsSpanEnd(span: number): number;
  /** `tracing_bridge_js_span_open_count()`. */
  jsSpanOpenCount(): number;
  /**
   * `tracing_bridge_js_span_set_remote_parent(span, traceparent, traceparentLength, tracestate,
   * tracestateLength)`.
   */
  jsSpanSetRemoteParent(
    span: number,
    traceparent: Uint8Array,
    traceparentLength: number,
    tracestate: Uint8Array,
    tracestateLength: number,
  ): number;
  /** `tracing_bridge_js_span_trace_context(span, buffer, buffer.length, outWritten)`. */
  jsSpanTraceContext(span: number, buffer: Uint8Array, outWritten: Uint32Array): number;
  /** Unloads the library; nothing may use it afterwards. */
  close(): void;
}

/** A native function pointer that calls back into JavaScript. */
export interface NativeCallback {
  /** The function pointer, in the runtime's own pointer form, as passed to the library. */
  readonly pointer: unknown;
  /** Releases the callback; native code must not call it afterwards. */
  close(): void;
}

/** What a runtime adapter provides to the core. */
export interface Runtime {
  /** `"deno"` or `"bun"`. */
  readonly name: string;
  /**
   * The runtime's version (`Deno.version.deno`, `Bun.version`). With `name`, the native library
   * reports it as `process.runtime.*` in OpenTelemetry resources.
   */
  readonly version: string;
  /** The file name of a shared library called `stem` on this platform (`libstem.so`, …). */
  libraryFileName(stem: string): string;
  /** Turns a `file:` URL into a path. */
  pathFromUrl(url: URL): string;
  /** Whether the program may read the environment variable `name` (Deno: `--allow-env`). */
  canReadEnv(name: string): boolean;
  /** Reads an environment variable, or `undefined` when unset or not permitted. */
  readEnv(name: string): string | undefined;
  /** Opens the library with just the ABI version symbol, to check it before anything else. */
  openAbiProbe(path: string): { abiVersion(): number; close(): void };
  /** Opens the library with every symbol of the C ABI. */
  open(path: string): NativeLibrary;
  /**
   * A `void (*)(uint32_t, uint32_t)` that runs `fn` when native code calls it on the
   * JavaScript thread.
   */
  createWakeCallback(fn: (index: number, length: number) => void): NativeCallback;
  /** Runs `fn` every `ms` milliseconds without keeping the process alive; returns a stop. */
  startUnrefTimer(fn: () => void, ms: number): () => void;
  /**
   * Runs `fn` synchronously on the JavaScript thread when the program exits normally: the event
   * loop ran empty, or `Deno.exit()` / `process.exit()` was called (Deno: the `unload` event;
   * Bun: `process.on("exit")`). Not on a signal that kills the process. Called at most once.
   */
  onExit(fn: () => void): void;
}

/** What a runtime adapter supplies about one opened library: where the two FFIs differ. */
export interface FfiPort {
  /** The library's functions, opened from `symbols.ts` (in Bun through `bunSymbols`). */
  readonly functions: SymbolFunctions;
  /**
   * The `nonblocking` variants, run off the JavaScript thread (Deno); absent where the runtime
   * has no asynchronous FFI calls (Bun).
   */
  readonly offThread?: OffThreadFunctions;
  /** The handle at `address` (what `tracing_bridge_subscriber_new` wrote), `null` for 0. */
  handleAt(address: bigint): SubscriberHandle | null;
  /** Reads the NUL-terminated string at `pointer` (a pointer the library returned, not null). */
  readCString(pointer: unknown): string;
  /** Unloads the library. */
  close(): void;
}

/** Never an empty buffer, which some FFIs pass as a null pointer; the length goes separately. */
export function nonEmpty(bytes: Uint8Array): Uint8Array {
  return bytes.length > 0 ? bytes : new Uint8Array(1);
}

/** The {@link NativeLibrary} of an opened library. The hot calls are one call each. */
export function nativeLibrary(port: FfiPort): NativeLibrary {
  const native = port.functions;
  const offThread = port.offThread;
  const outPointer = new BigUint64Array(1);
  return {
    abiVersion: () => native.tracing_bridge_abi_version(),
    version() {
      const pointer = native.tracing_bridge_version();
      return pointer === null || pointer === 0 ? "unknown" : port.readCString(pointer);
    },
    lastErrorResult: () => native.tracing_bridge_last_error_result(),
    lastErrorMessage: (buffer, outWritten) =>
      native.tracing_bridge_last_error_message(buffer, buffer.length, outWritten),
    subscriberNew(config) {
      outPointer[0] = 0n;
      const result = native.tracing_bridge_subscriber_new(config, config.length, outPointer);
      return { result, handle: port.handleAt(outPointer[0]) };
    },
    subscriberInstallGlobal: (handle) => native.tracing_bridge_subscriber_install_global(handle),
    subscriberInstallCurrentThread: (handle) =>
      native.tracing_bridge_subscriber_install_current_thread(handle),
    subscriberFlush: (handle) => native.tracing_bridge_subscriber_flush(handle),
    subscriberUninstall: (handle) => native.tracing_bridge_subscriber_uninstall(handle),
    subscriberSetFilter: (handle, directives, length) =>
      native.tracing_bridge_subscriber_set_filter(handle, directives, length),
    subscriberSetLayerFilter: (handle, index, directives, length) =>
      native.tracing_bridge_subscriber_set_layer_filter(handle, index, directives, length),
    // Off the JavaScript thread where the runtime can (the buffers stay referenced until the
    // promise settles); in Bun it renders on the JavaScript thread.
    flameRenderSvg: (request, errorBuffer, outWritten) =>
      offThread
        ? offThread.tracing_bridge_flame_render_svg(
          request,
          request.length,
          errorBuffer,
          errorBuffer.length,
          outWritten,
        )
        : Promise.resolve(
          native.tracing_bridge_flame_render_svg(
            request,
            request.length,
            errorBuffer,
            errorBuffer.length,
            outWritten,
          ),
        ),
    subscriberFree: (handle) => native.tracing_bridge_subscriber_free(handle),
    jsAttach: (handle, callback, shared) =>
      native.tracing_bridge_subscriber_js_attach(
        handle,
        callback === null ? null : callback.pointer,
        shared,
        shared?.length ?? 0,
      ),
    jsDrain: (handle, layerIndex, buffer) =>
      native.tracing_bridge_subscriber_js_drain(handle, layerIndex, buffer, buffer.length),
    jsPending: (handle) => native.tracing_bridge_subscriber_js_pending(handle),
    jsDropped: (handle, layerIndex) =>
      Number(native.tracing_bridge_subscriber_js_dropped(handle, layerIndex)),
    subscriberStop: (handle) => native.tracing_bridge_subscriber_stop(handle),
    subscriberShutdown: (handle, message, written) =>
      native.tracing_bridge_subscriber_shutdown(handle, message, message.length, written),
    subscriberDroppedSpans: (handle, outCount) =>
      native.tracing_bridge_subscriber_dropped_spans(handle, outCount),
    subscriberDiagnostics: (handle, buffer, outWritten) =>
      native.tracing_bridge_subscriber_diagnostics(handle, buffer, buffer.length, outWritten),
    offThread: offThread && {
      flush: (handle, message, written) =>
        offThread.tracing_bridge_subscriber_flush_with_message(
          handle,
          message,
          message.length,
          written,
        ),
      shutdown: (handle, message, written) =>
        offThread.tracing_bridge_subscriber_shutdown(handle, message, message.length, written),
    },
    jsCallsiteNew: (kind, level, spec, outId) =>
      native.tracing_bridge_js_callsite_new(kind, level, spec, spec.length, outId),
    jsSpanNew: (callsite, parent, values, length) =>
      native.tracing_bridge_js_span_new(callsite, parent, values, length),
    jsSpanNewEntered: (callsite, parent, values, length) =>
      native.tracing_bridge_js_span_new_entered(callsite, parent, values, length),
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
    close: () => port.close(),
  };
}

let boundRuntime: Runtime | undefined;

/**
 * Binds the shared API (`Tracing`, `openLibrary`, `renderFlameSvg`) to `runtime`: each runtime's
 * `mod.ts` calls it as it loads, so that nothing else of the API is written per runtime.
 */
export function useRuntime(runtime: Runtime): void {
  boundRuntime = runtime;
}

/** The runtime `deno/mod.ts` or `bun/mod.ts` bound. */
export function currentRuntime(): Runtime {
  if (boundRuntime === undefined) {
    throw new Error(
      "tracing-bridge: no runtime adapter is loaded; import deno/mod.ts (Deno) or bun/mod.ts " +
        "(Bun) rather than bindings/ alone",
    );
  }
  return boundRuntime;
}
