/**
 * One config schema: the options each TypeScript layer config documents against the options the
 * native parser (the Rust serde types) accepts, run identically by `deno test` and `bun test`.
 *
 * The TypeScript side is the option lists of the bindings (`FMT_OPTIONS`, …), which the compiler
 * checks to hold exactly the keys of each options interface. The native side is read from the
 * library at run time: an unknown option is rejected with serde's list of the fields it expected.
 * A field added on one side only fails here; an option the bad-input matrix
 * (`tests/shared/bad_inputs.ts`) does not exercise fails here too.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { FMT_OPTIONS, ROLLING_OPTIONS } from "../../bindings/config.ts";
import { FLAME_OPTIONS } from "../../bindings/flame.ts";
import {
  JS_LAYER_DERIVED_OPTIONS,
  JS_LAYER_LOCAL_OPTIONS,
  JS_LAYER_OPTIONS,
} from "../../bindings/js_layer.ts";
import { OTEL_NESTED_OPTIONS, OTLP_JSON_OPTIONS, OTLP_OPTIONS } from "../../bindings/otlp.ts";
import { TIMELINE_OPTIONS } from "../../bindings/timeline.ts";
import { badInputCases } from "./bad_inputs.ts";
import type { Harness, TestFn } from "./harness.ts";

type Kind = "fmt" | "js" | "timeline" | "flame" | "otlp" | "otlpJson";

/** The options each kind's config class sends to the native library, by kind. */
function sentOptions(): Record<Kind, readonly string[]> {
  const local: readonly string[] = JS_LAYER_LOCAL_OPTIONS;
  return {
    fmt: FMT_OPTIONS,
    js: [...JS_LAYER_OPTIONS.filter((name) => !local.includes(name)), ...JS_LAYER_DERIVED_OPTIONS],
    timeline: TIMELINE_OPTIONS,
    flame: FLAME_OPTIONS,
    otlp: OTLP_OPTIONS,
    otlpJson: OTLP_JSON_OPTIONS,
  };
}

const UNKNOWN = "zzNotAnOption";

/** The fields named after "expected" in serde's unknown-field message. */
function expectedFields(message: string): string[] {
  const match = new RegExp(`unknown field \`${UNKNOWN}\`, (?:expected|there are no fields)(.*)$`)
    .exec(message);
  assert.ok(match, `not an unknown-field message: ${message}`);
  return [...(match[1] ?? "").matchAll(/`(\w+)`/g)].map((field) => field[1] ?? "");
}

const sorted = (names: readonly string[]) => [...names].sort();

