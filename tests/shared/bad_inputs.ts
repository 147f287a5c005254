/**
 * The bad-input matrix, run identically by `deno test` and `bun test`: every option of every
 * layer config with a wrong type, a value out of range, an empty value, `NaN`, and an unknown
 * key. Each case must fail `enter()` with a `TracingError` whose code is the expected one and
 * whose message names the option as `layers[1].<option>` (layer 0 is a valid fmt layer, so the
 * index is checked too); after every case the process must still trace.
 */

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Harness, TestFn } from "./harness.ts";
import { expectTracingError, readLines } from "./expect.ts";

type Kind = "fmt" | "js" | "timeline" | "flame" | "otlp" | "otlpJson";

/** The shape of an option, which decides its bad values. */
type OptionType =
  | "bool"
  | "enum"
  | "string"
  | "filter"
  | "endpoint"
  | "path"
  | "writer"
  | "fmtWriter"
  | "spanEvents"
  | "headers"
  | "resource"
  | "attributes"
  | "millis"
  | "count"
  | "capacity"
  | "ratio"
  | "object";

type Category = "wrong type" | "out of range" | "empty" | "NaN" | "unknown key";

interface BadValue {
  category: Category;
  value: unknown;
  /** The path the message must name, when deeper than the option (`headers.a`). */
  names?: string;
}

/** Bad values of a map of OpenTelemetry attributes named `name` (`resource`). */
function attributeMapValues(name: string): BadValue[] {
  return [
    { category: "wrong type", value: "a=1" },
    { category: "wrong type", value: { a: [1, "x"] }, names: `${name}.a` },
    { category: "wrong type", value: { a: [[1]] }, names: `${name}.a` },
    { category: "wrong type", value: { a: { b: 1 } }, names: `${name}.a` },
    { category: "empty", value: "" },
    { category: "empty", value: { "": 1 } },
    { category: "NaN", value: NaN },
    { category: "NaN", value: { a: NaN }, names: `${name}.a` },
    { category: "NaN", value: { a: [1, NaN] }, names: `${name}.a[1]` },
  ];
}

const NOT_A_NUMBER: BadValue[] = [
  { category: "NaN", value: NaN },
  { category: "out of range", value: Infinity },
];

