/**
 * Delivery of JS-layer records for one running `Tracing`: draining the native queues on the
 * JavaScript thread, in batches, and never re-entrantly.
 *
 * - A record made on the JavaScript thread (during a synchronous FFI call) calls the wake
 *   callback at once: usually the record is already in the shared buffer (its queue was
 *   empty); otherwise it is queued and the queues are drained, all before the FFI call returns.
 *   Records made by layer callbacks are drained before the delivery in progress returns.
 * - Records of other threads wait in their queue (Rust never calls JavaScript from its own
 *   threads) until the next poll (an unref'd timer every millisecond that asks which queues hold
 *   records with one cheap FFI call), the next wake that drains queues, `flush()` or dispose.
 * - A layer callback may dispose its own `Tracing` (or flush it, or start another one): closing
 *   waits until the delivery in progress has drained what was recorded before, and the wake
 *   callback is released only once no native frame can still return into it.
 * @module
 */

import { type ErrorReporter, JsLayerDispatcher } from "./js_dispatch.ts";
import { JsLayerConfig, type LayerErrorContext } from "./js_layer.ts";
import type { NativeCallback, NativeLibrary, Runtime, SubscriberHandle } from "./native.ts";

/** `TRACING_BRIDGE_DRAIN_NEEDS_BUFFER`: the buffer is too small; the other bits are the size. */
export const NEEDS_BUFFER = 0x80000000;
/** `TRACING_BRIDGE_DRAIN_MORE`: records are left in the queue. */
export const MORE = 0x40000000;
/** `TRACING_BRIDGE_JS_CONTROL_BYTES`: byte 0 = dispatching; the rest is reserved. */
export const CONTROL_BYTES = 16;
/** The control byte JavaScript sets to 1 while it dispatches or drains. */
const DISPATCHING = 0;
const DATA_BYTES = 256 * 1024;
const POLL_MS = 1;
const ERROR_REPORT_INTERVAL_MS = 1000;

