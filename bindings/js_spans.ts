/**
 * Spans and events made in JavaScript: real `tracing` spans in the native library, so that
 * every configured layer (fmt, OTLP, JS layers) sees them and native spans nest under them.
 *
 * Nesting rules:
 * - A span's parent is, in this order: `options.parent` when given (`null`: a root; a
 *   `{ traceparent }`: a remote parent), else the JavaScript span current in this async context
 *   (`AsyncLocalStorage`, so it survives `await`), else the native span entered on this thread.
 * - Native code sees a JavaScript span as its current span only while the span is *entered* on
 *   the JavaScript thread: during the synchronous part of `tracing.span(name, fn)`'s `fn` (up to
 *   its first `await`), and during `span.run(fn)`. After an `await`, wrap native calls in
 *   `tracing.currentSpan()?.run(() => lib.call())` (or `span.run`) to nest them.
 * - Ending a span that has ended is a no-op. Spans may end in any order; a span whose parent
 *   ended first still names it as parent. A child started after its JavaScript parent ended
 *   gets the nearest live ancestor as parent.
 * - Disposing a `Tracing` ends the spans it records that are still open on this thread (marked
 *   `tracing_bridge.unended` for the OpenTelemetry layers); their `JsSpan`s then do nothing.
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { failure, RESULT_BUFFER_TOO_SMALL, RESULT_OK, TracingError } from "./errors.ts";
import { type NativeLibrary, nonEmpty } from "./native.ts";

/** A level name, upper or lower case. */
export type SpanLevel =
  | "TRACE"
  | "DEBUG"
  | "INFO"
  | "WARN"
  | "ERROR"
  | "trace"
  | "debug"
  | "info"
  | "warn"
  | "error";

/**
 * A field value of a JavaScript span or event. Safe integers and bigints in the `i64` range
 * are recorded as integers, other numbers as floats; `null` and `undefined` leave the field
 * unrecorded.
 */
export type SpanFieldValue = string | number | bigint | boolean | null | undefined;

/** Fields of a span or event, by name (at most 32). */
export type SpanFields = Record<string, SpanFieldValue>;

/** A W3C trace context: `traceparent` and `tracestate` header values. */
export interface TraceContext {
  /** `00-<trace id>-<span id>-<flags>`. */
  traceparent: string;
  /** Vendor data; may be empty. */
  tracestate?: string | undefined;
}

/** Options of {@link JsSpans.startSpan}. */
export interface StartSpanOptions {
  /** Field values. */
  fields?: SpanFields | undefined;
  /** The span's target (for filters, e.g. `"my_app=debug"`). Default `"js"`. */
  target?: string | undefined;
  /** The span's level. Default `"INFO"`. */
  level?: SpanLevel | undefined;
  /**
   * The parent: a span, `null` for a root span, or a remote parent's W3C trace context (the
   * span becomes a root locally, and OpenTelemetry layers continue the remote trace). Default:
   * the current span (see the module docs).
   */
  parent?: JsSpan | TraceContext | null | undefined;
}

/** Options of {@link JsSpans.event}. */
export interface EventOptions {
  /** The event's target. Default `"js"`. */
  target?: string | undefined;
  /** The parent span; default: the current span. */
  parent?: JsSpan | null | undefined;
}

/** `TRACING_BRIDGE_SPAN_DISABLED`: no layer wanted the span. */
export const DISABLED = 0xffffffff;
/** `TRACING_BRIDGE_PARENT_CURRENT`. */
export const PARENT_CURRENT = 0;
/** `TRACING_BRIDGE_PARENT_NONE`. */
export const PARENT_NONE = 0xfffffffe;
/** `TRACING_BRIDGE_CALLSITE_FALLBACK`. */
export const FALLBACK_BIT = 0x80000000;
/** `MAX_FIELDS` of `shim/src/js_spans/callsites.rs`: the fields a span or event may have. */
export const MAX_FIELDS = 32;

