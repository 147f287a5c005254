/**
 * Nothing lost at exit, run identically by `deno test` and `bun test`: a child process enters a
 * global `Tracing` and exits without disposing it, by falling off the end of its script or by
 * `Deno.exit(0)` / `process.exit(0)`. The exit hook disposes it: the OTLP receiver gets every span
 * and every log record, the OTLP JSON file every line, the fmt file (non-blocking, and rolling)
 * every line, the timeline is valid JSON with every span closed, the flame file is complete; also
 * with a `flushAsync()` still in flight at exit, and a JavaScript span never
 * ended is ended then, marked `tracing_bridge.unended`. A child that never enters a `Tracing`
 * exits as fast as a plain script.
 */

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Api, ChildResult, FibonacciLibrary, TestFn } from "./harness.ts";
import { type Protocol, Receiver } from "./receiver.ts";

/** What the exit child traces into. */
export type ExitKind =
  | "otlp"
  | "otlpJson"
  | "fmt"
  | "fmtRolling"
  | "fmtLossy"
  | "fmtStdout"
  | "timeline"
  | "flame"
  | "none";
/**
 * How the exit child ends: falling off the end, `exit(0)`, or disposing first (the reference);
 * `flushing`: `exit(0)` right after starting a `flushAsync()` (in Deno it is still running on
 * another thread then); `unended`: `exit(0)` with a JavaScript span never ended.
 */
export type ExitHow = "end" | "exit" | "dispose" | "flushing" | "unended";

/** Whether the child calls `exit(0)` itself after {@link exitFlushChild} returns. */
export function exitsItself(how: string): boolean {
  return how === "exit" || how === "flushing" || how === "unended";
}

export interface ExitFlushHarness {
  runtime: "deno" | "bun";
  /** A new empty directory. */
  tempDir(): string;
  /**
   * Runs `tests/<runtime>/exit_flush_child.ts <kind> <how> <target> [protocol]` (see
   * {@link exitFlushChild}), which calls `exit(0)` itself when `how` is `"exit"`.
   */
  runExitFlushChild(args: string[]): ChildResult;
  /** Runs `tests/<runtime>/exit_plain_child.ts`: the example library without the bindings. */
  runPlainChild(): ChildResult;
}

/** fib(6) recursing makes 25 spans; run_workers(2, 3) one, and one per worker. */
const FIB_INDEX = 6;
const FIB_SPANS = 25;
const ALL_SPANS = FIB_SPANS + 1 + 2;
/** The otlp layer's log records: a `computed` event per fib span, 3 per worker, `workers joined`. */
const ALL_LOGS = FIB_SPANS + 2 * 3 + 1;

/**
 * The body of the exit children: enters a global `Tracing` with one layer of `kind` writing to
 * `target` (a file, or the receiver's endpoint for `otlp`), makes {@link ALL_SPANS} spans and
 * returns without disposing, unless `how` is `"dispose"`. `none` makes the calls untraced.
 */
