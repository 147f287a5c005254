/**
 * What recording costs per span on the calling thread: fibonacci(20) by naive recursion
 * (21 891 spans, each with an info event) untraced and with each file-writing layer: fmt to a
 * file (non-blocking, and for reference the same writing on the calling thread), fmt to
 * rolling files, the timeline and the flame layer.
 *
 *   deno run --allow-ffi --allow-read --allow-write bench/insight_layers.ts
 *   bun run bench/insight_layers.ts
 *
 * Each case enters a `Tracing`, times ROUNDS runs (the median counts: the wall time, and the
 * calling thread's CPU time from `/proc/thread-self/schedstat`), then disposes it and
 * checks that the file is complete: the fmt files hold one line per event, the timeline one
 * `B`/`E` pair per span entered, the folded stacks at least one sample per stack depth. Prints
 * one line per case, then a JSON summary as the last line (`nsPerSpan`: wall time;
 * `cpuNsPerSpan`: the calling thread's CPU time; `layerCpuNsPerSpan`: the same over the floor
 * every layer pays, measured in the same run with a layer that does nothing; `fmtEventNs`: the
 * calling thread's CPU per fmt line of an event outside any span).
 */

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LayerConfig } from "../bindings/config.ts";

type Runtime = typeof import("./runtime_deno.ts");

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
// A computed specifier, so that Deno does not try to load the Bun module and vice versa.
const runtimeModule = isDeno ? "./runtime_deno.ts" : "./runtime_bun.ts";
const { api, example, libraryPath, runtime }: Runtime = await import(runtimeModule);

const dir = mkdtempSync(join(tmpdir(), "tracing-bridge-bench-"));
mkdirSync(join(dir, "rolling"));
const INDEX = 20;
const SPANS = 21_891; // calls of fib(20)
const ROUNDS = 5;
const RUNS = ROUNDS + 1; // and a warm-up

const napCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * CPU time of the calling thread so far, in ns (Linux: the first field of schedstat). The
 * kernel brings that figure up to date when the thread is switched out or at a scheduler tick,
 * so read while running it can be a tick (4 ms, ~180 ns per span of a round here) behind; a
 * 1 ms wait first switches the thread out and makes it exact.
 */
function threadCpuNs(): number {
  Atomics.wait(napCell, 0, 0, 1);
  return Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);
}

/**
 * The median of ROUNDS runs, in ns per span: the wall time, and the CPU time of the calling
 * thread (which a busy machine does not inflate: the worker threads run on other cores or
 * wait).
 */
function measure(): { wall: number; cpu: number } {
  example.fibonacci(INDEX, false); // warm-up
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const cpu = threadCpuNs();
    const start = performance.now();
    example.fibonacci(INDEX, false);
    walls.push((performance.now() - start) * 1e6 / SPANS);
    cpus.push((threadCpuNs() - cpu) / SPANS);
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
  return { wall: median(walls), cpu: median(cpus) };
}

const lines = (path: string) => readFileSync(path, "utf8").split("\n").filter((l) => l).length;

/** Fails unless the case's output is complete after dispose. */
function check(name: string, actual: number, expected: number): void {
  if (actual !== expected) {
    throw new Error(`${name}: ${actual} after dispose, expected ${expected}`);
  }
}

interface Case {
  name: string;
  layers: () => LayerConfig[] | null;
  verify?: () => void;
}

