/**
 * The fmt layer writing files the way Rust services do (`tracing-appender`), run identically by
 * `deno test` and `bun test`: a worker thread writes behind a bounded queue, losing nothing by
 * default and counting what it drops when `lossy`; rolling files named by date, pruned beyond
 * `maxFiles`; the `timer` and json options; bad combinations as typed errors naming the option.
 * (Exit without dispose: `tests/shared/exit_flush.ts`.)
 */

import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LayerConfig } from "../../bindings/config.ts";
import { expectTracingError } from "./expect.ts";
import type { Api, FibonacciLibrary, TestFn } from "./harness.ts";

export interface FmtFilesHarness {
  api: Api;
  example: Pick<FibonacciLibrary, "fibonacci" | "runWorkers">;
  paths: { fibonacci: string };
  tempDir(): string;
}

/** fibonacci(n) by naive recursion makes 2·F(n+1) − 1 calls, each with one info event. */
function naiveCalls(index: number): number {
  let [current, next] = [0, 1];
  for (let step = 0; step < index + 1; step++) [current, next] = [next, current + next];
  return 2 * current - 1;
}

const linesOf = (path: string) => readFileSync(path, "utf8").split("\n").filter((l) => l);

/** Today's UTC date as rolling files name it: `2026-11-30`. */
const utcDate = (at: Date) => at.toISOString().slice(0, 10);

