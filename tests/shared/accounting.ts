/**
 * Accounting that tells the truth, run identically by `deno test` and `bun test`: the one
 * report an OpenTelemetry layer prints on stderr when it shuts down and `tracing.droppedSpans`
 * give the same number, also when spans are still open on Rust threads or end while dispose
 * runs; a request the receiver never answered is "not confirmed by the receiver", one it
 * refused is "dropped"; JavaScript spans still open at dispose are ended, marked
 * `tracing_bridge.unended` and exported. The stderr scenarios run in child processes
 * (`tests/<runtime>/accounting_child.ts`, see {@link runAccountingChild}).
 */

import assert from "node:assert/strict";
import type {
  Api,
  ChildResult,
  FibonacciLibrary,
  FullFibonacciLibrary,
  TestFn,
} from "./harness.ts";
import { closedPort, type Protocol, Receiver } from "./receiver.ts";
import { at } from "./expect.ts";

export interface AccountingHarness {
  runtime: "deno" | "bun";
  api: Api;
  example: FibonacciLibrary;
  fibonacciPath: string;
  /** Runs `tests/<runtime>/accounting_child.ts` with `args` (see {@link runAccountingChild}). */
  runChild(args: string[]): ChildResult;
}

/** Threads and nesting of the spans held open across dispose: 12 spans. */
const HELD_THREADS = 3;
const HELD_DEPTH = 4;

/**
 * The body of the accounting children: `<scenario> <endpoint> <protocol>`. Enters a global
 * OTLP `Tracing`, makes spans as the scenario says, disposes, prints `dropped=<droppedSpans>`.
 * - `held`: fib(3) (5 spans), then 12 spans held open on 3 Rust threads across dispose, then
 *   released (and ended) after it;
 * - `racing`: 2 Rust threads make and end fib spans while dispose runs;
 * - `plain`: fib(3), then dispose (for a receiver that hangs, fails or is not there).
 */
