/**
 * The PyO3 guide's dummy Python layer, translated line by line (`examples/python-layer/`), gets
 * the records the Python one gets; `JSON.stringify` of any record works, bigints included. Run
 * identically by `deno test` and `bun test`.
 */

import assert from "node:assert/strict";
import type { Api, ChildResult, TestFn } from "./harness.ts";
import { at } from "./expect.ts";

/** What the scenarios need from each runtime. */
export interface PythonLayerHarness {
  runtime: "deno" | "bun";
  api: Api;
  fibonacciPath: string;
  /** Runs `examples/python-layer/<runtime>.ts` and returns what it printed. */
  runExample(): ChildResult;
  /** The example library's `emit_wide_values` (u64::MAX, i64::MIN, u128::MAX fields). */
  emitWideValues(): void;
  /** The example library's `record_result(value)` (records `result` on a `job` span). */
  recordResult(value: bigint): void;
}

interface Printed {
  kind: string;
  record: Record<string, unknown> | undefined;
  id: string | undefined;
  state: string;
}

/** `[kind]: <json or id> | <state>`; `on_new_span` prints its span and id, not its state. */
function parse(line: string): Printed {
  const match = /^\[(on_new_span|on_event|on_close|on_record)\]: (.*) \| (\S+)$/.exec(line);
  assert.ok(match, `not a layer line: ${line}`);
  const [, kind = "", body = "", last = ""] = match;
  if (kind === "on_new_span") {
    return { kind, record: JSON.parse(body), id: last, state: "" };
  }
  const state = last;
  if (kind === "on_event") return { kind, record: JSON.parse(body), id: undefined, state };
  return { kind, record: undefined, id: body, state };
}

export function definePythonLayerScenarios(test: TestFn, h: PythonLayerHarness): void {
  const { api } = h;

  test("python layer: the translated layer gets the Python layer's records, TRACE and DEBUG too", () => {
    const { code, stdout, stderr } = h.runExample();
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split("\n");
    assert.equal(lines.at(-1), "10th fibonacci number:  55n");
    const printed = lines.slice(0, -1).map(parse);
    assert.deepEqual(printed.map((each) => each.kind), [
      "on_new_span",
      ...Array(12).fill("on_event"),
      "on_close",
    ]);
    const span = at(printed, 0);
    const rest = printed.slice(1);
    const close = rest.pop()!;
    assert.equal(span.record?.name, "fib");
    assert.equal(span.record?.level, "INFO");
    assert.deepEqual(span.record?.fields, { index: 10, use_memoized: true });
    assert.equal(close.id, span.id, "on_close names the span on_new_span announced");
    const state = Number(close.state);
    assert.ok(Number.isInteger(state) && state >= 1 && state <= 1000, close.state);
    for (const each of rest) assert.equal(each.state, close.state, "the span's state");
    const events = rest.map(({ record }) => ({
      level: record?.level,
      message: record?.message,
      fields: record?.fields,
    }));
    const steps = [0, 1, 1, 2, 3, 5, 8, 13, 21, 34].map((value, step) => ({
      level: "DEBUG",
      message: "step",
      fields: { step, value },
    }));
    assert.deepEqual(events, [
      { level: "TRACE", message: "computing", fields: {} },
      ...steps,
      { level: "INFO", message: "computed", fields: { value: 55 } },
    ]);
  });

  test("json: JSON.stringify works on every record, bigint fields as decimal strings", () => {
    const json: string[] = [];
    const events: { fields: Record<string, unknown> }[] = [];
    {
      using _tracing = new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [
            new api.JsLayerConfig({
              onNewSpan: (span) => void json.push(JSON.stringify(span)),
              onEvent: (event) => {
                events.push(event);
                json.push(JSON.stringify(event));
              },
              onRecord: (_id, values) => void json.push(JSON.stringify(values)),
            }),
          ],
        }),
        { library: h.fibonacciPath },
      ).enter();
      h.emitWideValues();
      h.recordResult(2n ** 64n - 2n);
    }
    const [wide, job, recorded, done] = json.map((text) => JSON.parse(text));
    assert.deepEqual(wide.fields, {
      big_unsigned: "18446744073709551615",
      big_signed: "-9223372036854775808",
      safe: 9007199254740991,
      huge: "340282366920938463463374607431768211455",
      text: "naïve ☃",
    });
    assert.equal(wide.message, "wide values");
    assert.equal(job.name, "job");
    assert.deepEqual(recorded, { result: "18446744073709551614" });
    assert.equal(done.message, "job done");
    // The values stay bigints for JavaScript; `toJSON` is not an enumerable field.
    const fields = at(events, 0).fields;
    assert.equal(fields.big_unsigned, 2n ** 64n - 1n);
    assert.deepEqual(Object.keys(fields), ["big_unsigned", "big_signed", "safe", "huge", "text"]);
    assert.deepEqual({ ...fields }, {
      big_unsigned: 2n ** 64n - 1n,
      big_signed: -(2n ** 63n),
      safe: 9007199254740991,
      huge: 2n ** 128n - 1n,
      text: "naïve ☃",
    });
  });
}
