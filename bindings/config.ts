/**
 * Configuration objects: the layers and the scope (global or current thread) of a `Tracing`.
 * They serialize to the JSON document described in `tracing_bridge.h`.
 * @module
 */

import { TracingError } from "./errors.ts";

/** Where a layer writes: standard output, standard error, or a file (appended to). */
export type Writer = "stdout" | "stderr" | { file: string };

/** When a rolling writer starts a new file (UTC boundaries); `"never"` keeps one file. */
export type Rotation = "minutely" | "hourly" | "daily" | "never";

/**
 * Files that roll over every minute, hour or day, as `tracing_appender::rolling` names them:
 * `<directory>/<prefix>.<date>.<suffix>` (`logs/app.2026-11-30.log`), empty parts left out.
 */
export interface RollingWriter {
  /** The directory of the files; it must exist. */
  directory: string;
  /** When a new file starts. Default `"never"` (one file, `prefix.suffix`). */
  rotation?: Rotation | undefined;
  /** The start of each file name, before the date. */
  prefix?: string | undefined;
  /** The end of each file name, after the date (e.g. `"log"`). */
  suffix?: string | undefined;
  /** Keep at most this many files of this prefix and suffix; the oldest are removed. */
  maxFiles?: number | undefined;
}

/** Where the fmt layer writes: {@link Writer}, or rolling files. */
export type FmtWriter = Writer | { rolling: RollingWriter };

/** Every option of {@link RollingWriter}. */
export const ROLLING_OPTIONS = optionNames<RollingWriter>()([
  "directory",
  "rotation",
  "prefix",
  "suffix",
  "maxFiles",
]);

/**
 * How the fmt layer stamps lines: `"utc"` RFC 3339 in UTC, `"local"` RFC 3339 with the local
 * offset, `"uptime"` seconds since the layer started, `"none"` no timestamp.
 */
export type FmtTimer = "utc" | "local" | "uptime" | "none";

/** `tracing_subscriber::fmt` line formats. */
export type FmtFormat = "full" | "compact" | "pretty" | "json";

/** Span lifecycle moments the fmt layer can print as lines of their own. */
export type SpanEvent = "new" | "enter" | "exit" | "close";

/** Options of {@link FmtLayerConfig}. Every option has a default. */
export interface FmtLayerOptions {
  /** Where lines go. Default `"stdout"`. */
  writer?: FmtWriter | undefined;
  /**
   * Whether a worker thread writes the lines, so that the traced thread only formats and
   * queues them (`tracing_appender::non_blocking`). Default: `true` for files, `false` for
   * stdout and stderr. `flush()` and dispose (and exit) wait until everything is written.
   */
  nonBlocking?: boolean | undefined;
  /**
   * Non-blocking only: when the queue is full, drop the line and count it (in
   * `droppedSpans`, reported on stderr) instead of waiting for room. Default `false`.
   */
  lossy?: boolean | undefined;
  /** Non-blocking only: how many lines the queue holds. Default 128 000. */
  bufferedLines?: number | undefined;
  /** Line format. Default `"full"`. */
  format?: FmtFormat | undefined;
  /** How lines are stamped. Default `"utc"`. */
  timer?: FmtTimer | undefined;
  /** JSON only: the event's fields at the top level instead of under `fields`. Default `false`. */
  flattenEvent?: boolean | undefined;
  /** JSON only: the current span as `span`. Default `true`. */
  currentSpan?: boolean | undefined;
  /** JSON only: the entered spans, root first, as `spans`. Default `true`. */
  spanList?: boolean | undefined;
  /** ANSI colours. Default: on only when the writer is a terminal and `NO_COLOR` is unset. */
  ansi?: boolean | undefined;
  /** Show the target. Default `true`. */
  target?: boolean | undefined;
  /** Show the level. Default `true`. */
  level?: boolean | undefined;
  /** Show thread ids. Default `false`. */
  threadIds?: boolean | undefined;
  /** Show thread names. Default `false`. */
  threadNames?: boolean | undefined;
  /** Show the source file. Default `false`. */
  file?: boolean | undefined;
  /** Show the source line. Default `false`. */
  line?: boolean | undefined;
  /** Print these span lifecycle moments. Default none. */
  spanEvents?: SpanEvent[] | undefined;
  /** This layer's own filter, in `RUST_LOG` syntax (e.g. `"info,my_lib=debug"`). */
  filter?: string | undefined;
}

/**
 * `names` when it lists every option of `Options`: a compile error names the ones missing. The
 * option lists made with it are what the drift test (`tests/shared/options.ts`) compares with
 * the options the native parser accepts, since the interfaces vanish at run time.
 */
export function optionNames<Options>(): <const Names extends readonly (keyof Options)[]>(
  names:
    & Names
    & ([Exclude<keyof Options, Names[number]>] extends [never] ? unknown
      : { readonly missing: Exclude<keyof Options, Names[number]> }),
) => Names {
  return (names) => names;
}

/** Every option of {@link FmtLayerOptions}. */
export const FMT_OPTIONS = optionNames<FmtLayerOptions>()([
  "writer",
  "nonBlocking",
  "lossy",
  "bufferedLines",
  "format",
  "timer",
  "flattenEvent",
  "currentSpan",
  "spanList",
  "ansi",
  "target",
  "level",
  "threadIds",
  "threadNames",
  "file",
  "line",
  "spanEvents",
  "filter",
]);