const cases: Case[] = [
  { name: "untraced", layers: () => null },
  {
    // The floor every layer pays: spans made in the registry and dispatched through the
    // filters to a layer that does nothing (an OpenTelemetry layer with no exporter).
    name: "no-op layer",
    layers: () => [new api.OtlpLayerConfig({ exporter: "none" })],
  },
  {
    name: "fmt to a file",
    layers: () => [new api.FmtLayerConfig({ writer: { file: join(dir, "f.log") } })],
    verify: () => check("fmt to a file", lines(join(dir, "f.log")), SPANS * RUNS),
  },
  {
    // The reference: the same layer writing on the calling thread, one `write` per line.
    name: "fmt, blocking",
    layers: () => [
      new api.FmtLayerConfig({ writer: { file: join(dir, "b.log") }, nonBlocking: false }),
    ],
    verify: () => check("fmt, blocking", lines(join(dir, "b.log")), SPANS * RUNS),
  },
  {
    name: "rolling fmt",
    layers: () => [
      new api.FmtLayerConfig({
        writer: { rolling: { directory: join(dir, "rolling"), rotation: "minutely" } },
      }),
    ],
    verify: () => {
      const files = readdirSync(join(dir, "rolling"));
      const total = files.reduce((sum, file) => sum + lines(join(dir, "rolling", file)), 0);
      check("rolling fmt", total, SPANS * RUNS);
    },
  },
  {
    name: "timeline",
    layers: () => [new api.TimelineLayerConfig({ path: join(dir, "t.json") })],
    verify: () => {
      const entries = JSON.parse(readFileSync(join(dir, "t.json"), "utf8")) as { ph: string }[];
      check("timeline", entries.filter((entry) => entry.ph === "E").length, SPANS * RUNS);
    },
  },
  {
    name: "flame",
    layers: () => [new api.FlameLayerConfig({ path: join(dir, "f.folded") })],
    verify: () => {
      // Every sample's nanoseconds are in the file: at least one line per depth of fib(20).
      const depths = new Set(
        readFileSync(join(dir, "f.folded"), "utf8").split("\n").filter((l) => l)
          .map((line) => line.split("; ").length),
      );
      check("flame", depths.size, INDEX);
    },
  },
];

/** ns of the calling thread's CPU per fmt line for an event outside any span. */
function fmtEventCpuNs(): number {
  const path = join(dir, "events.log");
  const tracing = new api.Tracing(
    new api.GlobalTracingConfig({ layers: [new api.FmtLayerConfig({ writer: { file: path } })] }),
    { library: libraryPath },
  ).enter();
  const EVENTS = 100_000;
  example.emitEvents(EVENTS); // warm-up
  const cpus: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const cpu = threadCpuNs();
    example.emitEvents(EVENTS);
    cpus.push((threadCpuNs() - cpu) / EVENTS);
  }
  tracing.dispose();
  check("fmt events", lines(path), EVENTS * RUNS);
  return cpus.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

const nsPerSpan: Record<string, number> = {};
const cpuNsPerSpan: Record<string, number> = {};
for (const { name, layers, verify } of cases) {
  const config = layers();
  const tracing = config
    ? new api.Tracing(new api.GlobalTracingConfig({ layers: config }), {
      library: libraryPath,
    }).enter()
    : null;
  const { wall, cpu } = measure();
  tracing?.dispose();
  verify?.();
  nsPerSpan[name] = Math.round(wall);
  cpuNsPerSpan[name] = Math.round(cpu);
  console.log(
    `${name.padEnd(16)} ${wall.toFixed(0).padStart(6)} ns per span, ${
      cpu.toFixed(0).padStart(6)
    } ns of the calling thread's CPU (median of ${ROUNDS})`,
  );
}
const fmtEventNs = Math.round(fmtEventCpuNs());
console.log(
  `fmt to a file, one event outside any span: ${fmtEventNs} ns of the calling thread's CPU`,
);
rmSync(dir, { recursive: true });
// What each layer adds on the calling thread over the floor every layer pays.
const floor = cpuNsPerSpan["no-op layer"] ?? 0;
const layerCpuNsPerSpan = Object.fromEntries(
  Object.entries(cpuNsPerSpan).filter(([name]) => name !== "untraced" && name !== "no-op layer")
    .map(([name, ns]) => [name, ns - floor]),
);
console.log(
  JSON.stringify({
    bench: "insight_layers",
    runtime,
    nsPerSpan,
    cpuNsPerSpan,
    layerCpuNsPerSpan,
    fmtEventNs,
  }),
);
