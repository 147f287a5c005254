/**
 * The timeline layer config: spans and events per thread as a Trace Event Format JSON file.
 * @module
 */

import { type LayerConfig, optionNames, requirePath } from "./config.ts";

/** How the timeline lays out spans. */
export type TimelineStyle = "threaded" | "async";

/** Options of {@link TimelineLayerConfig}. Only `path` is required. */
export interface TimelineLayerOptions {
  /** The Trace Event Format JSON file to write; created or truncated. Its directory must exist. */
  path: string;
  /** Record span and event fields as `args`. Default `true`. */
  includeArgs?: boolean | undefined;
  /** Record each entry's source file and line. Default `true`. */
  includeLocations?: boolean | undefined;
  /**
   * `"threaded"` (default): one track per thread, a span drawn while it is entered.
   * `"async"`: one track per root span, a span drawn from creation to close.
   */
  style?: TimelineStyle | undefined;
  /** This layer's own filter, in `RUST_LOG` syntax. */
  filter?: string | undefined;
}

/** Every option of {@link TimelineLayerOptions}. */
export const TIMELINE_OPTIONS = optionNames<TimelineLayerOptions>()([
  "path",
  "includeArgs",
  "includeLocations",
  "style",
  "filter",
]);

/**
 * A timeline of spans and events per thread, as a Trace Event Format JSON file: open it in
 * https://ui.perfetto.dev or `chrome://tracing`. The file is complete once the `Tracing` is
 * disposed.
 */
export class TimelineLayerConfig implements LayerConfig {
  /** The options given, frozen. */
  readonly options: Readonly<TimelineLayerOptions>;

  /** A timeline layer writing to `options.path`. */
  constructor(options: TimelineLayerOptions) {
    this.options = Object.freeze({ ...requirePath(options, "TimelineLayerConfig") });
  }

  /** The JSON form sent to the native library. */
  toJSON(): Record<string, unknown> {
    return { kind: "timeline", ...this.options };
  }
}