export function defineOptionScenarios(test: TestFn, h: Harness): void {
  const { api, paths } = h;

  /** The message of `enter()` for a config whose layer 1 is `layer`, as JSON. */
  function rejection(layer: Record<string, unknown>): string {
    const dir = h.tempDir();
    try {
      const tracing = new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [new api.FmtLayerConfig({ writer: { file: join(dir, "first.log") } }), {
            toJSON: () => layer,
          }],
        }),
        { library: paths.fibonacci },
      );
      tracing.enter();
      tracing.dispose();
    } catch (error) {
      const { name, code, message } = error as { name: string; code: string; message: string };
      assert.equal(`${name} ${code}`, "TracingError INVALID_CONFIG", message);
      return message;
    }
    assert.fail(`accepted ${JSON.stringify(layer)}`);
  }

  test("options: every kind's TypeScript options are exactly the options the native parser accepts", () => {
    const drift: string[] = [];
    for (const [kind, options] of Object.entries(sentOptions()) as [Kind, string[]][]) {
      const message = rejection({ kind, [UNKNOWN]: 1 });
      assert.ok(
        message.includes(`\`layers[1].${UNKNOWN}\``),
        `${kind}: the message does not name layers[1].${UNKNOWN}: ${message}`,
      );
      const native = expectedFields(message);
      const onlyNative = native.filter((name) => !options.includes(name));
      const onlyTs = options.filter((name) => !native.includes(name));
      if (onlyNative.length > 0) drift.push(`${kind}: native only: ${onlyNative.join(", ")}`);
      if (onlyTs.length > 0) drift.push(`${kind}: TypeScript only: ${onlyTs.join(", ")}`);
    }
    assert.deepEqual(drift, [], drift.join("\n"));
  });

  test("options: the OpenTelemetry object options hold exactly the fields the native parser accepts", () => {
    const drift: string[] = [];
    for (const kind of ["otlp", "otlpJson"] as const) {
      for (const [option, fields] of Object.entries(OTEL_NESTED_OPTIONS)) {
        const message = rejection({ kind, [option]: { [UNKNOWN]: 1 } });
        assert.ok(message.includes(`\`layers[1].${option}.${UNKNOWN}\``), message);
        const native = expectedFields(message);
        if (sorted(native).join() !== sorted(fields).join()) {
          drift.push(
            `${kind} ${option}: native ${native.join(", ")}; TypeScript ${fields.join(", ")}`,
          );
        }
      }
    }
    assert.deepEqual(drift, [], drift.join("\n"));
  });

  test("options: the fmt rolling writer holds exactly the fields the native parser accepts", () => {
    const message = rejection({
      kind: "fmt",
      writer: { rolling: { directory: h.tempDir(), [UNKNOWN]: 1 } },
    });
    assert.ok(message.includes(`\`layers[1].writer.rolling.${UNKNOWN}\``), message);
    assert.deepEqual(sorted(expectedFields(message)), sorted(ROLLING_OPTIONS));
  });

  test("options: each config class sends every option it is given", () => {
    const dir = h.tempDir();
    const given = (names: readonly string[]) =>
      Object.fromEntries(names.map((name) => [name, name === "onError" ? () => {} : name]));
    const path = { path: join(dir, "out") };
    const sent: Record<Kind, Record<string, unknown>> = {
      fmt: new api.FmtLayerConfig(given(FMT_OPTIONS)).toJSON(),
      js: new api.JsLayerConfig({ onEvent() {} }, given(JS_LAYER_OPTIONS)).toJSON(),
      timeline: new api.TimelineLayerConfig({ ...given(TIMELINE_OPTIONS), ...path }).toJSON(),
      flame: new api.FlameLayerConfig({ ...given(FLAME_OPTIONS), ...path }).toJSON(),
      otlp: new api.OtlpLayerConfig(given(OTLP_OPTIONS)).toJSON(),
      otlpJson: new api.OtlpJsonLayerConfig(given(OTLP_JSON_OPTIONS)).toJSON(),
    };
    for (const [kind, options] of Object.entries(sentOptions()) as [Kind, string[]][]) {
      assert.deepEqual(
        sorted(Object.keys(sent[kind]).filter((key) => key !== "kind")),
        sorted(options),
        kind,
      );
      assert.equal(sent[kind].kind, kind);
    }
  });

  test("options: the bad-input matrix exercises every option of every kind", () => {
    const exercised = new Map<string, Set<string>>();
    for (const { kind, option, category, names } of badInputCases()) {
      // The layer's own unknown-key case (`colour`) is no option of the kind.
      if (category === "unknown key" && names === option) continue;
      if (!exercised.has(kind)) exercised.set(kind, new Set());
      exercised.get(kind)!.add(option);
    }
    const missing: string[] = [];
    for (const [kind, options] of Object.entries(sentOptions()) as [Kind, string[]][]) {
      const names = options.filter((name) => name !== "callbacks");
      if (kind === "otlp" || kind === "otlpJson") {
        for (const [option, fields] of Object.entries(OTEL_NESTED_OPTIONS)) {
          names.push(...fields.map((field) => `${option}.${field}`));
        }
      }
      for (const name of names) {
        if (!exercised.get(kind)?.has(name)) missing.push(`${kind} ${name}`);
      }
    }
    assert.deepEqual(missing, [], missing.join("\n"));
  });
}
