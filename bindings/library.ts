/**
 * Finding, checking and opening the native library that carries tracing-bridge.
 *
 * Resolution order: an explicit path, else the `TRACING_BRIDGE_LIB` environment variable,
 * else the local release build of the shim (`target/release/`). The ABI version is checked
 * before the full symbol table is opened.
 * @module
 */

import { TracingError } from "./errors.ts";
import type { NativeLibrary, Runtime } from "./native.ts";

/** The C ABI version these bindings speak (`TRACING_BRIDGE_ABI_VERSION`). */
export const ABI_VERSION = 1;

/** The environment variable naming the library when no path is given. */
export const LIBRARY_ENV_VAR = "TRACING_BRIDGE_LIB";

/** An opened native library that embeds tracing-bridge. */
export class TracingLibrary {
  /** The path it was opened from. */
  readonly path: string;
  /** The crate version of tracing-bridge inside it. */
  readonly version: string;
  /** Its C ABI version. */
  readonly abiVersion: number;
  #native: NativeLibrary | null;

  constructor(path: string, native: NativeLibrary) {
    this.path = path;
    this.#native = native;
    this.version = native.version();
    this.abiVersion = native.abiVersion();
  }

  /** The symbols; throws after {@link TracingLibrary.close}. */
  get native(): NativeLibrary {
    if (this.#native === null) {
      throw new TracingError(
        "DISPOSED",
        `the library ${this.path} was closed; open it again to use it`,
      );
    }
    return this.#native;
  }

  /**
   * Unloads the library. Dispose every `Tracing` that uses it first: closing a library whose
   * code is still running crashes the process.
   */
  close(): void {
    this.#native?.close();
    this.#native = null;
  }
}

/** Where to look for the library, in order, with a note on where each candidate came from. */
export function libraryCandidates(
  runtime: Runtime,
  explicitPath?: string,
): { path: string; source: string }[] {
  if (explicitPath !== undefined) return [{ path: explicitPath, source: "the path argument" }];
  const fromEnv = runtime.readEnv(LIBRARY_ENV_VAR);
  if (fromEnv) return [{ path: fromEnv, source: `$${LIBRARY_ENV_VAR}` }];
  const localBuild = new URL(
    `../target/release/${runtime.libraryFileName("tracing_bridge")}`,
    import.meta.url,
  );
  return [{ path: runtime.pathFromUrl(localBuild), source: "the local release build" }];
}

const opened = new Map<string, TracingLibrary>();

/**
 * Opens the library (see the module documentation for the search order), checks its ABI
 * version, and returns it. Opening the same path again returns the same object.
 */
export function openTracingLibrary(runtime: Runtime, explicitPath?: string): TracingLibrary {
  const candidates = libraryCandidates(runtime, explicitPath);
  const failures: string[] = [];
  for (const { path, source } of candidates) {
    const cached = opened.get(path);
    if (cached) return cached;
    let probe;
    try {
      probe = runtime.openAbiProbe(path);
    } catch (error) {
      if (isMissingSymbol(error)) {
        throw new TracingError(
          "LIBRARY_MISSING_SYMBOLS",
          `${path} (from ${source}) was loaded but does not export tracing_bridge_abi_version: ` +
            "it does not embed tracing-bridge. Link the tracing-bridge crate into your cdylib " +
            "(see README: 'Use it in your own Rust library') or point to the right library.",
          { cause: error },
        );
      }
      failures.push(`${path} (from ${source}): ${messageOf(error)}`);
      continue;
    }
    const found = probe.abiVersion();
    probe.close();
    if (found !== ABI_VERSION) {
      throw new TracingError(
        "ABI_MISMATCH",
        `${path} (from ${source}) speaks tracing-bridge C ABI version ${found}, but these ` +
          `bindings expect version ${ABI_VERSION}; rebuild the library against the matching ` +
          "tracing-bridge crate or use the matching bindings.",
      );
    }
    let native: NativeLibrary;
    try {
      native = runtime.open(path);
    } catch (error) {
      throw new TracingError(
        "LIBRARY_MISSING_SYMBOLS",
        `${path} (from ${source}) has ABI version ${found} but lacks symbols of it ` +
          `(${messageOf(error)}); rebuild it against the tracing-bridge crate.`,
        { cause: error },
      );
    }
    const library = new TracingLibrary(path, native);
    opened.set(path, library);
    return library;
  }
  throw new TracingError(
    "LIBRARY_NOT_FOUND",
    `could not load a tracing-bridge library. Tried:\n  ${failures.join("\n  ")}\n` +
      `Pass the path of your library, set ${LIBRARY_ENV_VAR}, or build the shim ` +
      "(cargo build --release).",
  );
}

/** Forgets a closed library so that its path can be opened again. */
export function forgetLibrary(library: TracingLibrary): void {
  if (opened.get(library.path) === library) opened.delete(library.path);
}

function isMissingSymbol(error: unknown): boolean {
  return /symbol/i.test(messageOf(error)) && !/no such file|cannot open/i.test(messageOf(error));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
