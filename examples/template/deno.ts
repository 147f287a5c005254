// Your own library in Deno: its functions through Deno.dlopen, its tracing through
// tracing-bridge. Run: deno run --allow-ffi examples/template/deno.ts [path/to/libmy_library.so]
// (after cargo build --release). In your project, import from the published package instead
// of "../../deno/mod.ts" (see README, "Use it in your own Rust library").
import { FmtLayerConfig, GlobalTracingConfig, Tracing } from "../../deno/mod.ts";

const libraryPath = Deno.args[0] ??
  new URL("../../target/release/libmy_library.so", import.meta.url).pathname;

// Your functions. The bindings open the same path for the tracing_bridge_* functions: both
// handles share one loaded library.
const myLibrary = Deno.dlopen(libraryPath, {
  my_library_sum: { parameters: ["u32"], result: "u64" },
});

{
  using _tracing = new Tracing(
    new GlobalTracingConfig({
      layers: [new FmtLayerConfig({ format: "compact", filter: "my_library=debug" })],
    }),
    { library: libraryPath },
  ).enter();
  console.log(`[deno] my_library_sum(4) = ${myLibrary.symbols.my_library_sum(4)}`);
} // disposed here: flushed and uninstalled

myLibrary.close();
