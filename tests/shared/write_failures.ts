/**
 * Outputs that fail are reported, never lost in silence:
 * - an fmt or flame layer writing to a full disk (`/dev/full`): flush throws, naming the file;
 * - the same with the process's stderr on a full disk too (a real child): every note the writer
 *   thread prints fails as well, and yet no thread dies and nothing waits forever: flush and
 *   dispose report, and the child exits;
 * - a process killed while it writes OTLP JSON lines leaves no half line for a reader: a real
 *   child (`tests/<runtime>/write_failures_child.ts`) writes lines of ~700 KB to one file and is
 *   killed with SIGKILL, again and again, mostly while inside a write. Every newline-terminated
 *   line must parse; what follows the last newline (at most the line the last kill cut short)
 *   must be the start of a line, which the next writer cuts.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expectTracingError } from "./expect.ts";
import type { Harness, TestFn } from "./harness.ts";

const ROUNDS = 12;

/** The child: writes big OTLP JSON lines to `path` until it is killed. */
export function runTornLinesChild(api: Harness["api"], libraryPath: string, path: string): void {
  const tracing = new api.Tracing(
    new api.GlobalTracingConfig({
      layers: [
        new api.OtlpJsonLayerConfig({
          writer: { file: path },
          batch: { maxExportBatchSize: 64, scheduledDelayMs: 600_000 },
          filter: "info",
        }),
      ],
    }),
    { library: libraryPath },
  ).enter();
  const payload = "x".repeat(10_000); // a line of ~700 KB
  for (let line = 0;; line++) {
    for (let span = 0; span < 64; span++) {
      tracing.span("big", { line, span, payload }, () => {});
    }
    tracing.flush();
  }
}

/** Events the stderr child sends to a full disk: more than the fmt queue holds (128 000). */
export const FULL_DISK_EVENTS = 150_000;

/**
 * The child whose stderr is a full disk: fmt lines to `/dev/full` until more than the queue
 * holds were sent, so that a writer thread that had died would leave `event` waiting forever.
 * Prints what flush and dispose reported on stdout (its stderr fails).
 */
export function runFullStderrChild(api: Harness["api"], libraryPath: string): void {
  const tracing = new api.Tracing(
    new api.GlobalTracingConfig({
      layers: [new api.FmtLayerConfig({ writer: { file: "/dev/full" }, filter: "info" })],
    }),
    { library: libraryPath },
  ).enter();
  for (let event = 0; event < FULL_DISK_EVENTS; event++) {
    tracing.event("info", "to a full disk", { event });
  }
  const outcome = (step: () => void) => {
    try {
      step();
      return "ok";
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    }
  };
  const flushed = outcome(() => tracing.flush());
  const disposed = outcome(() => tracing.dispose());
  console.log(JSON.stringify({ flushed, disposed }));
}

const size = (path: string) => existsSync(path) ? statSync(path).size : 0;

/**
 * Spins (to be quick) until `path` is caught in the middle of a line: it grew, and its last
 * byte is not a newline. Gives up after `ms`; returns whether it caught one.
 */
