/**
 * Spans lost to a receiver outage: the example library makes spans at a steady rate for
 * RUN_MS while the receiver (tests/otlp-receiver) answers every export with 503 for
 * OUTAGE_MS in the middle (what a load balancer in front of a restarting collector answers),
 * with the `otlp` layer's defaults (`timeoutMs` 10 000, `batch.maxQueueSize` 2048: the 3 150
 * spans made during the outage do not fit), and again with a queue that holds them
 * (`maxQueueSize` 16 384: what retries alone deliver), then dispose. Each protocol also runs
 * once without the outage, in the same run, as the baseline.
 *
 *   deno run -A bench/otlp_outage.ts
 *   bun bench/otlp_outage.ts
 *
 * Last line:
 * {"bench":"otlp_outage","runtime":…,"outage_ms":7000,"protocols":{"http/protobuf":{"sent":…,
 *  "received":…,"dropped":…,"lost_pct":…,"large_queue_lost_pct":…,"baseline_lost_pct":…},…}}
 */

import { type Protocol, Receiver } from "../tests/shared/receiver.ts";
import { libraryPath, loadFibonacci, runtimeName, spansPerCall } from "./fibonacci.ts";

const RUN_MS = 10_000;
const OUTAGE_START_MS = 1_500;
const OUTAGE_MS = 7_000;
const CALL_EVERY_MS = 20;
const INDEX = 4; // 9 spans per call: 450 spans/s

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const { api, fibonacci } = await loadFibonacci();

async function run(
  protocol: Protocol,
  outage: boolean,
  maxQueueSize?: number,
): Promise<{ sent: number; received: number; dropped: number }> {
  const receiver = await Receiver.start(protocol);
  try {
    const tracing = new api.Tracing(
      new api.GlobalTracingConfig({
        layers: [
          new api.OtlpLayerConfig({
            endpoint: receiver.endpoint("front"),
            protocol,
            batch: { scheduledDelayMs: 500, ...(maxQueueSize ? { maxQueueSize } : {}) },
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
  const largeQueue = await run(protocol, true, 16_384);
  const lostPct = (run: { sent: number; received: number }) =>
    Number((100 * (run.sent - Math.min(run.received, run.sent)) / run.sent).toFixed(2));
  protocols[protocol] = {
    sent: result.sent,
    received: result.received,
    dropped: result.dropped,
    lost_pct: lostPct(result),
    large_queue_lost_pct: lostPct(largeQueue),
    baseline_lost_pct: lostPct(baseline),
  };
  console.log(
    `${runtimeName} ${protocol}: ${OUTAGE_MS} ms of 503 in ${RUN_MS} ms: sent ${result.sent}, ` +
      `received ${result.received}, dropped ${result.dropped}; with maxQueueSize 16384: sent ` +
      `${largeQueue.sent}, received ${largeQueue.received}, dropped ${largeQueue.dropped}; ` +
      `without the outage: sent ` +
      `${baseline.sent}, received ${baseline.received}`,
  );
}
console.log(JSON.stringify({
  bench: "otlp_outage",
  runtime: runtimeName,
  outage_ms: OUTAGE_MS,
  protocols,
}));