const LEVELS: Record<string, number> = {
  TRACE: 1,
  DEBUG: 2,
  INFO: 3,
  WARN: 4,
  ERROR: 5,
  trace: 1,
  debug: 2,
  info: 3,
  warn: 4,
  error: 5,
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A span made in JavaScript. End it with `end()` or `using`. */
export class JsSpan implements Disposable {
  /** The span's name. */
  readonly name: string;
  /** The span it was started under, if it was started under a JavaScript span. */
  readonly parent: JsSpan | undefined;
  readonly #spans: JsSpans;
  readonly #handle: number;
  #ended = false;

  /** @internal Made by {@link JsSpans.startSpan}. */
  constructor(spans: JsSpans, name: string, handle: number, parent: JsSpan | undefined) {
    this.#spans = spans;
    this.name = name;
    this.#handle = handle;
    this.parent = parent;
  }

  /** Whether `end()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Whether no layer records this span (filtered out, or nothing installed). */
  get disabled(): boolean {
    return this.#handle === DISABLED;
  }

  /** @internal The native handle. */
  get handle(): number {
    return this.#handle;
  }

  /**
   * Ends the span. Later calls do nothing. A span still open when the `Tracing` recording it was
   * disposed was ended then (exported with the attribute `tracing_bridge.unended`); on it, this
   * and the other methods do nothing.
   */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#spans.endHandle(this.#handle);
  }

  /**
   * Runs `fn` with this span entered on the JavaScript thread and current for JavaScript:
   * native spans and events made during `fn` (until its first `await`, for an async `fn`) are
   * its children. Does not end the span.
   */
  run<T>(fn: () => T): T {
    return this.#spans.runIn(this, fn);
  }

  /** This span's W3C trace context, or `undefined` when no OpenTelemetry layer records it. */
  traceContext(): TraceContext | undefined {
    if (this.#ended) return undefined;
    return this.#spans.traceContextOf(this.#handle);
  }

  /** Same as {@link JsSpan.end}. */
  [Symbol.dispose](): void {
    this.end();
  }
}

interface Callsite {
  id: number;
  fallback: boolean;
  kind: number;
  level: number;
  target: string;
  fields: string[];
}

function sameFields(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

/** Writes field values in the encoding of `shim/src/js_spans/values.rs`. */
class ValueWriter {
  bytes = new Uint8Array(4096);
  view = new DataView(this.bytes.buffer);
  length = 0;

  #ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  absent(): void {
    this.#ensure(1);
    this.bytes[this.length++] = 0;
  }

  string(text: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit.
    this.#ensure(5 + text.length * 3);
    const bytes = this.bytes;
    const start = this.length + 5;
    let written = 0;
    // Short ASCII strings are copied by hand: cheaper than a new view for `encodeInto`.
    if (text.length <= 64) {
      for (; written < text.length; written++) {
        const code = text.charCodeAt(written);
        if (code >= 0x80) break;
        bytes[start + written] = code;
      }
    }
    if (written < text.length) {
      written = encoder.encodeInto(text, bytes.subarray(start)).written;
    }
    bytes[this.length] = 1;
    this.view.setUint32(this.length + 1, written, true);
    this.length = start + written;
  }

  value(name: string, value: SpanFieldValue): void {
    switch (typeof value) {
      case "string":
        return this.string(value);
      case "number":
        this.#ensure(9);
        if (Number.isSafeInteger(value)) {
          this.bytes[this.length] = 3;
          // Two's complement halves; exact for safe integers.
          const high = Math.floor(value / 4294967296);
          this.view.setUint32(this.length + 1, value - high * 4294967296, true);
          this.view.setInt32(this.length + 5, high, true);
        } else {
          this.bytes[this.length] = 2;
          this.view.setFloat64(this.length + 1, value, true);
        }
        this.length += 9;
        return;
      case "bigint":
        this.#ensure(9);
        if (value >= -(2n ** 63n) && value < 2n ** 63n) {
          this.bytes[this.length] = 3;
          this.view.setBigInt64(this.length + 1, value, true);
        } else if (value >= 0n && value < 2n ** 64n) {
          this.bytes[this.length] = 5;
          this.view.setBigUint64(this.length + 1, value, true);
        } else {
          return this.string(value.toString());
        }
        this.length += 9;
        return;
      case "boolean":
        this.#ensure(2);
        this.bytes[this.length] = 4;
        this.bytes[this.length + 1] = value ? 1 : 0;
        this.length += 2;
        return;
      case "undefined":
        return this.absent();
      default:
        if (value === null) return this.absent();
        throw new TracingError(
          "INVALID_PARAMETER",
          `field ${JSON.stringify(name)}: a ${typeof value} cannot be a field value; use a ` +
            "string, number, bigint or boolean (e.g. JSON.stringify it)",
        );
    }
  }
}

/** The JavaScript spans of one native library. Use it through `Tracing`. */
export class JsSpans {
  readonly #native: NativeLibrary;
  readonly #current = new AsyncLocalStorage<JsSpan>();
  /** By name: the callsites made so far (usually one per name). */
  readonly #callsites = new Map<string, Callsite[]>();
  readonly #writer = new ValueWriter();
  /**
   * Native calls in progress that read the values: a JS layer's callback may start spans or
   * events during them, which must not overwrite the values still being read.
   */
  #nativeCalls = 0;
  /** Per `tracing.span` running on the stack: the previous current span, then `entered`. */
  readonly #entered: unknown[] = [];
  readonly #outId = new Uint32Array(1);
  readonly #contextBuffer = new Uint8Array(1024);
  readonly #contextWritten = new Uint32Array(1);

  constructor(native: NativeLibrary) {
    this.#native = native;
  }

  /** The JavaScript span current in this async context, if any (ended ones included). */
  currentSpan(): JsSpan | undefined {
    return this.#current.getStore();
  }

  /** Starts a span; end it with `end()` or `using`. It is not entered (see `run`). */
  startSpan(name: string, options: StartSpanOptions = {}): JsSpan {
    return this.#start(name, options, false);
  }

  /**
   * @internal Starts a span and enters it on this thread (in one native call); the caller
   * exits it (`jsSpanExit`) unless it is disabled. Native code can tell such a span from one
   * started by `startSpan`, which is not entered when made.
   */
  startEnteredSpan(name: string, options: StartSpanOptions = {}): JsSpan {
    return this.#start(name, options, true);
  }

  #start(name: string, options: StartSpanOptions, entered: boolean): JsSpan {
    if (typeof name !== "string") {
      throw new TracingError("INVALID_PARAMETER", "span name must be a non-empty string");
    }
    const { fields, target = "js", level = "INFO", parent } = options;
    const names = fieldNames(fields);
    const callsite = this.#callsite(0, levelNumber(level), name, target, names);
    const remote = isTraceContext(parent) ? parent : undefined;
    if (remote) checkTraceContext(remote);
    let jsParent: JsSpan | undefined;
    let parentHandle: number;
    if (parent === null || remote) {
      parentHandle = PARENT_NONE;
    } else {
      jsParent = liveAncestor(parent instanceof JsSpan ? parent : this.#current.getStore());
      parentHandle = jsParent ? jsParent.handle : PARENT_CURRENT;
    }
    const writer = this.#encode(callsite, name, target, names, fields, "otel.name");
    let handle: number;
    this.#nativeCalls++;
    try {
      handle = entered
        ? this.#native.jsSpanNewEntered(callsite.id, parentHandle, writer.bytes, writer.length)
        : this.#native.jsSpanNew(callsite.id, parentHandle, writer.bytes, writer.length);
    } finally {
      this.#nativeCalls--;
    }
    if (handle === 0) throw this.#failure(this.#native.lastErrorResult());
    const span = new JsSpan(this, name, handle, jsParent);
    if (remote) {
      try {
        this.#setRemoteParent(handle, remote);
      } catch (error) {
        span.end();
        throw error;
      }
    }
    return span;
  }

  /**
   * Runs `fn` in a new span, entered during `fn`'s synchronous part; ends it when `fn` returns
   * or, for an async `fn`, when its promise settles. Returns what `fn` returns.
   */
  span<T>(name: string, fields: SpanFields | undefined, fn: (span: JsSpan) => T): T;
  /** Same without fields. */
  span<T>(name: string, fn: (span: JsSpan) => T): T;
  span<T>(
    name: string,
    fieldsOrFn: SpanFields | undefined | ((span: JsSpan) => T),
    maybeFn?: (span: JsSpan) => T,
  ): T {
    // This frame stays on the stack while `fn` runs, so it is kept small (`tracing.span` inside
    // `tracing.span` must nest deeply): the work happens in `#begin` and `#finish`, which return
    // before and run after `fn`.
    const fn = typeof fieldsOrFn === "function" ? fieldsOrFn : maybeFn;
    const span = this.#begin(name, fieldsOrFn, fn);
    let result: T;
    try {
      result = fn!(span);
    } catch (error) {
      this.#finish(span, error, true);
      throw error;
    }
    return this.#finish(span, result, false) as T;
  }

  /**
   * Starts `tracing.span`'s span, enters it on this thread and makes it current. `enterWith`
   * (not `AsyncLocalStorage.run`, whose frames stay on the stack) makes it current for `fn`'s
   * synchronous part and every continuation created there; `#finish` restores the previous one.
   */
  #begin(name: string, fieldsOrFn: unknown, fn: unknown): JsSpan {
    if (typeof fn !== "function") {
      throw new TracingError("INVALID_PARAMETER", "tracing.span needs a function to run");
    }
    const fields = typeof fieldsOrFn === "function" ? undefined : fieldsOrFn as SpanFields;
    const span = this.startEnteredSpan(name, fields === undefined ? undefined : { fields });
    const entered = !span.disabled;
    this.#entered.push(this.#current.getStore(), entered);
    this.#current.enterWith(span);
    return span;
  }

  /**
   * Undoes `#begin`; ends the span now, or when `outcome` (a promise) settles. A failure is
   * recorded while the span is still entered, so that every layer sees it inside the span.
   */
  #finish(span: JsSpan, outcome: unknown, failed: boolean): unknown {
    const entered = this.#entered.pop() as boolean;
    this.#current.enterWith(this.#entered.pop() as JsSpan);
    if (failed) this.#recordFailure(span, outcome);
    if (entered && !span.ended) this.#native.jsSpanExit(span.handle);
    if (!failed && isPromiseLike(outcome)) return this.#endWhenSettled(span, outcome);
    span.end();
    return outcome;
  }

  #endWhenSettled(span: JsSpan, result: PromiseLike<unknown>): Promise<unknown> {
    return Promise.resolve(result).then(
      (value) => {
        span.end();
        return value;
      },
      (error) => {
        this.#recordFailure(span, error);
        span.end();
        throw error;
      },
    );
  }

  /**
   * Marks `span` as failed with an ERROR event carrying the error (which the OpenTelemetry
   * layers turn into the span's error status). Never masks the original error.
   */
  #recordFailure(span: JsSpan, error: unknown): void {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    try {
      this.event("ERROR", "span failed", { error: text }, { parent: span });
    } catch {
      // The caller's error is what matters; recording it is best effort.
    }
  }

  /** Records an event with `message` at `level`, a child of the current span. */
  event(level: SpanLevel, message: string, fields?: SpanFields, options: EventOptions = {}): void {
    const { target = "js", parent } = options;
    const names = fieldNames(fields);
    if (names.includes("message")) {
      throw new TracingError(
        "INVALID_PARAMETER",
        'event fields must not include "message"; it is the message argument',
      );
    }
    const callsite = this.#callsite(1, levelNumber(level), "event", target, ["message", ...names]);
    const writer = this.#encode(callsite, String(message), target, names, fields, "message");
    const jsParent = parent === null
      ? undefined
      : liveAncestor(parent instanceof JsSpan ? parent : this.#current.getStore());
    const parentHandle = parent === null
      ? PARENT_NONE
      : jsParent
      ? jsParent.handle
      : PARENT_CURRENT;
    let result: number;
    this.#nativeCalls++;
    try {
      result = this.#native.jsEvent(callsite.id, parentHandle, writer.bytes, writer.length);
    } finally {
      this.#nativeCalls--;
    }
    if (result !== RESULT_OK) throw this.#failure(result);
  }

  /**
   * The W3C trace context of the current span (JavaScript's, else the native span entered on
   * this thread), or `undefined` when no OpenTelemetry layer records it.
   */
  traceContext(): TraceContext | undefined {
    const current = liveAncestor(this.#current.getStore());
    return this.traceContextOf(current ? current.handle : PARENT_CURRENT);
  }

  /** How many JavaScript spans are open (started, not ended) on this thread. */
  get openCount(): number {
    return this.#native.jsSpanOpenCount();
  }

  /** @internal */
  runIn<T>(span: JsSpan, fn: () => T): T {
    const native = this.#native;
    const entered = !span.ended && native.jsSpanEnter(span.handle) === RESULT_OK;
    try {
      return this.#current.run(span, fn);
    } finally {
      if (entered && !span.ended) native.jsSpanExit(span.handle);
    }
  }

  /** @internal */
  endHandle(handle: number): void {
    const result = this.#native.jsSpanEnd(handle);
    if (result !== RESULT_OK) throw this.#failure(result);
  }

  /** @internal */
  traceContextOf(handle: number): TraceContext | undefined {
    let buffer = this.#contextBuffer;
    let result = this.#native.jsSpanTraceContext(handle, buffer, this.#contextWritten);
    if (result === RESULT_BUFFER_TOO_SMALL) {
      buffer = new Uint8Array(this.#contextWritten[0] ?? 0);
      result = this.#native.jsSpanTraceContext(handle, buffer, this.#contextWritten);
    }
    if (result !== RESULT_OK) throw this.#failure(result);
    const written = this.#contextWritten[0] ?? 0;
    if (written === 0) return undefined;
    const [traceparent = "", tracestate = ""] = decoder.decode(buffer.subarray(0, written)).split(
      "\n",
    );
    return { traceparent, tracestate };
  }

  #setRemoteParent(handle: number, remote: TraceContext): void {
    const traceparent = encoder.encode(remote.traceparent);
    const tracestate = encoder.encode(remote.tracestate ?? "");
    const result = this.#native.jsSpanSetRemoteParent(
      handle,
      nonEmpty(traceparent),
      traceparent.length,
      nonEmpty(tracestate),
      tracestate.length,
    );
    if (result !== RESULT_OK) throw this.#failure(result);
  }

  #callsite(
    kind: 0 | 1,
    level: number,
    name: string,
    target: string,
    fields: string[],
  ): Callsite {
    const known = this.#callsites.get(name);
    if (known) {
      for (const callsite of known) {
        if (
          callsite.kind === kind && callsite.level === level && callsite.target === target &&
          sameFields(callsite.fields, fields)
        ) return callsite;
      }
    }
    if (typeof target !== "string") {
      throw new TracingError("INVALID_PARAMETER", "target must be a non-empty string");
    }
    // Checked once per new callsite, not per call: NUL separates the parts of the spec.
    rejectNul(kind === 0 ? "span name" : "event name", name);
    rejectNul("target", target);
    for (const field of fields) rejectNul("field name", field);
    const spec = encoder.encode(`${name}\0${target}\0${fields.map((f) => `${f}\0`).join("")}`);
    const result = this.#native.jsCallsiteNew(kind, level, spec, this.#outId);
    if (result !== RESULT_OK) throw this.#failure(result);
    const id = this.#outId[0] ?? 0;
    const callsite = { id, fallback: (id & FALLBACK_BIT) !== 0, kind, level, target, fields };
    // Fallbacks are not cached: the table of distinct names would grow without bound here.
    if (!callsite.fallback) {
      if (known) known.push(callsite);
      else this.#callsites.set(name, [callsite]);
    }
    return callsite;
  }

  /**
   * Encodes the values (for a fallback callsite: `first`, `js.target`, `js.fields`) into the
   * shared writer, or a new one while a native call still reads the shared one.
   */
  #encode(
    callsite: Callsite,
    first: string,
    target: string,
    names: string[],
    fields: SpanFields | undefined,
    firstField: "otel.name" | "message",
  ): ValueWriter {
    const writer = this.#nativeCalls === 0 ? this.#writer : new ValueWriter();
    writer.length = 0;
    if (firstField === "message" && !callsite.fallback) writer.string(first);
    if (callsite.fallback) {
      writer.string(first);
      writer.string(target);
      writer.string(
        names.map((name) => `${name}=${String(fields?.[name])}`).join(" "),
      );
      return writer;
    }
    for (const name of names) writer.value(name, fields?.[name]);
    return writer;
  }

  #failure(result: number): TracingError {
    return failure(this.#native, result);
  }
}

