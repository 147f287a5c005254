/**
 * Performance insight: the timeline and flame layer configs, and rendering a flame layer's
 * folded stacks to an SVG flame graph or flame chart.
 * @module
 */

import { checkJsonValues, type LayerConfig } from "./config.ts";
import { errorCodeOf, RESULT_OK, TracingError } from "./errors.ts";
import type { TracingLibrary } from "./library.ts";

/** How the timeline lays out spans. */
export type TimelineStyle = "threaded" | "async";

/** Options of {@link TimelineLayerConfig}. Only `path` is required. */
export interface TimelineLayerOptions {
  /** The Trace Event Format JSON file to write; created or truncated. Its directory must exist. */
  path: string;
  /** Record span and event fields as `args`. Default `true`. */
  includeArgs?: boolean;
  /** Record each entry's source file and line. Default `true`. */
  includeLocations?: boolean;
  /**
   * `"threaded"` (default): one track per thread, a span drawn while it is entered.
   * `"async"`: one track per root span, a span drawn from creation to close.
   */
  style?: TimelineStyle;
  /** This layer's own filter, in `RUST_LOG` syntax. */
  filter?: string;
}

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

/** Options of {@link FlameLayerConfig}. Only `path` is required. */
export interface FlameLayerOptions {
  /** The folded-stacks file to write; created or truncated. Its directory must exist. */
  path: string;
  /** Also record time when no span is entered (as the thread's own frame). Default `false`. */
  emptySamples?: boolean;
  /** One root frame for all threads instead of one per thread. Default `false`. */
  threadsCollapsed?: boolean;
  /** Prefix span names with their module path. Default `true`. */
  modulePath?: boolean;
  /** Suffix span names with their source file and line. Default `false`. */
  fileAndLine?: boolean;
  /** This layer's own filter, in `RUST_LOG` syntax. */
  filter?: string;
}

/**
 * Folded stacks of the spans entered (by `tracing-flame`): one line per stack with the
 * nanoseconds spent in it. Render them with `tracing.renderFlameSvg()` once disposed, or with
 * `renderFlameSvg()` / `scripts/flamegraph`. One flame layer can record at a time per library.
 */
export class FlameLayerConfig implements LayerConfig {
  /** The options given, frozen. */
  readonly options: Readonly<FlameLayerOptions>;

  /** A flame layer writing folded stacks to `options.path`. */
  constructor(options: FlameLayerOptions) {
    this.options = Object.freeze({ ...requirePath(options, "FlameLayerConfig") });
  }

  /** The folded-stacks file this layer writes. */
  get path(): string {
    return this.options.path;
  }

  /** The JSON form sent to the native library. */
  toJSON(): Record<string, unknown> {
    return { kind: "flame", ...this.options };
  }
}

/** How to draw folded stacks. Every option has a default. */
export interface FlameSvgOptions {
  /**
   * `"graph"` (default): identical stacks merged and sorted by name, so the widest frames are
   * where the time went. `"chart"`: stacks in recorded order, so the x axis is time (each
   * thread's stacks in order, one thread after another).
   */
  style?: "graph" | "chart";
  /** The title; default "Flame Graph" or "Flame Chart". */
  title?: string;
  /** A second line under the title. */
  subtitle?: string;
  /** Image width in pixels. Default 1200. */
  width?: number;
  /** Frames narrower than this percentage of the whole are left out. Default 0.1. */
  minWidth?: number;
  /** Roots at the top, stacks growing down (an icicle graph). Default `false`. */
  inverted?: boolean;
  /** What the counts are. Default `"ns"` (the flame layer records nanoseconds). */
  countName?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Renders the folded stacks at `foldedPath` to an SVG at `svgPath` (created or truncated) with
 * the shim of `library`. In Deno the rendering runs off the JavaScript thread: do not close the
 * library before the promise settles.
 */
export async function renderFlameSvgWith(
  library: TracingLibrary,
  foldedPath: string,
  svgPath: string,
  options: FlameSvgOptions = {},
): Promise<void> {
  if (typeof foldedPath !== "string" || typeof svgPath !== "string") {
    throw new TracingError(
      "INVALID_CONFIG",
      "renderFlameSvg needs the folded-stacks path and the SVG path as strings",
    );
  }
  checkJsonValues(options, "options");
  const request = encoder.encode(JSON.stringify({ folded: foldedPath, svg: svgPath, options }));
  const errorBuffer = new Uint8Array(4096);
  const errorLength = new BigUint64Array(1);
  const result = await library.native.flameRenderSvg(request, errorBuffer, errorLength);
  if (result !== RESULT_OK) {
    const message = decoder.decode(errorBuffer.subarray(0, Number(errorLength[0])));
    throw new TracingError(
      errorCodeOf(result),
      message || `rendering the flame graph failed with result ${result}`,
    );
  }
}

/** Picks the flame layer of a config to render: `chosen`, else the only one. */
export function flameLayerOf(
  layers: readonly LayerConfig[],
  chosen?: FlameLayerConfig,
): FlameLayerConfig {
  const flames = layers.filter((layer) => layer instanceof FlameLayerConfig);
  if (chosen !== undefined) {
    if (!flames.includes(chosen)) {
      throw new TracingError(
        "INVALID_CONFIG",
        "options.layer is not a FlameLayerConfig of this Tracing's config",
      );
    }
    return chosen;
  }
  if (flames.length !== 1) {
    throw new TracingError(
      "INVALID_CONFIG",
      flames.length === 0
        ? "this Tracing's config has no FlameLayerConfig; add one to record folded stacks"
        : `this Tracing's config has ${flames.length} flame layers; say which with options.layer`,
    );
  }
  return flames[0];
}

/** Checks that `path` is given; its type and value are checked (with the option's path) by `enter()`. */
function requirePath<T extends { path: string }>(options: T, name: string): T {
  if (options?.path === undefined || options.path === null) {
    throw new TracingError(
      "INVALID_CONFIG",
      `${name} needs a \`path\`: the file to write, e.g. new ${name}({ path: "out/trace" })`,
    );
  }
  return options;
}