function waitForMidLine(path: string, ms: number): boolean {
  const deadline = Date.now() + ms;
  const fd = openSync(path, "r");
  const last = new Uint8Array(1);
  try {
    let seen = size(path);
    while (Date.now() < deadline) {
      const now = fstatSync(fd).size;
      if (now === seen) continue;
      seen = now;
      readSync(fd, last, 0, 1, now - 1);
      if (last[0] !== 0x0a) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

export function defineWriteFailureScenarios(test: TestFn, h: Harness): void {
  const { api, example } = h;
  const library = () => ({ library: h.paths.fibonacci });

  test("fmt to a full disk: flush throws, naming the file and counting the lost events", () => {
    using tracing = new api.Tracing(
      new api.GlobalTracingConfig({
        layers: [new api.FmtLayerConfig({ writer: { file: "/dev/full" }, filter: "info" })],
      }),
      library(),
    ).enter();
    example.fibonacci(5, false);
    expectTracingError(
      () => tracing.flush(),
      "FILE_NOT_WRITABLE",
      /^fmt layer layers\[0\]: `\/dev\/full`: \d+ events? could not be written: .*No space left/,
    );
    // Reported once: the next flush has nothing new to report.
    tracing.flush();
  });

  test("fmt to a full disk with stderr on a full disk too: nothing dies or waits forever", async () => {
    // Each note the writer thread prints to stderr fails too; a panic there once killed the
    // thread, and the lossless queue then waited forever once full.
    const script = fileURLToPath(
      new URL(`../${h.runtime}/write_failures_child.ts`, import.meta.url),
    );
    const args = h.runtime === "deno"
      ? ["run", "--allow-ffi", "--allow-read", "--allow-write", "--allow-env", script]
      : [script];
    // A shell points the child's stderr at /dev/full (Deno opens device files only with -A).
    const child = spawn(
      "sh",
      ["-c", 'exec "$@" 2>/dev/full', "sh", process.execPath, ...args, "--stderr-full"],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    let stdout = "";
    child.stdout!.on("data", (chunk) => stdout += chunk);
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.on("close", (code, signal) => resolve([code, signal]))
    );
    clearTimeout(timer);
    assert.equal(signal, null, `the child hung (killed after 60 s); stdout: ${stdout}`);
    assert.equal(code, 0, stdout);
    // The lost lines are reported by flush; dispose has nothing new to report.
    assert.deepEqual(JSON.parse(stdout.trim().split("\n").at(-1)!), {
      flushed: "FILE_NOT_WRITABLE",
      disposed: "ok",
    });
  });

  test("flame to a full disk: flush and dispose throw, naming the file", () => {
    const tracing = new api.Tracing(
      new api.GlobalTracingConfig({
        layers: [new api.FlameLayerConfig({ path: "/dev/full", filter: "trace" })],
      }),
      library(),
    ).enter();
    example.fibonacci(5, false);
    const named =
      /^flame layer layers\[0\]: `\/dev\/full`: cannot write the folded stacks: .*No space/;
    expectTracingError(() => tracing.flush(), "FILE_NOT_WRITABLE", named);
    // The stacks are still unwritten when dispose flushes one last time.
    expectTracingError(() => tracing.dispose(), "FILE_NOT_WRITABLE", named);
    assert.ok(tracing.disposed);
  });

  test("otlpJson: a writer killed mid-line again and again leaves only whole lines", async () => {
    // A round whose kill lands between lines leaves a clean file that may be large (the child
    // writes for up to 5 s): the next round then starts a new file, so none grows without bound.
    const directory = h.tempDir();
    let files = 0;
    const newFile = () => join(directory, `spans-${files++}.jsonl`);
    let file = newFile();
    const script = fileURLToPath(
      new URL(`../${h.runtime}/write_failures_child.ts`, import.meta.url),
    );
    const args = () =>
      h.runtime === "deno"
        ? ["run", "--allow-ffi", "--allow-read", "--allow-write", "--allow-env", script, file]
        : [script, file];
    let torn = 0;
    let cut = 0;
    let midLine = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const child = spawn(process.execPath, args(), { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr!.on("data", (chunk) => stderr += chunk);
      let done = false;
      const exited = new Promise((resolve) => child.on("close", resolve)).then(() => done = true);
      // Let the child start and write, without blocking the event loop meanwhile.
      const started = Date.now();
      while (size(file) === 0 && !done && Date.now() - started < 30_000) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.ok(size(file) > 0, `round ${round}: the child wrote nothing in 30 s\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10 * round));
      // Most kills land inside a write; the rest (none caught within 5 s) wherever.
      if (waitForMidLine(file, 5_000)) midLine++;
      child.kill("SIGKILL");
      await exited;
      cut += stderr.split("\n").filter((line) => line.includes("ended in a torn line")).length;

      // Read as bytes and parse line by line: the file may be larger than a string can be.
      const bytes = readFileSync(file);
      const end = bytes.lastIndexOf(0x0a) + 1;
      let lines = 0;
      for (let start = 0; start < end;) {
        const stop = bytes.indexOf(0x0a, start);
        const line = bytes.toString("utf8", start, stop);
        assert.doesNotThrow(
          () => JSON.parse(line),
          `round ${round}: line ${lines} (${line.length} bytes) does not parse`,
        );
        lines++;
        start = stop + 1;
      }
      assert.ok(lines > 0, `round ${round}: no whole line`);
      const tail = bytes.toString("utf8", end, Math.min(bytes.length, end + 64));
      if (tail.length > 0) {
        torn++;
        assert.ok(
          tail.startsWith('{"resourceSpans":'),
          `round ${round}: tail ${tail.slice(0, 40)}`,
        );
      } else if (bytes.length > 64 << 20) {
        file = newFile();
      }
    }
    // Every torn line but the last was found and cut by the next writer.
    assert.ok(cut <= torn && cut >= torn - 1, `torn ${torn}, cut ${cut}`);
    console.log(
      `${ROUNDS} kills, ${midLine} caught mid-line: ${torn} torn lines, ${cut} cut by the next writer`,
    );
  });
}