function rejectNul(what: string, text: string): void {
  if (text.includes("\0")) {
    throw new TracingError(
      "INVALID_PARAMETER",
      `${what} ${JSON.stringify(text)} contains a NUL character (\\0), which span and event ` +
        "names, targets and field names cannot hold (it separates them on the way to Rust)",
    );
  }
}

function levelNumber(level: SpanLevel): number {
  const number = typeof level === "string"
    ? LEVELS[level] ?? LEVELS[level.toUpperCase()]
    : undefined;
  if (number === undefined) {
    throw new TracingError(
      "INVALID_PARAMETER",
      `level ${JSON.stringify(level)} is not one of TRACE, DEBUG, INFO, WARN, ERROR`,
    );
  }
  return number;
}

function fieldNames(fields: SpanFields | undefined): string[] {
  if (fields === undefined || fields === null) return [];
  if (typeof fields !== "object" || Array.isArray(fields)) {
    throw new TracingError("INVALID_PARAMETER", "fields must be an object of name: value");
  }
  const names = Object.keys(fields);
  if (names.length > MAX_FIELDS) {
    throw new TracingError(
      "INVALID_PARAMETER",
      `${names.length} fields given; a span or event has at most ${MAX_FIELDS}`,
    );
  }
  return names;
}

/** The checks the library makes too, done first so that a bad header starts no span. */
function checkTraceContext(remote: TraceContext): void {
  const { traceparent, tracestate } = remote;
  if (
    typeof traceparent !== "string" || (tracestate !== undefined && typeof tracestate !== "string")
  ) {
    throw new TracingError(
      "INVALID_PARAMETER",
      "parent.traceparent (and parent.tracestate, if given) must be strings",
    );
  }
  const match = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?$/.exec(
    traceparent.trim(),
  );
  if (
    !match || match[1] === "ff" || (match[1] === "00" && match[4] !== undefined) ||
    /^0+$/.test(match[2] ?? "") || /^0+$/.test(match[3] ?? "")
  ) {
    throw new TracingError(
      "INVALID_PARAMETER",
      `traceparent ${JSON.stringify(traceparent)} is malformed; expected ` +
        "00-<32 lowercase hex trace id>-<16 hex span id>-<2 hex flags>, not all zeros",
    );
  }
}