/** Drains and dispatches the JS layers of one subscriber. */
export class JsDelivery {
  readonly #native: NativeLibrary;
  readonly #handle: SubscriberHandle;
  /** By config index; `undefined` for layers that are not JS layers. */
  readonly #dispatchers: (JsLayerDispatcher | undefined)[] = [];
  readonly #indices: number[];
  readonly #callback: NativeCallback;
  /** Control block + data buffer, shared with the library while attached. */
  readonly #shared = new Uint8Array(CONTROL_BYTES + DATA_BYTES);
  readonly #data = this.#shared.subarray(CONTROL_BYTES);
  readonly #dataView = new DataView(this.#shared.buffer, CONTROL_BYTES);
  #stopTimer: (() => void) | null = null;
  #attached = false;
  /** Wake callbacks running now (native code called into JavaScript and has not returned). */
  #inCallback = 0;
  /** What to run once the delivery in progress has finished (see {@link JsDelivery.close}). */
  #afterDispatch: (() => void)[] = [];
  /**
   * Set when a wake came while a delivery was in progress (a record made, or a drain asked
   * for, inside a layer callback): the outer delivery must look at the queues before it ends.
   */
  #wokenWhileDispatching = false;
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
    for (const [config, index] of layers) {
      this.#dispatchers[index] = new JsLayerDispatcher(config, index, this.#reporterFor(config));
    }
    this.#indices = layers.map(([, index]) => index);
    this.#callback = runtime.createWakeCallback((index, length) => {
      this.#inCallback++;
      try {
        this.#wake(index, length);
      } finally {
        this.#inCallback--;
      }
    });
  }

  /**
   * Sets up delivery for the JS layers of `layers` (if any) and attaches to the library; call
   * before installing the subscriber, on the JavaScript thread.
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
    native.jsAttach(handle, delivery.#callback, delivery.#shared);
    delivery.#attached = true;
    delivery.#stopTimer = runtime.startUnrefTimer(() => delivery.#poll(), POLL_MS);
    return delivery;
  }

  /** Records dropped so far because a queue was full, summed over the JS layers. */
  get dropped(): number {
    let total = 0;
    for (const index of this.#indices) total += this.#native.jsDropped(this.#handle, index);
    return total;
  }

  /**
   * Delivers everything queued. Does nothing when called from inside a layer callback: the
   * delivery in progress picks up new records before it returns.
   */
  drain(): void {
    this.#wake(0, 0);
  }

  /** Whether a delivery is in progress: the caller is inside one of its layer callbacks. */
  get dispatching(): boolean {
    return this.#shared[DISPATCHING] !== 0;
  }

  /**
   * Delivers what is left and detaches from the library, then runs `then`. Idempotent. Called
   * from inside a layer callback, it does so once the delivery in progress has finished (it
   * delivers the records made before, in order), before control returns to the code that
   * recorded them.
   */
  close(then?: () => void): void {
    if (this.dispatching) {
      this.#afterDispatch.push(() => {
        this.close();
        then?.();
      });
      return;
    }
    if (this.#attached) {
      this.#stopTimer?.();
      this.#stopTimer = null;
      this.drain();
      this.#warnIfDropped();
      this.#native.jsAttach(this.#handle, null, null);
      this.#attached = false;
      const callback = this.#callback;
      // Native code may still have to return through the callback: release it afterwards.
      if (this.#inCallback > 0) queueMicrotask(() => callback.close());
      else callback.close();
    }
    then?.();
  }

  /** Runs on the JavaScript thread, from the library (a record was made) or from JavaScript. */
  #wake(index: number, directLength: number): void {
    const control = this.#shared;
    if (control[DISPATCHING] !== 0) {
      // Inside a layer callback: the delivery in progress drains before it returns.
      this.#wokenWhileDispatching = true;
      return;
    }
    if (!this.#attached) return;
    control[DISPATCHING] = 1;
    try {
      this.#wokenWhileDispatching = false;
      if (directLength !== 0) {
        this.#dispatchers[index]?.dispatch(this.#data, this.#dataView, directLength);
      }
      // Records reach the shared buffer only when their queue was empty: unless a layer
      // callback recorded (or drained) meanwhile, the queues hold at most what other threads
      // added since, which the next poll delivers. This saves a native call per record.
      if (directLength === 0 || this.#wokenWhileDispatching) this.#drainPending();
    } catch (error) {
      // Never let an exception unwind into native code (this runs inside the wake callback).
      console.error("tracing-bridge: JS layer delivery failed:", error);
    } finally {
      control[DISPATCHING] = 0;
    }
    this.#runAfterDispatch();
  }

  #runAfterDispatch(): void {
    while (this.#afterDispatch.length > 0) {
      const next = this.#afterDispatch.shift()!;
      try {
        next();
      } catch (error) {
        console.error("tracing-bridge: closing a JS layer delivery failed:", error);
      }
    }
  }

  #poll(): void {
    if (!this.#attached) return;
    if (this.#native.jsPending(this.#handle) !== 0) this.drain();
    this.#warnIfDropped();
  }

  /** Drains every layer whose queue holds records, until none does (callbacks may add some). */
  #drainPending(): void {
    for (;;) {
      const pending = this.#native.jsPending(this.#handle);
      if (pending === 0) return;
      for (const index of this.#indices) {
        if ((pending & (1 << index)) !== 0) this.#drainLayer(index);
      }
    }
  }

  #drainLayer(index: number): void {
    const dispatcher = this.#dispatchers[index]!;
    for (;;) {
      const result = this.#native.jsDrain(this.#handle, index, this.#data);
      if (result >= NEEDS_BUFFER) {
        this.#drainOversized(dispatcher, result - NEEDS_BUFFER);
        continue;
      }
      const length = result & (MORE - 1);
      if (length !== 0) dispatcher.dispatch(this.#data, this.#dataView, length);
      if ((result & MORE) === 0) return;
    }
  }

  /** A record larger than the shared buffer: drain it into a buffer of its own. */
  #drainOversized(dispatcher: JsLayerDispatcher, size: number): void {
    const bytes = new Uint8Array(size);
    const length = this.#native.jsDrain(this.#handle, dispatcher.index, bytes) & (MORE - 1);
    dispatcher.dispatch(bytes, new DataView(bytes.buffer), length);
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
