/**
 * Embedding scenarios, run identically by `deno test` and `bun test`: a user's own library
 * (`examples/template`, `libmy_library.so`) and the fibonacci example, each embedding the shim;
 * the C ABI they export; two of them in one process; closing and exiting after dispose.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Api, ChildResult, FibonacciLibrary, TestFn } from "./harness.ts";
import { at, readLines } from "./expect.ts";

/** The template library's own function. */
export interface MyLibrary {
  sum(count: number): bigint | number;
}

/** Paths of the native libraries under test (by default `target/release/`). */
export interface LibraryPaths {
  /** The fibonacci example (embeds the shim). */
  fibonacci: string;
  /** The template, `examples/template` (embeds the shim). */
  myLibrary: string;
  /** The shim's own cdylib. */
  shim: string;
}

export interface EmbeddingHarness {
  runtime: "deno" | "bun";
  api: Api;
  fibonacci: Pick<FibonacciLibrary, "fibonacci" | "runWorkers">;
  myLibrary: MyLibrary;
  paths: LibraryPaths;
  /** The names in this runtime's symbol table of the C ABI (`deno/ffi.ts`, `bun/ffi.ts`). */
  boundSymbols: string[];
  /** A new empty directory. */
  tempDir(): string;
  /** Runs `tests/<runtime>/child_exit.ts` (see `exitChild`) with these arguments. */
  runExitChild(args: string[]): ChildResult;
}

/** Where the library directory comes from when the tests run against another build. */
export const LIBRARY_DIR_ENV_VAR = "TRACING_BRIDGE_TEST_LIB_DIR";

/** The paths of the three libraries in `directory`. */
export function libraryPaths(directory: string): LibraryPaths {
  return {
    fibonacci: join(directory, "libfibonacci.so"),
    myLibrary: join(directory, "libmy_library.so"),
    shim: join(directory, "libtracing_bridge.so"),
  };
}

/** The default library directory: the local release build. */
export const releaseDirectory: string = fileURLToPath(
  new URL("../../target/release/", import.meta.url),
);

const headerPath = fileURLToPath(new URL("../../bindings/tracing_bridge.h", import.meta.url));