export function exitFlushChild(
  api: Api,
  example: Pick<FibonacciLibrary, "fibonacci" | "runWorkers">,
  libraryPath: string,
  [kind, how, target = "", protocol]: string[],
): void {
  // Long enough that the batch timer never exports: only dispose (or the exit hook) does.
  const batch = { scheduledDelayMs: 600_000 };
  const layer = () => {
    switch (kind as ExitKind) {
      case "otlp":
        return new api.OtlpLayerConfig({
          endpoint: target,
          protocol: protocol as Protocol,
          signals: { logs: "otlp" },
          batch,
          logsBatch: batch,
          flushTimeoutMs: 10_000,
        });
      case "otlpJson":
        return new api.OtlpJsonLayerConfig({ writer: { file: target }, batch });
      case "fmt":
        return new api.FmtLayerConfig({ writer: { file: target } });
      case "fmtStdout":
        return new api.FmtLayerConfig({ writer: "stdout", nonBlocking: true, ansi: false });
      case "fmtLossy":
        return new api.FmtLayerConfig({ writer: { file: target }, lossy: true, bufferedLines: 1 });
      case "fmtRolling":
        return new api.FmtLayerConfig({
          writer: { rolling: { directory: target, rotation: "daily", prefix: "app" } },
        });
      case "timeline":
        return new api.TimelineLayerConfig({ path: target });
      case "flame":
        return new api.FlameLayerConfig({ path: target });
      default:
        return null;
    }
  };
  const chosen = layer();
  const tracing = chosen === null ? null : new api.Tracing(
    new api.GlobalTracingConfig({ layers: [chosen], filter: "info" }),
    { library: libraryPath },
  ).enter();
  if (how === "unended") {
    // Never ended: the exit hook ends it, so that it is exported with its children.
    tracing?.startSpan("request").run(() => example.fibonacci(FIB_INDEX, false));
  } else {
    example.fibonacci(FIB_INDEX, false);
  }
  // Not awaited: the program exits while it runs (in Deno, on another thread).
  if (how === "flushing") tracing?.flushAsync().catch(() => {});
  example.runWorkers(2, 3);
  if (how === "dispose") tracing?.dispose();
  console.log(`done ${kind} ${how}`);
}

interface TraceEntry {
  ph: string;
  name: string;
  tid?: number;
}

/** The names of the timeline's spans in the order they ended; fails on a B without its E. */
function closedSpans(path: string): string[] {
  const entries = JSON.parse(readFileSync(path, "utf8")) as TraceEntry[];
  const open = new Map<number, string[]>();
  const ended: string[] = [];
  for (const entry of entries) {
    if (entry.tid === undefined) continue;
    const stack = open.get(entry.tid) ?? [];
    open.set(entry.tid, stack);
    if (entry.ph === "B") stack.push(entry.name);
    else if (entry.ph === "E") {
      assert.equal(stack.pop(), entry.name, `E of ${entry.name} on track ${entry.tid}`);
      ended.push(entry.name);
    }
  }
  for (const [tid, stack] of open) {
    assert.deepEqual(stack, [], `spans begun on track ${tid} never end`);
  }
  return ended;
}

/** The folded stacks of a flame file, checking that every line is `stack count`. */
function foldedStacks(path: string): string[] {
  const text = readFileSync(path, "utf8");
  assert.ok(text.length > 0, "the flame file is empty");
  assert.ok(text.endsWith("\n"), "the flame file's last line is cut off");
  const lines = text.slice(0, -1).split("\n");
  for (const line of lines) assert.match(line, /^\S.* [1-9]\d*$/, `not "stack count": ${line}`);
  return lines.map((line) => line.slice(0, line.lastIndexOf(" "))).sort();
}

/** The fmt file's lines without their timestamps and thread-dependent parts, sorted. */
function fmtLines(path: string): string[] {
  const text = readFileSync(path, "utf8");
  assert.ok(text.endsWith("\n"), "the fmt file's last line is cut off");
  return text.slice(0, -1).split("\n").map((line) => line.replace(/^\S+ +/, "")).sort();
}

/** The names of the spans in an OTLP JSON file, checking that every line parses. */
function otlpJsonSpans(path: string): string[] {
  const text = readFileSync(path, "utf8");
  assert.ok(text.endsWith("\n"), "the OTLP JSON file's last line is cut off");
  const names: string[] = [];
  for (const line of text.slice(0, -1).split("\n")) {
    const data = JSON.parse(line) as {
      resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[];
    };
    for (const resource of data.resourceSpans) {
      for (const scope of resource.scopeSpans) names.push(...scope.spans.map((span) => span.name));
    }
  }
  return names.sort();
}

function countOf(names: string[], name: string): number {
  return names.filter((each) => each === name).length;
}

