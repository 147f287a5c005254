/**
 * Finding, checking and opening the native library that carries tracing-bridge.
 *
 * Resolution order: an explicit path, else the `TRACING_BRIDGE_LIB` environment variable;
 * with neither, `LIBRARY_NOT_GIVEN` (there is no default: the library is the user's own cdylib,
 * which embeds the shim). The ABI version is checked before the full symbol table is opened.
 * @module
 */

import { TracingError } from "./errors.ts";
import { currentRuntime, type NativeLibrary, type Runtime } from "./native.ts";

/** The C ABI version these bindings speak (`TRACING_BRIDGE_ABI_VERSION`). */
export const ABI_VERSION = 5;

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

  /** Wraps an opened library; use `openLibrary` to open and check one. */
  constructor(path: string, native: NativeLibrary) {
    this.path = path;
    this.#native = native;
    this.version = native.version();
    this.abiVersion = native.abiVersion();
  }

  /**
   * The symbols; throws after {@link TracingLibrary.close}. For the bindings only.
   * @internal
   */
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
   * Closes the library: the bindings' handle is released and the path can be opened again.
   * Throws `LIBRARY_IN_USE` while a `Tracing` is entered into it: dispose those first.
   * Libraries linked with `-z nodelete` (see README, "Exit and unload") stay mapped anyway.
   */
  close(): void {
    const active = enteredCount.get(this) ?? 0;
    if (active > 0) {
      throw new TracingError(
        "LIBRARY_IN_USE",
        `cannot close ${this.path}: ${active} Tracing ${active === 1 ? "is" : "are"} still ` +
          "entered into it; dispose every Tracing of this library first",
      );
    }
    const releasing = heldCount.get(this) ?? 0;
    if (releasing > 0) {
      throw new TracingError(
        "LIBRARY_IN_USE",
        `cannot close ${this.path} yet: ${releasing} disposed Tracing ${
          releasing === 1 ? "is" : "are"
        } still shutting down (disposed from inside a layer callback, or while a flushAsync() ` +
          "runs); close it after that callback returns or that flushAsync() settles, e.g. in " +
          "queueMicrotask(() => library.close()) or after await tracing.flushAsync()",
      );
    }
    this.#native?.close();
    this.#native = null;
    forgetLibrary(this);
  }
}

const enteredCount = new WeakMap<TracingLibrary, number>();
const heldCount = new WeakMap<TracingLibrary, number>();

/**
 * Counts a disposed `Tracing` whose native subscriber is still being released (`+1`) or is
 * released (`-1`): the library must stay loaded meanwhile.
 */
export function holdLibrary(library: TracingLibrary, delta: 1 | -1): void {
  heldCount.set(library, (heldCount.get(library) ?? 0) + delta);
}

/** Counts a `Tracing` entered into `library` (`+1`) or disposed (`-1`), for `close()`. */
export function countEntered(library: TracingLibrary, delta: 1 | -1): void {
  enteredCount.set(library, (enteredCount.get(library) ?? 0) + delta);
}

/** One place of the search order: the path found there, or why it gave none. */
export interface LibrarySource {
  /** Where the path comes from: `the path argument` or `$TRACING_BRIDGE_LIB`. */
  source: string;
  /** The path found there; absent when this place gave none. */
  path?: string;
  /** Why this place gave no path, why it was not consulted, or why opening its path failed. */
  note?: string;
}

/**
 * Every place of the search order, in order: the path argument, `$TRACING_BRIDGE_LIB`. The
 * first one with a `path` is the one opened; the later ones are marked as not consulted.
 */
export function librarySearchOrder(runtime: Runtime, explicitPath?: string): LibrarySource[] {
  const places: LibrarySource[] = [];
  const consult = (source: string, find: () => { path?: string; note?: string }) => {
    const chosen = places.find((place) => place.path !== undefined);
    places.push(
      chosen ? { source, note: `not consulted: ${chosen.source} comes first` } : {
        source,
        ...find(),
      },
    );
  };
  consult(
    "the path argument",
    () => explicitPath !== undefined ? { path: explicitPath } : { note: "none given" },
  );
  consult(`$${LIBRARY_ENV_VAR}`, () => {
    if (!runtime.canReadEnv(LIBRARY_ENV_VAR)) {
      return { note: `not read: permission to read ${LIBRARY_ENV_VAR} is not granted` };
    }
    const fromEnv = runtime.readEnv(LIBRARY_ENV_VAR);
    return fromEnv ? { path: fromEnv } : { note: "not set" };
  });
  return places;
}

const opened = new Map<string, TracingLibrary>();

/**
 * Opens the library (see the module documentation for the search order), checks its ABI
 * version, and returns it. Opening the same path again returns the same object, until it is
 * closed.
 */
export function openTracingLibrary(runtime: Runtime, explicitPath?: string): TracingLibrary {
  const places = librarySearchOrder(runtime, explicitPath);
  const chosen = places.find((place) => place.path !== undefined);
  if (chosen === undefined) throw notGiven(places, runtime);
  const { path, source } = chosen as Required<LibrarySource>;
  if (typeof path !== "string" || path.length === 0 || path.includes("\0")) {
    // A NUL would end the C string the runtime hands to dlopen: another file would be opened.
    throw new TracingError(
      "INVALID_PARAMETER",
      `library: ${
        typeof path === "string" ? JSON.stringify(path) : `a ${typeof path}`
      } (from ${source}) is not a usable path: give the path of the library file as a ` +
        "non-empty string without NUL characters (\\0)",
    );
  }
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
    chosen.note = messageOf(error);
    throw notFound(places, runtime, error);
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

function notFound(places: LibrarySource[], runtime: Runtime, cause?: unknown): TracingError {
  const lines = places.map(({ source, path, note }, index) =>
    `  ${index + 1}. ${path === undefined ? source : `${path} (from ${source})`}: ${note}`
  );
  return new TracingError(
    "LIBRARY_NOT_FOUND",
    `could not load a tracing-bridge library. Tried:\n${lines.join("\n")}\n` +
      `Pass the path of your library (the cdylib that embeds tracing-bridge, e.g. ` +
      `{ library: "./target/release/${example(runtime)}" }) or set ` +
      `${LIBRARY_ENV_VAR} to it.`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * No path anywhere: the library is the user's own, which nothing can guess (a build of the shim
 * alone would share no `tracing` with it, so nothing would be printed).
 */
function notGiven(places: LibrarySource[], runtime: Runtime): TracingError {
  const lines = places.map(({ source, note }, index) => `  ${index + 1}. ${source}: ${note}`);
  return new TracingError(
    "LIBRARY_NOT_GIVEN",
    `no tracing-bridge library was given. Tried:\n${lines.join("\n")}\n` +
      `Pass the path of your library, the cdylib that embeds tracing-bridge and whose ` +
      `spans you want: new Tracing(config, { library: "./target/release/` +
      `${example(runtime)}" }) (the same path your own dlopen opens), or openLibrary(path), ` +
      `or set ${LIBRARY_ENV_VAR} to it.`,
  );
}

/** `libmy_library.so` (or `.dylib`, `.dll`), for messages. */
function example(runtime: Runtime): string {
  return runtime.libraryFileName("my_library");
}

/**
 * Opens the native library that embeds tracing-bridge: `path`, else `$TRACING_BRIDGE_LIB`;
 * with neither, throws `LIBRARY_NOT_GIVEN`. Checks its ABI version.
 */
export function openLibrary(path?: string): TracingLibrary {
  return openTracingLibrary(currentRuntime(), path);
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
