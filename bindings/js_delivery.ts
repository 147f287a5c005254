/**
 * Delivery of JS-layer records for one running `Tracing`: draining the native queues on the
 * JavaScript thread, in batches, and never re-entrantly.
 *
 * - A record made on the JavaScript thread (during a synchronous FFI call) calls the wake
 *   callback at once, which drains every queue before the FFI call returns.
 * - Records of other threads wait in their queue (Rust never calls JavaScript from its own
 *   threads) until the next poll, an unref'd timer every millisecond, or the next wake,
 *   `flush()` or dispose.
 * @module
 */

import { type ErrorReporter, JsLayerDispatcher } from "./js_dispatch.ts";
import { JsLayerConfig, type LayerErrorContext } from "./js_layer.ts";
import type { NativeCallback, NativeLibrary, Runtime, SubscriberHandle } from "./native.ts";

/** `TRACING_BRIDGE_DRAIN_NEEDS_BUFFER`. */
const NEEDS_BUFFER = 0x80000000;
const POLL_MS = 1;
const ERROR_REPORT_INTERVAL_MS = 1000;

/** Drains and dispatches the JS layers of one subscriber. */
export class JsDelivery {
  readonly #native: NativeLibrary;
  readonly #handle: SubscriberHandle;
  readonly #dispatchers: JsLayerDispatcher[];
  readonly #callback: NativeCallback;
  #stopTimer: (() => void) | null = null;
  #bytes = new Uint8Array(256 * 1024);
  #view = new DataView(this.#bytes.buffer);
  #draining = false;
  #droppedWarned = false;
  #lastErrorReport = -Infinity;
  #suppressedErrors = 0;

  private constructor(
    runtime: Runtime,
    native: NativeLibrary,
    handle: SubscriberHandle,
    layers: [JsLayerConfig, number][],
  ) {
    this.#native = native;
    this.#handle = handle;
    this.#dispatchers = layers.map(([config, index]) =>
      new JsLayerDispatcher(config, index, this.#reporterFor(config))
    );
    this.#callback = runtime.createWakeCallback(() => this.drain());
  }

  /**
   * Sets up delivery for the JS layers of `layers` (if any) and attaches the wake callback;
   * call before installing the subscriber, on the JavaScript thread.
   */
  static attach(
    runtime: Runtime,
    native: NativeLibrary,
    handle: SubscriberHandle,
    layers: readonly unknown[],
  ): JsDelivery | null {
    const jsLayers = layers.flatMap((layer, index): [JsLayerConfig, number][] =>
      layer instanceof JsLayerConfig ? [[layer, index]] : []
    );
    if (jsLayers.length === 0) return null;
    const delivery = new JsDelivery(runtime, native, handle, jsLayers);
    native.jsAttach(handle, delivery.#callback);
    delivery.#stopTimer = runtime.startUnrefTimer(() => delivery.drain(), POLL_MS);
    return delivery;
  }

  /** Records dropped so far because a queue was full, summed over the JS layers. */
  get dropped(): number {
    let total = 0;
    for (const dispatcher of this.#dispatchers) {
      total += this.#native.jsDropped(this.#handle, dispatcher.index);
    }
    return total;
  }

  /**
   * Delivers everything queued. Does nothing when called from inside a layer callback: the
   * delivery in progress picks up new records before it returns.
   */
  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (const dispatcher of this.#dispatchers) this.#drainLayer(dispatcher);
      this.#warnIfDropped();
    } catch (error) {
      // Never let an exception unwind into native code (this runs inside the wake callback).
      console.error("tracing-bridge: JS layer delivery failed:", error);
    } finally {
      this.#draining = false;
    }
  }

  /** Delivers what is left and detaches from the native side. Idempotent. */
  close(): void {
    this.#stopTimer?.();
    this.#stopTimer = null;
    this.drain();
    this.#native.jsAttach(this.#handle, null);
    this.#callback.close();
  }

  #drainLayer(dispatcher: JsLayerDispatcher): void {
    for (;;) {
      const result = this.#native.jsDrain(this.#handle, dispatcher.index, this.#bytes);
      if (result === 0) return;
      if (result >= NEEDS_BUFFER) {
        this.#bytes = new Uint8Array(Math.max((result - NEEDS_BUFFER) * 2, this.#bytes.length));
        this.#view = new DataView(this.#bytes.buffer);
        continue;
      }
      dispatcher.dispatch(this.#bytes, this.#view, result);
    }
  }

  #warnIfDropped(): void {
    if (this.#droppedWarned) return;
    const dropped = this.dropped;
    if (dropped === 0) return;
    this.#droppedWarned = true;
    console.warn(
      `tracing-bridge: a JS layer's queue was full and ${dropped} record(s) were dropped so far ` +
        "(see tracing.droppedRecords for the running count). Raise its `capacity`, filter " +
        "more, or let the event loop run more often. This warning is shown once.",
    );
  }

  #reporterFor(config: JsLayerConfig): ErrorReporter {
    const onError = config.options.onError;
    if (onError) {
      return (error: unknown, context: LayerErrorContext) => {
        try {
          onError(error, context);
        } catch (hookError) {
          this.#reportToConsole(hookError, context);
        }
      };
    }
    return (error, context) => this.#reportToConsole(error, context);
  }

  /** At most one report a second, counting the ones skipped. */
  #reportToConsole(error: unknown, context: LayerErrorContext): void {
    const now = Date.now();
    if (now - this.#lastErrorReport < ERROR_REPORT_INTERVAL_MS) {
      this.#suppressedErrors++;
      return;
    }
    const skipped = this.#suppressedErrors > 0
      ? ` (${this.#suppressedErrors} more error(s) since the last report)`
      : "";
    this.#lastErrorReport = now;
    this.#suppressedErrors = 0;
    console.error(`tracing-bridge: a JS layer's ${context.method} threw${skipped}:`, error);
  }
}