/** The bad values of each option type. `""` is the "empty" case of every type. */
const BAD_VALUES: Record<OptionType, BadValue[]> = {
  bool: [
    { category: "wrong type", value: "yes" },
    { category: "empty", value: "" },
    { category: "NaN", value: NaN },
  ],
  enum: [
    { category: "wrong type", value: 5 },
    { category: "out of range", value: "bogus" },
    { category: "empty", value: "" },
    { category: "NaN", value: NaN },
  ],
  string: [
    { category: "wrong type", value: 5 },
    { category: "empty", value: "" },
    { category: "NaN", value: NaN },
  ],
  filter: [
    { category: "wrong type", value: 5 },
    { category: "out of range", value: "info,my_crate=loud" },
    { category: "empty", value: "" },
    { category: "empty", value: " , " },
    { category: "NaN", value: NaN },
  ],
  endpoint: [
    { category: "wrong type", value: 5 },
    { category: "out of range", value: "ftp://127.0.0.1:4317" },
    { category: "empty", value: "" },
    { category: "NaN", value: NaN },
  ],
  path: [
    { category: "wrong type", value: 5 },
    { category: "empty", value: "" },
    { category: "NaN", value: NaN },
  ],
  writer: [
    { category: "wrong type", value: 5 },
    { category: "out of range", value: "printer" },
    { category: "empty", value: "" },
    { category: "empty", value: { file: "" }, names: "writer.file" },
    { category: "wrong type", value: { file: 5 }, names: "writer.file" },
    { category: "NaN", value: NaN },
    { category: "unknown key", value: { pipe: "x" } },
  ],
  fmtWriter: [
    { category: "wrong type", value: 5 },
    { category: "out of range", value: "printer" },
    { category: "empty", value: "" },
    { category: "empty", value: { file: "" }, names: "writer.file" },
    { category: "wrong type", value: { file: 5 }, names: "writer.file" },
    { category: "NaN", value: NaN },
    { category: "unknown key", value: { pipe: "x" } },
    { category: "wrong type", value: { rolling: "logs" }, names: "writer.rolling" },
    { category: "empty", value: { rolling: {} }, names: "writer.rolling" },
    { category: "empty", value: { rolling: { directory: "" } }, names: "writer.rolling.directory" },
    {
      category: "out of range",
      value: { rolling: { directory: ".", rotation: "weekly" } },
      names: "writer.rolling.rotation",
    },
    {
      category: "out of range",
      value: { rolling: { directory: ".", rotation: "daily", maxFiles: 0 } },
      names: "writer.rolling.maxFiles",
    },
    {
      category: "out of range",
      value: { rolling: { directory: ".", rotation: "daily", prefix: "a/b" } },
      names: "writer.rolling.prefix",
    },
    {
      category: "NaN",
      value: { rolling: { directory: ".", rotation: "daily", maxFiles: NaN } },
      names: "writer.rolling.maxFiles",
    },
    {
      category: "unknown key",
      value: { rolling: { directory: ".", keep: 3 } },
      names: "writer.rolling.keep",
    },
  ],
  spanEvents: [
    { category: "wrong type", value: "close" },
    { category: "out of range", value: ["bogus"], names: "spanEvents[0]" },
    { category: "empty", value: "" },
    { category: "NaN", value: NaN },
    { category: "NaN", value: [NaN], names: "spanEvents[0]" },
  ],
  headers: [
    { category: "wrong type", value: "x-key=1" },
    { category: "wrong type", value: { "x-key": 5 }, names: "headers.x-key" },
    { category: "out of range", value: { "bad header": "x" } },
    { category: "empty", value: "" },
    { category: "empty", value: { "": "x" } },
    { category: "NaN", value: NaN },
    { category: "NaN", value: { "x-key": NaN }, names: "headers.x-key" },
  ],
  resource: attributeMapValues("resource"),
  attributes: attributeMapValues("attributes"),
  millis: [
    { category: "wrong type", value: "10" },
    { category: "out of range", value: -1 },
    { category: "out of range", value: 1.5 },
    { category: "empty", value: "" },
    ...NOT_A_NUMBER,
  ],
  count: [
    { category: "wrong type", value: "10" },
    { category: "out of range", value: 0 },
    { category: "out of range", value: -1 },
    { category: "out of range", value: 1.5 },
    { category: "empty", value: "" },
    ...NOT_A_NUMBER,
  ],
  capacity: [
    { category: "wrong type", value: "10" },
    { category: "out of range", value: 0 },
    { category: "out of range", value: -1 },
    { category: "out of range", value: 1.5 },
    { category: "out of range", value: 2 ** 32 },
    { category: "empty", value: "" },
    ...NOT_A_NUMBER,
  ],
  ratio: [
    { category: "wrong type", value: "0.5" },
    { category: "out of range", value: 2 },
    { category: "out of range", value: -0.5 },
    { category: "empty", value: "" },
    ...NOT_A_NUMBER,
  ],
  object: [
    { category: "wrong type", value: 5 },
    { category: "empty", value: "" },
    { category: "NaN", value: NaN },
    { category: "unknown key", value: { bogus: 1 }, names: "bogus" },
  ],
};