function liveAncestor(span: JsSpan | undefined): JsSpan | undefined {
  while (span && span.ended) span = span.parent;
  return span;
}

function isTraceContext(value: unknown): value is TraceContext {
  return typeof value === "object" && value !== null && !(value instanceof JsSpan) &&
    "traceparent" in value;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

/** What this module reads of an `@opentelemetry/api` span (no dependency on the package). */
interface OtelApiSpan {
  spanContext?(): {
    traceId: string;
    spanId: string;
    traceFlags: number;
    traceState?: { serialize(): string };
  };
}

/**
 * The W3C trace context of the span active in `@opentelemetry/api` (version 1), e.g. a span of
 * Deno's built-in OpenTelemetry (`OTEL_DENO=true`) or of the OpenTelemetry JS SDK, or
 * `undefined` when none is active. Pass it as `parent` to continue that trace:
 * `tracing.startSpan("work", { parent: activeOpenTelemetryContext() })` (an `undefined` parent
 * means the usual default). Reads the API's global registration; needs no import of the package.
 */
export function activeOpenTelemetryContext(): TraceContext | undefined {
  const registry = (globalThis as Record<symbol, unknown>)[Symbol.for("opentelemetry.js.api.1")] as
    | { context?: { active?(): { getValue?(key: symbol): unknown } } }
    | undefined;
  const active = registry?.context?.active?.();
  const span = active?.getValue?.(Symbol.for("OpenTelemetry Context Key SPAN")) as
    | OtelApiSpan
    | undefined;
  const spanContext = span?.spanContext?.();
  if (
    !spanContext || !/^[0-9a-f]{32}$/.test(spanContext.traceId) ||
    !/^[0-9a-f]{16}$/.test(spanContext.spanId) || /^0+$/.test(spanContext.traceId) ||
    /^0+$/.test(spanContext.spanId)
  ) {
    return undefined;
  }
  return {
    traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-${
      spanContext.traceFlags & 1 ? "01" : "00"
    }`,
    tracestate: spanContext.traceState?.serialize() ?? "",
  };
}

const spansByLibrary = new WeakMap<NativeLibrary, JsSpans>();

/** The {@link JsSpans} of `native` (one per library, shared by its `Tracing`s). */
export function jsSpansOf(native: NativeLibrary): JsSpans {
  let spans = spansByLibrary.get(native);
  if (!spans) {
    spans = new JsSpans(native);
    spansByLibrary.set(native, spans);
  }
  return spans;
}
