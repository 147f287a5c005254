/**
 * Performance insight scenarios (timeline, flame graph, runtime filters), run identically by
 * `deno test` and `bun test`.
 */

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LayerConfig } from "../../bindings/config.ts";
import { countPixels, viewInChromium } from "./chromium.ts";
import type { Harness, TestFn } from "./harness.ts";

/** What the insight scenarios need from a runtime. */
export type InsightHarness = Pick<Harness, "runtime" | "api" | "paths" | "tempDir"> & {
  example: Pick<Harness["example"], "fibonacci" | "runWorkers">;
};

interface TraceEntry {
  ph: string;
  name: string;
  tid?: number;
  ts?: number;
  args?: Record<string, unknown>;
}

interface Track {
  /** Span names in the order they ended. */
  spans: string[];
  /** Event names. */
  events: string[];
  deepest: number;
}

/** Replays begin/end pairs per thread, failing on any that do not nest. */
function tracksOf(entries: TraceEntry[]): Map<number, Track> {
  const tracks = new Map<number, Track>();
  const open = new Map<number, { name: string; ts: number }[]>();
  for (const entry of entries) {
    if (entry.tid === undefined || entry.ph === "M") continue;
    const track = tracks.get(entry.tid) ?? { spans: [], events: [], deepest: 0 };
    tracks.set(entry.tid, track);
    const stack = open.get(entry.tid) ?? [];
    open.set(entry.tid, stack);
    if (entry.ph === "B") {
      stack.push({ name: entry.name, ts: entry.ts! });
      track.deepest = Math.max(track.deepest, stack.length);
    } else if (entry.ph === "E") {
      const begun = stack.pop();
      assert.equal(begun?.name, entry.name, `E of ${entry.name} on track ${entry.tid}`);
      assert.ok(entry.ts! >= begun!.ts, "a span ends after it begins");
      track.spans.push(entry.name);
    } else if (entry.ph === "i") {
      track.events.push(entry.name);
    }
  }
  for (const [tid, stack] of open) assert.equal(stack.length, 0, `unclosed spans on ${tid}`);
  return tracks;
}

function threadNames(entries: TraceEntry[]): Map<number, string> {
  return new Map(
    entries
      .filter((entry) => entry.ph === "M" && entry.name === "thread_name")
      .map((entry) => [entry.tid!, String(entry.args?.name)]),
  );
}

/** `[stack without its thread frame, count]` per folded line. */
function foldedLines(path: string): [string, number][] {
  return readFileSync(path, "utf8").split("\n").filter((line) => line.length > 0).map((line) => {
    const cut = line.lastIndexOf(" ");
    const frames = line.slice(0, cut).split("; ").slice(1);
    return [frames.join(";"), Number(line.slice(cut + 1))];
  });
}

/** Every prefix of every stack, thread frame included: the frames of a merged flame graph. */
function distinctPrefixes(path: string): Set<string> {
  const prefixes = new Set<string>();
  for (const line of readFileSync(path, "utf8").split("\n").filter((l) => l.length > 0)) {
    const frames = line.slice(0, line.lastIndexOf(" ")).split("; ");
    frames.forEach((_, index) => prefixes.add(frames.slice(0, index + 1).join(";")));
  }
  return prefixes;
}

/** The titles of the frames in an inferno SVG. */
function frameTitles(svg: string): string[] {
  const frames = svg.slice(svg.indexOf('<svg id="frames"'));
  return [...frames.matchAll(/<g><title>([^<]*)<\/title>/g)].map((match) => match[1] ?? "");
}

async function expectTracingError(
  body: () => unknown,
  code: string,
  pattern?: RegExp,
): Promise<void> {
  let caught: unknown;
  try {
    await body();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof Error, `expected a TracingError with code ${code}, nothing thrown`);
  const error = caught as Error & { code?: string };
  assert.equal(error.name, "TracingError", error.message);
  assert.equal(error.code, code, error.message);
  if (pattern) assert.match(error.message, pattern);
}

/** fibonacci(n) by naive recursion makes 2·F(n+1) − 1 calls. */
function naiveCalls(index: number): number {
  let [current, next] = [0, 1];
  for (let step = 0; step < index + 1; step++) [current, next] = [next, current + next];
  return 2 * current - 1;
}

