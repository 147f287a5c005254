/**
 * The logs run of `bench/otlp_export.ts` (`--logs [http/protobuf|grpc]`, default
 * `http/protobuf`): events/s that the example library exports as OTLP log records
 * (`emit_events`: INFO events with one integer field, outside any
 * span; the layer with `signals: {traces: "none", logs: "otlp"}`), against the same events in a
 * pure-Rust binary using the OpenTelemetry SDK's logs pipeline (`opentelemetry-appender-tracing`
 * → `BatchLogProcessor` → `opentelemetry-otlp`, over tonic for gRPC and its blocking reqwest
 * client for HTTP; `bench/otlp-logs-baseline`, a
 * workspace of its own, built here on first run) with the same batch settings and receiver. Each
 * side runs with its defaults: the library's records carry the code location (`code.*`) besides
 * the body, the `index` field, the level and the target; the appender's do not (its
 * `experimental_metadata_attributes` would add them).
 *
 * Each side is timed from the first event until every record is exported (dispose returned;
 * the provider's shutdown returned), and by its process CPU time (user + system, every thread)
 * over that interval: on a shared machine the CPU per event varies less than the wall time.
 * ROUNDS rounds alternate the sides (and which goes first), each on an emptied receiver; each
 * side's best round counts. Every round checks that the receiver got every record.
 *
 * Last line:
 * {"bench":"otlp_export","signal":"logs","runtime":…,"protocol":…,"events_per_s":…,
 *  "rust_events_per_s":…,"ratio_vs_rust":…,"cpu_us_per_event":…,"rust_cpu_us_per_event":…,
 *  "cpu_ratio_vs_rust":…,"sent":…,"received":…,"rust_sent":…,"rust_received":…}
 */

import { spawnSync } from "node:child_process";
import process from "node:process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { OtlpLayerOptions } from "../bindings/otlp.ts";
import { type Protocol, Receiver } from "../tests/shared/receiver.ts";
import { libraryPath, loadFibonacci, runtimeName } from "./fibonacci.ts";

const CALLS = 200;
const EVENTS_PER_CALL = 500; // 100 000 events per round
const WARMUP_CALLS = 20;
const ROUNDS = 5;
const MAX_QUEUE_SIZE = 262_144;
const MAX_EXPORT_BATCH_SIZE = 2_048;

const root = fileURLToPath(new URL("..", import.meta.url));
const baseline = fileURLToPath(new URL("../target/release/otlp-logs-baseline", import.meta.url));

/**
 * Builds the baseline (its own workspace: CI never builds it); the first run compiles it, later
 * ones find it up to date.
 */
function buildBaseline(): void {
  if (!existsSync(baseline)) console.log("building bench/otlp-logs-baseline (first run) …");
  const build = spawnSync("cargo", [
    "build",
    "--release",
    "--quiet",
    "--manifest-path",
    "bench/otlp-logs-baseline/Cargo.toml",
    "--target-dir",
    "target",
  ], { cwd: root, stdio: "inherit" });
  if (build.status !== 0) throw new Error("cannot build bench/otlp-logs-baseline");
}

