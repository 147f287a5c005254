/**
 * Diagnostics: why a layer printed nothing. Read from the native library as one JSON document
 * (`tracing_bridge_subscriber_diagnostics`), printed once by dispose when there is something to
 * say, and returned by `tracing.diagnostics()`.
 * @module
 */

import { RESULT_BUFFER_TOO_SMALL, RESULT_OK } from "./errors.ts";
import type { NativeLibrary, SubscriberHandle } from "./native.ts";

/** A target a filter names that no callsite of the library has. */
export interface MissingTarget {
  /** The target as the filter names it, e.g. `newcomer-lib`. */
  target: string;
  /** A target of the library it probably means, e.g. `newcomer_lib`. */
  didYouMean?: string;
}

/** What is known of one layer of the config. */
export interface LayerDiagnostics {
  /** Its index in the config's `layers`. */
  index: number;
  /** Its kind: `fmt`, `js`, `timeline`, `flame`, `otlp` or `otlpJson`. */
  kind: string;
  /** Whether it received any span or event. */
  received: boolean;
  /** Targets its filters (its own and the config's) name that no callsite of the library has. */
  missingTargets: MissingTarget[];
}

/** A JavaScript span that no filter let through. */
export interface DroppedJsSpan {
  /** Its name. */
  name: string;
  /** Its target: `js` unless `startSpan` was given one. */
  target: string;
  /** Its level, e.g. `INFO`. */
  level: string;
  /** The directive that lets it through, e.g. `js=info`. */
  fix: string;
}

/** What `tracing.diagnostics()` returns. */
export interface TracingDiagnostics {
  /**
   * The targets of the library's callsites registered so far in this process (its `tracing`
   * macros that ran at an enabled level; at most 1000).
   */
  libraryTargets: string[];
  /** Whether the library had more targets than `libraryTargets` keeps. */
  libraryTargetsTruncated: boolean;
  /** Per layer, in config order. */
  layers: LayerDiagnostics[];
  /** JavaScript spans every filter dropped while this `Tracing` was entered. */
  droppedJsSpans: { count: number; spans: DroppedJsSpan[] };
  /**
   * The explanation dispose prints on stderr (unless `diagnostics: false`); `""` when every
   * layer received something (or names only targets the library has) and no JavaScript span
   * was dropped.
   */
  message: string;
}

const decoder = new TextDecoder();
const written = new BigUint64Array(1);

/** Reads the diagnostics of `handle`; `undefined` if the library could not give them. */
export function readDiagnostics(
  native: NativeLibrary,
  handle: SubscriberHandle,
): TracingDiagnostics | undefined {
  let buffer = new Uint8Array(4096);
  let result = native.subscriberDiagnostics(handle, buffer, written);
  if (result === RESULT_BUFFER_TOO_SMALL) {
    buffer = new Uint8Array(Number(written[0]));
    result = native.subscriberDiagnostics(handle, buffer, written);
  }
  if (result !== RESULT_OK) return undefined;
  return JSON.parse(decoder.decode(buffer.subarray(0, Number(written[0])))) as TracingDiagnostics;
}
