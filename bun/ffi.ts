/**
 * The Bun side of the FFI port: `bun:ffi` and the symbol table of the C ABI.
 * @module
 */

import { CString, dlopen, FFIType, JSCallback, type Pointer, suffix } from "bun:ffi";
import { fileURLToPath } from "node:url";
import type {
  NativeCallback,
  NativeLibrary,
  Runtime,
  SubscriberHandle,
} from "../bindings/native.ts";

const abiProbeSymbols = {
  /** uint32_t tracing_bridge_abi_version(void) */
  tracing_bridge_abi_version: { args: [], returns: FFIType.u32 },
} as const;

/** The C ABI as these bindings call it: every name must be exported by the library. */
export const symbols = {
  ...abiProbeSymbols,
  /** const char *tracing_bridge_version(void) */
  tracing_bridge_version: { args: [], returns: FFIType.ptr },
  /** result tracing_bridge_last_error_result(void) */
  tracing_bridge_last_error_result: { args: [], returns: FFIType.u32 },
  /** result tracing_bridge_last_error_message(uint8_t *buf, size_t len, size_t *out_written) */
  tracing_bridge_last_error_message: {
    args: [FFIType.ptr, FFIType.u64, FFIType.ptr],
    returns: FFIType.u32,
  },
  /** result tracing_bridge_subscriber_new(const uint8_t *config, size_t len, subscriber **out) */
  tracing_bridge_subscriber_new: {
    args: [FFIType.ptr, FFIType.u64, FFIType.ptr],
    returns: FFIType.u32,
  },
  /** result tracing_bridge_subscriber_install_global(subscriber *) */
  tracing_bridge_subscriber_install_global: { args: [FFIType.ptr], returns: FFIType.u32 },
  /** result tracing_bridge_subscriber_install_current_thread(subscriber *) */
  tracing_bridge_subscriber_install_current_thread: { args: [FFIType.ptr], returns: FFIType.u32 },
  /** result tracing_bridge_subscriber_flush(subscriber *) */
  tracing_bridge_subscriber_flush: { args: [FFIType.ptr], returns: FFIType.u32 },
  /** result tracing_bridge_subscriber_uninstall(subscriber *) */
  tracing_bridge_subscriber_uninstall: { args: [FFIType.ptr], returns: FFIType.u32 },
  /** void tracing_bridge_subscriber_free(subscriber *) */
  tracing_bridge_subscriber_free: { args: [FFIType.ptr], returns: FFIType.void },
  /** result tracing_bridge_subscriber_js_attach(subscriber *, void (*wake)(uint32_t, uint32_t), uint8_t *shared, uint32_t len) */
  // The callback is passed as a plain pointer: FFIType.function does not accept NULL.
  tracing_bridge_subscriber_js_attach: {
    args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u32],
    returns: FFIType.u32,
  },
  /** uint32_t tracing_bridge_subscriber_js_drain(subscriber *, uint32_t layer, uint8_t *buf, uint32_t len) */
  tracing_bridge_subscriber_js_drain: {
    args: [FFIType.ptr, FFIType.u32, FFIType.ptr, FFIType.u32],
    returns: FFIType.u32,
  },
  /** uint32_t tracing_bridge_subscriber_js_pending(const subscriber *) */
  tracing_bridge_subscriber_js_pending: { args: [FFIType.ptr], returns: FFIType.u32 },
  /** uint64_t tracing_bridge_subscriber_js_dropped(subscriber *, uint32_t layer) */
  tracing_bridge_subscriber_js_dropped: {
    args: [FFIType.ptr, FFIType.u32],
    returns: FFIType.u64,
  },
  /** result tracing_bridge_subscriber_set_filter(subscriber *, const uint8_t *directives, size_t len) */
  tracing_bridge_subscriber_set_filter: {
    args: [FFIType.ptr, FFIType.ptr, FFIType.u64],
    returns: FFIType.u32,
  },
  /** result tracing_bridge_subscriber_set_layer_filter(subscriber *, uint32_t index, const uint8_t *directives, size_t len) */
  tracing_bridge_subscriber_set_layer_filter: {
    args: [FFIType.ptr, FFIType.u32, FFIType.ptr, FFIType.u64],
    returns: FFIType.u32,
  },
  /** result tracing_bridge_flame_render_svg(const uint8_t *request, size_t len, uint8_t *error_buf, size_t error_len, size_t *out_error_written) */
  tracing_bridge_flame_render_svg: {
    args: [FFIType.ptr, FFIType.u64, FFIType.ptr, FFIType.u64, FFIType.ptr],
    returns: FFIType.u32,
  },
  /** result tracing_bridge_subscriber_stop(subscriber *) */
  tracing_bridge_subscriber_stop: { args: [FFIType.ptr], returns: FFIType.u32 },
  /** result tracing_bridge_subscriber_shutdown(const subscriber *, uint8_t *message, size_t message_len, size_t *out_message_written) */
  tracing_bridge_subscriber_shutdown: {
    args: [FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr],
    returns: FFIType.u32,
  },
  /** result tracing_bridge_subscriber_dropped_spans(const subscriber *, uint64_t *out_count) */
  tracing_bridge_subscriber_dropped_spans: {
    args: [FFIType.ptr, FFIType.ptr],
    returns: FFIType.u32,
  },
  /** result tracing_bridge_js_callsite_new(uint32_t kind, uint32_t level, const uint8_t *spec, uint32_t len, uint32_t *out_id) */
  tracing_bridge_js_callsite_new: {
    args: [FFIType.u32, FFIType.u32, FFIType.ptr, FFIType.u32, FFIType.ptr],
    returns: FFIType.u32,
  },
  /** uint32_t tracing_bridge_js_span_new(uint32_t callsite, uint32_t parent, const uint8_t *values, uint32_t len) */
  tracing_bridge_js_span_new: {
    args: [FFIType.u32, FFIType.u32, FFIType.ptr, FFIType.u32],
    returns: FFIType.u32,
  },
  /** result tracing_bridge_js_event(uint32_t callsite, uint32_t parent, const uint8_t *values, uint32_t len) */
  tracing_bridge_js_event: {
    args: [FFIType.u32, FFIType.u32, FFIType.ptr, FFIType.u32],
    returns: FFIType.u32,
  },
  /** result tracing_bridge_js_span_enter(uint32_t span) */
  tracing_bridge_js_span_enter: { args: [FFIType.u32], returns: FFIType.u32 },
  /** result tracing_bridge_js_span_exit(uint32_t span) */
  tracing_bridge_js_span_exit: { args: [FFIType.u32], returns: FFIType.u32 },
  /** result tracing_bridge_js_span_end(uint32_t span) */
  tracing_bridge_js_span_end: { args: [FFIType.u32], returns: FFIType.u32 },
  /** uint32_t tracing_bridge_js_span_open_count(void) */
  tracing_bridge_js_span_open_count: { args: [], returns: FFIType.u32 },
  /** result tracing_bridge_js_span_set_remote_parent(uint32_t span, const uint8_t *traceparent, uint32_t len, const uint8_t *tracestate, uint32_t len) */
  tracing_bridge_js_span_set_remote_parent: {
    args: [FFIType.u32, FFIType.ptr, FFIType.u32, FFIType.ptr, FFIType.u32],
    returns: FFIType.u32,
  },
  /** result tracing_bridge_js_span_trace_context(uint32_t span, uint8_t *buf, uint32_t len, uint32_t *out_written) */
  tracing_bridge_js_span_trace_context: {
    args: [FFIType.u32, FFIType.ptr, FFIType.u32, FFIType.ptr],
    returns: FFIType.u32,
  },
} as const;

