/**
 * OTLP export throughput: spans/s that the example library exports to a local OTLP receiver
 * (mock-collector, `target/release/otlp-receiver`) when JavaScript drives it, against the same
 * workload and layers run by a pure-Rust binary (`target/release/otlp_export`) in the same run;
 * plus the time from dispose to the last span received.
 *
 *   deno run -A bench/otlp_export.ts [http/protobuf|grpc|http/json] [--tls]
 *   bun bench/otlp_export.ts [http/protobuf|grpc|http/json] [--tls]
 *   deno run -A bench/otlp_export.ts --logs [http/protobuf|grpc]   (the logs run: otlp_export_logs.ts)
 *
 * Throughput: `fibonacci(INDEX, false)` called CALLS times (S(INDEX) spans per call, one per
 * recursive call, each with a `computed` event), timed from the first call until dispose
 * returns, i.e. until the receiver has confirmed every span. ROUNDS rounds alternate JS and
 * Rust (and which goes first), each on an emptied receiver; each side's best round counts (the
 * machine is shared). `sent`/`received` sum the JS rounds.
 *
 * Flush: FLUSH_ROUNDS times, one call (fewer spans than a batch, so nothing leaves before
 * dispose) then dispose; `flush_ms` is the median duration of that dispose, which returns once
 * the receiver has confirmed the last span (so it bounds the time from dispose to the last span
 * received, and includes joining the export threads). After a throughput round, dispose also
 * drains whatever backlog the receiver had not caught up with; that time is printed, not in
 * the JSON.
 *
 * `--tls`: both sides export over TLS (the receiver's TLS front, its test CA as `certificate`),
 * and each round also runs the JS side over plain TCP through the same proxy (`front`); the
 * process CPU time (user + system, every thread) per exported span of each gives
 * `tls_cpu_ratio` = TLS / plain (the best of 5 rounds of each, their order alternating). The
 * receiver runs in another process.
 *
 * Last line:
 * {"bench":"otlp_export","runtime":…,"protocol":…,"tls":…,"spans_per_s":…,"rust_spans_per_s":…,
 *  "ratio_vs_rust":…,"flush_ms":…,"sent":…,"received":…}
 * plus, with `--tls`: "cpu_us_per_span","plain_cpu_us_per_span","tls_cpu_ratio".
 */

import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { OtlpLayerOptions } from "../bindings/otlp.ts";
import { type Protocol, Receiver } from "../tests/shared/receiver.ts";
import { runLogsBench } from "./otlp_export_logs.ts";
import { isDeno, libraryPath, loadFibonacci, runtimeName, spansPerCall } from "./fibonacci.ts";

const CALLS = 400;
const INDEX = 12; // 465 spans per call
const WARMUP_CALLS = 40;

const args = isDeno ? Deno.args : process.argv.slice(2);
if (args.includes("--logs")) {
  await runLogsBench(
    (args.find((arg) => !arg.startsWith("--")) ?? "http/protobuf") as Protocol,
  );
  process.exit(0);
}
const tls = args.includes("--tls");
// Default: the OTLP default protocol (and the layer's).
const protocol = (args.find((arg) => !arg.startsWith("--")) ?? "http/protobuf") as Protocol;
const rustBinary = fileURLToPath(new URL("../target/release/otlp_export", import.meta.url));

const { api, fibonacci } = await loadFibonacci();
const receiver = await Receiver.start(protocol);
const layerOptions: OtlpLayerOptions = {
  endpoint: receiver.endpoint(tls ? "tls" : "direct"),
  ...(tls ? { certificate: receiver.certs.ca } : {}),
  protocol,
  // Large enough that nothing is dropped even if the workload outpaces the receiver; the
  // default delay (5 s) never fires here: batches go out when full, the rest at dispose.
  // mock-collector refuses HTTP bodies over 2 MiB, which 2048 spans exceed in JSON.
  batch: { maxQueueSize: 262_144, maxExportBatchSize: protocol === "http/json" ? 500 : 2_048 },
  flushTimeoutMs: 30_000,
  filter: "info",
};
/** The plain twin of a TLS run: the same proxy, without TLS. */
const plainOptions = {
  ...layerOptions,
  endpoint: receiver.endpoint("front"),
  certificate: undefined,
};
const config = (options: typeof layerOptions = layerOptions) =>
  new api.GlobalTracingConfig({ layers: [new api.OtlpLayerConfig(options)] });

function run(
  calls: number,
  options: typeof layerOptions = layerOptions,
): { seconds: number; cpuUs: number; disposeStartMs: number; disposeMs: number; dropped: number } {
  const tracing = new api.Tracing(config(options), { library: libraryPath }).enter();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let call = 0; call < calls; call++) fibonacci(INDEX);
  const disposeStartMs = Date.now();
  const disposeStarted = performance.now();
  tracing.dispose();
  const ended = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  return {
    seconds: (ended - started) / 1000,
    cpuUs: cpu.user + cpu.system,
    disposeStartMs,
    disposeMs: ended - disposeStarted,
    dropped: tracing.droppedSpans,
  };
}

