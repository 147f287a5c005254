/**
 * JS-created spans exported over OTLP: spans/s for `tracing.startSpan(name, { fields }).end()`
 * (2 fields) exported by the shim's `otlp` layer (HTTP/protobuf) to a local receiver
 * (`target/release/otlp-receiver`), against the OpenTelemetry JS SDK
 * (`@opentelemetry/sdk-trace-base` with a batch processor and
 * `@opentelemetry/exporter-trace-otlp-proto`) doing the same in the same runtime and run. Both
 * are counted at the receiver.
 *
 *   deno run -A bench/js_spans.ts [--all-attributes]
 *   bun bench/js_spans.ts [--all-attributes]
 *
 * The shim's spans carry what the SDK's carry, the 2 fields: `spanAttributes` turns off the
 * level, target, thread, code location and busy/idle attributes that the `otlp` layer adds by
 * default; `--all-attributes` keeps them. Each round also runs the shim with `level` and `target`
 * kept (the summary line and `cpu_ratio_with_level_target`).
 *
 * Each round makes SPANS spans and is timed from the first span until everything is confirmed
 * by the receiver (dispose for the shim; `forceFlush` + `shutdown` for the SDK). The SDK flushes
 * every BATCH spans (awaiting it), as its queue would otherwise overflow and drop spans: a
 * synchronous loop never lets its timer run. ROUNDS rounds alternate; each side's best round
 * counts (the machine is shared).
 *
 * In Deno, also Deno's built-in OpenTelemetry (`OTEL_DENO=true`, in a child process running
 * `bench/js_spans_deno_otel.ts`, which exports at exit): timed from spawning the child until the
 * receiver has every span, minus the time of a child that makes no span (startup and exit).
 * Printed on the summary line, not in the JSON.
 *
 * Each round also measures the process CPU time (user + system, every thread of this process;
 * the receiver runs in its own) per exported span, as the OpenTelemetry performance-benchmark
 * specification measures an SDK; the best round of each side counts.
 *
 * Last line:
 * {"bench":"js_spans","runtime":…,"spans_per_s":…,"otel_js_spans_per_s":…,
 *  "ratio_vs_otel_js":…,"cpu_us_per_span":…,"otel_js_cpu_us_per_span":…,
 *  "cpu_ratio_vs_otel_js":…,"cpu_ratio_with_level_target":…,"received":…,"sent":…}
 * (`received` and `sent` count the shim's spans of both kinds of round).
 */

import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Receiver } from "../tests/shared/receiver.ts";
import type { Api } from "../tests/shared/harness.ts";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";

const SPANS = 100_000;
const BATCH = 2_048;
const ROUNDS = 3;
/** `--all-attributes`: keep the default thread and busy/idle attributes on the shim's spans. */
const ALL_ATTRIBUTES = process.argv.includes("--all-attributes");
const SPAN_ATTRIBUTES = ALL_ATTRIBUTES
  ? {}
  : { thread: false, busyIdle: false, location: false, level: false, target: false };
/** The attributes of the shim's spans before `level` and `target` could be turned off. */
const WITH_LEVEL_TARGET = ALL_ATTRIBUTES ? {} : { thread: false, busyIdle: false, location: false };

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const runtimeName = isDeno ? "deno" : "bun";
const libraryPath = fileURLToPath(new URL("../target/release/libfibonacci.so", import.meta.url));

async function loadApi(): Promise<Api> {
  if (isDeno) return await import("../deno/mod.ts");
  return await import("../bun/mod.ts" as string) as Api;
}

const api = await loadApi();
const receiver = await Receiver.start("http/protobuf");

async function countReceived(): Promise<number> {
  return (await receiver.stats()).spans;
}

/** Process CPU time (user + system, every thread) in microseconds since `since`. */
function cpuMicros(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

/** The shim: spans made in JS, exported by the native OTLP layer. */
function runShim(
  spans: number,
  spanAttributes: Record<string, boolean> = SPAN_ATTRIBUTES,
): { seconds: number; cpuMicros: number; dropped: number } {
  const cpu = process.cpuUsage();
  const tracing = new api.Tracing(
    new api.GlobalTracingConfig({
      layers: [
        new api.OtlpLayerConfig({
          endpoint: receiver.endpoint("direct"),
          protocol: "http/protobuf",
          batch: { maxQueueSize: 262_144, maxExportBatchSize: BATCH },
          flushTimeoutMs: 30_000,
          filter: "info",
          // The SDK's spans carry their 2 attributes only; so do ours (no level, target,
          // thread, code location or busy/idle attributes).
          spanAttributes,
        }),
      ],
    }),
    { library: libraryPath },
  ).enter();
  const started = performance.now();
  for (let index = 0; index < spans; index++) {
    tracing.startSpan("request", { fields: { route: "/users", index } }).end();
  }
  tracing.dispose();
  return {
    seconds: (performance.now() - started) / 1000,
    cpuMicros: cpuMicros(cpu),
    dropped: tracing.droppedSpans,
  };
}

/** The OpenTelemetry JS SDK doing the same. */
async function runOtelJs(spans: number): Promise<{ seconds: number; cpuMicros: number }> {
  const cpu = process.cpuUsage();
  const exporter = new OTLPTraceExporter({ url: `${receiver.endpoint("direct")}/v1/traces` });
  const processor = new BatchSpanProcessor(exporter, {
    maxQueueSize: BATCH * 2,
    maxExportBatchSize: BATCH,
    scheduledDelayMillis: 600_000,
  });
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  const tracer = provider.getTracer("bench");
  const started = performance.now();
  for (let index = 0; index < spans; index++) {
    const span = tracer.startSpan("request");
    span.setAttribute("route", "/users");
    span.setAttribute("index", index);
    span.end();
    if ((index + 1) % BATCH === 0) await processor.forceFlush();
  }
  await processor.forceFlush();
  await provider.shutdown();
  return { seconds: (performance.now() - started) / 1000, cpuMicros: cpuMicros(cpu) };
}

/** Seconds from spawning the built-in-OpenTelemetry child until the receiver has `spans`. */
async function runDenoBuiltin(spans: number): Promise<{ seconds: number; received: number }> {
  await receiver.clear();
  const script = fileURLToPath(new URL("./js_spans_deno_otel.ts", import.meta.url));
  const started = performance.now();
  const child = spawn(Deno.execPath(), ["run", "-A", script, String(spans)], {
    env: {
      ...Deno.env.toObject(),
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint("direct"),
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      // As large as the shim's queue, so that the synchronous loop need not drop spans.
      OTEL_BSP_MAX_QUEUE_SIZE: "262144",
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: String(BATCH),
    },
    stdio: "ignore",
  });
  await new Promise((resolve) => child.once("exit", resolve));
  // Done when every span arrived, or when nothing more arrived for a second (spans were lost).
  let received = await countReceived();
  let lastChange = performance.now();
  let finished = performance.now();
  while (received < spans && performance.now() - lastChange < 1000) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    const now = await countReceived();
    if (now !== received) lastChange = finished = performance.now();
    received = now;
  }
  if (received >= spans) finished = performance.now();
  return { seconds: (finished - started) / 1000, received };
}

