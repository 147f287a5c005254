/**
 * JS layer scenarios, run identically by `deno test` and `bun test`.
 */

import assert from "node:assert/strict";
import type { EventData, Fields, Layer, SpanData } from "../../bindings/public.ts";
import type { FullFibonacciLibrary, Harness, TestFn } from "./harness.ts";
import { at } from "./expect.ts";

/** The harness, with every example function the scenarios call. */
export type JsLayerHarness = Omit<Harness, "example"> & { example: FullFibonacciLibrary };

/** The seed's dummy Python layer, translated: logs every call; state is a counter. */
class DummyLayer implements Layer<number> {
  readonly calls: string[] = [];
  #nextState = 100;

  onNewSpan(span: SpanData, id: number): number {
    this.calls.push(`[onNewSpan] ${span.name} ${JSON.stringify(span.fields)} | ${id}`);
    return this.#nextState++;
  }

  onEvent(event: EventData, state: number | undefined): void {
    this.calls.push(
      `[onEvent] ${event.level} ${event.message} ${JSON.stringify(event.fields)} | ${state}`,
    );
  }

  onClose(id: number, state: number | undefined): void {
    this.calls.push(`[onClose] ${id} | ${state}`);
  }

  onRecord(id: number, values: Fields, state: number | undefined): void {
    this.calls.push(`[onRecord] ${id} ${JSON.stringify(values)} | ${state}`);
  }
}

/** Records a compact trace of every callback, with span names instead of ids. */
class StructureLayer implements Layer<string> {
  readonly trace: string[] = [];
  readonly names = new Map<number, string>();
  readonly parents = new Map<number, number | undefined>();

  onNewSpan(span: SpanData, id: number): string {
    const label = `${span.name}(${span.fields.index ?? ""})`;
    this.names.set(id, label);
    this.parents.set(id, span.parent);
    this.trace.push(`new ${label}`);
    return `state of ${label}`;
  }

  onEvent(event: EventData, state: string | undefined): void {
    this.trace.push(`event ${event.message} ${JSON.stringify(event.fields)} [${state}]`);
  }

  onEnter(id: number, state: string | undefined): void {
    this.trace.push(`enter ${this.names.get(id)} [${state}]`);
  }

  onExit(id: number, state: string | undefined): void {
    this.trace.push(`exit ${this.names.get(id)} [${state}]`);
  }

  onClose(id: number, state: string | undefined): void {
    this.trace.push(`close ${this.names.get(id)} [${state}]`);
  }

  onRecord(id: number, values: Fields, state: string | undefined): void {
    this.trace.push(`record ${this.names.get(id)} ${JSON.stringify(values)} [${state}]`);
  }

