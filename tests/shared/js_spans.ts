/**
 * Spans and events made in JavaScript (`tracing.span`, `startSpan`, `event`, trace context),
 * run identically by `deno test` and `bun test`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { ChildResult, FibonacciLibrary, TestFn } from "./harness.ts";
import type { Api } from "./harness.ts";
import type { TraceContext } from "../../bindings/js_spans.ts";
import { type ReceivedSpan, Receiver } from "./receiver.ts";
import { type Context, context, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { at, expectTracingError, readLines } from "./expect.ts";

/** The smallest `@opentelemetry/api` context manager: a stack, enough for `context.with`. */
class StackContextManager {
  #stack: Context[] = [ROOT_CONTEXT];
  active(): Context {
    return this.#stack.at(-1)!;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    active: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    this.#stack.push(active);
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.#stack.pop();
    }
  }
  bind<T>(_context: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#stack = [ROOT_CONTEXT];
    return this;
  }
}

/** What the JS-span scenarios need from each runtime. */
export interface JsSpansHarness {
  runtime: "deno" | "bun";
  api: Api;
  example: FibonacciLibrary;
  fibonacciPath: string;
  tempDir(): string;
  /** Runs `tests/<runtime>/js_spans_child.ts` with `args`. */
  runChild(args: string[]): ChildResult;
}

const REMOTE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const REMOTE_SPAN = "00f067aa0ba902b7";

