/**
 * How fast records reach a JavaScript layer.
 *
 *   deno run --allow-ffi --allow-read bench/js_layer.ts
 *   bun run bench/js_layer.ts
 *
 * Measures, in one process: records/s into a trivial JS layer (counts events) for events made
 * on the JS thread and for events made by 2 Rust worker threads; spans/s (new + close, one
 * integer field, into a layer with `onNewSpan` and `onClose`) made on the JS thread; and, as the
 * floor, the cost of a bare same-thread FFI callback carrying (ptr, len). Prints one JSON
 * summary line last; `span_cost_in_events` is what one span costs in events (target ≤ 2).
 */

type Runtime = typeof import("./runtime_deno.ts");

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
// A computed specifier, so that Deno does not try to load the Bun module and vice versa.
const runtimeModule = isDeno ? "./runtime_deno.ts" : "./runtime_bun.ts";
const { api, example, libraryPath, runtime }: Runtime = await import(runtimeModule);

const SAME_THREAD_EVENTS = 1_000_000;
const SAME_THREAD_SPANS = 500_000;
const WORKER_THREADS = 2;
const WORKER_EVENTS_PER_THREAD = 500_000;
const BARE_CALLS = 2_000_000;
const ROUNDS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function timeMs(body: () => void): number {
  const started = performance.now();
  body();
  return performance.now() - started;
}

let received = 0;
const bareCallback = (_pointer: unknown, length: number) => void (received += length);

function bareCallbackNs(): number {
  return timeMs(() => example.callBack(BARE_CALLS, bareCallback)) * 1e6 / BARE_CALLS;
}

let counted = 0;
const countingLayer = { onEvent: () => void counted++ };
let spansOpened = 0;
let spansClosed = 0;
const spanLayer = {
  onNewSpan: () => void spansOpened++,
  onClose: () => void spansClosed++,
};

function startTracing() {
  return new api.Tracing(
    new api.GlobalTracingConfig({
      layers: [new api.JsLayerConfig(countingLayer, { filter: "info" })],
    }),
    { library: libraryPath },
  ).enter();
}

/**
 * Spans/s on the JS thread into a layer that counts creations and closes, in rounds alternating
 * with events into the events layer, so that both see the same machine load.
 */
function spanRounds(): { spans: number; events: number } {
  const spanTracing = () =>
    new api.Tracing(
      new api.GlobalTracingConfig({
        layers: [new api.JsLayerConfig(spanLayer, { filter: "info" })],
      }),
      { library: libraryPath },
    ).enter();
  const spans: number[] = [];
  const events: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const forSpans = spanTracing();
    example.emitSpans(10_000); // warm up
    spansOpened = 0;
    spansClosed = 0;
    const spanMs = timeMs(() => example.emitSpans(SAME_THREAD_SPANS));
    forSpans.dispose();
    if (spansOpened !== SAME_THREAD_SPANS || spansClosed !== SAME_THREAD_SPANS) {
      throw new Error(
        `spans: ${spansOpened} opened, ${spansClosed} closed of ${SAME_THREAD_SPANS}`,
      );
    }
    spans.push(SAME_THREAD_SPANS / (spanMs / 1000));
    const forEvents = startTracing();
    example.emitEvents(10_000);
    counted = 0;
    const eventMs = timeMs(() => example.emitEvents(SAME_THREAD_EVENTS));
    forEvents.dispose();
    if (counted !== SAME_THREAD_EVENTS) throw new Error(`events: ${counted} delivered`);
    events.push(SAME_THREAD_EVENTS / (eventMs / 1000));
  }
  return { spans: median(spans), events: median(events) };
}

/**
 * Rounds alternate the bare callback and the JS layer, so that both see the same machine load;
 * each figure is the median of its rounds.
 */
function sameThreadRounds(tracing: { droppedRecords: number }): { rate: number; bareNs: number } {
  example.callBack(10_000, bareCallback); // warm up
  example.emitEvents(10_000);
  const rates: number[] = [];
  const bare: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bare.push(bareCallbackNs());
    counted = 0;
    const ms = timeMs(() => example.emitEvents(SAME_THREAD_EVENTS));
    if (counted !== SAME_THREAD_EVENTS) {
      throw new Error(
        `delivered ${counted} of ${SAME_THREAD_EVENTS} (dropped ${tracing.droppedRecords})`,
      );
    }
    rates.push(SAME_THREAD_EVENTS / (ms / 1000));
  }
  if (received === 0) throw new Error("the bare callback never ran");
  return { rate: median(rates), bareNs: median(bare) };
}

async function workerRecordsPerSecond(tracing: { droppedRecords: number }): Promise<number> {
  const total = WORKER_THREADS * WORKER_EVENTS_PER_THREAD;
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    counted = 0;
    const droppedBefore = tracing.droppedRecords;
    const started = performance.now();
    const handle = example.startEmitters(WORKER_THREADS, WORKER_EVENTS_PER_THREAD);
    // The event loop stays free, as in an application: the bindings' poll delivers the records.
    // A record dropped (a full queue, reported in `dropped`) is not waited for.
    while (counted + tracing.droppedRecords - droppedBefore < total) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const ms = performance.now() - started;
    example.joinWorkers(handle);
    rates.push(total / (ms / 1000));
  }
  return median(rates);
}

const tracing = startTracing();
const { rate: sameThread, bareNs: bare } = sameThreadRounds(tracing);
const workers = await workerRecordsPerSecond(tracing);
const dropped = tracing.droppedRecords;
tracing.dispose();
const spanRates = spanRounds();

const nsPerRecord = 1e9 / sameThread;
console.log(`bare same-thread callback (ptr, len): ${bare.toFixed(1)} ns`);
console.log(
  `JS thread: ${Math.round(sameThread)} records/s (${nsPerRecord.toFixed(1)} ns/record, ` +
    `${(nsPerRecord / bare).toFixed(2)}x the bare callback)`,
);
console.log(`${WORKER_THREADS} Rust worker threads: ${Math.round(workers)} records/s`);
const spanCost = spanRates.events / spanRates.spans;
console.log(
  `JS thread spans (new + close): ${Math.round(spanRates.spans)} spans/s, one span costs ` +
    `${spanCost.toFixed(2)} events (${Math.round(spanRates.events)} events/s in the same rounds)`,
);
console.log(JSON.stringify({
  bench: "js_layer",
  runtime,
  same_thread_records_per_s: Math.round(sameThread),
  worker_records_per_s: Math.round(workers),
  spans_per_s: Math.round(spanRates.spans),
  span_rounds_records_per_s: Math.round(spanRates.events),
  span_cost_in_events: Number(spanCost.toFixed(2)),
  ns_per_record: Number(nsPerRecord.toFixed(1)),
  bare_callback_ns: Number(bare.toFixed(1)),
  ratio_to_bare: Number((nsPerRecord / bare).toFixed(2)),
  dropped,
}));
