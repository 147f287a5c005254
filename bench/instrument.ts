/**
 * What `tracing.instrument(lib.symbols)` adds per native call.
 *
 *   deno run --allow-ffi --allow-read bench/instrument.ts
 *   bun run bench/instrument.ts
 *
 * Calls `emit_events(0)` (an FFI call that records nothing) plain and through `instrument`: with
 * no JavaScript span current, with one current after an `await` (entered and exited around each
 * call), and with `spans: true` (a span per call; with `args: true`, its argument as a field).
 * The spans are recorded by a JS layer without callbacks, so the figure is the span itself, not
 * a layer's work. Rounds alternate the variants; each figure is the median of its rounds. Prints
 * one JSON summary line last, with the ratios against the plain call of the same run.
 */

type Runtime = typeof import("./runtime_deno.ts");

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
// A computed specifier, so that Deno does not try to load the Bun module and vice versa.
const runtimeModule = isDeno ? "./runtime_deno.ts" : "./runtime_bun.ts";
const { api, libraryPath, runtime, symbols }: Runtime = await import(runtimeModule);

const CALLS = 1_000_000;
const SPAN_CALLS = 200_000;
const ROUNDS = 7;

type Loop = (calls: number) => number;

/**
 * One timing loop per variant, each its own function, so that every call site sees one target
 * (a loop shared by all variants would be megamorphic, and Deno's fast FFI path would be lost).
 */
function timed(body: (calls: number) => void): Loop {
  return (calls) => {
    const started = performance.now();
    body(calls);
    return (performance.now() - started) * 1e6 / calls;
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

const tracing = new api.Tracing(
  new api.GlobalTracingConfig({ filter: "info", layers: [new api.JsLayerConfig({})] }),
  { library: libraryPath },
).enter();

const plain = symbols.emit_events;
const entering = tracing.instrument(symbols).emit_events;
const spans = tracing.instrument(symbols, { spans: true }).emit_events;
const spansArgs = tracing.instrument(symbols, { spans: true, args: true }).emit_events;

type Variant = "plain" | "instrumented_no_span" | "instrumented" | "span" | "span_args";
const variants: Record<Variant, { loop: Loop; calls: number; inSpan: boolean }> = {
  plain: {
    loop: timed((calls) => {
      for (let index = 0; index < calls; index++) plain(0);
    }),
    calls: CALLS,
    inSpan: false,
  },
  instrumented_no_span: {
    loop: timed((calls) => {
      for (let index = 0; index < calls; index++) entering(0);
    }),
    calls: CALLS,
    inSpan: false,
  },
  instrumented: {
    loop: timed((calls) => {
      for (let index = 0; index < calls; index++) entering(0);
    }),
    calls: CALLS,
    inSpan: true,
  },
  span: {
    loop: timed((calls) => {
      for (let index = 0; index < calls; index++) spans(0);
    }),
    calls: SPAN_CALLS,
    inSpan: true,
  },
  span_args: {
    loop: timed((calls) => {
      for (let index = 0; index < calls; index++) spansArgs(0);
    }),
    calls: SPAN_CALLS,
    inSpan: true,
  },
};

/** ns per call of `loop`, inside a JavaScript span after an `await` (where instrument matters). */
async function inSpanAfterAwait(loop: Loop, calls: number): Promise<number> {
  return await tracing.span("bench", async () => {
    await Promise.resolve();
    return loop(calls);
  });
}

const results = {} as Record<Variant, number[]>;
for (const [name, { loop, inSpan }] of Object.entries(variants)) {
  results[name as Variant] = [];
  if (inSpan) await inSpanAfterAwait(loop, 20_000); // warm up
  else loop(20_000);
}
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, { loop, calls, inSpan }] of Object.entries(variants)) {
    results[name as Variant].push(inSpan ? await inSpanAfterAwait(loop, calls) : loop(calls));
  }
}
tracing.dispose();

const figures = {} as Record<Variant, number>;
for (const name of Object.keys(variants) as Variant[]) figures[name] = median(results[name]);
const round = (value: number) => Math.round(value * 10) / 10;
for (const [name, ns] of Object.entries(figures)) {
  console.log(`${runtime}: ${name.padEnd(22)} ${ns.toFixed(1).padStart(8)} ns/call`);
}
console.log(JSON.stringify({
  bench: "instrument",
  runtime,
  ns_per_call_plain: round(figures.plain),
  ns_per_call_instrumented_no_span: round(figures.instrumented_no_span),
  ns_per_call_instrumented: round(figures.instrumented),
  ns_per_call_span: round(figures.span),
  ns_per_call_span_args: round(figures.span_args),
  ratio_instrumented_no_span: round(figures.instrumented_no_span / figures.plain),
  ratio_instrumented: round(figures.instrumented / figures.plain),
  ratio_span: round(figures.span / figures.plain),
  ratio_span_args: round(figures.span_args / figures.plain),
}));
