/**
 * `Tracing`: installs a config into the native library and uninstalls it on dispose.
 * @module
 */

import type { LayerConfig, TracingConfig } from "./config.ts";
import { bufferedFailure, check, failure, RESULT_OK, TracingError } from "./errors.ts";
import { type FlameLayerConfig, flameLayerOf } from "./flame.ts";
import { type FlameSvgOptions, renderFlameSvgWith } from "./flame_svg.ts";
import { forgetEntered, trackEntered } from "./exit.ts";
import { type InstrumentOptions, instrumentSymbols } from "./instrument.ts";
import { readDiagnostics, type TracingDiagnostics } from "./diagnostics.ts";
import { JsDelivery } from "./js_delivery.ts";
import {
  type EventOptions,
  type JsSpan,
  jsSpansOf,
  type SpanFields,
  type SpanLevel,
  type StartSpanOptions,
  type TraceContext,
} from "./js_spans.ts";
import { countEntered, holdLibrary, openTracingLibrary, TracingLibrary } from "./library.ts";
import {
  currentRuntime,
  type NativeLibrary,
  nonEmpty,
  type Runtime,
  type SubscriberHandle,
} from "./native.ts";

/** Options of a {@link TracingBase}. */
export interface TracingOptions {
  /**
   * The native library that embeds tracing-bridge (your cdylib): an opened library or its path.
   * Without it, `$TRACING_BRIDGE_LIB` names it; with neither, the constructor throws
   * `LIBRARY_NOT_GIVEN`.
   */
  library?: string | TracingLibrary | undefined;
  /**
   * Whether dispose prints, once, on stderr why a layer received nothing (its filter names a
   * target the library does not have) or which JavaScript spans every filter dropped; default
   * `true`. {@link TracingBase.diagnostics} returns the same either way.
   */
  diagnostics?: boolean | undefined;
}

const encoder = new TextEncoder();

/**
 * Tracing for one native library. `enter()` installs the config (globally or for the
 * JavaScript thread); disposing flushes and uninstalls it. Use with `using`:
 *
 * ```ts
 * using tracing = new Tracing(config, { library: "./libmine.so" }).enter();
 * ```
 *
 * Use {@link Tracing}, which runs on the runtime whose `mod.ts` was imported.
 */
export class TracingBase implements Disposable, AsyncDisposable {
  /** The config this tracing installs. */
  readonly config: TracingConfig;
  /** The library it installs into. */
  readonly library: TracingLibrary;
  #runtime: Runtime;
  #handle: SubscriberHandle | null = null;
  #delivery: JsDelivery | null = null;
  #finalDropped = 0;
  #state: "new" | "entered" | "disposed" = "new";
  #droppedSpans = 0;
  /** Off-thread calls still using the handle; it is freed only after they settle. */
  #inFlight = new Set<Promise<unknown>>();
  /** The handle after dispose stopped it, until it is freed (its layers may still run). */
  #releasing: SubscriberHandle | null = null;
  /** What the exit hook holds of this tracing while it is entered or not yet released. */
  readonly #atExit = { disposeAtExit: () => this.#disposeAtExit() };
  readonly #printDiagnostics: boolean;
  /** The diagnostics read when dispose stopped the subscriber. */
  #finalDiagnostics: TracingDiagnostics | undefined;

  /** Used by each runtime's `Tracing`: opens `options.library` through `runtime`. */
  protected constructor(runtime: Runtime, config: TracingConfig, options: TracingOptions = {}) {
    if (typeof config?.toJSON !== "function" || !("scope" in config)) {
      throw new TracingError(
        "INVALID_CONFIG",
        "Tracing needs a GlobalTracingConfig or a CurrentThreadTracingConfig",
      );
    }
    this.config = config;
    this.#runtime = runtime;
    this.#printDiagnostics = options.diagnostics !== false;
    this.library = options.library instanceof TracingLibrary
      ? options.library
      : openTracingLibrary(runtime, options.library);
  }

  /** Whether the config is installed now. */
  get active(): boolean {
    return this.#state === "entered";
  }

  /** Whether this tracing was disposed. */
  get disposed(): boolean {
    return this.#state === "disposed";
  }