/** A `void (*)(void)` backed by a same-thread Bun callback. */
class WakeCallback implements NativeCallback {
  readonly #callback: JSCallback;

  constructor(fn: (index: number, length: number) => void) {
    this.#callback = new JSCallback(fn, {
      args: [FFIType.u32, FFIType.u32],
      returns: FFIType.void,
    });
  }

  get pointer(): Pointer {
    return this.#callback.ptr as Pointer;
  }

  close(): void {
    this.#callback.close();
  }
}

function toPointer(handle: SubscriberHandle): Pointer {
  return handle as unknown as Pointer;
}

function openNative(path: string): NativeLibrary {
  const library = dlopen(path, symbols);
  const native = library.symbols;
  const outPointer = new BigUint64Array(1);
  return {
    abiVersion: () => native.tracing_bridge_abi_version(),
    version() {
      const pointer = native.tracing_bridge_version();
      return pointer === null ? "unknown" : new CString(pointer).toString();
    },
    lastErrorResult: () => native.tracing_bridge_last_error_result(),
    lastErrorMessage: (buffer, outWritten) =>
      native.tracing_bridge_last_error_message(buffer, buffer.length, outWritten),
    subscriberNew(config) {
      outPointer[0] = 0n;
      const result = native.tracing_bridge_subscriber_new(config, config.length, outPointer);
      const address = Number(outPointer[0]);
      return { result, handle: address === 0 ? null : address as unknown as SubscriberHandle };
    },
    subscriberInstallGlobal: (handle) =>
      native.tracing_bridge_subscriber_install_global(toPointer(handle)),
    subscriberInstallCurrentThread: (handle) =>
      native.tracing_bridge_subscriber_install_current_thread(toPointer(handle)),
    subscriberFlush: (handle) => native.tracing_bridge_subscriber_flush(toPointer(handle)),
    subscriberUninstall: (handle) => native.tracing_bridge_subscriber_uninstall(toPointer(handle)),
    subscriberSetFilter: (handle, directives, length) =>
      native.tracing_bridge_subscriber_set_filter(toPointer(handle), directives, length),
    subscriberSetLayerFilter: (handle, index, directives, length) =>
      native.tracing_bridge_subscriber_set_layer_filter(
        toPointer(handle),
        index,
        directives,
        length,
      ),
    // bun:ffi has no asynchronous calls: this renders on the JavaScript thread.
    flameRenderSvg: (request, errorBuffer, outWritten) =>
      Promise.resolve(
        native.tracing_bridge_flame_render_svg(
          request,
          request.length,
          errorBuffer,
          errorBuffer.length,
          outWritten,
        ),
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
        message.length,
        written,
      ),
    subscriberDroppedSpans: (handle, outCount) =>
      native.tracing_bridge_subscriber_dropped_spans(toPointer(handle), outCount),
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
    // Bun has no asynchronous FFI calls: no `offThread`, flush and dispose are synchronous.
    close: () => library.close(),
  };
}

/** The Bun implementation of the runtime port. */
export const bunRuntime: Runtime = {
  name: "bun",
  libraryFileName(stem) {
    return process.platform === "win32" ? `${stem}.${suffix}` : `lib${stem}.${suffix}`;
  },
  pathFromUrl(url) {
    return fileURLToPath(url);
  },
  canReadEnv() {
    return true;
  },
  readEnv(name) {
    return process.env[name];
  },
  openAbiProbe(path) {
    const library = dlopen(path, abiProbeSymbols);
    return {
      abiVersion: () => library.symbols.tracing_bridge_abi_version(),
      close: () => library.close(),
    };
  },
  open: openNative,
  createWakeCallback: (fn) => new WakeCallback(fn),
  startUnrefTimer(fn, ms) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};
