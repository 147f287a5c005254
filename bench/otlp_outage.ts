/**
 * Spans lost to a receiver outage: the example library makes spans at a steady rate for
 * RUN_MS while the receiver (tests/otlp-receiver) answers every export with 503 for
 * OUTAGE_MS in the middle (what a load balancer in front of a restarting collector answers),
 * with the `otlp` layer's defaults (`timeoutMs` 10 000, `batch.maxQueueSize` 2048), then
 * dispose. Each protocol also runs once without the outage, in the same run, as the baseline.
 *
 *   deno run -A bench/otlp_outage.ts
 *   bun bench/otlp_outage.ts
 *
 * Last line:
 * {"bench":"otlp_outage","runtime":…,"outage_ms":7000,"protocols":{"http/protobuf":{"sent":…,
 *  "received":…,"dropped":…,"lost_pct":…,"baseline_lost_pct":…},…}}
 */

import { fileURLToPath } from "node:url";
import { type Protocol, Receiver } from "../tests/shared/receiver.ts";
import type { Api } from "../tests/shared/harness.ts";

const RUN_MS = 10_000;
const OUTAGE_START_MS = 1_500;
const OUTAGE_MS = 7_000;
const CALL_EVERY_MS = 20;
const INDEX = 4; // 9 spans per call: 450 spans/s

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const runtimeName = isDeno ? "deno" : "bun";
const libraryPath = fileURLToPath(new URL("../target/release/libfibonacci.so", import.meta.url));

async function load(): Promise<{ api: Api; fibonacci: (index: number) => unknown }> {
  if (isDeno) {
    const api = await import("../deno/mod.ts");
    const library = Deno.dlopen(libraryPath, {
      fibonacci: { parameters: ["u32", "bool"], result: "u64" },
    });
    return { api, fibonacci: (index) => library.symbols.fibonacci(index, false) };
  }
  const bunFfi = "bun:ffi";
  const { dlopen, FFIType } = await import(bunFfi);
  const api = await import("../bun/mod.ts" as string) as Api;
  const library = dlopen(libraryPath, {
    fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
  });
  return { api, fibonacci: (index) => library.symbols.fibonacci(index, false) };
}

function spansPerCall(index: number): number {
  return index < 2 ? 1 : 1 + spansPerCall(index - 1) + spansPerCall(index - 2);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const { api, fibonacci } = await load();

async function run(
  protocol: Protocol,
  outage: boolean,
): Promise<{ sent: number; received: number; dropped: number }> {
  const receiver = await Receiver.start(protocol);
  try {
    const tracing = new api.Tracing(
      new api.GlobalTracingConfig({
        layers: [
          new api.OtlpLayerConfig({
            endpoint: receiver.endpoint("front"),
            protocol,
            batch: { scheduledDelayMs: 500 },
            flushTimeoutMs: 15_000,
            filter: "info",
          }),
        ],
      }),
      { library: libraryPath },
    ).enter();
    const started = performance.now();
    let calls = 0;
    let outageState: "before" | "during" | "after" = "before";
    while (performance.now() - started < RUN_MS) {
      const elapsed = performance.now() - started;
      if (outage && outageState === "before" && elapsed >= OUTAGE_START_MS) {
        await receiver.fault("error");
        outageState = "during";
      } else if (outageState === "during" && elapsed >= OUTAGE_START_MS + OUTAGE_MS) {
        await receiver.fault("ok");
        outageState = "after";
      }
      fibonacci(INDEX);
      calls++;
      await sleep(CALL_EVERY_MS);
    }
    if (outageState === "during") await receiver.fault("ok");
    tracing.dispose();
    const stats = await receiver.stats();
    return {
      sent: calls * spansPerCall(INDEX),
      received: stats.spans,
      dropped: tracing.droppedSpans,
    };
  } finally {
    await receiver.stop();
  }
}

const protocols: Record<string, Record<string, number>> = {};
for (const protocol of ["http/protobuf", "grpc", "http/json"] as Protocol[]) {
  const baseline = await run(protocol, false);
  const result = await run(protocol, true);
  const lostPct = (run: { sent: number; received: number }) =>
    Number((100 * (run.sent - Math.min(run.received, run.sent)) / run.sent).toFixed(2));
  protocols[protocol] = {
    sent: result.sent,
    received: result.received,
    dropped: result.dropped,
    lost_pct: lostPct(result),
    baseline_lost_pct: lostPct(baseline),
  };
  console.log(
    `${runtimeName} ${protocol}: ${OUTAGE_MS} ms of 503 in ${RUN_MS} ms: sent ${result.sent}, ` +
      `received ${result.received}, dropped ${result.dropped}; without the outage: sent ` +
      `${baseline.sent}, received ${baseline.received}`,
  );
}
console.log(JSON.stringify({
  bench: "otlp_outage",
  runtime: runtimeName,
  outage_ms: OUTAGE_MS,
  protocols,
}));