  onFollowsFrom(id: number, followsId: number, state: string | undefined): void {
    this.trace.push(
      `follows ${this.names.get(id)} <- ${this.names.get(followsId)} [${state}]`,
    );
  }
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Replaces `console[method]` while `body` runs; returns what it was called with. */
function capturing(method: "warn" | "error", body: () => void): unknown[][] {
  const original = console[method];
  const calls: unknown[][] = [];
  console[method] = (...args: unknown[]) => calls.push(args);
  try {
    body();
  } finally {
    console[method] = original;
  }
  return calls;
}

export function defineJsLayerScenarios(test: TestFn, h: JsLayerHarness): void {
  const { api, example, paths } = h;
  const start = (
    layers: InstanceType<typeof api.JsLayerConfig>[],
    scope: "global" | "currentThread" = "global",
  ) => {
    const config = scope === "global"
      ? new api.GlobalTracingConfig({ layers })
      : new api.CurrentThreadTracingConfig({ layers });
    return new api.Tracing(config, { library: paths.fibonacci }).enter();
  };

  test("js layer: the dummy layer sees fibonacci(10, true) before the call returns", () => {
    const layer = new DummyLayer();
    using _tracing = start([new api.JsLayerConfig(layer, { filter: "debug" })]);
    assert.equal(Number(example.fibonacci(10, true)), 55);
    // No flush, no await: records of the JS thread arrive during the FFI call.
    const id = /\| (\d+)$/.exec(at(layer.calls, 0))?.[1] ?? "";
    const values = [0, 1, 1, 2, 3, 5, 8, 13, 21, 34];
    assert.deepEqual(layer.calls, [
      `[onNewSpan] fib {"index":10,"use_memoized":true} | ${id}`,
      ...values.map((value, step) =>
        `[onEvent] DEBUG step {"step":${step},"value":${value}} | 100`
      ),
      `[onEvent] INFO computed {"value":55} | 100`,
      `[onClose] ${id} | 100`,
    ]);
  });

  test("js layer: nested spans have the right parents, states, enters and exits", () => {
    const layer = new StructureLayer();
    using _tracing = start([new api.JsLayerConfig(layer, { filter: "info" })]);
    example.fibonacci(2, false);
    const s = (index: number) => `[state of fib(${index})]`;
    assert.deepEqual(layer.trace, [
      "new fib(2)",
      `enter fib(2) ${s(2)}`,
      "new fib(1)",
      `enter fib(1) ${s(1)}`,
      `event computed {"value":1} ${s(1)}`,
      `exit fib(1) ${s(1)}`,
      `close fib(1) ${s(1)}`,
      "new fib(0)",
      `enter fib(0) ${s(0)}`,
      `event computed {"value":0} ${s(0)}`,
      `exit fib(0) ${s(0)}`,
      `close fib(0) ${s(0)}`,
      `event computed {"value":1} ${s(2)}`,
      `exit fib(2) ${s(2)}`,
      `close fib(2) ${s(2)}`,
    ]);
    const idOf = (label: string) => [...layer.names].find(([, name]) => name === label)![0];
    assert.equal(layer.parents.get(idOf("fib(2)")), undefined);
    assert.equal(layer.parents.get(idOf("fib(1)")), idOf("fib(2)"));
    assert.equal(layer.parents.get(idOf("fib(0)")), idOf("fib(2)"));
  });

  test("js layer: onRecord gets recorded values, onFollowsFrom both spans", () => {
    const layer = new StructureLayer();
    using _tracing = start([new api.JsLayerConfig(layer, { filter: "info" })]);
    example.recordResult(42);
    example.followsFrom();
    assert.deepEqual(layer.trace, [
      "new job()",
      "enter job() [state of job()]",
      'record job() {"result":42} [state of job()]',
      "event job done {} [state of job()]",
      "exit job() [state of job()]",
      "close job() [state of job()]",
      "new first()",
      "new second()",
      "follows second() <- first() [state of second()]",
      "close second() [state of second()]",
      "close first() [state of first()]",
    ]);
  });

  test("js layer: field values arrive as JS values", () => {
    const events: EventData[] = [];
    using _tracing = start([
      new api.JsLayerConfig({ onEvent: (event) => events.push(event) }, { filter: "info" }),
    ]);
    example.emitWideValues();
    example.runWorkers(1, 4);
    const wide = at(events, 0);
    assert.equal(wide.message, "wide values");
    assert.deepEqual(wide.fields, {
      big_unsigned: 18446744073709551615n,
      big_signed: -9223372036854775808n,
      safe: 9007199254740991,
      huge: 340282366920938463463374607431768211455n,
      text: "naïve ☃",
    });
    assert.equal(wide.level, "INFO");
    assert.equal(wide.target, "fibonacci");
    assert.equal(wide.metadata.name, wide.name);
    assert.match(wide.file ?? "", /examples\/fibonacci\/src\/lib\.rs$/);
    assert.ok(typeof wide.line === "number" && wide.line > 0);
    assert.ok(Math.abs(wide.timestamp - Date.now()) < 60_000, `timestamp ${wide.timestamp}`);
    const third = events.find((event) => event.fields.sequence === 3)!;
    assert.deepEqual(third.fields, {
      text: "hello",
      signed: -3,
      unsigned: 3,
      float: 1.5,
      flag: false,
      point: "Point { x: 0, y: 3 }",
      error: "item 0 failed",
      worker: 0,
      sequence: 3,
    });
    assert.equal(third.thread.name, "worker-0");
    assert.notEqual(third.thread.id, wide.thread.id);
  });

  test("js layer: 8 Rust threads x 10 000 events, each delivered once, in order, with state", () => {
    const seen = new Map<number, number[]>();
    const stateMismatches: string[] = [];
    let spans = 0;
    let joined = 0;
    const layer: Layer<{ worker: number | undefined }> = {
      onNewSpan(span) {
        spans++;
        return { worker: span.fields.index as number | undefined };
      },
      onEvent(event, state) {
        if (event.message === "workers joined") {
          joined++;
          return;
        }
        const worker = event.fields.worker as number;
        if (state?.worker !== worker) stateMismatches.push(`${worker}:${event.fields.sequence}`);
        let sequences = seen.get(worker);
        if (!sequences) seen.set(worker, sequences = []);
        sequences.push(event.fields.sequence as number);
      },
    };
    using tracing = start([new api.JsLayerConfig(layer, { filter: "info" })]);
    // The call blocks until the workers are joined: the JS thread cannot run callbacks while
    // they record, and must not deadlock.
    assert.equal(Number(example.runWorkers(8, 10_000)), 80_000);
    assert.equal(joined, 1, "the JS thread's own event arrived during the call");
    assert.equal(seen.size, 8);
    for (const [worker, sequences] of seen) {
      assert.equal(sequences.length, 10_000, `worker ${worker}`);
      assert.ok(sequences.every((value, index) => value === index), `order of worker ${worker}`);
    }
    assert.deepEqual(stateMismatches, []);
    assert.equal(spans, 9, "run_workers + 8 worker spans");
    assert.equal(tracing.droppedRecords, 0);
  });

  test("js layer: records of other threads arrive on their own, without flush", async () => {
    let events = 0;
    using _tracing = start([
      new api.JsLayerConfig({ onEvent: () => void events++ }, { filter: "info" }),
    ]);
    const handle = example.startWorkers(2, 100);
    await waitFor(() => events === 201, "200 worker events and the joined event");
    assert.equal(Number(example.joinWorkers(handle)), 200);
  });

  test("js layer: dispose delivers what is still queued", () => {
    let events = 0;
    const tracing = start([
      new api.JsLayerConfig({ onEvent: () => void events++ }, { filter: "info" }),
    ]);
    example.joinWorkers(example.startWorkers(2, 50));
    assert.equal(events, 0, "no JS-thread record and no event-loop turn yet");
    tracing.dispose();
    assert.equal(events, 101);
  });

  test("js layer: a full queue drops records, counts them exactly and warns once", () => {
    let delivered = 0;
    let tracing!: InstanceType<typeof api.Tracing>;
    const warnings = capturing("warn", () => {
      tracing = start([
        new api.JsLayerConfig({ onEvent: () => void delivered++ }, {
          filter: "info",
          capacity: 10,
        }),
      ]);
      example.runWorkers(1, 100);
      example.runWorkers(1, 5);
      tracing.dispose();
    });
    // First call: 10 of the worker's 100 events fit and 90 are dropped (the JS thread is
    // blocked in the call). The JS thread's own event finds the queue full, drains it on the
    // spot and is then queued too. Second call: all 6 fit.
    assert.equal(delivered, 17);
    assert.equal(tracing.droppedRecords, 90);
    assert.equal(warnings.length, 1);
    assert.match(String(at(warnings, 0)[0]), /dropped/);
  });

  test("js layer: a throwing callback does not stop tracing", () => {
    const hooked: string[] = [];
    let counted = 0;
    let thrown = 0;
    const errors = capturing("error", () => {
      using _tracing = start([
        new api.JsLayerConfig({
          onEvent() {
            throw new Error("boom");
          },
        }, { filter: "debug", onError: (error, { method }) => hooked.push(`${method}: ${error}`) }),
        new api.JsLayerConfig({ onEvent: () => void counted++ }, { filter: "debug" }),
        new api.JsLayerConfig({
          onEvent() {
            thrown++;
            throw new Error("unhooked");
          },
        }, { filter: "debug" }),
      ]);
      example.fibonacci(5, true);
    });
    assert.equal(counted, 6);
    assert.equal(thrown, 6);
    assert.deepEqual(hooked, Array(6).fill("onEvent: Error: boom"));
    assert.equal(errors.length, 1, "console.error is rate-limited");
    assert.match(String(at(errors, 0)[0]), /onEvent threw/);
  });

  test("js layer: callbacks never run re-entrantly; nested records come after", () => {
    let depth = 0;
    let maxDepth = 0;
    const order: string[] = [];
    let nested = false;
    using _tracing = start([
      new api.JsLayerConfig({
        onEvent(event) {
          depth++;
          maxDepth = Math.max(maxDepth, depth);
          order.push(`${event.message}:${event.fields.value}`);
          if (!nested && event.message === "computed") {
            nested = true;
            example.fibonacci(4, true); // records on the JS thread from inside a callback
            order.push("nested call returned");
          }
          depth--;
        },
      }, { filter: "info" }),
    ]);
    example.fibonacci(3, true);
    assert.equal(maxDepth, 1);
    assert.deepEqual(order, ["computed:2", "nested call returned", "computed:3"]);
  });

  test("js layer: a current-thread config gets only the JS thread's records", () => {
    const messages: string[] = [];
    using _tracing = start(
      [
        new api.JsLayerConfig({ onEvent: (event) => void messages.push(event.message!) }, {
          filter: "info",
        }),
      ],
      "currentThread",
    );
    example.runWorkers(2, 10);
    assert.deepEqual(messages, ["workers joined"]);
  });

  test("js layer: a program that never disposes exits promptly", () => {
    const started = Date.now();
    const result = h.runChild("child_no_dispose.ts", {}, ["--allow-ffi", "--allow-read"]);
    const elapsed = Date.now() - started;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /events seen: 201/);
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
  });
}
