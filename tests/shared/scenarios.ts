/**
 * The scenarios of the vertical slice, run identically by `deno test` and `bun test`.
 */

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Harness, TestFn } from "./harness.ts";
import { at, expectTracingError, readLines } from "./expect.ts";

export function defineScenarios(test: TestFn, h: Harness): void {
  const { api, example, paths } = h;
  const library = () => ({ library: paths.fibonacci });
  const fileLayer = (path: string, options: Record<string, unknown> = {}) =>
    new api.FmtLayerConfig({ writer: { file: path }, ...options });

  test("fmt to a file has the fibonacci spans and events with their fields", () => {
    const log = join(h.tempDir(), "fib.log");
    {
      using _tracing = new api.Tracing(
        new api.GlobalTracingConfig({ layers: [fileLayer(log, { filter: "debug" })] }),
        library(),
      ).enter();
      assert.equal(Number(example.fibonacci(5, true)), 5);
    }
    const lines = readLines(log);
    const steps = lines.filter((line) => line.includes(" step "));
    assert.equal(steps.length, 5, lines.join("\n"));
    assert.match(
      at(steps, 0),
      /DEBUG fib\{index=5 use_memoized=true\}: fibonacci: step step=0 value=0/,
    );
    assert.match(
      lines.at(-1)!,
      /INFO fib\{index=5 use_memoized=true\}: fibonacci: computed value=5/,
    );
  });

  test("json format parses line by line with the expected keys", () => {
    const log = join(h.tempDir(), "fib.jsonl");
    {
      using _tracing = new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [fileLayer(log, { format: "json", filter: "debug", threadNames: true })],
        }),
        library(),
      ).enter();
      example.fibonacci(3, true);
    }
    const records = readLines(log).map((line) => JSON.parse(line));
    assert.equal(records.length, 4);
    for (const record of records) {
      for (const key of ["timestamp", "level", "fields", "target", "span", "spans", "threadName"]) {
        assert.ok(key in record, `missing ${key} in ${JSON.stringify(record)}`);
      }
      assert.equal(record.target, "fibonacci");
      assert.equal(record.span.name, "fib");
      assert.equal(record.span.index, 3);
    }
    assert.deepEqual(records[1].fields, { message: "step", step: 1, value: 1 });
    assert.deepEqual(records[3].fields, { message: "computed", value: 2 });
    assert.equal(records[3].level, "INFO");
  });

  test("a per-layer filter keeps debug out of one layer while another gets it", () => {
    const dir = h.tempDir();
    const infoLog = join(dir, "info.log");
    const debugLog = join(dir, "debug.log");
    {
      using _tracing = new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [
            fileLayer(infoLog, { filter: "info" }),
            fileLayer(debugLog, { filter: "debug" }),
          ],
        }),
        library(),
      ).enter();
      example.fibonacci(4, true);
    }
    const info = readLines(infoLog);
    const debug = readLines(debugLog);
    assert.equal(info.length, 1, info.join("\n"));
    assert.match(at(info, 0), / INFO .*computed value=3/);
    assert.equal(debug.filter((line) => line.includes("DEBUG")).length, 4);
    assert.equal(debug.length, 5);
  });

  test("a global filter applies before each layer's own", () => {
    const log = join(h.tempDir(), "global.log");
    {
      using _tracing = new api.Tracing(
        new api.GlobalTracingConfig({
          filter: "info",
          layers: [fileLayer(log, { filter: "trace" })],
        }),
        library(),
      ).enter();
      example.fibonacci(4, true);
    }
    assert.deepEqual(readLines(log).map((line) => line.split(" ")[2]), ["INFO"]);
  });

  test("events of every Rust worker thread reach a global config, with every field kind", () => {
    const log = join(h.tempDir(), "workers.log");
    {
      using _tracing = new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [fileLayer(log, { threadNames: true, filter: "info" })],
        }),
        library(),
      ).enter();
      assert.equal(Number(example.runWorkers(4, 50)), 200);
    }
    const events = readLines(log).filter((line) => line.includes("worker event"));
    assert.equal(events.length, 200);
    for (let worker = 0; worker < 4; worker++) {
      const mine = events.filter((line) => line.includes(` worker-${worker} `));
      assert.equal(mine.length, 50);
      const sequences = mine.map((line) => Number(/ sequence=(\d+)/.exec(line)![1]));
      assert.deepEqual(sequences, [...Array(50).keys()], "per-thread order is kept");
    }
    const third = events.find((line) =>
      line.includes(" worker-2 ") && line.endsWith(" sequence=3")
    )!;
    assert.match(
      third,
      /run_workers\{threads=4 events_per_thread=50\}:worker\{index=2\}: fibonacci: worker event text="hello" signed=-3 unsigned=3 float=1\.5 flag=false point=Point \{ x: 2, y: 3 \} error=item 2 failed/,
    );
  });

  test("a current-thread config sees the JS thread's spans and not other Rust threads'", () => {
    const log = join(h.tempDir(), "thread.log");
    {
      using _tracing = new api.Tracing(
        new api.CurrentThreadTracingConfig({ layers: [fileLayer(log, { filter: "info" })] }),
        library(),
      ).enter();
      example.fibonacci(6, true);
      example.runWorkers(2, 10);
    }
    const lines = readLines(log);
    assert.equal(lines.filter((line) => line.includes("computed value=8")).length, 1);
    assert.equal(lines.filter((line) => line.includes("workers joined emitted=20")).length, 1);
    assert.equal(lines.filter((line) => line.includes("worker event")).length, 0);
    assert.equal(lines.length, 2, lines.join("\n"));
  });

  test("a global config can be disposed and another started, which then works", () => {
    const dir = h.tempDir();
    const first = join(dir, "first.log");
    const second = join(dir, "second.log");
    const tracing = new api.Tracing(
      new api.GlobalTracingConfig({ layers: [fileLayer(first)] }),
      library(),
    ).enter();
    example.fibonacci(2, true);
    tracing.dispose();
    example.fibonacci(7, true);
    {
      using _again = new api.Tracing(
        new api.GlobalTracingConfig({ layers: [fileLayer(second, { format: "json" })] }),
        library(),
      ).enter();
      example.fibonacci(8, true);
    }
    example.fibonacci(9, true);
    assert.deepEqual(readLines(first).map((line) => /computed value=(\d+)/.exec(line)?.[1]), ["1"]);
    const again = readLines(second).map((line) => JSON.parse(line));
    assert.deepEqual(again.map((record) => record.fields.value), [21]);
  });

  test("dispose is idempotent, flush works while entered, and use after dispose throws", async () => {
    const log = join(h.tempDir(), "dispose.log");
    const tracing = new api.Tracing(
      new api.GlobalTracingConfig({ layers: [fileLayer(log)] }),
      library(),
    );
    assert.equal(tracing.active, false);
    tracing.enter();
    assert.equal(tracing.active, true);
    tracing.flush();
    expectTracingError(() => tracing.enter(), "ALREADY_ENTERED", /already entered/);
    tracing.dispose();
    tracing.dispose();
    await tracing[Symbol.asyncDispose]();
    assert.equal(tracing.disposed, true);
    expectTracingError(() => tracing.enter(), "DISPOSED", /create a new Tracing/);
    expectTracingError(() => tracing.flush(), "DISPOSED");
  });

  test("await using disposes a global config", async () => {
    const log = join(h.tempDir(), "async.log");
    {
      await using _tracing = new api.Tracing(
        new api.GlobalTracingConfig({ layers: [fileLayer(log)] }),
        library(),
      ).enter();
      example.fibonacci(3, true);
    }
    example.fibonacci(3, true);
    assert.equal(readLines(log).length, 1);
  });

  test("a second global config while one is active fails clearly", () => {
    const dir = h.tempDir();
    using _first = new api.Tracing(
      new api.GlobalTracingConfig({ layers: [fileLayer(join(dir, "a.log"))] }),
      library(),
    ).enter();
    const second = new api.Tracing(
      new api.GlobalTracingConfig({ layers: [fileLayer(join(dir, "b.log"))] }),
      library(),
    );
    expectTracingError(() => second.enter(), "GLOBAL_ALREADY_ACTIVE", /dispose it before/);
    assert.equal(second.active, false);
  });

  test("a library path that does not exist is a clear error", () => {
    const missing = join(h.tempDir(), "libnothing.so");
    expectTracingError(
      () => api.openLibrary(missing),
      "LIBRARY_NOT_FOUND",
      new RegExp(`Tried:\\n.*libnothing\\.so \\(from the path argument\\)`),
    );
  });

  test("a library without the shim's symbols is a clear error", () => {
    expectTracingError(
      () => api.openLibrary(paths.notABridge),
      "LIBRARY_MISSING_SYMBOLS",
      /does not embed tracing-bridge/,
    );
  });

  test("an ABI mismatch says what was found and what was expected", () => {
    expectTracingError(
      () => api.openLibrary(paths.wrongAbi),
      "ABI_MISMATCH",
      new RegExp(
        `libwrong_abi\\.so .*version 999, but these bindings expect version ${api.ABI_VERSION}`,
      ),
    );
  });

  test("the opened library reports its versions", () => {
    const opened = api.openLibrary(paths.fibonacci);
    assert.equal(opened.abiVersion, api.ABI_VERSION);
    assert.match(opened.version, /^\d+\.\d+\.\d+/);
    assert.equal(api.openLibrary(paths.fibonacci), opened);
  });

  test("an invalid filter directive is named", () => {
    const tracing = new api.Tracing(
      new api.GlobalTracingConfig({
        layers: [new api.FmtLayerConfig({ filter: "info,fibonacci=loud" })],
      }),
      library(),
    );
    expectTracingError(
      () => tracing.enter(),
      "INVALID_FILTER",
      /`fibonacci=loud` in layers\[0\]\.filter/,
    );
    expectTracingError(
      () =>
        new api.Tracing(
          new api.GlobalTracingConfig({ filter: "[[", layers: [new api.FmtLayerConfig()] }),
          library(),
        ).enter(),
      "INVALID_FILTER",
      /in filter/,
    );
  });

  test("an unknown format or writer names the field and the choices", () => {
    const badFormat = new api.FmtLayerConfig({ format: "fancy" as "full" });
    expectTracingError(
      () =>
        new api.Tracing(new api.GlobalTracingConfig({ layers: [badFormat] }), library()).enter(),
      "INVALID_CONFIG",
      /layers\[0\].*unknown variant `fancy`, expected one of `full`, `compact`, `pretty`, `json`/,
    );
    const badWriter = new api.FmtLayerConfig({ writer: "printer" as "stdout" });
    expectTracingError(
      () =>
        new api.Tracing(new api.GlobalTracingConfig({ layers: [badWriter] }), library()).enter(),
      "INVALID_CONFIG",
      /unknown variant `printer`, expected one of `stdout`, `stderr`, `file`/,
    );
    expectTracingError(
      () => new api.GlobalTracingConfig({ layers: [{}] as never }),
      "INVALID_CONFIG",
      /layers\[0\] is not a layer config/,
    );
  });

  test("a file in a missing directory, or a path that is not a writable file, is a clear error", () => {
    const dir = h.tempDir();
    const inMissingDir = fileLayer(join(dir, "no", "such", "dir", "x.log"));
    expectTracingError(
      () =>
        new api.Tracing(new api.GlobalTracingConfig({ layers: [inMissingDir] }), library()).enter(),
      "FILE_NOT_WRITABLE",
      /layers\[0\]\.writer\.file: directory `.*no\/such\/dir` does not exist/,
    );
    const aDirectory = join(dir, "a-directory");
    mkdirSync(aDirectory);
    expectTracingError(
      () =>
        new api.Tracing(
          new api.GlobalTracingConfig({ layers: [fileLayer(aDirectory)] }),
          library(),
        ).enter(),
      "FILE_NOT_WRITABLE",
      /cannot open .*a-directory` for appending/,
    );
    // A failed enter installs nothing: a valid config can start right after.
    writeFileSync(join(dir, "ok.log"), "");
    using _ok = new api.Tracing(
      new api.GlobalTracingConfig({ layers: [fileLayer(join(dir, "ok.log"))] }),
      library(),
    ).enter();
  });

  test("TRACING_BRIDGE_LIB names the library when no path is given", () => {
    const result = h.runChild("child_resolve.ts", { TRACING_BRIDGE_LIB: paths.fibonacci }, [
      "--allow-ffi",
      "--allow-env",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /opened .*libfibonacci\.so/);
    const missing = h.runChild("child_resolve.ts", { TRACING_BRIDGE_LIB: "/nonexistent/libx.so" }, [
      "--allow-ffi",
      "--allow-env",
    ]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /LIBRARY_NOT_FOUND/);
    assert.match(missing.stderr, /\/nonexistent\/libx\.so \(from \$TRACING_BRIDGE_LIB\)/);
    assert.match(missing.stderr, /1\. the path argument: none given\n/);
    assert.doesNotMatch(missing.stderr, /local release build|cargo build/);
  });
}
