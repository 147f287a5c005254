/**
 * How fast records reach a JavaScript layer.
 *
 *   deno run --allow-ffi --allow-read bench/js_layer.ts
 *   bun run bench/js_layer.ts
 *
 * Measures, in one process: records/s into a trivial JS layer (counts events) for events made
 * on the JS thread and for events made by 2 Rust worker threads, and, as the floor, the cost of
 * a bare same-thread FFI callback carrying (ptr, len). Prints one JSON summary line last.
 */

type Runtime = typeof import("./runtime_deno.ts");

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
// A computed specifier, so that Deno does not try to load the Bun module and vice versa.
const runtimeModule = isDeno ? "./runtime_deno.ts" : "./runtime_bun.ts";
const { api, example, libraryPath, runtime }: Runtime = await import(runtimeModule);

const SAME_THREAD_EVENTS = 1_000_000;
const WORKER_THREADS = 2;
const WORKER_EVENTS_PER_THREAD = 500_000;
const BARE_CALLS = 2_000_000;
const ROUNDS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timeMs(body: () => void): number {
  const started = performance.now();
  body();
  return performance.now() - started;
}

function bareCallbackNs(): number {
  let received = 0;
  example.callBack(10_000, (_pointer, length) => void (received += length)); // warm up
  const rounds = Array.from(
    { length: ROUNDS },
    () =>
      timeMs(() => example.callBack(BARE_CALLS, (_pointer, length) => void (received += length))) *
      1e6 / BARE_CALLS,
  );
  if (received === 0) throw new Error("the bare callback never ran");
  return median(rounds);
}

let counted = 0;
const countingLayer = { onEvent: () => void counted++ };

function startTracing() {
  return new api.Tracing(
    new api.GlobalTracingConfig({
      layers: [new api.JsLayerConfig(countingLayer, { filter: "info" })],
    }),
    { library: libraryPath },
  ).enter();
}

function sameThreadRecordsPerSecond(tracing: { droppedRecords: number }): number {
  example.emitEvents(10_000); // warm up
  const rates = Array.from({ length: ROUNDS }, () => {
    counted = 0;
    const ms = timeMs(() => example.emitEvents(SAME_THREAD_EVENTS));
    if (counted !== SAME_THREAD_EVENTS) {
      throw new Error(
        `delivered ${counted} of ${SAME_THREAD_EVENTS} (dropped ${tracing.droppedRecords})`,
      );
    }
    return SAME_THREAD_EVENTS / (ms / 1000);
  });
  return median(rates);
}

function workerRecordsPerSecond(tracing: { flush(): void }): number {
  const total = WORKER_THREADS * WORKER_EVENTS_PER_THREAD;
  const rates = Array.from({ length: ROUNDS }, () => {
    counted = 0;
    const ms = timeMs(() => {
      const handle = example.startEmitters(WORKER_THREADS, WORKER_EVENTS_PER_THREAD);
      // The JS thread drains while the workers record, as an application's event loop would.
      while (counted < total) tracing.flush();
      example.joinWorkers(handle);
    });
    return total / (ms / 1000);
  });
  return median(rates);
}

const bare = bareCallbackNs();
const tracing = startTracing();
const sameThread = sameThreadRecordsPerSecond(tracing);
const workers = workerRecordsPerSecond(tracing);
const dropped = tracing.droppedRecords;
tracing.dispose();

const nsPerRecord = 1e9 / sameThread;
console.log(`bare same-thread callback (ptr, len): ${bare.toFixed(1)} ns`);
console.log(
  `JS thread: ${Math.round(sameThread)} records/s (${nsPerRecord.toFixed(1)} ns/record, ` +
    `${(nsPerRecord / bare).toFixed(2)}x the bare callback)`,
);
console.log(`${WORKER_THREADS} Rust worker threads: ${Math.round(workers)} records/s`);
console.log(JSON.stringify({
  bench: "js_layer",
  runtime,
  same_thread_records_per_s: Math.round(sameThread),
  worker_records_per_s: Math.round(workers),
  ns_per_record: Number(nsPerRecord.toFixed(1)),
  bare_callback_ns: Number(bare.toFixed(1)),
  ratio_to_bare: Number((nsPerRecord / bare).toFixed(2)),
  dropped,
}));
