/**
 * Decodes the records a JS layer's queue hands over (format: `shim/src/layers/js/wire.rs`) and
 * calls the layer's methods. One {@link JsLayerDispatcher} per JS layer of a running config.
 * @module
 */

import type {
  CallsiteMetadata,
  EventData,
  Fields,
  FieldValue,
  JsLayerConfig,
  Layer,
  LayerErrorContext,
  LayerMethod,
  Level,
  SpanData,
  ThreadInfo,
} from "./js_layer.ts";
import { TracingError } from "./errors.ts";

/** The record kinds and value kinds of `shim/src/layers/js/wire.rs`, with the same names. */
export const KIND_CALLSITE = 1;
export const KIND_THREAD = 2;
export const KIND_NEW_SPAN = 10;
export const KIND_EVENT = 11;
export const KIND_RECORD = 12;
export const KIND_FOLLOWS = 13;
export const KIND_ENTER = 14;
export const KIND_EXIT = 15;
export const KIND_CLOSE = 16;

export const VALUE_STR = 0;
export const VALUE_SAME = 1;
export const VALUE_NUMBER = 2;
export const VALUE_I64 = 3;
export const VALUE_U64 = 4;
export const VALUE_TRUE = 5;
export const VALUE_FALSE = 6;
export const VALUE_BIGINT = 7;
export const VALUE_BYTES = 8;

export const NONE_U32 = 0xffffffff;
const LEVELS: readonly Level[] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

/** What the decoder keeps per callsite; layers see only its frozen `metadata`. */
interface Callsite extends CallsiteMetadata {
  /** The documented keys only, frozen: the object events carry as `metadata`. */
  readonly metadata: CallsiteMetadata;
  readonly fieldNames: string[];
  /** Index of the `message` field, or -1. */
  readonly messageIndex: number;
  /** The last string decoded per field, for `VALUE_SAME`. */
  readonly lastText: (string | undefined)[];
}

const utf8 = new TextDecoder();

/**
 * The `toJSON` of a fields object that holds a `bigint` or a `Uint8Array` (which
 * `JSON.stringify` cannot write, or writes as `{"0":…}`): a copy with bigints as decimal
 * strings and bytes as arrays of numbers. Not enumerable, so `Object.keys` and `for…in` do not
 * see it; a copy made with `{ ...fields }` drops it.
 */
function fieldsToJSON(this: Fields): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const name of Object.keys(this)) {
    const value = this[name];
    copy[name] = typeof value === "bigint"
      ? value.toString()
      : value instanceof Uint8Array
      ? Array.from(value)
      : value;
  }
  return copy;
}

const FIELDS_TO_JSON: PropertyDescriptor = Object.freeze({
  value: fieldsToJSON,
  enumerable: false,
  writable: true,
  configurable: true,
});

/** Gives `fields` its `toJSON`, unless a field of the record is itself named `toJSON`. */
function addToJson(fields: Fields): void {
  if (!Object.hasOwn(fields, "toJSON")) Object.defineProperty(fields, "toJSON", FIELDS_TO_JSON);
}

/** Reports errors thrown by layer callbacks. */
export type ErrorReporter = (error: unknown, context: LayerErrorContext) => void;

/** Decodes one JS layer's records and dispatches them to its layer. */
export class JsLayerDispatcher {
  readonly config: JsLayerConfig;
  /** The layer's position in its tracing config. */
  readonly index: number;
  readonly #layer: Layer;
  readonly #report: ErrorReporter;
  readonly #callsites: Callsite[] = [];
  readonly #threads: ThreadInfo[] = [];
  readonly #spans = new Map<number, unknown>();
  #bytes: Uint8Array = new Uint8Array(0);
  #view: DataView = new DataView(new ArrayBuffer(0));
  #at = 0;

  constructor(config: JsLayerConfig, index: number, report: ErrorReporter) {
    this.config = config;
    this.index = index;
    this.#layer = config.layer;
    this.#report = report;
  }