try {
  // Warm-up for both (JIT, connections, callsite interning).
  runShim(5_000);
  await runOtelJs(5_000);
  const shimSeconds: number[] = [];
  const otelSeconds: number[] = [];
  const shimCpu: number[] = [];
  const otelCpu: number[] = [];
  const levelTargetCpu: number[] = [];
  let received = 0;
  let otelReceived = 0;
  let dropped = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await receiver.clear();
    const shim = runShim(SPANS);
    shimSeconds.push(shim.seconds);
    shimCpu.push(shim.cpuMicros / SPANS);
    dropped += shim.dropped;
    received += await countReceived();
    await receiver.clear();
    const withLevelTarget = runShim(SPANS, WITH_LEVEL_TARGET);
    levelTargetCpu.push(withLevelTarget.cpuMicros / SPANS);
    dropped += withLevelTarget.dropped;
    received += await countReceived();
    await receiver.clear();
    const otel = await runOtelJs(SPANS);
    otelSeconds.push(otel.seconds);
    otelCpu.push(otel.cpuMicros / SPANS);
    otelReceived += await countReceived();
  }
  const sent = 2 * ROUNDS * SPANS; // the shim's: both kinds of round
  const spansPerS = SPANS / Math.min(...shimSeconds);
  const otelSpansPerS = SPANS / Math.min(...otelSeconds);
  const cpuPerSpan = Math.min(...shimCpu);
  const otelCpuPerSpan = Math.min(...otelCpu);
  const levelTargetCpuPerSpan = Math.min(...levelTargetCpu);
  let builtin = "";
  if (isDeno) {
    const baseline = Math.min(
      ...(await Promise.all([runDenoBuiltin(0), runDenoBuiltin(0)])).map((run) => run.seconds),
    );
    const runs = [];
    for (let round = 0; round < ROUNDS; round++) runs.push(await runDenoBuiltin(SPANS));
    const best = Math.min(...runs.map((run) => run.seconds)) - baseline;
    builtin = `; Deno built-in OpenTelemetry ${Math.round(SPANS / best)} spans/s ` +
      `(received ${runs.map((run) => run.received).join(", ")} of ${SPANS} per round, ` +
      `startup + exit ${(baseline * 1000).toFixed(0)} ms subtracted)`;
  }
  const ms = (seconds: number[]) => seconds.map((s) => `${(s * 1000).toFixed(0)} ms`).join(", ");
  console.log(
    `${runtimeName}: ${SPANS} spans per round; shim rounds ${ms(shimSeconds)} ` +
      `(received ${received}/${sent}, dropped ${dropped}); OpenTelemetry JS SDK rounds ` +
      `${ms(otelSeconds)} (received ${otelReceived}/${
        ROUNDS * SPANS
      })${builtin}; process CPU per ` +
      `span: ` +
      `shim ${cpuPerSpan.toFixed(2)} µs (${levelTargetCpuPerSpan.toFixed(2)} µs with level and ` +
      `target), SDK ${otelCpuPerSpan.toFixed(2)} µs`,
  );
  console.log(JSON.stringify({
    bench: "js_spans",
    runtime: runtimeName,
    spans_per_s: Math.round(spansPerS),
    otel_js_spans_per_s: Math.round(otelSpansPerS),
    ratio_vs_otel_js: Number((spansPerS / otelSpansPerS).toFixed(2)),
    cpu_us_per_span: Number(cpuPerSpan.toFixed(2)),
    otel_js_cpu_us_per_span: Number(otelCpuPerSpan.toFixed(2)),
    cpu_ratio_vs_otel_js: Number((otelCpuPerSpan / cpuPerSpan).toFixed(2)),
    cpu_ratio_with_level_target: Number((otelCpuPerSpan / levelTargetCpuPerSpan).toFixed(2)),
    received,
    sent,
  }));
} finally {
  await receiver.stop();
}
