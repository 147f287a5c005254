// The demo: a Rust library's spans and events in Bun, printed by tracing_subscriber::fmt,
// recorded as a timeline (Perfetto) and as a flame graph, with a filter changed while running.
// A JS layer counts what reaches JavaScript. Run (after cargo build --release):
//   bun examples/fibonacci/bun.ts [path/to/libfibonacci.so]      Writes out/bun/.
import { dlopen, FFIType } from "bun:ffi";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  FlameLayerConfig,
  FmtLayerConfig,
  GlobalTracingConfig,
  JsLayerConfig,
  TimelineLayerConfig,
  Tracing,
} from "../../bun/mod.ts";

const libraryPath = process.argv[2] ??
  fileURLToPath(new URL("../../target/release/libfibonacci.so", import.meta.url));
const outDir = fileURLToPath(new URL("../../out/bun/", import.meta.url));
mkdirSync(outDir, { recursive: true });

// Our own symbols from the example library; the bindings open the same image for theirs.
const fibonacciLibrary = dlopen(libraryPath, {
  fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
  run_workers: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
});
const { fibonacci, run_workers } = fibonacciLibrary.symbols;

const log = new FmtLayerConfig({ format: "compact", threadNames: true, filter: "info" });
const timeline = new TimelineLayerConfig({ path: `${outDir}fibonacci.trace.json` });
const flame = new FlameLayerConfig({ path: `${outDir}fibonacci.folded` });
const seen = new Map<string, number>(); // events per thread, counted in JavaScript
const counter = new JsLayerConfig({
  onEvent: (event) =>
    seen.set(event.thread.name ?? "?", (seen.get(event.thread.name ?? "?") ?? 0) + 1),
}, { filter: "info" });
const tracing = new Tracing(
  new GlobalTracingConfig({ layers: [log, timeline, flame, counter] }),
  { library: libraryPath },
).enter();

console.log(`[bun] fibonacci(10) = ${fibonacci(10, true)}`);
// Too large for 64 bits: the library warns through the `log` crate, printed like its own events.
console.log(`[bun] fibonacci(100) = ${fibonacci(100, true)} (saturated; see the warning)`);
tracing.setLayerFilter(log, "debug"); // takes effect at once: the steps are printed now
console.log(`[bun] with the log raised to debug: fibonacci(4) = ${fibonacci(4, true)}`);
tracing.setLayerFilter(log, "off"); // quiet while the recursion is recorded
console.log(`[bun] naive recursion, fibonacci(15) = ${fibonacci(15, false)} (log off)`);
tracing.setLayerFilter(log, "info");
console.log(`[bun] run_workers emitted ${run_workers(3, 2)} events from 3 Rust threads`);
tracing.dispose(); // finishes the timeline and the folded stacks
console.log(
  `[bun] INFO events seen by the JS layer, per thread: ${JSON.stringify(Object.fromEntries(seen))}`,
);

await tracing.renderFlameSvg(`${outDir}fibonacci.svg`, { title: "fibonacci demo (Bun)" });
await tracing.renderFlameSvg(`${outDir}fibonacci-chart.svg`, {
  style: "chart",
  title: "fibonacci demo (Bun), in time order",
});
console.log("[bun] tracing disposed: nothing more is printed");
fibonacci(3, true);
console.log(`[bun] timeline:    ${outDir}fibonacci.trace.json`);
console.log(`[bun] flame graph: ${outDir}fibonacci.svg (and fibonacci-chart.svg)`);