  /** Decodes and dispatches `length` bytes of whole records from `bytes`. */
  dispatch(bytes: Uint8Array, view: DataView, length: number): void {
    this.#bytes = bytes;
    this.#view = view;
    this.#at = 0;
    while (this.#at < length) {
      const size = view.getUint32(this.#at, true);
      const end = this.#at + 4 + size;
      this.#at += 4;
      this.#record(view.getUint8(this.#at++));
      this.#at = end;
    }
  }

  #record(kind: number): void {
    switch (kind) {
      case KIND_CALLSITE:
        return this.#defineCallsite();
      case KIND_THREAD: {
        const id = this.#u32();
        this.#threads[id] = Object.freeze({ id, name: this.#optionalStr() });
        return;
      }
      case KIND_NEW_SPAN:
        return this.#newSpan();
      case KIND_EVENT:
        return this.#event();
      case KIND_RECORD: {
        const callsite = this.#callsite();
        const id = this.#f64();
        const values: Fields = {};
        this.#fields(callsite, values);
        this.#call("onRecord", id, values, this.#spans.get(id));
        return;
      }
      case KIND_FOLLOWS: {
        const id = this.#f64();
        const follows = this.#f64();
        this.#call("onFollowsFrom", id, follows, this.#spans.get(id));
        return;
      }
      case KIND_ENTER: {
        const id = this.#f64();
        this.#call("onEnter", id, this.#spans.get(id));
        return;
      }
      case KIND_EXIT: {
        const id = this.#f64();
        this.#call("onExit", id, this.#spans.get(id));
        return;
      }
      case KIND_CLOSE: {
        const id = this.#f64();
        const spans = this.#spans;
        // Only spans whose `onNewSpan` returned a state are in the map (see `#newSpan`).
        let state: unknown;
        if (spans.size !== 0) {
          state = spans.get(id);
          if (state !== undefined) spans.delete(id);
        }
        // Called directly rather than through `#call`: one per span, on the hot path.
        const layer = this.#layer;
        const onClose = layer.onClose;
        if (typeof onClose !== "function") return;
        try {
          onClose.call(layer, id, state);
        } catch (error) {
          this.#report(error, { method: "onClose", layer });
        }
        return;
      }
    }
  }

  #defineCallsite(): void {
    const id = this.#u32();
    const level = LEVELS[this.#view.getUint8(this.#at++)] ?? "TRACE";
    this.#at++; // is_span: the record kinds already tell spans from events
    const name = this.#str();
    const target = this.#str();
    const modulePath = this.#optionalStr();
    const file = this.#optionalStr();
    const rawLine = this.#u32();
    const count = this.#view.getUint8(this.#at++);
    const fieldNames: string[] = [];
    for (let index = 0; index < count; index++) fieldNames.push(this.#str());
    const line = rawLine === NONE_U32 ? undefined : rawLine;
    this.#callsites[id] = {
      name,
      target,
      level,
      modulePath,
      file,
      line,
      metadata: Object.freeze({ name, target, level, modulePath, file, line }),
      fieldNames,
      messageIndex: fieldNames.indexOf("message"),
      lastText: new Array(count).fill(undefined),
    };
  }