// With --tls, more rounds: the TLS/plain CPU ratio is a difference of a few percent.
const ROUNDS = tls ? 5 : 3;
const FLUSH_ROUNDS = 15;

function runRust(): { seconds: number; dispose_ms: number; dropped: number } {
  const rust = spawnSync(rustBinary, [
    JSON.stringify(config()),
    String(CALLS),
    String(INDEX),
    String(WARMUP_CALLS),
  ], { encoding: "utf8" });
  if (rust.status !== 0) throw new Error(`otlp_export failed: ${rust.stderr}`);
  return JSON.parse(rust.stdout.trim().split("\n").at(-1)!);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

try {
  run(WARMUP_CALLS);
  const perRun = CALLS * spansPerCall(INDEX);
  const js: { seconds: number; cpuUs: number; drainMs: number; dropped: number }[] = [];
  const plain: { cpuUs: number; dropped: number }[] = [];
  const rust: { seconds: number; dispose_ms: number; dropped: number }[] = [];
  let received = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which side goes first; each starts with an empty receiver.
    if (round % 2 === 1) {
      await receiver.clear();
      rust.push(runRust());
    }
    // With --tls, the plain twin alternates too: first in odd rounds, after in even ones.
    if (tls && round % 2 === 1) {
      await receiver.clear();
      plain.push(run(CALLS, plainOptions));
    }
    await receiver.clear();
    const result = run(CALLS);
    const stats = await receiver.stats();
    received += stats.spans;
    js.push({ ...result, drainMs: stats.lastChangeMs - result.disposeStartMs });
    if (tls && round % 2 === 0) {
      await receiver.clear();
      plain.push(run(CALLS, plainOptions));
    }
    if (round % 2 === 0) {
      await receiver.clear();
      rust.push(runRust());
    }
  }
  const sent = ROUNDS * perRun;

  const flushTimes: number[] = [];
  for (let round = 0; round < FLUSH_ROUNDS; round++) {
    await receiver.clear();
    const result = run(1);
    const stats = await receiver.stats();
    if (stats.spans !== spansPerCall(INDEX)) {
      throw new Error(`flush round lost spans: ${stats.spans}`);
    }
    // Dispose returns once the receiver has confirmed the last span (and the export threads
    // are joined): its duration bounds the time from dispose to the last span received.
    flushTimes.push(result.disposeMs);
  }

  const bestJs = Math.min(...js.map((round) => round.seconds));
  const bestRust = Math.min(...rust.map((round) => round.seconds));
  const spansPerS = perRun / bestJs;
  const rustSpansPerS = perRun / bestRust;
  console.log(
    `${runtimeName} ${protocol}: ${perRun} spans per round; JS rounds ` +
      js.map((round) => `${(round.seconds * 1000).toFixed(0)} ms`).join(", ") +
      `; Rust rounds ` + rust.map((round) => `${(round.seconds * 1000).toFixed(0)} ms`).join(", ") +
      `; backlog drained after dispose in ` +
      js.map((round) => `${round.drainMs.toFixed(0)} ms`).join(", ") + ` (JS), ` +
      rust.map((round) => `${round.dispose_ms.toFixed(0)} ms`).join(", ") + ` (Rust); ` +
      `dropped ${js.reduce((sum, round) => sum + round.dropped, 0)} (JS), ` +
      `${rust.reduce((sum, round) => sum + round.dropped, 0)} (Rust); one-call flush ` +
      `${Math.min(...flushTimes).toFixed(1)}–${Math.max(...flushTimes).toFixed(1)} ms`,
  );
  const cpuPerSpan = Math.min(...js.map((round) => round.cpuUs)) / perRun;
  const plainCpuPerSpan = tls ? Math.min(...plain.map((round) => round.cpuUs)) / perRun : 0;
  if (tls) {
    console.log(
      `CPU per exported span: TLS ${cpuPerSpan.toFixed(3)} µs, plain ${
        plainCpuPerSpan.toFixed(3)
      } µs ` +
        `(rounds: TLS ${js.map((round) => (round.cpuUs / perRun).toFixed(3)).join(", ")}; plain ` +
        `${plain.map((round) => (round.cpuUs / perRun).toFixed(3)).join(", ")}); dropped plain ` +
        `${plain.reduce((sum, round) => sum + round.dropped, 0)}`,
    );
  }
  console.log(JSON.stringify({
    bench: "otlp_export",
    runtime: runtimeName,
    protocol,
    tls,
    spans_per_s: Math.round(spansPerS),
    rust_spans_per_s: Math.round(rustSpansPerS),
    ratio_vs_rust: Number((rustSpansPerS / spansPerS).toFixed(3)),
    flush_ms: Number(median(flushTimes).toFixed(1)),
    sent,
    received,
    ...(tls
      ? {
        cpu_us_per_span: Number(cpuPerSpan.toFixed(3)),
        plain_cpu_us_per_span: Number(plainCpuPerSpan.toFixed(3)),
        tls_cpu_ratio: Number((cpuPerSpan / plainCpuPerSpan).toFixed(3)),
      }
      : {}),
  }));
} finally {
  await receiver.stop();
}