const OTEL_OPTIONS: Record<string, OptionType> = {
  serviceName: "string",
  resource: "resource",
  detectResource: "bool",
  sampler: "enum",
  samplerArg: "ratio",
  spanLimits: "object",
  "spanLimits.maxAttributesPerSpan": "count",
  "spanLimits.maxEventsPerSpan": "count",
  "spanLimits.maxLinksPerSpan": "count",
  "spanLimits.maxAttributesPerEvent": "count",
  "spanLimits.maxAttributesPerLink": "count",
  "spanLimits.attributeValueLengthLimit": "count",
  batch: "object",
  "batch.maxQueueSize": "count",
  "batch.maxExportBatchSize": "count",
  "batch.scheduledDelayMs": "millis",
  "batch.exportTimeoutMs": "millis",
  logsBatch: "object",
  "logsBatch.maxQueueSize": "count",
  "logsBatch.maxExportBatchSize": "count",
  "logsBatch.scheduledDelayMs": "millis",
  "logsBatch.exportTimeoutMs": "millis",
  metrics: "object",
  "metrics.exportIntervalMs": "millis",
  "metrics.exportTimeoutMs": "millis",
  "metrics.temporality": "enum",
  spanEvents: "bool",
  scope: "object",
  "scope.name": "string",
  "scope.version": "string",
  "scope.schemaUrl": "string",
  "scope.attributes": "attributes",
  spanAttributes: "object",
  "spanAttributes.location": "bool",
  "spanAttributes.thread": "bool",
  "spanAttributes.busyIdle": "bool",
  "spanAttributes.level": "bool",
  "spanAttributes.target": "bool",
  flushTimeoutMs: "millis",
  filter: "filter",
};

/** Every option each layer config sends to the native library, with its type. */
const OPTIONS: Record<Kind, Record<string, OptionType>> = {
  fmt: {
    writer: "fmtWriter",
    nonBlocking: "bool",
    lossy: "bool",
    bufferedLines: "count",
    format: "enum",
    timer: "enum",
    flattenEvent: "bool",
    currentSpan: "bool",
    spanList: "bool",
    ansi: "bool",
    target: "bool",
    level: "bool",
    threadIds: "bool",
    threadNames: "bool",
    file: "bool",
    line: "bool",
    spanEvents: "spanEvents",
    filter: "filter",
  },
  js: { capacity: "capacity", filter: "filter" },
  timeline: {
    path: "path",
    includeArgs: "bool",
    includeLocations: "bool",
    style: "enum",
    filter: "filter",
  },
  flame: {
    path: "path",
    emptySamples: "bool",
    threadsCollapsed: "bool",
    modulePath: "bool",
    fileAndLine: "bool",
    filter: "filter",
  },
  otlp: {
    endpoint: "endpoint",
    protocol: "enum",
    headers: "headers",
    timeoutMs: "millis",
    compression: "enum",
    exporter: "enum",
    certificate: "path",
    clientCertificate: "path",
    clientKey: "path",
    insecure: "bool",
    signals: "object",
    "signals.traces": "enum",
    "signals.logs": "enum",
    "signals.metrics": "enum",
    ...OTEL_OPTIONS,
  },
  otlpJson: {
    writer: "writer",
    signals: "object",
    "signals.traces": "bool",
    "signals.logs": "bool",
    "signals.metrics": "bool",
    ...OTEL_OPTIONS,
  },
};

/**
 * Some string options accept `""`: `scope.name` and `scope.version` fall back to defaults,
 * an empty `scope.schemaUrl` is none.
 */
const EMPTY_ACCEPTED = new Set(["scope.name", "scope.version", "scope.schemaUrl"]);

/** Kinds whose config class sends only known keys (an unknown key cannot be given). */
const CLOSED_KINDS = new Set<Kind>(["js"]);

export interface BadInputCase {
  kind: Kind;
  option: string;
  category: Category;
  value: unknown;
  /** The path the message must name, after `layers[1].`. */
  names: string;
  code: "INVALID_CONFIG" | "INVALID_FILTER";
}