  /**
   * Builds the config's layers (opening files, parsing filters) and installs them.
   * Returns `this`, for `using tracing = new Tracing(config).enter()`.
   */
  enter(): this {
    if (this.#state === "disposed") {
      throw new TracingError(
        "DISPOSED",
        "this Tracing was disposed; create a new Tracing to trace again",
      );
    }
    if (this.#state === "entered") {
      throw new TracingError(
        "ALREADY_ENTERED",
        "this Tracing is already entered; dispose it before entering again",
      );
    }
    const native = this.library.native;
    // The runtime goes with the config: OpenTelemetry resources report it (process.runtime.*).
    const { name, version } = this.#runtime;
    const json = encoder.encode(
      JSON.stringify({ ...this.config.toJSON(), runtime: { name, version } }),
    );
    const created = native.subscriberNew(json);
    check(native, created.result);
    const handle = created.handle as SubscriberHandle;
    const delivery = JsDelivery.attach(this.#runtime, native, handle, this.config.layers);
    const installed = this.config.scope === "global"
      ? native.subscriberInstallGlobal(handle)
      : native.subscriberInstallCurrentThread(handle);
    if (installed !== RESULT_OK) {
      const error = failure(native, installed);
      delivery?.close();
      native.subscriberFree(handle);
      throw error;
    }
    this.#handle = handle;
    this.#delivery = delivery;
    this.#state = "entered";
    countEntered(this.library, 1);
    trackEntered(this.#runtime, this.#atExit);
    return this;
  }

  /**
   * Records dropped because a JS layer's queue was full (exact; summed over the JS layers).
   * Still readable after dispose.
   */
  get droppedRecords(): number {
    return this.#delivery?.dropped ?? this.#finalDropped;
  }

  /**
   * Delivers every queued record to the JS layers and writes out everything the layers
   * buffer. Exporting layers (OTLP) return once the receiver has confirmed, or after their
   * `flushTimeoutMs`; this blocks the JavaScript thread meanwhile (see
   * {@link TracingBase.flushAsync}).
   */
  flush(): void {
    this.#requireEntered("flush");
    this.#delivery?.drain();
    // A layer callback may have disposed this tracing during the drain; dispose flushed then.
    if (this.#handle === null) return;
    check(this.library.native, this.library.native.subscriberFlush(this.#handle));
  }
  /**
   * Replaces the config's global filter (`RUST_LOG` syntax) while entered: what is recorded
   * changes at once, on every thread, without reinstalling. Invalid directives throw
   * `INVALID_FILTER` naming the directive, and the previous filter stays in effect.
   */
  setFilter(directives: string): void {
    const handle = this.#requireEntered("set the filter");
    const encoded = encodeDirectives(directives);
    const native = this.library.native;
    check(native, native.subscriberSetFilter(handle, encoded.bytes, encoded.length));
  }

  /**
   * Replaces one layer's own filter while entered; the other layers keep theirs. `layer` is
   * one of the config's layer objects or its index in `layers`.
   */
  setLayerFilter(layer: LayerConfig | number, directives: string): void {
    const handle = this.#requireEntered("set a layer's filter");
    const index = typeof layer === "number" ? layer : this.config.layers.indexOf(layer);
    if (!Number.isInteger(index) || index < 0 || index >= this.config.layers.length) {
      throw new TracingError(
        "INVALID_CONFIG",
        `setLayerFilter: ${
          typeof layer === "number" ? `index ${layer} is out of range` : "that layer is not"
        } in this Tracing's config (it has ${this.config.layers.length} layer(s))`,
      );
    }
    const encoded = encodeDirectives(directives);
    const native = this.library.native;
    check(native, native.subscriberSetLayerFilter(handle, index, encoded.bytes, encoded.length));
  }

  /**
   * Renders the config's flame layer (`options.layer`, or the only one) to an SVG flame graph
   * (`style: "graph"`, the default) or flame chart (`style: "chart"`) at `svgPath`. Call it
   * after dispose; while entered, it flushes first and renders what was recorded so far.
   */
  async renderFlameSvg(
    svgPath: string,
    options: FlameSvgOptions & { layer?: FlameLayerConfig } = {},
  ): Promise<void> {
    const { layer, ...svgOptions } = options;
    const flame = flameLayerOf(this.config.layers, layer);
    if (this.#state === "entered") this.flush();
    await renderFlameSvgWith(this.library, flame.path, svgPath, svgOptions);
  }

  /**
   * Like {@link TracingBase.flush}, without blocking the event loop where the runtime can call
   * the library off the JavaScript thread (Deno). In Bun it flushes synchronously, bounded by
   * the layers' flush timeouts.
   */
  async flushAsync(): Promise<void> {
    this.#requireEntered("flush");
    const native = this.library.native;
    this.#delivery?.drain();
    const handle = this.#handle;
    if (handle === null) return; // disposed by a layer callback during the drain
    if (!native.offThread) return this.flush();
    const reply = new OffThreadReply();
    const result = await this.#track(native.offThread.flush(handle, reply.message, reply.written));
    if (result !== RESULT_OK) throw reply.error(result);
  }

  /**
   * How many records the OpenTelemetry layers dropped or could not get confirmed (spans, log
   * records and metric data points), plus the lines an fmt layer with `lossy: true` dropped
   * because its queue was full: dropped when
   * known not delivered (the queue was full, the receiver refused them or could not be reached,
   * dispose's flush timeout expired before they were sent, they were still open at dispose),
   * not confirmed when the request may have reached the receiver but no answer came (a
   * timeout, a connection lost after sending). Also readable after dispose: final once the
   * layers are shut down, and then the same as the report on stderr.
   */
  get droppedSpans(): number {
    const handle = this.#handle ?? this.#releasing;
    if (handle !== null) {
      this.#droppedSpans = readDroppedSpans(this.library.native, handle);
    }
    return this.#droppedSpans;
  }

  /**
   * Flushes and uninstalls the config. Idempotent. A current-thread config must be disposed
   * on the thread that entered it (the JavaScript thread).
   *
   * When it returns, nothing recorded afterwards reaches the layers, the JS layers have had
   * every record made before, and the global slot is free for another `Tracing`. It may be
   * called anywhere, also from inside a JS layer callback of this very tracing: then the
   * records made before it are still delivered, in order, as soon as that callback returns,
   * and the layers are flushed and shut down right after. While a `flushAsync()` still runs,
   * the layers are shut down once it settles (or at exit, if that comes first).
   *
   * JavaScript spans this tracing records that are still open (`startSpan` without `end()`)
   * are ended first, so that they are exported, with the attribute `tracing_bridge.unended`;
   * ending them later does nothing.
   */
  dispose(): void {
    if (this.#state === "disposed") return;
    const handle = this.#handle;
    this.#handle = null;
    this.#state = "disposed";
    if (handle === null) return;
    countEntered(this.library, -1);
    this.#releasing = handle;
    const native = this.library.native;
    const stopped = native.subscriberStop(handle);
    const error = stopped === RESULT_OK ? null : failure(native, stopped);
    this.#reportDiagnostics(handle);
    holdLibrary(this.library, 1);
    const delivery = this.#delivery;
    if (delivery?.dispatching) {
      // Inside a layer callback: the handle is still in use by the delivery in progress.
      delivery.close(() => this.#releaseReporting(handle, error));
      return;
    }
    this.#release(handle, error, (late) => {
      console.error("tracing-bridge: dispose after flushAsync failed:", late);
    });
  }

  /**
   * Why layers received nothing, if they did not, and the JavaScript spans every filter
   * dropped: the targets each layer's filters name that no callsite of the library has (with
   * the library's targets and a hint for `-` written for `_`), and the directive that lets the
   * dropped spans through (`js=info`). `message` is the explanation dispose prints on stderr
   * (`""` when there is nothing to say). While entered it is read now; after dispose it is what
   * was read at dispose. Throws `NOT_INSTALLED` before {@link TracingBase.enter}.
   */
  diagnostics(): TracingDiagnostics {
    if (this.#state === "disposed" && this.#finalDiagnostics) return this.#finalDiagnostics;
    const handle = this.#handle ?? this.#releasing;
    const read = handle === null ? undefined : readDiagnostics(this.library.native, handle);
    if (read === undefined) {
      throw new TracingError(
        "NOT_INSTALLED",
        "cannot read the diagnostics: call enter() first",
      );
    }
    return read;
  }

  /** At dispose, after stop: keeps the diagnostics and prints them once (unless turned off). */
  #reportDiagnostics(handle: SubscriberHandle): void {
    const read = readDiagnostics(this.library.native, handle);
    this.#finalDiagnostics = read;
    if (this.#printDiagnostics && read?.message) {
      console.error(
        `${read.message}\n(tracing-bridge: new Tracing(config, { library, diagnostics: false }) ` +
          "turns these notes off)",
      );
    }
  }

  #releaseReporting(handle: SubscriberHandle, error: TracingError | null): void {
    const report = (late: unknown) => console.error("tracing-bridge: dispose failed:", late);
    try {
      this.#release(handle, error, report);
    } catch (late) {
      report(late);
    }
  }

  /**
   * After stop: delivers what the JS layers hold and detaches them, then shuts the layers down
   * and frees the handle, now or, while a `flushAsync()` still uses the handle, once it settles
   * (errors then go to `lateError`; the exit hook shuts the layers down if the program exits
   * first). Throws the first error when done now.
   */
  #release(
    handle: SubscriberHandle,
    error: TracingError | null,
    lateError: (error: unknown) => void,
  ): void {
    this.#closeDelivery();
    const finish = () => {
      const shutdownError = this.#shutdownLayers(handle);
      this.#free(handle);
      return error ?? shutdownError;
    };
    if (this.#inFlight.size > 0) {
      // A `flushAsync()` still runs on another thread with this handle: finish after it.
      void Promise.allSettled([...this.#inFlight]).then(() => {
        try {
          const late = finish();
          if (late) lateError(late);
        } catch (late) {
          lateError(late);
        }
      });
      if (error) throw error;
      return;
    }
    const failed = finish();
    if (failed) throw failed;
  }

  /**
   * Flushes and shuts the layers down (once: later calls return at once, and a call while
   * another thread shuts them down returns when that is done); the counts are final then.
   */
  #shutdownLayers(handle: SubscriberHandle): TracingError | null {
    const native = this.library.native;
    const reply = new OffThreadReply();
    const result = native.subscriberShutdown(handle, reply.message, reply.written);
    this.#droppedSpans = readDroppedSpans(native, handle);
    return result === RESULT_OK ? null : reply.error(result);
  }

  /** Frees the stopped, shut down handle. */
  #free(handle: SubscriberHandle): void {
    this.library.native.subscriberFree(handle);
    holdLibrary(this.library, -1);
    this.#releasing = null;
    forgetEntered(this.#atExit);
  }

  /**
   * The exit hook's dispose: like {@link TracingBase.dispose}, but it does not wait for a
   * `flushAsync()` (or the shutdown of `await using`) still running on another thread: the
   * layers are shut down now, on this thread (bounded by their flush timeouts), and the handle,
   * still in use there, is left to the process's end. Throws the first error.
   */
  #disposeAtExit(): void {
    let error: unknown = null;
    if (this.#state === "entered") {
      try {
        this.dispose();
      } catch (failed) {
        error = failed;
      }
    }
    const handle = this.#releasing;
    // Inside a JS layer callback the layers run now: they are shut down when it returns.
    if (handle !== null && !this.#delivery?.dispatching) {
      this.#closeDelivery();
      const failed = this.#shutdownLayers(handle);
      forgetEntered(this.#atExit);
      error ??= failed;
    }
    if (error) throw error;
  }

  /** Delivers what the JS layers still hold and detaches them; after stop. */
  #closeDelivery(): void {
    if (!this.#delivery) return;
    this.#delivery.close();
    this.#finalDropped = this.#delivery.dropped;
    this.#delivery = null;
  }

  /** Same as {@link TracingBase.dispose}. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Disposes for `await using`. In Deno the layers are flushed and shut down off the
   * JavaScript thread (the event loop keeps running); in Bun this is {@link TracingBase.dispose}.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    const native = this.library.native;
    const offThread = native.offThread;
    if (
      !offThread || this.#state !== "entered" || this.#handle === null ||
      this.#delivery?.dispatching
    ) {
      return this.dispose();
    }
    const handle = this.#handle;
    this.#handle = null;
    this.#state = "disposed";
    countEntered(this.library, -1);
    this.#releasing = handle;
    holdLibrary(this.library, 1);
    // Stopping is quick and, for a current-thread config, must happen on this thread; the JS
    // layers get what they hold before this returns its promise, like `dispose()`.
    const stopped = native.subscriberStop(handle);
    let error = stopped === RESULT_OK ? null : failure(native, stopped);
    this.#reportDiagnostics(handle);
    this.#closeDelivery();
    let freed = false;
    try {
      await Promise.allSettled([...this.#inFlight]);
      const reply = new OffThreadReply();
      const result = await offThread.shutdown(handle, reply.message, reply.written);
      if (error === null && result !== RESULT_OK) error = reply.error(result);
      this.#droppedSpans = readDroppedSpans(native, handle);
      this.#free(handle);
      freed = true;
    } finally {
      if (!freed) holdLibrary(this.library, -1);
    }
    if (error) throw error;
  }

  /**
   * Runs `fn` in a new span (a real `tracing` span in the library, seen by every layer): entered
   * on the JavaScript thread during `fn`'s synchronous part, so native spans made there are its
   * children; current for JavaScript spans and events across `await`; ended when `fn` returns
   * or its promise settles. See `bindings/js_spans.ts` for the nesting rules.
   */
  span<T>(name: string, fields: SpanFields | undefined, fn: (span: JsSpan) => T): T;
  /** Same without fields. */
  span<T>(name: string, fn: (span: JsSpan) => T): T;
  span<T>(
    name: string,
    fieldsOrFn: SpanFields | undefined | ((span: JsSpan) => T),
    fn?: (span: JsSpan) => T,
  ): T {
    return jsSpansOf(this.library.native).span(
      name,
      fieldsOrFn as SpanFields | undefined,
      (fn ?? fieldsOrFn) as (span: JsSpan) => T,
    );
  }

  /** Starts a span with an explicit end (`span.end()` or `using span = ...`). */
  startSpan(name: string, options?: StartSpanOptions): JsSpan {
    return jsSpansOf(this.library.native).startSpan(name, options);
  }

  /** Records an event at `level` with `message` and `fields`, in the current span. */
  event(level: SpanLevel, message: string, fields?: SpanFields, options?: EventOptions): void {
    jsSpansOf(this.library.native).event(level, message, fields, options);
  }

  /**
   * `symbols` (e.g. `lib.symbols` of `Deno.dlopen` or Bun's `dlopen`) with each function wrapped
   * to enter the current JavaScript span around the native call, also after `await`; with
   * `spans: true` each call is a span of its own. See `bindings/instrument.ts`.
   */
  instrument<S extends object>(symbols: S, options?: InstrumentOptions): S {
    const native = this.library.native;
    return instrumentSymbols(native, jsSpansOf(native), symbols, options);
  }

  /** The JavaScript span current in this async context, if any. */
  currentSpan(): JsSpan | undefined {
    return jsSpansOf(this.library.native).currentSpan();
  }

  /**
   * The W3C `traceparent`/`tracestate` of the current span, to send to another service, or
   * `undefined` when no OpenTelemetry layer records it.
   */
  traceContext(): TraceContext | undefined {
    return jsSpansOf(this.library.native).traceContext();
  }

  #track<T>(call: Promise<T>): Promise<T> {
    this.#inFlight.add(call);
    const forget = () => this.#inFlight.delete(call);
    call.then(forget, forget);
    return call;
  }

  #requireEntered(action: string): SubscriberHandle {
    if (this.#state === "disposed") {
      throw new TracingError("DISPOSED", `cannot ${action}: this Tracing was disposed`);
    }
    if (this.#handle === null) {
      throw new TracingError("NOT_INSTALLED", `cannot ${action}: call enter() first`);
    }
    return this.#handle;
  }
}

/** Tracing for a native library, in the runtime whose `mod.ts` was imported. See {@link TracingBase}. */
export class Tracing extends TracingBase {
  /** Prepares tracing with `config`; call {@link TracingBase.enter} to install it. */
  constructor(config: TracingConfig, options: TracingOptions = {}) {
    super(currentRuntime(), config, options);
  }
}

/** Encodes filter directives; never an empty buffer, which some FFIs pass as a null pointer. */
function encodeDirectives(directives: string): { bytes: Uint8Array; length: number } {
  if (typeof directives !== "string") {
    throw new TracingError(
      "INVALID_FILTER",
      'filter directives must be a string in RUST_LOG syntax, e.g. "info,my_lib=debug"',
    );
  }
  const bytes = encoder.encode(directives);
  return { bytes: nonEmpty(bytes), length: bytes.length };
}

const droppedCount = new BigUint64Array(1);

function readDroppedSpans(native: NativeLibrary, handle: SubscriberHandle): number {
  droppedCount[0] = 0n;
  return native.subscriberDroppedSpans(handle, droppedCount) === RESULT_OK
    ? Number(droppedCount[0])
    : 0;
}

/** The buffer an off-thread call writes its error message into. */
class OffThreadReply {
  readonly message = new Uint8Array(4096);
  readonly written = new BigUint64Array(1);

  error(result: number): TracingError {
    return bufferedFailure(result, this.message, this.written);
  }
}
