// Your own library in Bun: its functions through bun:ffi, its tracing through tracing-bridge.
// Run: bun examples/template/bun.ts [path/to/libmy_library.so]   (after cargo build --release)
// In your project, import from the published package instead of "../../bun/mod.ts"
// (see README, "Use it in your own Rust library").
import { dlopen, FFIType } from "bun:ffi";
import { fileURLToPath } from "node:url";
import { FmtLayerConfig, GlobalTracingConfig, Tracing } from "../../bun/mod.ts";

const libraryPath = process.argv[2] ??
  fileURLToPath(new URL("../../target/release/libmy_library.so", import.meta.url));

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