/** A layer of a tracing config. */
export interface LayerConfig {
  /** The JSON form sent to the native library. */
  toJSON(): Record<string, unknown>;
}

/** Human-readable output by `tracing_subscriber::fmt` to stdout, stderr or a file. */
export class FmtLayerConfig implements LayerConfig {
  /** The options given, frozen. */
  readonly options: Readonly<FmtLayerOptions>;

  /** A fmt layer with `options` (see {@link FmtLayerOptions}); every option has a default. */
  constructor(options: FmtLayerOptions = {}) {
    this.options = Object.freeze({ ...options });
  }

  /** The JSON form sent to the native library. */
  toJSON(): Record<string, unknown> {
    return { kind: "fmt", ...this.options };
  }
}

/** Options shared by both config scopes. */
export interface TracingConfigOptions {
  /** The layers, each with its own optional filter. At most 8. */
  layers: LayerConfig[];
  /**
   * A filter applied before every layer's own, in `RUST_LOG` syntax. When no filter is given
   * anywhere, the `RUST_LOG` environment variable is used, else `"info"`.
   */
  filter?: string | undefined;
}

/** Where a config is installed. */
export type TracingScope = "global" | "currentThread";

/** Common part of {@link GlobalTracingConfig} and {@link CurrentThreadTracingConfig}. */
export abstract class TracingConfig {
  /** Where the config is installed. */
  abstract readonly scope: TracingScope;
  /** The layers. */
  readonly layers: readonly LayerConfig[];
  /** The global filter, if any. */
  readonly filter: string | undefined;

  /** Checks `options`: `layers` must be an array of layer configs. */
  constructor(options: TracingConfigOptions) {
    if (!options || !Array.isArray(options.layers)) {
      throw new TracingError(
        "INVALID_CONFIG",
        "a tracing config needs `layers`: an array of layer configs such as new FmtLayerConfig()",
      );
    }
    options.layers.forEach((layer, index) => {
      if (typeof layer?.toJSON !== "function") {
        throw new TracingError(
          "INVALID_CONFIG",
          `layers[${index}] is not a layer config; use a layer config object such as new FmtLayerConfig()`,
        );
      }
    });
    this.layers = Object.freeze([...options.layers]);
    this.filter = options.filter;
  }

  /**
   * The JSON document sent to the native library. Throws `INVALID_CONFIG` naming the option
   * (`layers[0].batch.maxQueueSize`) for a value JSON cannot carry: `NaN` and `Infinity` would
   * become `null` ("unset"), a function or symbol would vanish, a bigint would not encode.
   */
  toJSON(): Record<string, unknown> {
    const document = {
      filter: this.filter,
      layers: this.layers.map((layer) => layer.toJSON()),
    };
    checkJsonValues(document, "");
    return document;
  }
}

/**
 * Throws `INVALID_CONFIG` for the first value under `value` that `JSON.stringify` would turn
 * into `null` or drop while it was given (`undefined` means "not given" and is left out).
 * `path` names `value` in the message (`options`, `layers[1]`).
 */
export function checkJsonValues(value: unknown, path: string): void {
  const fail = (what: string, fix: string) => {
    throw new TracingError(
      "INVALID_CONFIG",
      `${path}: ${what} cannot be sent to the native library; ${fix}, or leave the option ` +
        "out for its default",
    );
  };
  switch (typeof value) {
    case "number":
      // JSON.stringify would write null, which reads as "not given".
      if (!Number.isFinite(value)) fail(String(value), "give a finite number");
      return;
    case "bigint":
      return fail(`a bigint (${value}n)`, "give a number");
    case "function":
    case "symbol":
      return fail(`a ${typeof value}`, "give a number, string, boolean, array or plain object");
    case "object":
      if (value === null) return;
      if (Array.isArray(value)) {
        value.forEach((item, index) => checkJsonValues(item, `${path}[${index}]`));
        return;
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === "function") return;
      for (const [key, item] of Object.entries(value)) {
        checkJsonValues(item, path === "" ? key : `${path}.${key}`);
      }
  }
}

/**
 * Installed as the library's global subscriber: spans and events of every thread reach it.
 * One global config can be active per library at a time; after it is disposed, another can start.
 */
export class GlobalTracingConfig extends TracingConfig {
  /** Always `"global"`. */
  readonly scope = "global" as const;
}

/**
 * Installed for the JavaScript thread only: it sees what the library records while JavaScript
 * calls into it, and nothing recorded on the library's own threads.
 */
export class CurrentThreadTracingConfig extends TracingConfig {
  /** Always `"currentThread"`. */
  readonly scope = "currentThread" as const;
}

/** Checks that `path` is given; its type and value are checked (with the option's path) by `enter()`. */
export function requirePath<T extends { path: string }>(options: T, name: string): T {
  if (options?.path === undefined || options.path === null) {
    throw new TracingError(
      "INVALID_CONFIG",
      `${name} needs a \`path\`: the file to write, e.g. new ${name}({ path: "out/trace" })`,
    );
  }
  return options;
}
