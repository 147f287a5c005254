/**
 * JavaScript layers: objects whose methods receive the spans and events of the native library.
 * @module
 */

import { type LayerConfig, optionNames } from "./config.ts";
import { TracingError } from "./errors.ts";

/** `tracing` levels. */
export type Level = "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR";

/**
 * A field value: strings stay strings (a `Debug` value arrives as its text, an error as its
 * message followed by its sources), booleans, numbers for `f64` and for integers in the safe
 * range, `bigint` beyond it, `Uint8Array` for bytes.
 */
export type FieldValue = string | number | bigint | boolean | Uint8Array;

/** Fields by name. */
export type Fields = Record<string, FieldValue>;

/** The thread a span or event was recorded on. `id` is small and unique for the process. */
export interface ThreadInfo {
  /** Small and unique for the process's life (not the OS thread id). */
  readonly id: number;
  /** The Rust thread's name, if it has one. */
  readonly name: string | undefined;
}

/** Where a span or event was declared. Shared by every record of the same callsite. */
export interface CallsiteMetadata {
  /** The span's name, or the event's (`event src/lib.rs:12`). */
  readonly name: string;
  /** The target, by default the module path. */
  readonly target: string;
  /** The level. */
  readonly level: Level;
  /** The Rust module path, if known. */
  readonly modulePath: string | undefined;
  /** The source file, if known. */
  readonly file: string | undefined;
  /** The source line, if known. */
  readonly line: number | undefined;
}

/** A new span, as given to {@link Layer.onNewSpan}. */
export interface SpanData extends CallsiteMetadata {
  /** The span's fields at creation. */
  readonly fields: Fields;
  /** The parent span's id, or `undefined` for a root span. */
  readonly parent: number | undefined;
  /** The thread that created the span. */
  readonly thread: ThreadInfo;
  /** Milliseconds since the Unix epoch, with sub-millisecond precision. */
  readonly timestamp: number;
}

/** An event, as given to {@link Layer.onEvent}. */
export interface EventData extends CallsiteMetadata {
  /** The callsite, shared by every event of this callsite. */
  readonly metadata: CallsiteMetadata;
  /** The `message` field, if any. */
  readonly message: string | undefined;
  /** Every other field. */
  readonly fields: Fields;
  /** The parent span: the explicit parent, else the emitting thread's current span. */
  readonly parent: number | undefined;
  /** The thread that emitted the event. */
  readonly thread: ThreadInfo;
  /** Milliseconds since the Unix epoch, with sub-millisecond precision. */
  readonly timestamp: number;
}

/**
 * A JavaScript layer: implement any of these methods; the others are skipped (and the native
 * side does not even encode what no method consumes). `State` is whatever `onNewSpan` returns;
 * every later callback about that span (and every event inside it, from any thread) receives it.
 *
 * Callbacks run on the JavaScript thread only, one at a time, never re-entrantly, in an order
 * consistent with what happened in Rust.
 */
export interface Layer<State = unknown> {
  /** A span was created; what this returns is the span's state. */
  onNewSpan?(span: SpanData, id: number): State;
  /** An event was recorded; `state` is its parent span's. */
  onEvent?(event: EventData, state: State | undefined): void;
  /** Values were recorded on span `id` after its creation. */
  onRecord?(id: number, values: Fields, state: State | undefined): void;
  /** Span `id` was entered, on some thread. */
  onEnter?(id: number, state: State | undefined): void;
  /** Span `id` was exited, on some thread. */
  onExit?(id: number, state: State | undefined): void;
  /** Span `id` was closed: nothing more will be said of it. */
  onClose?(id: number, state: State | undefined): void;
  /** Span `id` was marked as following from span `followsId`. */
  onFollowsFrom?(id: number, followsId: number, state: State | undefined): void;
}

/** The name of a {@link Layer} method. */
export type LayerMethod =
  | "onNewSpan"
  | "onEvent"
  | "onRecord"
  | "onEnter"
  | "onExit"
  | "onClose"
  | "onFollowsFrom";

/** The {@link Layer} methods, in the names the native side knows them by. */
export const LAYER_CALLBACKS = {
  onNewSpan: "newSpan",
  onEvent: "event",
  onRecord: "record",
  onEnter: "enter",
  onExit: "exit",
  onClose: "close",
  onFollowsFrom: "followsFrom",
} as const satisfies Record<LayerMethod, string>;

/** Where an error thrown by a layer callback came from. */
export interface LayerErrorContext {
  /** The method that threw, e.g. `"onEvent"`. */
  readonly method: LayerMethod;
  /** The layer whose method threw. */
  readonly layer: Layer;
}

/** Options of {@link JsLayerConfig}. */
export interface JsLayerOptions {
  /** This layer's own filter, in `RUST_LOG` syntax. */
  filter?: string | undefined;
  /**
   * How many records may wait for JavaScript before new ones are dropped (and counted in
   * `tracing.droppedRecords`): a whole number from 1 to 4294967295, checked by `enter()`.
   * Default 262144.
   */
  capacity?: number | undefined;
  /**
   * Receives errors thrown by the layer's callbacks. Default: `console.error`, at most once a
   * second. Tracing continues either way.
   */
  onError?: ((error: unknown, context: LayerErrorContext) => void) | undefined;
}

/** Every option of {@link JsLayerOptions}. */
export const JS_LAYER_OPTIONS = optionNames<JsLayerOptions>()(["filter", "capacity", "onError"]);

/** The options of {@link JS_LAYER_OPTIONS} that stay in JavaScript (not sent to the library). */
export const JS_LAYER_LOCAL_OPTIONS = [
  "onError",
] as const satisfies readonly (keyof JsLayerOptions)[];

/** What `toJSON` sends besides the options: the callbacks the layer implements. */
export const JS_LAYER_DERIVED_OPTIONS = ["callbacks"] as const;

/**
 * A layer config that delivers spans and events to a JavaScript {@link Layer}. `State` is what
 * the layer's `onNewSpan` returns, inferred from it: the other methods receive it typed.
 *
 * ```ts
 * import { JsLayerConfig } from "@tracing-bridge/tracing-bridge";
 *
 * const config = new JsLayerConfig({
 *   onNewSpan: (span) => ({ started: span.timestamp }),
 *   onClose: (id, state) => console.log(id, state && Date.now() - state.started),
 * });
 * ```
 */
export class JsLayerConfig<State = unknown> implements LayerConfig {
  /** The layer receiving the records. */
  readonly layer: Layer<State>;
  /** The options given. */
  readonly options: Readonly<JsLayerOptions>;

  /** Wraps `layer`; see {@link JsLayerOptions} for the options. */
  constructor(layer: Layer<State>, options: JsLayerOptions = {}) {
    if (layer === null || typeof layer !== "object") {
      throw new TracingError(
        "INVALID_CONFIG",
        "JsLayerConfig needs a layer object with methods such as onEvent(event, state)",
      );
    }
    this.layer = layer;
    this.options = Object.freeze({ ...options });
  }

  /** The layer methods present. */
  get callbacks(): LayerMethod[] {
    return (Object.keys(LAYER_CALLBACKS) as LayerMethod[]).filter(
      (method) => typeof this.layer[method] === "function",
    );
  }

  /** The JSON form sent to the native library. */
  toJSON(): Record<string, unknown> {
    return {
      kind: "js",
      callbacks: this.callbacks.map((method) => LAYER_CALLBACKS[method]),
      capacity: this.options.capacity,
      filter: this.options.filter,
    };
  }
}
