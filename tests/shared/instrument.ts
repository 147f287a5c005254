/**
 * `tracing.instrument(lib.symbols)`: native calls keep their JavaScript parent after `await`, and
 * are spans themselves with `spans: true`. Run identically by `deno test` and `bun test`.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Api, TestFn } from "./harness.ts";
import { at } from "./expect.ts";

/** The example library's symbols as each runtime's `dlopen(...).symbols` has them. */
export interface FibonacciSymbols {
  fibonacci(index: number, useMemoized: boolean): bigint | number;
}

/** What the instrument scenarios need from each runtime. */
export interface InstrumentHarness {
  runtime: "deno" | "bun";
  api: Api;
  fibonacciPath: string;
  /** `dlopen(...).symbols` of the example library, not wrapped. */
  symbols: FibonacciSymbols;
  /** Deno only: `fibonacci` declared `nonblocking: true` (returns a promise). */
  nonblocking?: { fibonacci(index: number, useMemoized: boolean): Promise<bigint | number> };
  tempDir(): string;
}

/** A JS layer that writes one line per new span (with its parent's name), event and close. */
class Recorder {
  names = new Map<number, string>();
  lines: string[] = [];
  onNewSpan(span: { name: string; parent: number | undefined; fields: unknown }, id: number) {
    this.names.set(id, span.name);
    this.lines.push(`new ${span.name} < ${this.#name(span.parent)} ${JSON.stringify(span.fields)}`);
  }
  onEvent(event: { message: string | undefined; parent: number | undefined; fields: unknown }) {
    if (event.message === "computed") return;
    this.lines.push(
      `event ${event.message} < ${this.#name(event.parent)} ${JSON.stringify(event.fields)}`,
    );
  }
  onClose(id: number) {
    this.lines.push(`close ${this.names.get(id)}`);
  }
  #name(id: number | undefined): string {
    return id === undefined ? "root" : this.names.get(id) ?? `?${id}`;
  }
  /** The lines that start with `kind`. */
  only(kind: "new" | "event" | "close"): string[] {
    return this.lines.filter((line) => line.startsWith(`${kind} `));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const FIB1 = `{"index":1,"use_memoized":false}`;
const FIB0 = `{"index":0,"use_memoized":false}`;

interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

function otlpJsonSpans(path: string): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line === "") continue;
    const data = JSON.parse(line) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
    for (const resource of data.resourceSpans) {
      for (const scope of resource.scopeSpans) spans.push(...scope.spans);
    }
  }
  return spans;
}