export function defineFmtFileScenarios(test: TestFn, h: FmtFilesHarness): void {
  const { api, example } = h;
  const tracingOf = (layers: LayerConfig[]) =>
    new api.Tracing(new api.GlobalTracingConfig({ layers, filter: "info" }), {
      library: h.paths.fibonacci,
    });

  test("fmt to a file under load, queue of 8 lines: every line is written by dispose, none dropped", () => {
    const path = join(h.tempDir(), "load.log");
    const tracing = tracingOf([
      new api.FmtLayerConfig({ writer: { file: path }, bufferedLines: 8 }),
    ]).enter();
    example.fibonacci(15, false);
    // Three Rust threads at once with the JavaScript thread's fibonacci.
    example.runWorkers(3, 2_000);
    example.fibonacci(12, false);
    tracing.dispose();
    const lines = linesOf(path);
    const expected = naiveCalls(15) + 3 * 2_000 + 1 + naiveCalls(12);
    assert.equal(lines.length, expected);
    assert.equal(tracing.droppedSpans, 0);
    assert.equal(lines.filter((line) => line.includes("worker event")).length, 6_000);
  });

  test("fmt flush() writes everything queued before it, and the file grows while tracing", () => {
    const path = join(h.tempDir(), "flush.log");
    using tracing = tracingOf([new api.FmtLayerConfig({ writer: { file: path } })]).enter();
    example.fibonacci(10, false);
    tracing.flush();
    assert.equal(linesOf(path).length, naiveCalls(10));
    example.fibonacci(5, false);
    tracing.flush();
    assert.equal(linesOf(path).length, naiveCalls(10) + naiveCalls(5));
  });

  test("fmt lossy: a full queue drops lines, counted in droppedSpans, and the rest is written", () => {
    const path = join(h.tempDir(), "lossy.log");
    const tracing = tracingOf([
      new api.FmtLayerConfig({ writer: { file: path }, lossy: true, bufferedLines: 1 }),
    ]).enter();
    example.fibonacci(16, false);
    tracing.dispose();
    const written = linesOf(path).length;
    assert.ok(tracing.droppedSpans > 0, "a 1-line queue overflows");
    assert.equal(written + tracing.droppedSpans, naiveCalls(16), `${written} written`);
  });

  test("fmt stdout and stderr can be non-blocking too", () => {
    using tracing = tracingOf([
      new api.FmtLayerConfig({ writer: "stderr", nonBlocking: true, filter: "off" }),
    ]).enter();
    example.fibonacci(3, false);
    tracing.flush();
    assert.equal(tracing.droppedSpans, 0);
  });

  test("fmt rolling daily: today's file carries the UTC date, and maxFiles prunes older files", () => {
    const dir = h.tempDir();
    // Older files of the same prefix and suffix, created beforehand, and files that are not.
    for (const old of ["2020-01-01", "2020-01-02", "2020-01-03"]) {
      writeFileSync(join(dir, `app.${old}.log`), "old\n");
    }
    writeFileSync(join(dir, "app.notes.log"), "kept\n");
    writeFileSync(join(dir, "other.2020-01-01.log"), "kept\n");
    const before = new Date();
    const tracing = tracingOf([
      new api.FmtLayerConfig({
        writer: {
          rolling: { directory: dir, rotation: "daily", prefix: "app", suffix: "log", maxFiles: 2 },
        },
      }),
    ]).enter();
    example.fibonacci(8, false);
    tracing.dispose();
    const after = new Date();
    const files = readdirSync(dir).sort();
    const today = [utcDate(before), utcDate(after)].map((date) => `app.${date}.log`);
    const current = files.find((file) => today.includes(file));
    assert.ok(current, `one of ${today.join(", ")} in ${files.join(", ")}`);
    assert.deepEqual(
      files,
      ["app.2020-01-03.log", current, "app.notes.log", "other.2020-01-01.log"].sort(),
      "the two newest of app.<date>.log are kept; other names are left alone",
    );
    assert.equal(linesOf(join(dir, current)).length, naiveCalls(8));
  });

  test("fmt rolling minutely and hourly name files by minute and hour; never by prefix alone", () => {
    const dir = h.tempDir();
    for (
      const [rotation, pattern] of [
        ["minutely", /^m\.\d{4}-\d\d-\d\d-\d\d-\d\d\.log$/],
        ["hourly", /^h\.\d{4}-\d\d-\d\d-\d\d\.log$/],
        ["never", /^n\.log$/],
      ] as const
    ) {
      const tracing = tracingOf([
        new api.FmtLayerConfig({
          writer: { rolling: { directory: dir, rotation, prefix: rotation[0], suffix: "log" } },
        }),
      ]).enter();
      example.fibonacci(3, false);
      tracing.dispose();
      const files = readdirSync(dir).filter((file) => file.startsWith(`${rotation[0]}.`));
      assert.equal(files.length, 1, files.join(", "));
      assert.match(files[0]!, pattern);
      assert.equal(linesOf(join(dir, files[0]!)).length, naiveCalls(3));
    }
  });

  test("fmt timer: utc, local, uptime and none stamp lines as tracing-subscriber does", () => {
    const dir = h.tempDir();
    const stamped = (timer: "utc" | "local" | "uptime" | "none") => {
      const path = join(dir, `${timer}.log`);
      const tracing = tracingOf([
        new api.FmtLayerConfig({ writer: { file: path }, timer, ansi: false }),
      ]).enter();
      example.fibonacci(1, false);
      tracing.dispose();
      return linesOf(path)[0]!;
    };
    assert.match(stamped("utc"), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z +INFO /);
    assert.match(
      stamped("local"),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d) +INFO /,
    );
    assert.match(stamped("uptime"), /^ *\d+\.\d+s +INFO /);
    assert.match(stamped("none"), /^ *INFO fib\{/);
  });

  test("fmt json: flattenEvent, currentSpan and spanList shape each object", () => {
    const dir = h.tempDir();
    const objects = (options: Record<string, boolean>) => {
      const path = join(dir, `json-${Object.keys(options).join("-") || "default"}.log`);
      const tracing = tracingOf([
        new api.FmtLayerConfig({ writer: { file: path }, format: "json", ...options }),
      ]).enter();
      example.fibonacci(2, false);
      tracing.dispose();
      return linesOf(path).map((line) => JSON.parse(line) as Record<string, unknown>);
    };
    const [byDefault] = objects({});
    assert.deepEqual((byDefault!.fields as Record<string, unknown>).value, 1);
    assert.equal((byDefault!.span as Record<string, unknown>).name, "fib");
    assert.equal((byDefault!.spans as unknown[]).length, 2, "fib(2) -> fib(1)");
    const [flat] = objects({ flattenEvent: true, currentSpan: false, spanList: false });
    assert.equal(flat!.value, 1);
    assert.equal(flat!.message, "computed");
    assert.equal(flat!.fields, undefined);
    assert.equal(flat!.span, undefined);
    assert.equal(flat!.spans, undefined);
  });

  test("fmt options that would do nothing are typed errors naming the option and the fix", () => {
    const dir = h.tempDir();
    const enter = (options: Record<string, unknown>) => {
      tracingOf([
        new api.FmtLayerConfig({ writer: { file: join(dir, "first.log") } }),
        new api.FmtLayerConfig(options),
      ]).enter().dispose();
    };
    expectTracingError(
      () => enter({ writer: "stderr", flattenEvent: true }),
      "INVALID_CONFIG",
      /layers\[1\]\.flattenEvent: applies to the json format only, and format is "full"; set format: "json"/,
    );
    expectTracingError(
      () => enter({ writer: "stderr", lossy: true }),
      "INVALID_CONFIG",
      /layers\[1\]\.lossy: applies to a non-blocking writer.*set nonBlocking: true/,
    );
    expectTracingError(
      () => enter({ writer: { file: join(dir, "x.log") }, nonBlocking: false, bufferedLines: 9 }),
      "INVALID_CONFIG",
      /layers\[1\]\.bufferedLines: applies to a non-blocking writer/,
    );
    expectTracingError(
      () => enter({ writer: { rolling: { directory: dir, maxFiles: 3, prefix: "a" } } }),
      "INVALID_CONFIG",
      /layers\[1\]\.writer\.rolling\.maxFiles: applies to rotating files.*choose a rotation/,
    );
    expectTracingError(
      () => enter({ writer: { rolling: { directory: dir } } }),
      "INVALID_CONFIG",
      /layers\[1\]\.writer\.rolling: with rotation "never" .* give a `prefix`/,
    );
    expectTracingError(
      () => enter({ writer: { rolling: { directory: join(dir, "none"), rotation: "daily" } } }),
      "FILE_NOT_WRITABLE",
      /layers\[1\]\.writer\.rolling\.directory: `.*none` is not a directory/,
    );
    expectTracingError(
      () => enter({ timer: "gmt" }),
      "INVALID_CONFIG",
      /layers\[1\]\.timer.*`gmt`.*`local`/,
    );
  });
}
