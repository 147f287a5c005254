/**
 * The one error class of tracing-bridge, with a machine-readable `code`, and the helpers that
 * turn a failed call's result and message into one.
 * @module
 */

import type { NativeLibrary } from "./native.ts";

/** Every reason a tracing-bridge call can fail. */
export type TracingErrorCode =
  | "LIBRARY_NOT_GIVEN"
  | "LIBRARY_NOT_FOUND"
  | "LIBRARY_MISSING_SYMBOLS"
  | "ABI_MISMATCH"
  | "LIBRARY_IN_USE"
  | "ALREADY_ENTERED"
  | "DISPOSED"
  | "NULL_PARAMETER"
  | "INVALID_UTF8"
  | "INVALID_CONFIG"
  | "INVALID_FILTER"
  | "FILE_NOT_WRITABLE"
  | "GLOBAL_ALREADY_ACTIVE"
  | "GLOBAL_DEFAULT_TAKEN"
  | "ALREADY_INSTALLED"
  | "NOT_INSTALLED"
  | "WRONG_THREAD"
  | "PANIC"
  | "FILE_NOT_READABLE"
  | "NO_STACKS"
  | "INVALID_PARAMETER"
  | "UNKNOWN_SPAN"
  | "REENTRANT"
  | "FEATURE_DISABLED"
  | "UNKNOWN";

/** An error from tracing-bridge. `code` says what failed; the message says how to fix it. */
export class TracingError extends Error {
  /** Machine-readable reason. */
  readonly code: TracingErrorCode;

  /** An error with a machine-readable `code`; `options.cause` keeps the underlying error. */
  constructor(code: TracingErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TracingError";
    this.code = code;
  }
}

/** `TRACING_BRIDGE_RESULT_OK`, as in `tracing_bridge.h`. */
export const RESULT_OK = 7100;

/**
 * `TRACING_BRIDGE_RESULT_BUFFER_TOO_SMALL`: the caller retries with the size the call wrote;
 * never surfaced as an error.
 */
export const RESULT_BUFFER_TOO_SMALL = 7112;

/** The other `tracing_bridge_result` values, as in `tracing_bridge.h`, by the code they become. */
export const RESULT_CODES: Readonly<Record<number, TracingErrorCode>> = {
  7101: "NULL_PARAMETER",
  7102: "INVALID_UTF8",
  7103: "INVALID_CONFIG",
  7104: "INVALID_FILTER",
  7105: "FILE_NOT_WRITABLE",
  7106: "GLOBAL_ALREADY_ACTIVE",
  7107: "GLOBAL_DEFAULT_TAKEN",
  7108: "ALREADY_INSTALLED",
  7109: "NOT_INSTALLED",
  7110: "WRONG_THREAD",
  7111: "PANIC",
  7113: "FILE_NOT_READABLE",
  7114: "NO_STACKS",
  7115: "INVALID_PARAMETER",
  7116: "UNKNOWN_SPAN",
  7117: "REENTRANT",
  7118: "FEATURE_DISABLED",
};

/** Maps a `tracing_bridge_result` (not `RESULT_OK`) to an error code. */
export function errorCodeOf(result: number): TracingErrorCode {
  return RESULT_CODES[result] ?? "UNKNOWN";
}

/** Throws the error of `result` unless it is `RESULT_OK`. */
export function check(native: NativeLibrary, result: number): void {
  if (result !== RESULT_OK) throw failure(native, result);
}

/** The error of a failed call, with this thread's last error message. */
export function failure(native: NativeLibrary, result: number): TracingError {
  return new TracingError(errorCodeOf(result), lastErrorMessage(native) || fallbackMessage(result));
}

/**
 * The error of a failed call that wrote its message into `message` (`written`: its full length),
 * as the calls that may run off the JavaScript thread do.
 */
export function bufferedFailure(
  result: number,
  message: Uint8Array,
  written: BigUint64Array,
): TracingError {
  const length = Number(written[0]);
  const shown = Math.min(length, message.length);
  let text = decoder.decode(message.subarray(0, shown));
  if (length > shown) text += "…";
  return new TracingError(errorCodeOf(result), text || fallbackMessage(result));
}

function fallbackMessage(result: number): string {
  return `tracing-bridge call failed with result ${result}`;
}

const decoder = new TextDecoder();
const messageLength = new BigUint64Array(1);

/** Reads the message of the last failed call on this thread; `""` when there is none. */
export function lastErrorMessage(native: NativeLibrary): string {
  let buffer = new Uint8Array(1024);
  if (native.lastErrorMessage(buffer, messageLength) !== RESULT_OK) {
    buffer = new Uint8Array(Number(messageLength[0]));
    if (native.lastErrorMessage(buffer, messageLength) !== RESULT_OK) return "";
  }
  return decoder.decode(buffer.subarray(0, Number(messageLength[0])));
}