/** Every case of the matrix. */
export function badInputCases(): BadInputCase[] {
  const cases: BadInputCase[] = [];
  for (const [kind, options] of Object.entries(OPTIONS) as [Kind, Record<string, OptionType>][]) {
    for (const [option, type] of Object.entries(options)) {
      for (const bad of BAD_VALUES[type]) {
        if (bad.category === "empty" && bad.value === "" && EMPTY_ACCEPTED.has(option)) continue;
        const names = bad.names === undefined
          ? option
          : type === "object"
          ? `${option}.${bad.names}`
          : option.replace(/[^.]*$/, "") + bad.names;
        cases.push({
          kind,
          option,
          category: bad.category,
          value: bad.value,
          names,
          code: type === "filter" && typeof bad.value === "string"
            ? "INVALID_FILTER"
            : "INVALID_CONFIG",
        });
      }
    }
    if (!CLOSED_KINDS.has(kind)) {
      cases.push({
        kind,
        option: "colour",
        category: "unknown key",
        value: "red",
        names: "colour",
        code: "INVALID_CONFIG",
      });
    }
  }
  return cases;
}

/** `{ "batch.maxQueueSize": 5 }` as `{ batch: { maxQueueSize: 5 } }`, over `base`. */
function withOption(
  base: Record<string, unknown>,
  option: string,
  value: unknown,
): Record<string, unknown> {
  const [head = "", ...rest] = option.split(".");
  if (rest.length === 0) return { ...base, [head]: value };
  const inner = (base[head] ?? {}) as Record<string, unknown>;
  return { ...base, [head]: withOption(inner, rest.join("."), value) };
}

function display(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return JSON.stringify(
    value,
    (_key, item) => typeof item === "number" && !Number.isFinite(item) ? String(item) : item,
  );
}