  /** The callsite whose id comes next; defined by an earlier record of the same stream. */
  #callsite(): Callsite {
    const id = this.#u32();
    return this.#callsites[id] ?? corrupt(`callsite ${id} was never defined`);
  }

  /** The thread whose id comes next; announced by an earlier record of the same stream. */
  #thread(): ThreadInfo {
    const id = this.#u32();
    return this.#threads[id] ?? corrupt(`thread ${id} was never announced`);
  }

  #newSpan(): void {
    const callsite = this.#callsite();
    const id = this.#f64();
    const parent = this.#f64();
    const thread = this.#thread();
    const timestamp = this.#f64();
    const fields: Fields = {};
    this.#fields(callsite, fields);
    const span: SpanData = {
      name: callsite.name,
      target: callsite.target,
      level: callsite.level,
      modulePath: callsite.modulePath,
      file: callsite.file,
      line: callsite.line,
      fields,
      parent: parent === 0 ? undefined : parent,
      thread,
      timestamp,
    };
    let state: unknown;
    try {
      state = this.#layer.onNewSpan!(span, id);
    } catch (error) {
      this.#report(error, { method: "onNewSpan", layer: this.#layer });
    }
    // A span without state needs no entry: a lookup finds `undefined` all the same.
    if (state !== undefined) this.#spans.set(id, state);
  }

  #event(): void {
    const callsite = this.#callsite();
    const parent = this.#f64();
    const thread = this.#thread();
    const timestamp = this.#f64();
    const fields: Fields = {};
    const message = this.#fields(callsite, fields);
    const event: EventData = {
      name: callsite.name,
      target: callsite.target,
      level: callsite.level,
      modulePath: callsite.modulePath,
      file: callsite.file,
      line: callsite.line,
      metadata: callsite.metadata,
      message,
      fields,
      parent: parent === 0 ? undefined : parent,
      thread,
      timestamp,
    };
    this.#call("onEvent", event, parent === 0 ? undefined : this.#spans.get(parent));
  }

  /** Decodes fields into `into`; returns the `message` field, which is left out of `into`. */
  #fields(callsite: Callsite, into: Fields): string | undefined {
    const view = this.#view;
    const count = view.getUint8(this.#at++);
    let message: string | undefined;
    let needsJson = false;
    for (let n = 0; n < count; n++) {
      const index = view.getUint8(this.#at++);
      const tag = view.getUint8(this.#at++);
      let value: FieldValue;
      switch (tag) {
        case VALUE_STR:
          value = this.#str();
          callsite.lastText[index] = value;
          break;
        case VALUE_SAME:
          value = callsite.lastText[index] ?? "";
          break;
        case VALUE_NUMBER:
          value = this.#f64();
          break;
        case VALUE_I64:
          value = view.getBigInt64(this.#at, true);
          this.#at += 8;
          needsJson = true;
          break;
        case VALUE_U64:
          value = view.getBigUint64(this.#at, true);
          this.#at += 8;
          needsJson = true;
          break;
        case VALUE_TRUE:
          value = true;
          break;
        case VALUE_FALSE:
          value = false;
          break;
        case VALUE_BIGINT:
          value = BigInt(this.#str());
          needsJson = true;
          break;
        case VALUE_BYTES: {
          const length = this.#u32();
          value = this.#bytes.slice(this.#at, this.#at + length);
          this.#at += length;
          needsJson = true;
          break;
        }
        default:
          if (needsJson) addToJson(into);
          return message; // unknown tag: the rest of this record cannot be read
      }
      if (index === callsite.messageIndex && typeof value === "string") {
        message = value;
      } else {
        into[callsite.fieldNames[index] ?? `field${index}`] = value;
      }
    }
    if (needsJson) addToJson(into);
    return message;
  }

  // Fixed-arity calls: no rest-argument array on the hot path.
  #call(method: "onEvent", event: EventData, state: unknown): void;
  #call(method: "onRecord", id: number, values: Fields, state: unknown): void;
  #call(method: "onFollowsFrom", id: number, follows: number, state: unknown): void;
  #call(method: "onEnter" | "onExit" | "onClose", id: number, state: unknown): void;
  #call(method: LayerMethod, first: unknown, second: unknown, third?: unknown): void {
    const layer = this.#layer;
    const callback = layer[method] as
      | ((this: Layer, a: unknown, b: unknown, c: unknown) => void)
      | undefined;
    if (typeof callback !== "function") return;
    try {
      callback.call(layer, first, second, third);
    } catch (error) {
      this.#report(error, { method, layer });
    }
  }

  #u32(): number {
    const value = this.#view.getUint32(this.#at, true);
    this.#at += 4;
    return value;
  }

  #f64(): number {
    const value = this.#view.getFloat64(this.#at, true);
    this.#at += 8;
    return value;
  }

  #str(): string {
    const length = this.#u32();
    const start = this.#at;
    this.#at += length;
    return decodeUtf8(this.#bytes, start, length);
  }

  #optionalStr(): string | undefined {
    if (this.#view.getUint32(this.#at, true) === NONE_U32) {
      this.#at += 4;
      return undefined;
    }
    return this.#str();
  }
}

/** A record stream that breaks the wire format: a bug of tracing-bridge, never of its user. */
function corrupt(what: string): never {
  throw new TracingError("UNKNOWN", `tracing-bridge: corrupt JavaScript layer records: ${what}`);
}

/** Short ASCII strings are built directly: faster than a `TextDecoder` call. */
function decodeUtf8(bytes: Uint8Array, start: number, length: number): string {
  if (length <= 24) {
    let text = "";
    for (let index = start; index < start + length; index++) {
      const byte = bytes[index] ?? 0xff; // past the end: left to the decoder
      if (byte > 0x7f) return utf8.decode(bytes.subarray(start, start + length));
      text += String.fromCharCode(byte);
    }
    return text;
  }
  return utf8.decode(bytes.subarray(start, start + length));
}
