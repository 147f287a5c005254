/**
 * Rendering a flame layer's folded stacks to an SVG flame graph or flame chart, with the
 * library's renderer (`tracing_bridge_flame_render_svg`).
 * @module
 */

import { checkJsonValues } from "./config.ts";
import { bufferedFailure, RESULT_OK, TracingError } from "./errors.ts";
import { openTracingLibrary, type TracingLibrary } from "./library.ts";
import { currentRuntime } from "./native.ts";

/** How to draw folded stacks. Every option has a default. */
export interface FlameSvgOptions {
  /**
   * `"graph"` (default): identical stacks merged and sorted by name, so the widest frames are
   * where the time went. `"chart"`: stacks in recorded order, so the x axis is time (each
   * thread's stacks in order, one thread after another).
   */
  style?: "graph" | "chart" | undefined;
  /** The title; default "Flame Graph" or "Flame Chart". */
  title?: string | undefined;
  /** A second line under the title. */
  subtitle?: string | undefined;
  /** Image width in pixels. Default 1200. */
  width?: number | undefined;
  /** Frames narrower than this percentage of the whole are left out. Default 0.1. */
  minWidth?: number | undefined;
  /** Roots at the top, stacks growing down (an icicle graph). Default `false`. */
  inverted?: boolean | undefined;
  /** What the counts are. Default `"ns"` (the flame layer records nanoseconds). */
  countName?: string | undefined;
}

const encoder = new TextEncoder();

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
  if (result !== RESULT_OK) throw bufferedFailure(result, errorBuffer, errorLength);
}

/**
 * Renders an existing folded-stacks file (what a `FlameLayerConfig` writes) to an SVG flame
 * graph or flame chart. `library` is found as for `Tracing` when not given.
 */
export async function renderFlameSvg(
  foldedPath: string,
  svgPath: string,
  options: FlameSvgOptions = {},
  { library }: { library?: string | TracingLibrary } = {},
): Promise<void> {
  const opened = typeof library === "object"
    ? library
    : openTracingLibrary(currentRuntime(), library);
  await renderFlameSvgWith(opened, foldedPath, svgPath, options);
}