export function defineBadInputScenarios(test: TestFn, h: Harness): void {
  const { api, paths } = h;
  const library = () => ({ library: paths.fibonacci });

  function layerOf(kind: Kind, options: Record<string, unknown>, dir: string) {
    switch (kind) {
      case "fmt":
        return new api.FmtLayerConfig({ writer: { file: join(dir, "fmt.log") }, ...options });
      case "js":
        return new api.JsLayerConfig({ onEvent() {} }, options);
      case "timeline":
        return new api.TimelineLayerConfig({ path: join(dir, "timeline.json"), ...options });
      case "flame":
        return new api.FlameLayerConfig({ path: join(dir, "flame.folded"), ...options });
      case "otlp":
        return new api.OtlpLayerConfig({ endpoint: "http://127.0.0.1:9", ...options });
      case "otlpJson":
        return new api.OtlpJsonLayerConfig({
          writer: { file: join(dir, "otlp.jsonl") },
          ...options,
        });
    }
  }

  test("bad-input matrix: every layer option, badly typed, out of range, empty, NaN or unknown, names layers[i].<option>", () => {
    const dir = h.tempDir();
    const cases = badInputCases();
    const failures: string[] = [];
    const categories = new Map<Category, number>();
    for (const badCase of cases) {
      const label = `${badCase.kind} ${badCase.option} = ${
        display(badCase.value)
      } (${badCase.category})`;
      categories.set(badCase.category, (categories.get(badCase.category) ?? 0) + 1);
      const expected = `layers[1].${badCase.names}`;
      let caught: unknown;
      try {
        const layer = layerOf(
          badCase.kind,
          withOption({}, badCase.option, badCase.value),
          dir,
        );
        const tracing = new api.Tracing(
          new api.GlobalTracingConfig({
            layers: [new api.FmtLayerConfig({ writer: { file: join(dir, "first.log") } }), layer],
          }),
          library(),
        );
        tracing.enter();
        tracing[Symbol.dispose]();
      } catch (error) {
        caught = error;
      }
      const error = caught as { name?: string; code?: string; message?: string } | undefined;
      if (error === undefined) {
        failures.push(`${label}: accepted`);
      } else if (error.name !== "TracingError" || error.code !== badCase.code) {
        failures.push(
          `${label}: ${error.name} ${error.code} (expected ${badCase.code}): ${error.message}`,
        );
      } else if (!error.message!.includes(expected)) {
        failures.push(`${label}: message does not name ${expected}: ${error.message}`);
      }
    }
    console.log(
      `bad-input matrix (${h.runtime}): ${cases.length} cases (${
        [...categories].map(([category, count]) => `${count} ${category}`).join(", ")
      }), ${failures.length} failed`,
    );
    assert.deepEqual(failures, [], failures.join("\n"));

    // The process is still usable: a valid config enters and records.
    const log = join(dir, "after.log");
    {
      using _tracing = new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [new api.FmtLayerConfig({ writer: { file: log }, filter: "debug" })],
        }),
        library(),
      ).enter();
      h.example.fibonacci(3, true);
    }
    assert.ok(readLines(log).some((line) => line.includes("computed value=2")), log);
  });

  const fmtTo = (log: string, filter?: string) =>
    new api.Tracing(
      new api.GlobalTracingConfig({
        layers: [new api.FmtLayerConfig({ writer: { file: log }, filter })],
      }),
      library(),
    );

  test("filters written with a space after each comma work as without it", () => {
    const dir = h.tempDir();
    for (
      const [index, filter] of ["off, fibonacci", "off, fibonacci=info", " off ,fibonacci=info "]
        .entries()
    ) {
      const log = join(dir, `spaced${index}.log`);
      {
        using _tracing = fmtTo(log, filter).enter();
        h.example.fibonacci(2, true);
      }
      assert.ok(
        readLines(log).some((line) => line.includes("computed value=1")),
        `${JSON.stringify(filter)} recorded nothing`,
      );
    }
    // A non-ASCII target after a space is a target like any other (it used to panic), and
    // setFilter and setLayerFilter trim their directives too.
    const log = join(dir, "accent.log");
    {
      using tracing = fmtTo(log, "off, é=info").enter();
      // The file is written by the layer's writer thread: flush before reading it.
      const computed = () => {
        tracing.flush();
        return readLines(log).filter((line) => line.includes("computed")).length;
      };
      h.example.fibonacci(2, true);
      assert.equal(computed(), 0);
      tracing.setLayerFilter(0, "off, fibonacci=info");
      h.example.fibonacci(2, true);
      const once = computed();
      assert.ok(once > 0);
      tracing.setFilter(" warn , fibonacci=info,  é=debug");
      h.example.fibonacci(2, true);
      assert.equal(computed(), 2 * once);
    }
  });

  test("long or crafted filters are rejected (or accepted) fast, naming the problem", () => {
    const cases = [
      // Each took 0.7 to 1.9 s to parse when field values were compiled as regexes.
      `a[s{f=[ab]*a${"[ab]".repeat(16)}}]=x`,
      `a[s{f=.*a${".".repeat(14)}}]=trace`,
      `a[s{f=${"[a-z]{1,50}".repeat(15)}}]=x`,
      `a[s{f=${"(a|b|c)*[^x]{20}".repeat(22)}}]=trace`,
      `a[s{f=${"\\w{1,9}".repeat(45)}}]`,
      "x[{".repeat(2000),
      Array.from({ length: 1000 }, (_, index) => `t${index}=info`).join(","),
    ];
    for (const filter of cases) {
      const started = performance.now();
      try {
        using _tracing = fmtTo(join(h.tempDir(), "fast.log"), filter).enter();
      } catch (error) {
        assert.equal((error as { code?: string }).code, "INVALID_FILTER", String(error));
        assert.match((error as Error).message, /layers\[0\]\.filter/);
      }
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 250, `${filter.length} bytes took ${elapsed.toFixed(1)} ms`);
    }
  });

  test("NaN, Infinity and out-of-range numbers name the option; messages carry no JSON position", async () => {
    const otlp = (options: Record<string, unknown>) =>
      new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [new api.OtlpLayerConfig({ endpoint: "http://127.0.0.1:9", ...options })],
        }),
        library(),
      );
    expectTracingError(
      () => otlp({ timeoutMs: NaN }).enter(),
      "INVALID_CONFIG",
      /layers\[0\]\.timeoutMs: NaN/,
    );
    expectTracingError(
      () => otlp({ samplerArg: NaN }).enter(),
      "INVALID_CONFIG",
      /layers\[0\]\.samplerArg: NaN/,
    );
    expectTracingError(
      () => otlp({ batch: { maxQueueSize: Infinity } }).enter(),
      "INVALID_CONFIG",
      /layers\[0\]\.batch\.maxQueueSize: Infinity/,
    );
    const capacity = expectTracingError(
      () =>
        new api.Tracing(
          new api.GlobalTracingConfig({
            layers: [new api.JsLayerConfig({ onEvent() {} }, { capacity: 2 ** 32 })],
          }),
          library(),
        ).enter(),
      "INVALID_CONFIG",
      /`layers\[0\]\.capacity`: must be a whole number from 1 to 4294967295, got 4294967296/,
    );
    assert.doesNotMatch(capacity.message, /at line \d+ column \d+/);
    for (const options of [{ format: "fancy" }, { spanEvents: ["new", "open"] }, { ansi: "yes" }]) {
      const error = expectTracingError(
        () =>
          new api.Tracing(
            new api.GlobalTracingConfig({
              layers: [new api.FmtLayerConfig({ writer: "stderr", ...options } as never)],
            }),
            library(),
          ).enter(),
        "INVALID_CONFIG",
        new RegExp(`\`layers\\[0\\]\\.${Object.keys(options)[0]}(\\[1\\])?\`: `),
      );
      assert.doesNotMatch(error.message, /at line \d+ column \d+/);
    }
    const dir = h.tempDir();
    const folded = join(dir, "stacks.folded");
    writeFileSync(folded, "main;work 100\n");
    let rejected: unknown;
    try {
      await api.renderFlameSvg(folded, join(dir, "x.svg"), { minWidth: NaN }, library());
    } catch (error) {
      rejected = error;
    }
    expectTracingError(
      () => {
        if (rejected) throw rejected;
      },
      "INVALID_CONFIG",
      /options\.minWidth: NaN/,
    );
  });

  test("a NUL in a library path or in a span name, target or field name is a typed error naming it", () => {
    expectTracingError(
      () =>
        new api.Tracing(new api.GlobalTracingConfig({ layers: [] }), {
          library: `${paths.fibonacci}\0.txt`,
        }),
      "INVALID_PARAMETER",
      /^library: .* NUL/,
    );
    expectTracingError(() => api.openLibrary("a\0b"), "INVALID_PARAMETER", /^library: /);
    using tracing = new api.Tracing(
      new api.GlobalTracingConfig({
        layers: [new api.FmtLayerConfig({ writer: "stderr", filter: "off" })],
      }),
      library(),
    ).enter();
    expectTracingError(
      () => tracing.span("a\0b", () => 1),
      "INVALID_PARAMETER",
      /^span name "a\\u0000b" contains a NUL/,
    );
    expectTracingError(
      () => tracing.startSpan("ok", { target: "app\0x" }),
      "INVALID_PARAMETER",
      /^target "app\\u0000x" contains a NUL/,
    );
    expectTracingError(
      () => tracing.span("ok", { "bad\0field": 1 }, () => 1),
      "INVALID_PARAMETER",
      /^field name "bad\\u0000field" contains a NUL/,
    );
    expectTracingError(
      () => tracing.event("info", "message\0 is fine", { "x\0": 1 }),
      "INVALID_PARAMETER",
      /^field name "x\\u0000" contains a NUL/,
    );
    tracing.event("info", "a NUL in a message or a value is data: \0", { value: "\0" });
    assert.equal(tracing.span("still works", { index: 1 }, () => 7), 7);
  });
}