export function defineInstrumentScenarios(test: TestFn, h: InstrumentHarness): void {
  const { api } = h;
  const withLayers = (...layers: import("../../bindings/public.ts").LayerConfig[]) =>
    new api.Tracing(
      new api.GlobalTracingConfig({ filter: "info", layers }),
      { library: h.fibonacciPath },
    ).enter();

  test("instrument: a native call after await keeps its JS parent, per async context", async () => {
    const layer = new Recorder();
    {
      using tracing = withLayers(new api.JsLayerConfig(layer));
      const lib = tracing.instrument(h.symbols);
      await tracing.span("request", async () => {
        await sleep(1);
        lib.fibonacci(1, false);
        h.symbols.fibonacci(0, false); // not instrumented: a root after the await
      });
      // Two tasks interleaved across awaits: each call nests under its own task's span.
      const task = (name: string, index: number) =>
        tracing.span(name, async () => {
          await sleep(1);
          lib.fibonacci(index, false);
          await sleep(2);
          lib.fibonacci(index, false);
        });
      await Promise.all([task("a", 1), task("b", 0)]);
      lib.fibonacci(0, false); // outside any JS span: a root
    }
    assert.deepEqual(layer.only("new"), [
      "new request < root {}",
      `new fib < request ${FIB1}`,
      `new fib < root ${FIB0}`,
      "new a < root {}",
      "new b < root {}",
      `new fib < a ${FIB1}`,
      `new fib < b ${FIB0}`,
      `new fib < a ${FIB1}`,
      `new fib < b ${FIB0}`,
      `new fib < root ${FIB0}`,
    ]);
  });

  test("instrument spans: each call is a span with the native spans as its children", async () => {
    const layer = new Recorder();
    const file = join(h.tempDir(), "trace.jsonl");
    {
      using tracing = withLayers(
        new api.JsLayerConfig(layer),
        new api.OtlpJsonLayerConfig({ writer: { file } }),
      );
      const lib = tracing.instrument(h.symbols, { spans: true, args: true });
      await tracing.span("request", async () => {
        await sleep(1);
        assert.equal(Number(lib.fibonacci(2, false)), 1);
      });
    }
    assert.deepEqual(layer.lines, [
      "new request < root {}",
      `new fibonacci < request {"arg0":2,"arg1":false}`,
      `new fib < fibonacci {"index":2,"use_memoized":false}`,
      `new fib < fib ${FIB1}`,
      "close fib",
      `new fib < fib ${FIB0}`,
      "close fib",
      "close fib",
      "close fibonacci",
      "close request",
    ]);

    const spans = otlpJsonSpans(file);
    assert.equal(spans.length, 5, spans.map((span) => span.name).join(", "));
    const [request] = spans.filter((span) => span.name === "request");
    const [call] = spans.filter((span) => span.name === "fibonacci");
    assert.ok(request && call, "the JS span and the per-call span were exported");
    assert.equal(call.parentSpanId, request.spanId);
    assert.equal(call.traceId, request.traceId);
    const attribute = (key: string) =>
      call.attributes?.find((each) => each.key === key)?.value ?? {};
    assert.equal(String(attribute("arg0").intValue), "2");
    assert.equal(attribute("arg1").boolValue, false);
    const fibs = spans.filter((span) => span.name === "fib");
    const top = fibs.filter((span) => span.parentSpanId === call.spanId);
    assert.equal(top.length, 1, "fib(2) is the per-call span's child");
    for (const fib of fibs) assert.equal(fib.traceId, request.traceId);
    assert.equal(fibs.filter((span) => span.parentSpanId === at(top, 0).spanId).length, 2);
  });

  test("instrument spans: args records numbers, bigints and booleans only", async () => {
    const layer = new Recorder();
    {
      using tracing = withLayers(new api.JsLayerConfig(layer));
      const fake = { mixed: (..._args: unknown[]) => 7 };
      const lib = tracing.instrument(fake, { spans: true, args: true, target: "app" });
      assert.equal(lib.mixed(3, "text", true, 2n ** 60n, { no: 1 }, 0.5), 7);
      const plain = tracing.instrument(fake, { spans: true });
      plain.mixed(1);
      const nothing = tracing.instrument(fake, { spans: true, args: true });
      nothing.mixed("only", "strings");
      await Promise.resolve();
      assert.throws(
        () => tracing.instrument(fake, { args: true }),
        (error: Error & { code?: string }) =>
          error.code === "INVALID_PARAMETER" && /spans: true/.test(error.message),
      );
    }
    assert.deepEqual(layer.only("new"), [
      // A bigint beyond the safe range arrives as a bigint; JSON.stringify writes it as text.
      `new mixed < root {"arg0":3,"arg2":true,"arg3":"1152921504606846976","arg5":0.5}`,
      "new mixed < root {}",
      "new mixed < root {}",
    ]);
  });

  test("instrument: a symbol that throws, rejects or returns still exits and ends its span", async () => {
    const layer = new Recorder();
    {
      using tracing = withLayers(new api.JsLayerConfig(layer));
      const fake = {
        boom(): number {
          throw new Error("bad input");
        },
        later: () => Promise.resolve(5),
        rejects: (): Promise<number> => Promise.reject(new Error("no luck")),
        fine: () => 1,
      };
      const lib = tracing.instrument(fake, { spans: true });
      const entering = tracing.instrument(fake);
      assert.throws(() => lib.boom(), /bad input/);
      h.symbols.fibonacci(0, false); // the span was exited: this is a root again
      assert.equal(await lib.later(), 5);
      await assert.rejects(lib.rejects(), /no luck/);
      assert.equal(lib.fine(), 1);
      await tracing.span("request", async () => {
        await sleep(1);
        assert.throws(() => entering.boom(), /bad input/);
        h.symbols.fibonacci(0, false); // the JS span was exited after the throw: a root
      });
    }
    assert.deepEqual(layer.lines, [
      "new boom < root {}",
      `event span failed < boom {"error":"Error: bad input"}`,
      "close boom",
      `new fib < root ${FIB0}`,
      "close fib",
      "new later < root {}",
      "close later",
      "new rejects < root {}",
      `event span failed < rejects {"error":"Error: no luck"}`,
      "close rejects",
      "new fine < root {}",
      "close fine",
      "new request < root {}",
      `new fib < root ${FIB0}`,
      "close fib",
      "close request",
    ]);
  });

  test("instrument: properties that are not functions pass through", () => {
    using tracing = withLayers(new api.JsLayerConfig({}));
    const nested = { a: 1 };
    const symbols = { fibonacci: h.symbols.fibonacci, answer: 42, pointer: null, nested };
    const lib = tracing.instrument(symbols, { spans: true });
    assert.deepEqual(Object.keys(lib), Object.keys(symbols));
    assert.equal(lib.answer, 42);
    assert.equal(lib.pointer, null);
    assert.equal(lib.nested, nested);
    assert.notEqual(lib.fibonacci, h.symbols.fibonacci);
    assert.equal(Number(lib.fibonacci(10, true)), 55);
  });

  test("instrument: with nothing installed or the span filtered out, calls just run", () => {
    const lib = (() => {
      using tracing = withLayers(new api.JsLayerConfig({}, { filter: "fibonacci=info" }));
      const wrapped = tracing.instrument(h.symbols, { spans: true, args: true });
      assert.equal(Number(wrapped.fibonacci(5, true)), 5);
      return wrapped;
    })();
    assert.equal(Number(lib.fibonacci(6, true)), 8, "after dispose");
  });

  const nonblocking = h.nonblocking;
  if (nonblocking) {
    test("instrument: nonblocking symbols: the span covers the promise; native spans are roots", async () => {
      const layer = new Recorder();
      {
        using tracing = withLayers(new api.JsLayerConfig(layer));
        const spans = tracing.instrument(nonblocking, { spans: true });
        const entering = tracing.instrument(nonblocking);
        await tracing.span("request", async () => {
          await sleep(1);
          assert.equal(Number(await spans.fibonacci(0, false)), 0);
          assert.equal(Number(await entering.fibonacci(1, false)), 1);
        });
      }
      assert.deepEqual(layer.lines, [
        "new request < root {}",
        "new fibonacci < request {}",
        // Made on Deno's blocking pool, where no JavaScript span is entered.
        `new fib < root ${FIB0}`,
        "close fib",
        "close fibonacci",
        `new fib < root ${FIB1}`,
        "close fib",
        "close request",
      ]);
    });
  }
}
