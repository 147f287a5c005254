// The demo: a Rust library's spans and events in Deno, printed by tracing_subscriber::fmt,
// recorded as a timeline (Perfetto) and as a flame graph, with a filter changed while running.
// A JS layer counts what reaches JavaScript. Run (after cargo build --release):
//   deno run --allow-ffi examples/fibonacci/deno.ts [path/to/libfibonacci.so]
// Writes out/deno/ (created when --allow-write is granted; scripts/demo creates it).
import {
  FlameLayerConfig,
  FmtLayerConfig,
  GlobalTracingConfig,
  JsLayerConfig,
  type LayerConfig,
  TimelineLayerConfig,
  Tracing,
  type TracingError,
} from "../../deno/mod.ts";

const libraryPath = Deno.args[0] ??
  new URL("../../target/release/libfibonacci.so", import.meta.url).pathname;
const outDir = new URL("../../out/deno/", import.meta.url).pathname;
if (Deno.permissions.querySync({ name: "write", path: outDir }).state === "granted") {
  Deno.mkdirSync(outDir, { recursive: true });
}

// Our own symbols from the example library; the bindings open the same image for theirs.
const fibonacciLibrary = Deno.dlopen(libraryPath, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
  run_workers: { parameters: ["u32", "u32"], result: "u64" },
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
const start = (layers: LayerConfig[]) =>
  new Tracing(new GlobalTracingConfig({ layers }), { library: libraryPath }).enter();
let tracing: Tracing;
let insight = true;
try {
  tracing = start([log, timeline, flame, counter]);
} catch (error) {
  // With --allow-ffi alone the demo cannot create out/deno/ (scripts/demo does).
  if ((error as TracingError).code !== "FILE_NOT_WRITABLE") throw error;
  insight = false;
  console.log(`[deno] ${outDir} is missing: no timeline or flame graph this run`);
  tracing = start([log, counter]);
}

console.log(`[deno] fibonacci(10) = ${fibonacci(10, true)}`);
// Too large for 64 bits: the library warns through the `log` crate, printed like its own events.
console.log(`[deno] fibonacci(100) = ${fibonacci(100, true)} (saturated; see the warning)`);
tracing.setLayerFilter(log, "debug"); // takes effect at once: the steps are printed now
console.log(`[deno] with the log raised to debug: fibonacci(4) = ${fibonacci(4, true)}`);
tracing.setLayerFilter(log, "off"); // quiet while the recursion is recorded
console.log(`[deno] naive recursion, fibonacci(15) = ${fibonacci(15, false)} (log off)`);
tracing.setLayerFilter(log, "info");
console.log(`[deno] run_workers emitted ${run_workers(3, 2)} events from 3 Rust threads`);
tracing.dispose(); // finishes the timeline and the folded stacks
console.log(
  `[deno] INFO events seen by the JS layer, per thread: ${
    JSON.stringify(Object.fromEntries(seen))
  }`,
);

if (insight) {
  await tracing.renderFlameSvg(`${outDir}fibonacci.svg`, { title: "fibonacci demo (Deno)" });
  await tracing.renderFlameSvg(`${outDir}fibonacci-chart.svg`, {
    style: "chart",
    title: "fibonacci demo (Deno), in time order",
  });
}
console.log("[deno] tracing disposed: nothing more is printed");
fibonacci(3, true);
if (insight) {
  console.log(`[deno] timeline:    ${outDir}fibonacci.trace.json`);
  console.log(`[deno] flame graph: ${outDir}fibonacci.svg (and fibonacci-chart.svg)`);
}