/** The functions the C header declares. */
function headerFunctions(): string[] {
  const names = readFileSync(headerPath, "utf8").matchAll(/\b(tracing_bridge_\w+)\(/g);
  return [...new Set([...names].map((match) => match[1] ?? ""))].sort();
}

/** The dynamic symbols a library defines, as `nm -D --defined-only` lists them. */
function exportedFunctions(path: string): Set<string> {
  const listing = execFileSync("nm", ["-D", "--defined-only", path], { encoding: "utf8" });
  const names = listing.split("\n").map((line) => line.split(" "))
    .filter((fields) => fields[1] === "T").map((fields) => fields[2] ?? "");
  return new Set(names);
}

/** The `FLAGS_1` entry of a library's dynamic section. */
function dynamicFlags(path: string): string {
  const dynamic = execFileSync("readelf", ["-d", path], { encoding: "utf8" });
  return dynamic.split("\n").find((line) => line.includes("(FLAGS_1)")) ?? "";
}

/** What `exitChild` prints as its last line. */
export interface ExitChildReport {
  mode: "close" | "exit-entered";
  /** Threads alive after dispose that were not alive before `enter()`, as `tid:name`. */
  leftoverThreads: string[];
}

export function defineEmbeddingScenarios(test: TestFn, h: EmbeddingHarness): void {
  const { api, paths } = h;
  const fileLayer = (path: string, options: Record<string, unknown> = {}) =>
    new api.FmtLayerConfig({ writer: { file: path }, filter: "debug", ...options });

  test("the template and the example export every C function the bindings and header name", () => {
    const needed = [...new Set([...h.boundSymbols, ...headerFunctions()])].sort();
    assert.ok(needed.includes("tracing_bridge_abi_version"), needed.join(" "));
    assert.ok(needed.length >= 9, `only ${needed.length} names: ${needed.join(" ")}`);
    for (const library of [paths.myLibrary, paths.fibonacci, paths.shim]) {
      const exported = exportedFunctions(library);
      const missing = needed.filter((name) => !exported.has(name));
      assert.deepEqual(missing, [], `${library} does not export: ${missing.join(", ")}`);
    }
    assert.ok(exportedFunctions(paths.myLibrary).has("my_library_sum"));
  });

  test("libraries embedding the shim are linked with -z nodelete", () => {
    for (const library of [paths.myLibrary, paths.fibonacci, paths.shim]) {
      assert.match(dynamicFlags(library), /\bNODELETE\b/, `${library} lacks DF_1_NODELETE`);
    }
  });

  test("two libraries in one process: each its own Tracing, neither sees the other's spans", () => {
    const dir = h.tempDir();
    const fibonacciLog = join(dir, "fibonacci.log");
    const myLog = join(dir, "my_library.jsonl");
    const fibonacciTracing = new api.Tracing(
      new api.GlobalTracingConfig({ layers: [fileLayer(fibonacciLog, { threadNames: true })] }),
      { library: paths.fibonacci },
    ).enter();
    // Global in both at once: each library has its own copy of `tracing`, its own dispatcher.
    const myTracing = new api.Tracing(
      new api.GlobalTracingConfig({ layers: [fileLayer(myLog, { format: "json" })] }),
      { library: paths.myLibrary },
    ).enter();
    assert.notEqual(fibonacciTracing.library, myTracing.library);

    assert.equal(Number(h.fibonacci.fibonacci(5, true)), 5);
    assert.equal(Number(h.fibonacci.runWorkers(2, 3)), 6);
    assert.equal(Number(h.myLibrary.sum(4)), 10);
    myTracing.dispose();
    // Only the template's config is gone: the example still logs, the template no longer.
    h.myLibrary.sum(2);
    h.fibonacci.fibonacci(3, true);
    fibonacciTracing.dispose();

    const fibonacciLines = readLines(fibonacciLog);
    assert.ok(fibonacciLines.length > 0);
    for (const line of fibonacciLines) assert.match(line, / fibonacci: /, line);
    assert.equal(fibonacciLines.filter((line) => line.includes("worker event")).length, 6);
    assert.equal(fibonacciLines.filter((line) => /computed value=(5|2)$/.test(line)).length, 2);
    assert.ok(!fibonacciLines.some((line) => line.includes("my_library")));

    const records = readLines(myLog).map((line) => JSON.parse(line));
    assert.deepEqual(new Set(records.map((record) => record.target)), new Set(["my_library"]));
    assert.deepEqual(records.map((record) => record.span.count), [4, 4, 4, 4, 4]);
    assert.deepEqual(records.at(-1).fields, { message: "summed", total: 10 });
  });

  test("a failed resolution lists every place of the search order and what each gave", () => {
    const missing = join(h.tempDir(), "libnothing.so");
    let message = "";
    try {
      api.openLibrary(missing);
    } catch (error) {
      message = (error as Error).message;
    }
    const lines = message.split("\n");
    assert.equal(lines[0], "could not load a tracing-bridge library. Tried:", message);
    assert.match(
      at(lines, 1),
      /^ {2}1\. .*libnothing\.so \(from the path argument\): .*No such file/,
    );
    assert.equal(
      lines[2],
      "  2. $TRACING_BRIDGE_LIB: not consulted: the path argument comes first",
    );
    assert.match(at(lines, 3), /Pass the path of your library .*set TRACING_BRIDGE_LIB/);
    assert.doesNotMatch(message, /cargo build/);
  });

  test("close() refuses while a Tracing is entered; after dispose it closes and reopens", () => {
    const log = join(h.tempDir(), "reopen.log");
    const library = api.openLibrary(paths.myLibrary);
    const tracing = new api.Tracing(
      new api.GlobalTracingConfig({ layers: [fileLayer(log)] }),
      { library },
    ).enter();
    assert.throws(() => library.close(), { name: "TracingError", code: "LIBRARY_IN_USE" });
    tracing.dispose();
    library.close();
    assert.throws(() => library.native, { code: "DISPOSED" });
    const reopened = api.openLibrary(paths.myLibrary);
    assert.notEqual(reopened, library);
    {
      using _again = new api.Tracing(
        new api.GlobalTracingConfig({ layers: [fileLayer(log, { filter: "info" })] }),
        { library: reopened },
      ).enter();
      h.myLibrary.sum(3);
    }
    assert.deepEqual(readLines(log).map((line) => / summed total=(\d+)$/.exec(line)?.[1]), ["6"]);
  });

  test("closing the libraries after dispose and exiting is clean, 20 times in a row", () => {
    for (let run = 0; run < 20; run++) {
      const dir = h.tempDir();
      const result = h.runExitChild(["close", dir, paths.fibonacci, paths.myLibrary]);
      assert.equal(result.code, 0, `run ${run}: exit ${result.code}\n${result.stderr}`);
      assert.equal(result.stderr, "", `run ${run}`);
      const report: ExitChildReport = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
      assert.deepEqual(report.leftoverThreads, [], `run ${run}: threads left after dispose`);
      assert.equal(
        readLines(join(dir, "fibonacci.log")).filter((line) => line.includes("worker event"))
          .length,
        100,
      );
      assert.match(readLines(join(dir, "my_library.log")).at(-1)!, /summed total=55$/);
    }
  });

  test("exiting with a Tracing still entered and the libraries open is clean, 5 times", () => {
    for (let run = 0; run < 5; run++) {
      const dir = h.tempDir();
      const result = h.runExitChild(["exit-entered", dir, paths.fibonacci, paths.myLibrary]);
      assert.equal(result.code, 0, `run ${run}: exit ${result.code}\n${result.stderr}`);
      assert.equal(result.stderr, "", `run ${run}`);
      assert.match(readLines(join(dir, "my_library.log")).at(-1)!, /summed total=55$/);
    }
  });
}

/** Names of this process's threads, by thread id (Linux `/proc`). */
export function liveThreads(): Map<string, string> {
  const threads = new Map<string, string>();
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      threads.set(tid, readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim());
    } catch {
      // The thread ended while we listed it.
    }
  }
  return threads;
}

