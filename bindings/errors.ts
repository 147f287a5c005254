/**
 * The one error class of tracing-bridge, with a machine-readable `code`.
 * @module
 */

/** Every reason a tracing-bridge call can fail. */
export type TracingErrorCode =
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

/** `tracing_bridge_result` values, as in `tracing_bridge.h`. */
export const RESULT_OK = 7100;

const RESULT_CODES: Record<number, TracingErrorCode> = {
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
};

/** Maps a `tracing_bridge_result` (not `RESULT_OK`) to an error code. */
export function errorCodeOf(result: number): TracingErrorCode {
  return RESULT_CODES[result] ?? "UNKNOWN";
}
