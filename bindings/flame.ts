/**
 * The flame layer config: folded stacks of the spans entered, for a flame graph or chart (see
 * `flame_svg.ts` for rendering them).
 * @module
 */

import { type LayerConfig, optionNames, requirePath } from "./config.ts";
import { TracingError } from "./errors.ts";

/** Options of {@link FlameLayerConfig}. Only `path` is required. */
export interface FlameLayerOptions {
  /** The folded-stacks file to write; created or truncated. Its directory must exist. */
  path: string;
  /** Also record time when no span is entered (as the thread's own frame). Default `false`. */
  emptySamples?: boolean | undefined;
  /** One root frame for all threads instead of one per thread. Default `false`. */
  threadsCollapsed?: boolean | undefined;
  /** Prefix span names with their module path. Default `true`. */
  modulePath?: boolean | undefined;
  /** Suffix span names with their source file and line. Default `false`. */
  fileAndLine?: boolean | undefined;
  /** This layer's own filter, in `RUST_LOG` syntax. */
  filter?: string | undefined;
}

/** Every option of {@link FlameLayerOptions}. */
export const FLAME_OPTIONS = optionNames<FlameLayerOptions>()([
  "path",
  "emptySamples",
  "threadsCollapsed",
  "modulePath",
  "fileAndLine",
  "filter",
]);

/**
 * Folded stacks of the spans entered (as `tracing-flame` writes them): one line per sample, a
 * stack with the nanoseconds spent in it. Render them with `tracing.renderFlameSvg()` once disposed, or with
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
  const [flame] = flames;
  if (flame === undefined || flames.length !== 1) {
    throw new TracingError(
      "INVALID_CONFIG",
      flames.length === 0
        ? "this Tracing's config has no FlameLayerConfig; add one to record folded stacks"
        : `this Tracing's config has ${flames.length} flame layers; say which with options.layer`,
    );
  }
  return flame;
}