export function defineExitFlushScenarios(test: TestFn, h: ExitFlushHarness): void {
  const exitNames = h.runtime === "deno" ? "Deno.exit(0)" : "process.exit(0)";
  const run = (kind: ExitKind, how: ExitHow, target: string, protocol?: Protocol) => {
    const result = h.runExitFlushChild([kind, how, target, ...(protocol ? [protocol] : [])]);
    assert.equal(result.code, 0, `${kind} ${how}: exit ${result.code}\n${result.stderr}`);
    assert.equal(result.stderr, "", `${kind} ${how}`);
    assert.match(result.stdout, new RegExp(`done ${kind} ${how}`));
    return result;
  };
  const ends: [ExitHow, string][] = [["end", "falling off the end"], ["exit", exitNames]];

  for (const protocol of ["http/protobuf", "grpc"] as Protocol[]) {
    test(`exit without dispose: otlp ${protocol} sends every span, at the end and on ${exitNames}`, async () => {
      const receiver = await Receiver.start(protocol);
      try {
        for (const [how, label] of ends) {
          await receiver.clear();
          run("otlp", how, receiver.endpoint(), protocol);
          const { spans } = await receiver.received();
          const names = spans.map(({ span }) => span.name);
          assert.equal(countOf(names, "fib"), FIB_SPANS, `${label}: ${names.join(" ")}`);
          assert.equal(countOf(names, "worker"), 2, label);
          assert.equal(names.length, ALL_SPANS, `${label}: nothing else, nothing twice`);
          assert.equal((await receiver.logs()).length, ALL_LOGS, `${label}: every log record`);
        }
      } finally {
        await receiver.stop();
      }
    });
  }

  for (const protocol of ["http/protobuf", "grpc"] as Protocol[]) {
    test(`exit with a flushAsync() in flight: otlp ${protocol} still sends every span on ${exitNames}`, async () => {
      const receiver = await Receiver.start(protocol);
      try {
        run("otlp", "flushing", receiver.endpoint(), protocol);
        const names = (await receiver.received()).spans.map(({ span }) => span.name);
        assert.equal(countOf(names, "fib"), FIB_SPANS, names.join(" "));
        assert.equal(countOf(names, "worker"), 2, "made after flushAsync() started");
        assert.equal(names.length, ALL_SPANS, "nothing else, nothing twice");
        assert.equal((await receiver.logs()).length, ALL_LOGS, "every log record");
      } finally {
        await receiver.stop();
      }
    });
  }

  test(`exit without dispose: a JavaScript span never ended is ended on ${exitNames}, marked and exported`, async () => {
    const receiver = await Receiver.start("http/protobuf");
    try {
      run("otlp", "unended", receiver.endpoint(), "http/protobuf");
      const { spans } = await receiver.received();
      assert.equal(spans.length, ALL_SPANS + 1, spans.map(({ span }) => span.name).join(" "));
      const request = spans.find(({ span }) => span.name === "request")!;
      assert.equal(request.attributes["tracing_bridge.unended"], true);
      const fibRoot = spans.find(({ span, attributes }) =>
        span.name === "fib" && attributes.index === FIB_INDEX
      )!;
      assert.equal(fibRoot.span.parentSpanId, request.span.spanId, "its children nest under it");
      assert.equal(fibRoot.attributes["tracing_bridge.unended"], undefined);
    } finally {
      await receiver.stop();
    }
  });

  test(`exit without dispose: the OTLP JSON file has every line, at the end and on ${exitNames}`, () => {
    const reference = join(h.tempDir(), "disposed.jsonl");
    run("otlpJson", "dispose", reference);
    const expected = otlpJsonSpans(reference);
    assert.equal(expected.length, ALL_SPANS);
    for (const [how, label] of ends) {
      const path = join(h.tempDir(), "spans.jsonl");
      run("otlpJson", how, path);
      assert.deepEqual(otlpJsonSpans(path), expected, label);
    }
  });

  test(`exit without dispose: the non-blocking fmt file and rolling files have every line, at the end and on ${exitNames}`, () => {
    const reference = join(h.tempDir(), "disposed.log");
    run("fmt", "dispose", reference);
    const expected = fmtLines(reference);
    // fib(6): one event per call; 2 workers × 3 events; "workers joined".
    assert.equal(expected.length, FIB_SPANS + 2 * 3 + 1, expected.join("\n"));
    for (const [how, label] of ends) {
      const path = join(h.tempDir(), "app.log");
      run("fmt", how, path);
      assert.deepEqual(fmtLines(path), expected, label);
      const directory = h.tempDir();
      run("fmtRolling", how, directory);
      const files = readdirSync(directory);
      assert.equal(files.length, 1, files.join(", "));
      assert.match(files[0]!, /^app\.\d{4}-\d\d-\d\d$/);
      assert.deepEqual(fmtLines(join(directory, files[0]!)), expected, `rolling, ${label}`);
    }
  });

  test(`exit without dispose: a non-blocking fmt layer on stdout writes every line, at the end and on ${exitNames}`, () => {
    for (const [how, label] of ends) {
      const { stdout } = run("fmtStdout", how, "-");
      const lines = stdout.split("\n").filter((line) => / INFO /.test(line));
      assert.equal(lines.length, FIB_SPANS + 2 * 3 + 1, `${label}:\n${stdout}`);
    }
  });

  test(`exit without dispose: a lossy fmt layer reports the lines it dropped on ${exitNames}, and the rest is written`, () => {
    const path = join(h.tempDir(), "lossy.log");
    const result = h.runExitFlushChild(["fmtLossy", "exit", path]);
    assert.equal(result.code, 0, result.stderr);
    const report =
      /: dropped (\d+) lines? because the queue was full \(lossy: true; raise bufferedLines/
        .exec(result.stderr);
    assert.ok(report, result.stderr);
    assert.match(result.stderr, /dropping lines because the queue is full \(lossy: true\)/);
    const written = readFileSync(path, "utf8").split("\n").filter((line) => line).length;
    assert.equal(written + Number(report[1]), FIB_SPANS + 2 * 3 + 1, result.stderr);
  });

  test(`exit without dispose: the timeline is valid JSON with every span closed, at the end and on ${exitNames}`, () => {
    for (const [how, label] of ends) {
      const path = join(h.tempDir(), "trace.json");
      run("timeline", how, path);
      const ended = closedSpans(path);
      assert.equal(countOf(ended, "fib"), FIB_SPANS, label);
      assert.equal(countOf(ended, "worker"), 2, label);
      assert.equal(countOf(ended, "run_workers"), 1, label);
    }
  });

  test(`exit without dispose: the flame file is complete, at the end and on ${exitNames}`, () => {
    const reference = join(h.tempDir(), "disposed.folded");
    run("flame", "dispose", reference);
    const expected = foldedStacks(reference);
    assert.ok(expected.some((stack) => stack.includes("fib")), expected.join("\n"));
    for (const [how, label] of ends) {
      const path = join(h.tempDir(), "stacks.folded");
      run("flame", how, path);
      assert.deepEqual(foldedStacks(path), expected, label);
    }
  });

  test("a child that never enters a Tracing exits as fast as a plain script", () => {
    const timed = (body: () => ChildResult) => {
      const started = performance.now();
      const result = body();
      const elapsed = performance.now() - started;
      assert.equal(result.code, 0, result.stderr);
      return { elapsed, result };
    };
    // The fastest of three runs of each, so that one slow start does not decide.
    const fastest = (body: () => ChildResult) =>
      Math.min(...[0, 1, 2].map(() => timed(body).elapsed));
    const plain = fastest(() => h.runPlainChild());
    const untraced = fastest(() => run("none", "end", "-"));
    assert.ok(
      untraced < plain + 1000 && untraced < 5000,
      `untraced ${untraced.toFixed(0)} ms, plain ${plain.toFixed(0)} ms`,
    );
    // Bun reports its exit listeners: none was registered.
    const listeners = /exit listeners: (\d+)/.exec(run("none", "end", "-").stdout)?.[1];
    if (listeners !== undefined) assert.equal(listeners, "0");
  });
}