export async function runLogsBench(protocol: Protocol): Promise<void> {
  if (protocol !== "grpc" && protocol !== "http/protobuf") {
    throw new Error(`the logs run compares grpc or http/protobuf, not ${protocol}`);
  }
  buildBaseline();
  const { api, emitEvents } = await loadFibonacci();
  const receiver = await Receiver.start(protocol);
  const endpoint = receiver.endpoint("direct");
  const options: OtlpLayerOptions = {
    endpoint,
    protocol,
    signals: { traces: "none", logs: "otlp" },
    logsBatch: { maxQueueSize: MAX_QUEUE_SIZE, maxExportBatchSize: MAX_EXPORT_BATCH_SIZE },
    flushTimeoutMs: 30_000,
    filter: "info",
  };
  const run = (calls: number) => {
    const tracing = new api.Tracing(
      new api.GlobalTracingConfig({ layers: [new api.OtlpLayerConfig(options)] }),
      { library: libraryPath },
    ).enter();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    for (let call = 0; call < calls; call++) emitEvents(EVENTS_PER_CALL);
    tracing.dispose();
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return { seconds, cpuUs: cpu.user + cpu.system, dropped: tracing.droppedSpans };
  };
  const runRust = () => {
    const rust = spawnSync(baseline, [
      protocol,
      protocol === "grpc" ? endpoint : `${endpoint}/v1/logs`,
      String(CALLS),
      String(EVENTS_PER_CALL),
      String(WARMUP_CALLS),
      String(MAX_QUEUE_SIZE),
      String(MAX_EXPORT_BATCH_SIZE),
    ], { encoding: "utf8" });
    if (rust.status !== 0) throw new Error(`otlp-logs-baseline failed: ${rust.stderr}`);
    const result = JSON.parse(rust.stdout.trim().split("\n").at(-1)!);
    return { seconds: result.seconds as number, cpuUs: result.cpu_us as number };
  };
  try {
    run(WARMUP_CALLS);
    const perRound = CALLS * EVENTS_PER_CALL;
    const js: { seconds: number; cpuUs: number; dropped: number }[] = [];
    const rust: { seconds: number; cpuUs: number }[] = [];
    let received = 0;
    let rustReceived = 0;
    const rustRound = async () => {
      await receiver.clear();
      rust.push(runRust());
      const { logs } = await receiver.stats();
      rustReceived += logs;
      if (logs !== (CALLS + WARMUP_CALLS) * EVENTS_PER_CALL) {
        throw new Error(`the Rust baseline lost records: ${logs}`);
      }
    };
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 1) await rustRound();
      await receiver.clear();
      js.push(run(CALLS));
      const { logs } = await receiver.stats();
      received += logs;
      if (round % 2 === 0) await rustRound();
    }
    const best = Math.min(...js.map((round) => round.seconds));
    const bestRust = Math.min(...rust.map((round) => round.seconds));
    const cpuPerEvent = Math.min(...js.map((round) => round.cpuUs)) / perRound;
    const rustCpuPerEvent = Math.min(...rust.map((round) => round.cpuUs)) / perRound;
    const eventsPerS = perRound / best;
    const rustEventsPerS = perRound / bestRust;
    console.log(
      `${runtimeName} ${protocol} logs: ${perRound} events per round; JS rounds ` +
        js.map((round) => `${(round.seconds * 1000).toFixed(0)} ms`).join(", ") +
        `; Rust rounds ` +
        rust.map((round) => `${(round.seconds * 1000).toFixed(0)} ms`).join(", ") +
        `; CPU per event (µs) JS ` +
        js.map((round) => (round.cpuUs / perRound).toFixed(2)).join(", ") + `; Rust ` +
        rust.map((round) => (round.cpuUs / perRound).toFixed(2)).join(", ") +
        `; dropped ${js.reduce((sum, round) => sum + round.dropped, 0)} (JS)`,
    );
    console.log(JSON.stringify({
      bench: "otlp_export",
      signal: "logs",
      runtime: runtimeName,
      protocol,
      events_per_s: Math.round(eventsPerS),
      rust_events_per_s: Math.round(rustEventsPerS),
      ratio_vs_rust: Number((rustEventsPerS / eventsPerS).toFixed(3)),
      cpu_us_per_event: Number(cpuPerEvent.toFixed(3)),
      rust_cpu_us_per_event: Number(rustCpuPerEvent.toFixed(3)),
      cpu_ratio_vs_rust: Number((cpuPerEvent / rustCpuPerEvent).toFixed(3)),
      sent: ROUNDS * perRound,
      received,
      rust_sent: ROUNDS * (CALLS + WARMUP_CALLS) * EVENTS_PER_CALL,
      rust_received: rustReceived,
    }));
  } finally {
    await receiver.stop();
  }
}
