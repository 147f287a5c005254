// The demo: a Rust library's spans and events, printed by tracing_subscriber::fmt, in Bun.
// Run: bun examples/fibonacci/bun.ts   (after cargo build --release)
// An argument replaces the library path, e.g. a release build from scripts/release.
import { dlopen, FFIType } from "bun:ffi";
import { fileURLToPath } from "node:url";
import { FmtLayerConfig, GlobalTracingConfig, Tracing } from "../../bun/mod.ts";

const libraryPath = process.argv[2] ??
  fileURLToPath(new URL("../../target/release/libfibonacci.so", import.meta.url));

// Our own symbols from the example library; the bindings open the same image for theirs.
const fibonacciLibrary = dlopen(libraryPath, {
  fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
  run_workers: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
});

{
  using _tracing = new Tracing(
    new GlobalTracingConfig({
      layers: [new FmtLayerConfig({ format: "compact", threadNames: true, filter: "debug" })],
    }),
    { library: libraryPath },
  ).enter();

  const value = fibonacciLibrary.symbols.fibonacci(10, true);
  console.log(`[bun] fibonacci(10) = ${value}`);
  const events = fibonacciLibrary.symbols.run_workers(2, 2);
  console.log(`[bun] run_workers emitted ${events} events from 2 Rust threads`);
}
console.log("[bun] tracing disposed: nothing more is printed");
fibonacciLibrary.symbols.fibonacci(3, true);
