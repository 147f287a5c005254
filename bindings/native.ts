/**
 * The FFI port: the few native calls the runtime-neutral core needs. Each runtime adapter
 * (`deno/`, `bun/`) implements it over its own FFI; everything else is shared.
 * @module
 */

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
  };
  /** `tracing_bridge_js_callsite_new(kind, level, spec, spec.length, outId)`. */
  jsCallsiteNew(kind: number, level: number, spec: Uint8Array, outId: Uint32Array): number;
  /** `tracing_bridge_js_span_new(callsite, parent, values, length)`: a handle, 0 on failure. */
  jsSpanNew(callsite: number, parent: number, values: Uint8Array, length: number): number;
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
  /** Releases the callback; native code must not call it afterwards. */
  close(): void;
}

/** What a runtime adapter provides to the core. */
export interface Runtime {
  /** `"deno"` or `"bun"`. */
  readonly name: string;
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
}