export async function runAccountingChild(
  api: Api,
  example: FullFibonacciLibrary,
  libraryPath: string,
  [scenario, endpoint, protocol]: string[],
): Promise<void> {
  const tracing = new api.Tracing(
    new api.GlobalTracingConfig({
      layers: [
        new api.OtlpLayerConfig({
          endpoint,
          protocol: protocol as Protocol,
          flushTimeoutMs: scenario === "plain" ? 600 : 5_000,
          batch: { scheduledDelayMs: 600_000 },
          filter: "info",
        }),
      ],
    }),
    { library: libraryPath },
  ).enter();
  example.fibonacci(3, false);
  let held: bigint | number = 0;
  let racing: bigint | number = 0;
  if (scenario === "held") held = example.holdSpans(HELD_THREADS, HELD_DEPTH);
  if (scenario === "racing") {
    racing = example.startFibonacci(2, 12, 3_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  tracing.dispose();
  console.log(`dropped=${tracing.droppedSpans}`);
  if (scenario === "held") console.log(`released=${example.releaseSpans(held)}`);
  if (scenario === "racing") console.log(`rounds=${example.joinWorkers(racing)}`);
  console.log(`after=${tracing.droppedSpans}`);
}

/** The report lines of a child's stderr. */
function reports(stderr: string): string[] {
  return stderr.split("\n").filter((line) => /^tracing-bridge: layers\[0\] \(otlp/.test(line));
}

/** `dropped=` and `after=` of a child's stdout. */
function printed(stdout: string): { dropped: number; after: number } {
  const value = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(stdout)?.[1] ?? NaN);
  return { dropped: value("dropped"), after: value("after") };
}

/** The count a report line gives: `N of M spans were …`. */
function reportedCount(line: string): number {
  const match = /: (\d+) of (\d+) spans were /.exec(line);
  assert.ok(match, `not a report: ${line}`);
  return Number(match[1]);
}

export function defineAccountingScenarios(test: TestFn, h: AccountingHarness): void {
  const { api } = h;
  const run = (args: string[]) => {
    const child = h.runChild(args);
    assert.equal(child.code, 0, child.stderr);
    return { ...child, ...printed(child.stdout), reports: reports(child.stderr) };
  };

  test("accounting: spans still open on Rust threads at dispose are reported once, and droppedSpans says the same", async () => {
    const receiver = await Receiver.start("http/protobuf");
    try {
      const child = run(["held", receiver.endpoint(), "http/protobuf"]);
      assert.equal(child.reports.length, 1, child.stderr);
      assert.equal(
        at(child.reports, 0).replace(/http:\/\/127\.0\.0\.1:\d+/, "<receiver>"),
        "tracing-bridge: layers[0] (otlp, http/protobuf to <receiver>/v1/traces): 12 of 17 " +
          "spans were dropped because they were still open (never ended) when the layer shut " +
          "down",
      );
      assert.equal(child.dropped, HELD_THREADS * HELD_DEPTH);
      assert.equal(child.after, child.dropped);
      assert.match(child.stdout, /released=12/);
      const names = (await receiver.received()).spans.map(({ span }) => span.name);
      assert.deepEqual(names, ["fib", "fib", "fib", "fib", "fib"], "the ended ones, once");
    } finally {
      await receiver.stop();
    }
  });

  test("accounting: spans made and ended on Rust threads while dispose runs: the report and droppedSpans agree", async () => {
    const receiver = await Receiver.start("grpc");
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const child = run(["racing", receiver.endpoint(), "grpc"]);
        assert.ok(child.reports.length <= 1, child.stderr);
        const reported = child.reports.length === 0 ? 0 : reportedCount(at(child.reports, 0));
        assert.equal(reported, child.dropped, child.stderr);
        assert.equal(child.after, child.dropped);
      }
    } finally {
      await receiver.stop();
    }
  });

  test("accounting: a receiver that never answers: the spans are not confirmed by the receiver, not dropped", async () => {
    const receiver = await Receiver.start("http/protobuf");
    try {
      await receiver.fault("hang");
      const child = run(["plain", receiver.endpoint(), "http/protobuf"]);
      assert.equal(child.reports.length, 1, child.stderr);
      assert.match(
        at(child.reports, 0),
        /: 5 of 5 spans were not confirmed by the receiver \(the request may have reached it\): /,
      );
      assert.doesNotMatch(at(child.reports, 0), /dropped|lost/);
      assert.equal(child.dropped, 5, "counted in droppedSpans all the same");
    } finally {
      await receiver.stop();
    }
  });

  test("accounting: a receiver that refuses the spans or is not there: they are dropped", async () => {
    const receiver = await Receiver.start("http/protobuf");
    try {
      await receiver.fault("error");
      const refused = run(["plain", receiver.endpoint(), "http/protobuf"]);
      const down = run(["plain", `http://127.0.0.1:${await closedPort()}`, "http/protobuf"]);
      for (const child of [refused, down]) {
        assert.equal(child.reports.length, 1, child.stderr);
        assert.match(at(child.reports, 0), /: 5 of 5 spans were dropped because /);
        assert.doesNotMatch(at(child.reports, 0), /not confirmed/);
        assert.equal(child.dropped, 5);
      }
    } finally {
      await receiver.stop();
    }
  });

  for (const how of ["dispose", "await using"] as const) {
    test(`accounting: JS spans still open at ${how} are ended, marked tracing_bridge.unended and exported`, async () => {
      const protocol: Protocol = "grpc";
      const receiver = await Receiver.start(protocol);
      try {
        const tracing = new api.Tracing(
          new api.GlobalTracingConfig({
            layers: [
              new api.OtlpLayerConfig({
                endpoint: receiver.endpoint(),
                protocol,
                batch: { scheduledDelayMs: 600_000 },
                filter: "info",
              }),
            ],
          }),
          { library: h.fibonacciPath },
        ).enter();
        const request = tracing.startSpan("request", { fields: { route: "/users" } });
        request.run(() => h.example.fibonacci(2, false));
        const step = tracing.startSpan("step", { parent: request });
        const done = tracing.startSpan("done", { parent: request });
        done.end();
        const before = tracing.currentSpan();
        let inside = 0;
        if (how === "dispose") {
          tracing.span("entered", () => {
            inside = tracing.startSpan("probe").disabled ? 0 : 1;
            tracing.dispose(); // inside a span that is entered on this thread
          });
        } else {
          await tracing[Symbol.asyncDispose]();
        }
        assert.equal(tracing.droppedSpans, 0, "exported, not lost");
        assert.equal(tracing.currentSpan(), before);
        // Their handles do nothing now; ending them is no error.
        step.end();
        request.run(() => h.example.fibonacci(1, false));
        request.end();
        assert.equal(request.traceContext(), undefined);

        const { spans } = await receiver.received();
        const byName = new Map(spans.map((span) => [span.span.name, span]));
        const expected = ["request", "step", "done", "fib"];
        if (how === "dispose") expected.push("entered", "probe");
        for (const name of expected) assert.ok(byName.has(name), `${name} was exported`);
        assert.equal(spans.length, expected.length + 2, "fib(2) makes 3 spans; nothing twice");
        const unended = (name: string) => byName.get(name)!.attributes["tracing_bridge.unended"];
        assert.equal(unended("request"), true);
        assert.equal(unended("step"), true);
        assert.equal(unended("done"), undefined);
        assert.equal(unended("fib"), undefined);
        if (how === "dispose") {
          assert.equal(inside, 1);
          assert.equal(unended("entered"), true);
          assert.equal(unended("probe"), true);
        }
        assert.equal(byName.get("request")!.attributes.route, "/users");
        assert.equal(byName.get("step")!.span.parentSpanId, byName.get("request")!.span.spanId);
      } finally {
        await receiver.stop();
      }
    });
  }
}