/**
 * The body of the exit children (`tests/<runtime>/child_exit.ts`): traces both libraries into
 * `dir`, then either disposes, checks that no thread started meanwhile is left, and closes
 * every handle (`close`), or returns with everything still entered and open (`exit-entered`).
 * Either way the process then exits normally.
 */
export function exitChild(
  api: Api,
  own: {
    fibonacci: Pick<FibonacciLibrary, "fibonacci" | "runWorkers">;
    myLibrary: MyLibrary;
    close(): void;
  },
  [mode, dir = "", fibonacciPath = "", myLibraryPath = ""]: string[],
): ExitChildReport {
  const fibonacci = api.openLibrary(fibonacciPath);
  const myLibrary = api.openLibrary(myLibraryPath);
  const before = liveThreads();
  const layer = (file: string) =>
    new api.FmtLayerConfig({ writer: { file: join(dir, file) }, filter: "info" });
  const tracings = [
    new api.Tracing(new api.GlobalTracingConfig({ layers: [layer("fibonacci.log")] }), {
      library: fibonacci,
    }).enter(),
    new api.Tracing(new api.GlobalTracingConfig({ layers: [layer("my_library.log")] }), {
      library: myLibrary,
    }).enter(),
  ];
  own.fibonacci.runWorkers(4, 25);
  own.myLibrary.sum(10);
  if (mode === "exit-entered") return { mode, leftoverThreads: [] };
  for (const tracing of tracings) tracing.dispose();
  const leftoverThreads = [...liveThreads()]
    .filter(([tid]) => !before.has(tid))
    .map(([tid, name]) => `${tid}:${name}`);
  fibonacci.close();
  myLibrary.close();
  own.close();
  return { mode: "close", leftoverThreads };
}
