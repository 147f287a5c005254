// What recording costs per span: fibonacci(20) by naive recursion (21 891 spans, each with an
// info event) in Deno, untraced and with each performance-insight layer. Prints one line per
// case, then a JSON summary as the last line.
// Run: deno run --allow-ffi --allow-read --allow-write bench/insight_layers.ts
import {
  FlameLayerConfig,
  FmtLayerConfig,
  GlobalTracingConfig,
  type LayerConfig,
  TimelineLayerConfig,
  Tracing,
} from "../deno/mod.ts";

const libraryPath = new URL("../target/release/libfibonacci.so", import.meta.url).pathname;
const { fibonacci } = Deno.dlopen(libraryPath, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
}).symbols;
const dir = Deno.makeTempDirSync({ prefix: "tracing-bridge-bench-" });
const INDEX = 20;
const SPANS = 21_891; // calls of fib(20)
const ROUNDS = 5;

function measure(): number {
  fibonacci(INDEX, false); // warm-up
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    fibonacci(INDEX, false);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return (times[Math.floor(ROUNDS / 2)] * 1e6) / SPANS; // median, ns per span
}

const cases: [string, () => LayerConfig[] | null][] = [
  ["untraced", () => null],
  ["timeline", () => [new TimelineLayerConfig({ path: `${dir}/t.json` })]],
  ["timeline (no args, no locations)", () => [
    new TimelineLayerConfig({
      path: `${dir}/t2.json`,
      includeArgs: false,
      includeLocations: false,
    }),
  ]],
  ["flame", () => [new FlameLayerConfig({ path: `${dir}/f.folded` })]],
  ["fmt to a file", () => [new FmtLayerConfig({ writer: { file: `${dir}/f.log` } })]],
];

const summary: Record<string, number> = {};
for (const [name, layers] of cases) {
  const config = layers();
  const tracing = config
    ? new Tracing(new GlobalTracingConfig({ layers: config }), { library: libraryPath }).enter()
    : null;
  const perSpan = measure();
  tracing?.dispose();
  summary[name] = Math.round(perSpan);
  console.log(
    `${name.padEnd(34)} ${perSpan.toFixed(0).padStart(6)} ns per span (median of ${ROUNDS})`,
  );
}
Deno.removeSync(dir, { recursive: true });
console.log(JSON.stringify({ bench: "insight_layers", runtime: "deno", nsPerSpan: summary }));