export function defineInsightScenarios(test: TestFn, h: InsightHarness): void {
  const { api, example, paths } = h;
  const library = () => ({ library: paths.fibonacci });
  const globalTracing = (layers: LayerConfig[], filter?: string) =>
    new api.Tracing(new api.GlobalTracingConfig({ layers, filter }), library());

  test("the timeline pairs every fibonacci span, nested per thread, with workers on their own tracks", () => {
    const path = join(h.tempDir(), "fib.trace.json");
    {
      using _tracing = globalTracing([new api.TimelineLayerConfig({ path })]).enter();
      example.fibonacci(8, false);
      example.runWorkers(3, 4);
    }
    const entries = JSON.parse(readFileSync(path, "utf8")) as TraceEntry[];
    const tracks = tracksOf(entries);
    const names = threadNames(entries);
    const [jsThread, js] = [...tracks].find(([, track]) => track.spans.includes("fib"))!;
    assert.equal(js.spans.filter((name) => name === "fib").length, naiveCalls(8));
    assert.equal(js.deepest, 8, "fib(8) recurses 8 deep");
    assert.ok(js.spans.includes("run_workers"));
    assert.ok(names.has(jsThread), "the JavaScript thread's track is named");
    const firstFib = entries.find((entry) => entry.ph === "B" && entry.name === "fib")!;
    assert.deepEqual(firstFib.args, { index: 8, use_memoized: false });

    for (const worker of [0, 1, 2]) {
      const tid = [...names].find(([, name]) => name === `worker-${worker}`)?.[0];
      assert.ok(tid !== undefined && tid !== jsThread, `worker-${worker} has its own track`);
      assert.deepEqual(tracks.get(tid)!.spans, ["worker"]);
      assert.deepEqual(tracks.get(tid)!.events, Array(4).fill("worker event"));
    }
  });

  test("the folded stacks hold the nested fibonacci stacks with nanosecond counts", () => {
    const path = join(h.tempDir(), "fib.folded");
    {
      using _tracing = globalTracing([new api.FlameLayerConfig({ path })]).enter();
      example.fibonacci(5, false);
    }
    const lines = foldedLines(path);
    const stacks = new Set(lines.map(([stack]) => stack));
    const expected = [1, 2, 3, 4, 5].map((depth) => Array(depth).fill("fibonacci::fib").join(";"));
    assert.deepEqual([...stacks].sort(), expected, lines.join("\n"));
    for (const [stack, count] of lines) {
      assert.ok(Number.isInteger(count) && count > 0, `${stack} has a count: ${count}`);
    }
  });

  test("renderFlameSvg draws one frame per distinct stack, and a flame chart one per call", async () => {
    const dir = h.tempDir();
    const flame = new api.FlameLayerConfig({ path: join(dir, "fib.folded") });
    const tracing = globalTracing([flame]).enter();
    example.fibonacci(6, false);
    tracing.dispose();

    await tracing.renderFlameSvg(join(dir, "graph.svg"), { minWidth: 0 });
    const graph = frameTitles(readFileSync(join(dir, "graph.svg"), "utf8"));
    assert.equal(graph.length, distinctPrefixes(flame.path).size + 1, graph.join("\n"));
    assert.match(graph.find((title) => title.startsWith("all "))!, /^all \([\d,]+ ns, 100%\)$/);

    await tracing.renderFlameSvg(join(dir, "chart.svg"), {
      style: "chart",
      minWidth: 0,
      title: "fib(6), call by call",
    });
    const chartSvg = readFileSync(join(dir, "chart.svg"), "utf8");
    assert.ok(chartSvg.includes(">fib(6), call by call<"));
    const calls = frameTitles(chartSvg).filter((title) => title.startsWith("fibonacci::fib "));
    assert.equal(calls.length, naiveCalls(6));
  });

  test("the flame graph SVG opens in headless Chromium without errors and is not blank", async () => {
    const dir = h.tempDir();
    const flame = new api.FlameLayerConfig({ path: join(dir, "fib.folded") });
    {
      using _tracing = globalTracing([flame]).enter();
      example.fibonacci(9, false);
      example.runWorkers(2, 3);
    }
    const svgPath = join(dir, "fib.svg");
    await api.renderFlameSvg(flame.path, svgPath, {}, library());
    const view = viewInChromium(svgPath);
    assert.equal(view.code, 0, view.log);
    assert.ok(
      !view.dom.includes("parsererror"),
      `the SVG did not parse:\n${view.dom.slice(0, 800)}`,
    );
    assert.match(view.dom, /<svg [^>]*onload="init\(evt\)"/);
    assert.equal(frameTitles(view.dom).length, frameTitles(readFileSync(svgPath, "utf8")).length);
    assert.doesNotMatch(view.log, /Uncaught|SyntaxError|ReferenceError|TypeError/);

    const { screenshot } = view;
    assert.equal(screenshot.width, 1200);
    // Frames are drawn in the "hot" palette (red high, blue low); the background never is.
    const framePixels = countPixels(screenshot, (red, _green, blue) => red - blue > 120);
    const share = framePixels / (screenshot.width * screenshot.height);
    assert.ok(share > 0.01, `frames cover ${(share * 100).toFixed(2)}% of the screenshot`);
    const dark = countPixels(screenshot, (red, green, blue) => red + green + blue < 150);
    assert.ok(dark > 100, "frame labels are drawn");
  });

  test("setFilter raised from info to trace records trace events at once, and lowering removes them", () => {
    const log = join(h.tempDir(), "levels.log");
    const tracing = globalTracing([new api.FmtLayerConfig({ writer: { file: log } })], "info")
      .enter();
    // The file is written by the layer's writer thread: flush before reading it.
    const levelsOf = (run: () => void) => {
      tracing.flush();
      const before = readFileSync(log, "utf8").split("\n").filter((l) => l).length;
      run();
      tracing.flush();
      return readFileSync(log, "utf8").split("\n").filter((l) => l).slice(before)
        .map((line) => line.split(/\s+/)[1]);
    };
    assert.deepEqual(levelsOf(() => example.fibonacci(2, true)), ["INFO"]);
    tracing.setFilter("trace");
    assert.deepEqual(levelsOf(() => example.fibonacci(2, true)), [
      "TRACE",
      "DEBUG",
      "DEBUG",
      "INFO",
    ]);
    tracing.setFilter("info");
    assert.deepEqual(levelsOf(() => example.fibonacci(2, true)), ["INFO"]);
    tracing.setFilter("fibonacci=debug");
    assert.deepEqual(levelsOf(() => example.fibonacci(1, true)), ["DEBUG", "INFO"]);
    tracing.dispose();
  });

  test("an invalid directive throws INVALID_FILTER naming it, and the old filter stays", async () => {
    const log = join(h.tempDir(), "invalid.log");
    const tracing = globalTracing([new api.FmtLayerConfig({ writer: { file: log } })], "debug")
      .enter();
    await expectTracingError(
      () => tracing.setFilter("info,fibonacci=loud"),
      "INVALID_FILTER",
      /`fibonacci=loud` in the new filter.*the previous filter stays in effect/,
    );
    await expectTracingError(
      () => tracing.setLayerFilter(0, "[["),
      "INVALID_FILTER",
      /layers\[0\]/,
    );
    example.fibonacci(1, true);
    tracing.dispose();
    const levels = readFileSync(log, "utf8").split("\n").filter((l) => l).map((l) =>
      l.split(/\s+/)[1]
    );
    assert.deepEqual(levels, ["DEBUG", "INFO"]);
    await expectTracingError(() => tracing.setFilter("info"), "DISPOSED");
  });

  test("setLayerFilter changes one layer's filter and not the others'", async () => {
    const dir = h.tempDir();
    const quiet = new api.FmtLayerConfig({
      writer: { file: join(dir, "quiet.log") },
      filter: "warn",
    });
    const steady = new api.FmtLayerConfig({
      writer: { file: join(dir, "steady.log") },
      filter: "info",
    });
    const tracing = globalTracing([quiet, steady]).enter();
    example.fibonacci(1, true);
    tracing.setLayerFilter(quiet, "debug");
    example.fibonacci(1, true);
    tracing.setLayerFilter(0, "error");
    example.fibonacci(1, true);
    await expectTracingError(
      () => tracing.setLayerFilter(new api.FmtLayerConfig(), "info"),
      "INVALID_CONFIG",
      /not in this Tracing's config/,
    );
    await expectTracingError(() => tracing.setLayerFilter(2, "info"), "INVALID_CONFIG", /index 2/);
    tracing.dispose();
    const count = (file: string) =>
      readFileSync(join(dir, file), "utf8").split("\n").filter((l) => l).length;
    assert.equal(count("quiet.log"), 2, "only the debug run: one step and the result");
    assert.equal(count("steady.log"), 3, "the result of each run");
  });

  test("an unwritable timeline or flame path is a FILE_NOT_WRITABLE error naming the field", async () => {
    const missing = join(h.tempDir(), "no", "such", "dir");
    await expectTracingError(
      () => globalTracing([new api.TimelineLayerConfig({ path: join(missing, "t.json") })]).enter(),
      "FILE_NOT_WRITABLE",
      /layers\[0\]\.path: directory `.*no\/such\/dir` does not exist/,
    );
    await expectTracingError(
      () =>
        globalTracing([
          new api.FmtLayerConfig({ writer: "stderr" }),
          new api.FlameLayerConfig({ path: h.tempDir() }),
        ]).enter(),
      "FILE_NOT_WRITABLE",
      /layers\[1\]\.path: cannot create/,
    );
    await expectTracingError(
      () => new api.TimelineLayerConfig({} as never),
      "INVALID_CONFIG",
      /needs a `path`/,
    );
  });

  test("rendering errors are typed: missing folded file, no stacks, no flame layer", async () => {
    const dir = h.tempDir();
    await expectTracingError(
      () => api.renderFlameSvg(join(dir, "none.folded"), join(dir, "x.svg"), {}, library()),
      "FILE_NOT_READABLE",
      /none\.folded/,
    );
    writeFileSync(join(dir, "empty.folded"), "");
    await expectTracingError(
      () => api.renderFlameSvg(join(dir, "empty.folded"), join(dir, "x.svg"), {}, library()),
      "NO_STACKS",
      /no stacks/,
    );
    const tracing = globalTracing([new api.FmtLayerConfig({ writer: "stderr" })]).enter();
    tracing.dispose();
    await expectTracingError(
      () => tracing.renderFlameSvg(join(dir, "x.svg")),
      "INVALID_CONFIG",
      /no FlameLayerConfig/,
    );
    await expectTracingError(
      () =>
        api.renderFlameSvg(join(dir, "empty.folded"), join(dir, "x.svg"), {
          style: "sideways" as "graph",
        }, library()),
      "INVALID_CONFIG",
      /`sideways`/,
    );
  });
}
