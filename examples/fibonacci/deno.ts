// The demo: a Rust library's spans and events, printed by tracing_subscriber::fmt, in Deno.
// Run: deno run --allow-ffi examples/fibonacci/deno.ts   (after cargo build --release)
// An argument replaces the library path, e.g. a release build from scripts/release.
import { FmtLayerConfig, GlobalTracingConfig, Tracing } from "../../deno/mod.ts";

const libraryPath = Deno.args[0] ??
  new URL("../../target/release/libfibonacci.so", import.meta.url).pathname;

// Our own symbols from the example library; the bindings open the same image for theirs.
const fibonacciLibrary = Deno.dlopen(libraryPath, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
  run_workers: { parameters: ["u32", "u32"], result: "u64" },
});

{
  using _tracing = new Tracing(
    new GlobalTracingConfig({
      layers: [new FmtLayerConfig({ format: "compact", threadNames: true, filter: "debug" })],
    }),
    { library: libraryPath },
  ).enter();

  const value = fibonacciLibrary.symbols.fibonacci(10, true);
  console.log(`[deno] fibonacci(10) = ${value}`);
  const events = fibonacciLibrary.symbols.run_workers(2, 2);
  console.log(`[deno] run_workers emitted ${events} events from 2 Rust threads`);
}
console.log("[deno] tracing disposed: nothing more is printed");
fibonacciLibrary.symbols.fibonacci(3, true);