/** A JS layer that records `name(parentName)` for each new span and event. */
class TreeLayer {
  names = new Map<number, string>();
  lines: string[] = [];
  onNewSpan(span: { name: string; parent: number | undefined; fields: unknown }, id: number) {
    this.names.set(id, span.name);
    this.lines.push(
      `span ${span.name} < ${this.#name(span.parent)} ${JSON.stringify(span.fields)}`,
    );
  }
  onEvent(event: { message: string | undefined; parent: number | undefined; fields: unknown }) {
    this.lines.push(
      `event ${event.message} < ${this.#name(event.parent)} ${JSON.stringify(event.fields)}`,
    );
  }
  #name(id: number | undefined): string {
    return id === undefined ? "root" : this.names.get(id) ?? `?${id}`;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function defineJsSpanScenarios(test: TestFn, h: JsSpansHarness): void {
  const { api, example } = h;
  const library = () => ({ library: h.fibonacciPath });
  const withLayer = (layer: TreeLayer, filter = "info") =>
    new api.Tracing(
      new api.GlobalTracingConfig({ filter, layers: [new api.JsLayerConfig(layer)] }),
      library(),
    ).enter();

  test("js spans: fmt shows native spans nested in a JS span, with JS events", () => {
    const log = join(h.tempDir(), "spans.log");
    {
      using tracing = new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [new api.FmtLayerConfig({ writer: { file: log }, filter: "info" })],
        }),
        library(),
      ).enter();
      const result = tracing.span("request", { route: "/fib", id: 7 }, () => {
        tracing.event("info", "calling native", { index: 2 }, { target: "app" });
        return Number(example.fibonacci(2, false));
      });
      assert.equal(result, 1);
    }
    const lines = readLines(log);
    assert.match(at(lines, 0), /INFO request\{route="\/fib" id=7\}: app: calling native index=2/);
    assert.match(
      at(lines, 1),
      /INFO request\{route="\/fib" id=7\}:fib\{index=2 use_memoized=false\}:fib\{index=1 use_memoized=false\}: fibonacci: computed value=1/,
    );
    assert.match(
      lines.at(-1)!,
      /INFO request\{route="\/fib" id=7\}:fib\{index=2 use_memoized=false\}: fibonacci: computed value=1/,
    );
  });

  test("js spans: a JS layer sees JS and native spans in one tree", () => {
    const layer = new TreeLayer();
    {
      using tracing = withLayer(layer);
      tracing.span("outer", {
        flag: true,
        big: 2n ** 70n,
        ratio: 0.5,
        negative: -5,
        wide: 2 ** 40 + 3,
        text: "héllo",
      }, () => {
        using inner = tracing.startSpan("inner", { target: "app", level: "warn" });
        inner.run(() => example.fibonacci(1, false));
        tracing.event("WARN", "done", { count: 3 });
      });
      tracing.event("info", "after", {});
    }
    assert.deepEqual(layer.lines, [
      `span outer < root {"flag":true,"big":"1180591620717411303424","ratio":0.5,"negative":-5,"wide":1099511627779,"text":"héllo"}`,
      "span inner < outer {}",
      `span fib < inner {"index":1,"use_memoized":false}`,
      `event computed < fib {"value":1}`,
      `event done < outer {"count":3}`,
      "event after < root {}",
    ]);
  });

  test("js spans: a span whose function throws or rejects gets an ERROR event, then ends", async () => {
    const layer = new TreeLayer();
    {
      using tracing = withLayer(layer);
      assert.throws(() =>
        tracing.span("failing", () => {
          throw new TypeError("boom");
        }), /boom/);
      await assert.rejects(
        tracing.span("rejecting", async () => {
          await Promise.resolve();
          throw new Error("later");
        }),
        /later/,
      );
      assert.equal(tracing.span("fine", () => 7), 7);
    }
    assert.deepEqual(layer.lines, [
      "span failing < root {}",
      `event span failed < failing {"error":"TypeError: boom"}`,
      "span rejecting < root {}",
      `event span failed < rejecting {"error":"Error: later"}`,
      "span fine < root {}",
    ]);
  });

  test("js spans: a JS layer callback may record JS events while a JS span is being created", () => {
    const seen: string[] = [];
    const current: { tracing?: ReturnType<typeof withLayer> } = {};
    const layer = {
      onNewSpan(span: { name: string; fields: Record<string, unknown> }) {
        seen.push(`${span.name} ${JSON.stringify(span.fields)}`);
        if (span.name === "outer") {
          current.tracing!.event("info", "from the layer", { note: "x".repeat(300) });
        }
      },
      onEvent(event: { message: string | undefined; fields: Record<string, unknown> }) {
        seen.push(`${event.message} ${String(event.fields.note).length}`);
      },
    };
    const log = join(h.tempDir(), "reentrant.log");
    const tracing = new api.Tracing(
      new api.GlobalTracingConfig({
        layers: [
          new api.JsLayerConfig(layer),
          new api.FmtLayerConfig({ writer: { file: log }, spanEvents: ["new"] }),
        ],
      }),
      library(),
    ).enter();
    current.tracing = tracing;
    try {
      tracing.startSpan("outer", { fields: { route: "/same-bytes" } }).end();
    } finally {
      tracing.dispose();
    }
    assert.deepEqual(seen, [`outer {"route":"/same-bytes"}`, "from the layer 300"]);
    assert.match(readLines(log).join("\n"), /outer\{route="\/same-bytes"\}/);
  });

  test("js spans: async functions keep their parent across await; explicit run() nests native calls", async () => {
    const layer = new TreeLayer();
    {
      using tracing = withLayer(layer);
      const task = (name: string, delay: number) =>
        tracing.span(name, async () => {
          await sleep(delay);
          tracing.event("info", `${name} resumed`);
          await tracing.span(`${name}.child`, async () => {
            await sleep(1);
            tracing.currentSpan()!.run(() => example.fibonacci(0, false));
          });
          // Without run(): after an await the JS span is not entered natively.
          example.fibonacci(0, false);
        });
      await Promise.all([task("a", 5), task("b", 1)]);
      assert.equal(tracing.currentSpan(), undefined);
    }
    const lines = layer.lines.filter((line) => !line.startsWith("event computed"));
    assert.deepEqual(lines.sort(), [
      "event a resumed < a {}",
      "event b resumed < b {}",
      "span a < root {}",
      "span a.child < a {}",
      "span b < root {}",
      "span b.child < b {}",
      `span fib < a.child {"index":0,"use_memoized":false}`,
      `span fib < b.child {"index":0,"use_memoized":false}`,
      `span fib < root {"index":0,"use_memoized":false}`,
      `span fib < root {"index":0,"use_memoized":false}`,
    ]);
  });

  // Without busy/idle times, JavaScript spans are light until something needs their
  // OpenTelemetry data (docs/opentelemetry.md): both ways export the same.
  for (const busyIdle of [true, false]) {
    const light = busyIdle ? "" : " (light spans)";
    test(`js spans: the OTLP receiver gets one trace with the JS parent and native children; traceparent round trip${light}`, async () => {
      const receiver = await Receiver.start("http/protobuf");
      try {
        let local: TraceContext | undefined;
        let remoteChild: TraceContext | undefined;
        {
          using tracing = new api.Tracing(
            new api.GlobalTracingConfig({
              layers: [
                new api.OtlpLayerConfig({
                  endpoint: receiver.endpoint(),
                  protocol: "http/protobuf",
                  batch: { scheduledDelayMs: 600_000 },
                  filter: "info",
                  spanAttributes: { busyIdle },
                }),
              ],
            }),
            library(),
          ).enter();
          assert.equal(tracing.traceContext(), undefined, "no span: no trace context");
          tracing.span("handle request", { route: "/fib" }, (span) => {
            example.fibonacci(2, false);
            local = span.traceContext();
            assert.deepEqual(tracing.traceContext(), local);
          });
          using incoming = tracing.startSpan("incoming", {
            parent: { traceparent: `00-${REMOTE_TRACE}-${REMOTE_SPAN}-01`, tracestate: "k=v" },
          });
          incoming.run(() => example.fibonacci(0, false));
          remoteChild = incoming.traceContext();
        }
        const { spans } = await receiver.received();
        const named = (name: string) => spans.filter(({ span }) => span.name === name);
        const [request] = named("handle request");
        assert.ok(request, "the JS span arrived");
        assert.equal(request.attributes["route"], "/fib");
        const inRequest = spans.filter(({ span }) => span.traceId === request.span.traceId);
        assert.equal(inRequest.length, 4, "the JS span and fib(2), fib(1), fib(0)");
        const fibRoot = inRequest.find(({ span }) =>
          span.name === "fib" && span.parentSpanId === request.span.spanId
        );
        assert.ok(fibRoot, "fib(2) is a child of the JS span");
        assert.equal(
          local?.traceparent,
          `00-${request.span.traceId}-${request.span.spanId}-01`,
          "traceContext() names the exported span",
        );

        const remote = at(named("incoming"), 0);
        assert.equal(remote.span.traceId, REMOTE_TRACE);
        assert.equal(remote.span.parentSpanId, REMOTE_SPAN);
        assert.equal(remoteChild?.traceparent, `00-${REMOTE_TRACE}-${remote.span.spanId}-01`);
        assert.equal(remoteChild?.tracestate, "k=v");
        const remoteFib = spans.find(({ span }: ReceivedSpan) =>
          span.name === "fib" && span.parentSpanId === remote.span.spanId
        );
        assert.ok(remoteFib, "native child of the remote-parented span");
        assert.equal(remoteFib.span.traceId, REMOTE_TRACE);
        assert.equal(spans.length, 6);
      } finally {
        await receiver.stop();
      }
    });

    test(`js spans: in OTLP, spans ended in a loop all arrive, one left open is ended at dispose and marked, and a span run later keeps its trace context${light}`, async () => {
      const receiver = await Receiver.start("http/protobuf");
      try {
        const tracing = new api.Tracing(
          new api.GlobalTracingConfig({
            layers: [
              new api.OtlpLayerConfig({
                endpoint: receiver.endpoint(),
                protocol: "http/protobuf",
                batch: { scheduledDelayMs: 600_000, maxQueueSize: 10_000 },
                filter: "info",
                spanAttributes: { busyIdle },
              }),
            ],
          }),
          library(),
        ).enter();
        let before: TraceContext | undefined;
        let inside: TraceContext | undefined;
        try {
          for (let index = 0; index < 1_000; index++) {
            tracing.startSpan("many", { fields: { route: "/many", index } }).end();
          }
          tracing.startSpan("left open", { fields: { route: "/open" } });
          const later = tracing.startSpan("run later");
          before = later.traceContext();
          later.run(() => {
            inside = tracing.traceContext();
            example.fibonacci(0, false);
          });
          later.end();
        } finally {
          tracing.dispose();
        }
        assert.equal(tracing.droppedSpans, 0);
        const { spans } = await receiver.received();
        const named = (name: string) => spans.filter(({ span }) => span.name === name);
        const indexes = new Set(named("many").map(({ attributes }) => attributes["index"]));
        assert.equal(named("many").length, 1_000);
        assert.equal(indexes.size, 1_000, "each its own index");
        const open = at(named("left open"), 0);
        assert.equal(open.attributes["tracing_bridge.unended"], true);
        assert.equal(open.attributes["route"], "/open");
        const later = at(named("run later"), 0);
        assert.equal(before?.traceparent, `00-${later.span.traceId}-${later.span.spanId}-01`);
        assert.deepEqual(inside, before, "the same inside run()");
        const fib = at(named("fib"), 0);
        assert.equal(fib.span.parentSpanId, later.span.spanId, "a native child");
        assert.equal(spans.length, 1_003);
      } finally {
        await receiver.stop();
      }
    });

    test(`js spans: in OTLP, the \`span failed\` event is inside its span and an async span lasts until its promise settles${light}`, async () => {
      const receiver = await Receiver.start("http/protobuf");
      try {
        {
          using tracing = new api.Tracing(
            new api.GlobalTracingConfig({
              layers: [
                new api.OtlpLayerConfig({
                  endpoint: receiver.endpoint(),
                  batch: { scheduledDelayMs: 600_000 },
                  filter: "info",
                  spanAttributes: { busyIdle },
                }),
              ],
            }),
            library(),
          ).enter();
          assert.throws(() =>
            tracing.span("throws", () => {
              throw new TypeError("boom");
            }), /boom/);
          await assert.rejects(
            tracing.span("rejects", async () => {
              await sleep(30);
              throw new Error("later");
            }),
            /later/,
          );
          await tracing.span("awaits", () => sleep(30));
        }
        const { spans } = await receiver.received();
        const named = (name: string) => spans.find(({ span }) => span.name === name)!.span;
        for (const name of ["throws", "rejects"]) {
          const span = named(name);
          const failed = at(span.events!, 0);
          assert.equal(failed.name, "span failed");
          const time = BigInt(failed.timeUnixNano);
          assert.ok(BigInt(span.startTimeUnixNano) <= time, `${name}: event after the start`);
          assert.ok(time <= BigInt(span.endTimeUnixNano), `${name}: event before the end`);
          assert.equal(span.status?.code, 2);
        }
        for (const name of ["rejects", "awaits"]) {
          const span = named(name);
          const ms = Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6;
          assert.ok(ms >= 25, `${name} lasted ${ms} ms, not until its promise settled`);
        }
      } finally {
        await receiver.stop();
      }
    });
  }

  test("js spans: the active @opentelemetry/api span can be continued", () => {
    assert.equal(api.activeOpenTelemetryContext(), undefined, "nothing registered");
    context.setGlobalContextManager(new StackContextManager());
    try {
      const otelSpan = trace.wrapSpanContext({
        traceId: REMOTE_TRACE,
        spanId: REMOTE_SPAN,
        traceFlags: 1,
      });
      assert.equal(api.activeOpenTelemetryContext(), undefined, "no active span");
      const found = context.with(
        trace.setSpan(context.active(), otelSpan),
        () => api.activeOpenTelemetryContext(),
      );
      assert.deepEqual(found, {
        traceparent: `00-${REMOTE_TRACE}-${REMOTE_SPAN}-01`,
        tracestate: "",
      });
      const layer = new TreeLayer();
      using tracing = withLayer(layer);
      tracing.startSpan("continued", { parent: found }).end();
      assert.deepEqual(layer.lines, ["span continued < root {}"]);
    } finally {
      context.disable();
    }
  });

  test("js spans: bad input is a typed error or a documented no-op, never a crash", () => {
    const layer = new TreeLayer();
    using tracing = withLayer(layer);
    expectTracingError(() => tracing.startSpan(""), "INVALID_PARAMETER", /span name/);
    expectTracingError(
      () => tracing.startSpan("x", { level: "LOUD" as "INFO" }),
      "INVALID_PARAMETER",
      /level "LOUD"/,
    );
    expectTracingError(
      () => tracing.startSpan("x", { fields: { bad: {} as unknown as string } }),
      "INVALID_PARAMETER",
      /field "bad"/,
    );
    expectTracingError(() => tracing.startSpan("x", { target: "" }), "INVALID_PARAMETER", /target/);
    const tooMany = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`f${i}`, i]));
    expectTracingError(
      () => tracing.startSpan("x", { fields: tooMany }),
      "INVALID_PARAMETER",
      /at most 32/,
    );
    for (const traceparent of ["", "nonsense", `00-${"0".repeat(32)}-${REMOTE_SPAN}-01`]) {
      expectTracingError(
        () => tracing.startSpan("remote", { parent: { traceparent } }),
        "INVALID_PARAMETER",
        /traceparent/,
      );
    }
    expectTracingError(
      () => tracing.span("x", undefined, undefined!),
      "INVALID_PARAMETER",
      /function/,
    );

    const parent = tracing.startSpan("parent");
    const child = tracing.startSpan("child", { parent });
    parent.end(); // out of order: the parent ends first
    parent.end(); // twice: nothing happens
    const late = tracing.startSpan("late", { parent });
    child.end();
    late.end();
    assert.equal(layer.lines.filter((line) => line.startsWith("span late")).length, 1);
    assert.ok(layer.lines.includes("span late < root {}"), layer.lines.join("\n"));
    assert.ok(layer.lines.includes("span child < parent {}"), layer.lines.join("\n"));
    // Spans that failed to start left nothing open.
    assert.equal(layer.lines.some((line) => line.startsWith("span remote")), false);
  });

  test("js spans: filtered-out spans are disabled and record nothing", () => {
    const layer = new TreeLayer();
    using tracing = withLayer(layer, "warn");
    const span = tracing.startSpan("quiet", { level: "debug" });
    assert.equal(span.disabled, true);
    span.run(() => example.fibonacci(0, false));
    span.end();
    tracing.event("debug", "hidden");
    tracing.span("loud", () => tracing.event("error", "shown"));
    assert.deepEqual(layer.lines, ["event shown < root {}"]);
  });

  test("js spans: past 1024 distinct callsites, spans share a fallback callsite named by otel.name", () => {
    const result = h.runChild(["interning"]);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    assert.deepEqual(summary, {
      distinct: 1024,
      fallback: 76,
      fallbackName: "js.span",
      otelNames: 76,
      lastOtelName: "name-1099",
    });
  });
}

/** The child side of the interning scenario: prints a JSON summary line. */
export function runInterningChild(api: Api, fibonacciPath: string): void {
  const names: string[] = [];
  const otelNames: string[] = [];
  {
    using tracing = new api.Tracing(
      new api.GlobalTracingConfig({
        layers: [
          new api.JsLayerConfig({
            onNewSpan(span: { name: string; fields: Record<string, unknown> }) {
              names.push(span.name);
              if (typeof span.fields["otel.name"] === "string") {
                otelNames.push(span.fields["otel.name"] as string);
              }
            },
          }),
        ],
      }),
      { library: fibonacciPath },
    ).enter();
    for (let index = 0; index < 1100; index++) {
      tracing.startSpan(`name-${index}`, { fields: { index } }).end();
    }
  }
  const fallback = names.filter((name) => name === "js.span");
  console.log(JSON.stringify({
    distinct: new Set(names.filter((name) => name !== "js.span")).size,
    fallback: fallback.length,
    fallbackName: fallback[0],
    otelNames: otelNames.length,
    lastOtelName: otelNames.at(-1),
  }));
}
