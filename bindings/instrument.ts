/**
 * `tracing.instrument(lib.symbols)`: native functions that keep their JavaScript parent span
 * after `await`, and, on request, are spans themselves.
 *
 * Each wrapper, when called, finds the JavaScript span current in its async context (the
 * `AsyncLocalStorage` that `tracing.span` and `span.run` set) and enters it on the JavaScript
 * thread around the native call, so native spans made during the call are its children. With
 * `spans: true`, each call is a span of its own (named after the symbol, child of the current
 * span), entered around the call, and the native spans are its children.
 *
 * Calls that return a promise (Deno's `nonblocking: true` symbols): the per-call span ends when
 * the promise settles, but the native work runs on another thread, where no JavaScript span is
 * entered (the current span is per thread), so native spans made there are not its children.
 * @module
 */

import { RESULT_OK, TracingError } from "./errors.ts";
import {
  type JsSpan,
  type JsSpans,
  MAX_FIELDS,
  type SpanFields,
  type SpanLevel,
} from "./js_spans.ts";
import type { NativeLibrary } from "./native.ts";

/** Options of `tracing.instrument`. */
export interface InstrumentOptions {
  /**
   * Each call of an instrumented function becomes a span named after the symbol (e.g.
   * `fibonacci`), a child of the current span, entered during the call: the native spans of the
   * call are its children. Default `false`: calls only enter the current JavaScript span.
   */
  spans?: boolean | undefined;
  /**
   * The target of the per-call spans, for filters. Default `"js"` (like `tracing.span`): a
   * filter such as `my_lib=info` alone drops them; add `js=info` (or this target).
   */
  target?: string | undefined;
  /** The level of the per-call spans. Default `"INFO"`. */
  level?: SpanLevel | undefined;
  /**
   * Records the call's arguments that are numbers, bigints or booleans as fields `arg0`,
   * `arg1`, … (by position; other arguments are left out) on the per-call span. Default `false`.
   * Needs `spans: true`.
   */
  args?: boolean | undefined;
}

const ARG_NAMES: readonly string[] = Array.from(
  { length: MAX_FIELDS },
  (_, index) => `arg${index}`,
);

type NativeFunction = (...args: unknown[]) => unknown;

/**
 * A copy of `symbols` whose functions are wrapped as described in the module docs; other
 * properties (pointers, numbers of Deno statics) are copied as they are.
 */
export function instrumentSymbols<S extends object>(
  native: NativeLibrary,
  spans: JsSpans,
  symbols: S,
  options: InstrumentOptions = {},
): S {
  if (symbols === null || typeof symbols !== "object") {
    throw new TypeError("tracing.instrument needs an object of functions, e.g. lib.symbols");
  }
  const { spans: perCall = false, target = "js", level = "INFO", args = false } = options;
  if (args && !perCall) {
    throw new TracingError(
      "INVALID_PARAMETER",
      "instrument: args: true records arguments on the per-call spans; add spans: true",
    );
  }
  const instrumented: Record<string, unknown> = {};
  for (const name of Object.keys(symbols)) {
    const value = (symbols as Record<string, unknown>)[name];
    if (typeof value !== "function") {
      instrumented[name] = value;
      continue;
    }
    const fn = value as NativeFunction;
    instrumented[name] = perCall
      ? spanPerCall(native, spans, name, fn, target, level, args)
      : enterCurrent(native, spans, fn);
  }
  return instrumented as S;
}

/** The nearest JavaScript span of this async context that has not ended. */
function currentLive(spans: JsSpans): JsSpan | undefined {
  let span = spans.currentSpan();
  while (span && span.ended) span = span.parent;
  return span;
}

function enterCurrent(native: NativeLibrary, spans: JsSpans, fn: NativeFunction): NativeFunction {
  return (...callArgs: unknown[]) => {
    const span = currentLive(spans);
    if (span === undefined || span.disabled) return fn(...callArgs);
    const handle = span.handle;
    const entered = native.jsSpanEnter(handle) === RESULT_OK;
    try {
      return fn(...callArgs);
    } finally {
      if (entered && !span.ended) native.jsSpanExit(handle);
    }
  };
}

function spanPerCall(
  native: NativeLibrary,
  spans: JsSpans,
  name: string,
  fn: NativeFunction,
  target: string,
  level: SpanLevel,
  recordArgs: boolean,
): NativeFunction {
  const options = { target, level, fields: undefined as SpanFields | undefined };
  return (...callArgs: unknown[]) => {
    options.fields = recordArgs ? argFields(callArgs) : undefined;
    const span = spans.startEnteredSpan(name, options);
    const handle = span.handle;
    const entered = !span.disabled;
    let result: unknown;
    try {
      result = fn(...callArgs);
    } catch (error) {
      if (entered) native.jsSpanExit(handle);
      fail(spans, span, error);
      throw error;
    }
    if (entered) native.jsSpanExit(handle);
    if (isPromiseLike(result)) {
      return Promise.resolve(result).then(
        (value) => {
          span.end();
          return value;
        },
        (error) => {
          fail(spans, span, error);
          throw error;
        },
      );
    }
    span.end();
    return result;
  };
}

function argFields(callArgs: unknown[]): SpanFields | undefined {
  let fields: SpanFields | undefined;
  const count = Math.min(callArgs.length, MAX_FIELDS);
  for (let index = 0; index < count; index++) {
    const value = callArgs[index];
    const type = typeof value;
    if (type === "number" || type === "bigint" || type === "boolean") {
      (fields ??= {})[ARG_NAMES[index] ?? `arg${index}`] = value as number | bigint | boolean;
    }
  }
  return fields;
}

/** Like `tracing.span`: an ERROR event `span failed` with the error's text, then the end. */
function fail(spans: JsSpans, span: JsSpan, error: unknown): void {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  try {
    spans.event("ERROR", "span failed", { error: text }, { parent: span });
  } catch {
    // The caller's error is what matters; recording it is best effort.
  }
  span.end();
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}
