/**
 * Records logged through Rust's `log` crate, run identically by `deno test` and `bun test`: the
 * example library's `fibonacci(100, true)` saturates and says so with `log::warn!` inside its
 * `fib` span. Every layer shows the record with its own target (`fibonacci`, not `log`), module
 * path, file and line, inside the span, and the filters see that target.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EventData, LayerConfig, SpanData } from "../../bindings/public.ts";
import type { Harness, TestFn } from "./harness.ts";
import { attributes, type OtlpSpan } from "./receiver.ts";
import { withReceiver } from "./otlp.ts";
import { at, readLines } from "./expect.ts";

/** The message of the example library's `log::warn!`. */
const WARNING =
  "fibonacci(100) does not fit in 64 bits; returning u64::MAX (index 93 is the largest that fits)";
const SOURCE_FILE = /examples\/fibonacci\/src\/lib\.rs$/;
const U64_MAX = 18446744073709551615n;

export function defineLogCrateScenarios(test: TestFn, h: Harness): void {
  const { api, example, paths } = h;
  const library = () => ({ library: paths.fibonacci });
  const global = (layers: LayerConfig[], filter?: string) =>
    new api.Tracing(new api.GlobalTracingConfig({ layers, filter }), library()).enter();
  const saturate = () => assert.equal(BigInt(example.fibonacci(100, true)), U64_MAX);

  test("log crate: a log::warn! inside a span reaches fmt with its own target, location and span", () => {
    const dir = h.tempDir();
    const [full, json] = [join(dir, "fib.log"), join(dir, "fib.jsonl")];
    {
      // `fibonacci=info` lets the record through only if the filter sees its real target.
      using _tracing = global([
        new api.FmtLayerConfig({ writer: { file: full }, filter: "fibonacci=info" }),
        new api.FmtLayerConfig({
          writer: { file: json },
          format: "json",
          file: true,
          line: true,
          filter: "fibonacci=info",
        }),
      ]);
      saturate();
    }
    const lines = readLines(full).filter((line) => line.includes(" WARN "));
    assert.equal(lines.length, 1, readLines(full).join("\n"));
    assert.ok(
      at(lines, 0).includes(`WARN fib{index=100 use_memoized=true}: fibonacci: ${WARNING}`),
      at(lines, 0),
    );
    assert.doesNotMatch(at(lines, 0), /log\./);
    const records = readLines(json).map((line) => JSON.parse(line))
      .filter((record) => record.level === "WARN");
    assert.equal(records.length, 1);
    const record = at(records, 0);
    assert.equal(record.level, "WARN");
    assert.equal(record.target, "fibonacci");
    assert.match(record.filename, SOURCE_FILE);
    assert.equal(typeof record.line_number, "number");
    assert.deepEqual(record.fields, { message: WARNING }, "no log.* fields");
    assert.equal(record.span.name, "fib");
    assert.equal(record.span.index, 100);
  });

  test("log crate: the JS layer gets the record's own metadata, inside its span", () => {
    const events: [EventData, string | undefined][] = [];
    const spans = new Map<number, string>();
    {
      using _tracing = new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [
            new api.JsLayerConfig({
              onNewSpan: (span: SpanData, id: number) => {
                spans.set(id, span.name);
                return `state of ${span.name}(${span.fields.index})`;
              },
              onEvent: (event: EventData, state: string | undefined) => events.push([event, state]),
            }, { filter: "info" }),
          ],
        }),
        library(),
      ).enter();
      saturate();
      saturate();
    }
    const warnings = events.filter(([event]) => event.level === "WARN");
    assert.equal(warnings.length, 2, JSON.stringify(events.map(([event]) => event.message)));
    const [event, state] = at(warnings, 0);
    assert.equal(event.target, "fibonacci");
    assert.equal(event.modulePath, "fibonacci");
    assert.match(event.file ?? "", SOURCE_FILE);
    assert.ok(typeof event.line === "number" && event.line > 0, `line ${event.line}`);
    assert.equal(event.name, "log event");
    assert.equal(event.message, WARNING);
    assert.deepEqual(event.fields, {}, "no log.* fields");
    assert.deepEqual(Object.keys(event.fields), []);
    assert.equal(spans.get(event.parent ?? -1), "fib");
    assert.equal(state, "state of fib(100)");
    // One callsite per place the record was logged: both records share it.
    assert.equal(at(warnings, 1)[0].metadata, event.metadata);
    assert.deepEqual(event.metadata, {
      name: "log event",
      target: "fibonacci",
      level: "WARN",
      modulePath: "fibonacci",
      file: event.file,
      line: event.line,
    });
  });

  test("log crate: the timeline shows the record with its own target and location", () => {
    const path = join(h.tempDir(), "fib.trace.json");
    {
      using _tracing = global([new api.TimelineLayerConfig({ path, filter: "warn" })]);
      saturate();
    }
    const entries = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>[];
    const instants = entries.filter((entry) => entry.ph === "i");
    assert.equal(instants.length, 1, JSON.stringify(instants));
    const entry = at(instants, 0);
    assert.equal(entry.name, WARNING);
    assert.equal(entry.cat, "fibonacci");
    assert.match(entry[".file"] as string, SOURCE_FILE);
    assert.equal(typeof entry[".line"], "number");
    assert.deepEqual(entry.args, { message: WARNING });
  });

  /** Checks the span event of the warning in the `fib` span of an OTLP export. */
  const assertSpanEvent = (spans: OtlpSpan[]) => {
    assert.deepEqual(spans.map((span) => span.name), ["fib"]);
    const events = at(spans, 0).events ?? [];
    const warning = events.find((event) => event.name === WARNING);
    assert.ok(warning, JSON.stringify(events));
    const fields = attributes(warning.attributes);
    assert.equal(fields.target, "fibonacci");
    assert.equal(fields.level, "WARN");
    assert.equal(fields["code.module.name"], "fibonacci");
    assert.match(fields["code.file.path"] as string, SOURCE_FILE);
    assert.equal(typeof fields["code.line.number"], "number");
    assert.deepEqual(Object.keys(fields).filter((key) => key.startsWith("log.")), []);
  };

  test("log crate: otlpJson exports the record as a span event with its own target", () => {
    const path = join(h.tempDir(), "spans.jsonl");
    {
      using _tracing = global([
        new api.OtlpJsonLayerConfig({ writer: { file: path }, filter: "fibonacci=info" }),
      ]);
      saturate();
    }
    const spans = readLines(path).flatMap((line) =>
      JSON.parse(line).resourceSpans.flatMap((resource: { scopeSpans: { spans: OtlpSpan[] }[] }) =>
        resource.scopeSpans.flatMap((scope) => scope.spans)
      )
    );
    assertSpanEvent(spans);
  });

  test("log crate: otlp http/protobuf delivers the record as a span event with its own target", async () => {
    await withReceiver("http/protobuf", async (receiver) => {
      {
        using _tracing = global([
          new api.OtlpLayerConfig({
            endpoint: receiver.endpoint(),
            protocol: "http/protobuf",
            filter: "fibonacci=info",
          }),
        ]);
        saturate();
      }
      const { spans } = await receiver.received();
      assertSpanEvent(spans.map(({ span }) => span));
    });
  });

  test("log crate: setFilter raises and lowers what log lets through, by the record's target", () => {
    const path = join(h.tempDir(), "fib.log");
    const layer = new api.FmtLayerConfig({ writer: { file: path } });
    const warnings = () => readLines(path).filter((line) => line.includes(WARNING)).length;
    using tracing = global([layer], "error");
    saturate();
    assert.equal(warnings(), 0, "error lets no warning through");
    tracing.setFilter("warn");
    saturate();
    assert.equal(warnings(), 1, "raised to warn");
    tracing.setFilter("error");
    saturate();
    assert.equal(warnings(), 1, "lowered to error again");
    tracing.setFilter("log=warn,error");
    saturate();
    assert.equal(warnings(), 1, "the target is fibonacci, not log");
    tracing.setFilter("fibonacci=warn,error");
    saturate();
    assert.equal(warnings(), 2);
    tracing.setFilter("warn");
    tracing.setLayerFilter(layer, "error");
    saturate();
    assert.equal(warnings(), 2, "a layer's own filter applies too");
    tracing.setLayerFilter(layer, "fibonacci=warn");
    saturate();
    assert.equal(warnings(), 3);
  });

  test("log crate: a current-thread config gets the records of its thread", () => {
    const path = join(h.tempDir(), "fib.log");
    {
      using _tracing = new api.Tracing(
        new api.CurrentThreadTracingConfig({
          layers: [new api.FmtLayerConfig({ writer: { file: path }, filter: "warn" })],
        }),
        library(),
      ).enter();
      saturate();
    }
    const lines = readLines(path);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.ok(at(lines, 0).includes(`fibonacci: ${WARNING}`), at(lines, 0));
  });
}
