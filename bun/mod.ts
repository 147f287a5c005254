/**
 * tracing-bridge for Bun: see what a Rust library loaded with `bun:ffi` does, through
 * Rust's `tracing` ecosystem.
 *
 * ```ts
 * import { FmtLayerConfig, GlobalTracingConfig, Tracing } from "./bun/mod.ts";
 *
 * using tracing = new Tracing(
 *   new GlobalTracingConfig({ layers: [new FmtLayerConfig({ format: "compact" })] }),
 *   { library: "./target/release/libmy_library.so" },
 * ).enter();
 * ```
 * @module
 */

import type { TracingConfig } from "../bindings/config.ts";
import { type FlameSvgOptions, renderFlameSvgWith } from "../bindings/flame_svg.ts";
import { openTracingLibrary, type TracingLibrary } from "../bindings/library.ts";
import { TracingBase, type TracingOptions } from "../bindings/tracing.ts";
import { bunRuntime } from "./ffi.ts";

export * from "../bindings/public.ts";

/** Tracing for a native library, in Bun. See {@link TracingBase}. */
export class Tracing extends TracingBase {
  /** Prepares tracing with `config`; call {@link TracingBase.enter} to install it. */
  constructor(config: TracingConfig, options: TracingOptions = {}) {
    super(bunRuntime, config, options);
  }
}

/**
 * Opens the native library that embeds tracing-bridge: `path`, else `$TRACING_BRIDGE_LIB`,
 * else the local release build. Checks its ABI version.
 */
export function openLibrary(path?: string): TracingLibrary {
  return openTracingLibrary(bunRuntime, path);
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
  const opened = typeof library === "object" ? library : openTracingLibrary(bunRuntime, library);
  await renderFlameSvgWith(opened, foldedPath, svgPath, options);
}
