// Your own library in Bun: its functions through bun:ffi, its tracing through tracing-bridge.
// Run (see README.md): bun bun.ts [path/to/libmy_library.so], after cargo build --release.
//
// The bindings come from $TRACING_BRIDGE_BINDINGS (the root of a tracing-bridge checkout),
// else from this repository (../../). Once published, import "tracing-bridge" statically
// instead.
import { dlopen, FFIType } from "bun:ffi";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const bindingsRoot = process.env.TRACING_BRIDGE_BINDINGS;
const bindings = bindingsRoot
  ? pathToFileURL(resolve(bindingsRoot, "bun/mod.ts"))
  : new URL("../../bun/mod.ts", import.meta.url);
const { FmtLayerConfig, GlobalTracingConfig, Tracing } = await import(
  bindings.href
) as typeof import("../../bun/mod.ts");

// The library: the argument, else the first build found: ./target (a copy of this folder),
// $CARGO_TARGET_DIR, this repository's target (../../target).
const file = "release/libmy_library.so";
const candidates = [
  fileURLToPath(new URL(`target/${file}`, import.meta.url)),
  ...(process.env.CARGO_TARGET_DIR ? [resolve(process.env.CARGO_TARGET_DIR, file)] : []),
  fileURLToPath(new URL(`../../target/${file}`, import.meta.url)),
];
const libraryPath = process.argv[2] ?? candidates.find((path) => existsSync(path)) ??
  candidates[0]!;

// Your functions. The bindings open the same path for the tracing_bridge_* functions: both
// handles share one loaded library.
const myLibrary = dlopen(libraryPath, {
  my_library_sum: { args: [FFIType.u32], returns: FFIType.u64 },
});

{
  using _tracing = new Tracing(
    new GlobalTracingConfig({
      layers: [new FmtLayerConfig({ format: "compact", filter: "my_library=debug" })],
    }),
    { library: libraryPath },
  ).enter();
  console.log(`[bun] my_library_sum(4) = ${myLibrary.symbols.my_library_sum(4)}`);
} // disposed here: flushed and uninstalled

myLibrary.close();
