/**
 * The TypeScript mirror of the C ABI against its sources, run identically by `deno test` and
 * `bun test`: the symbol table (`bindings/symbols.ts`) against the functions of the generated
 * header `bindings/tracing_bridge.h`, and every constant the bindings mirror (result codes, ABI
 * version, drain flags, control block, JS span constants) against the header's; the JS layer's
 * record and value kinds, which the header does not carry, against the Rust source's constants.
 * Every `TRACING_BRIDGE_*` constant of the header must be checked here or listed as not mirrored.
 */

import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RESULT_BUFFER_TOO_SMALL, RESULT_CODES, RESULT_OK } from "../../bindings/errors.ts";
import * as wire from "../../bindings/js_dispatch.ts";
import { CONTROL_BYTES, MORE, NEEDS_BUFFER } from "../../bindings/js_delivery.ts";
import {
  DISABLED,
  FALLBACK_BIT,
  MAX_FIELDS,
  PARENT_CURRENT,
  PARENT_NONE,
} from "../../bindings/js_spans.ts";
import { ABI_VERSION } from "../../bindings/library.ts";
import { type NativeType, symbols } from "../../bindings/symbols.ts";
import type { TestFn } from "./harness.ts";
import { at } from "./expect.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => readFileSync(join(root, path), "utf8");

/** The header's `#define NAME value` constants (numbers and `(1 << n)`). */
export function headerDefines(header: string): Map<string, number> {
  const defines = new Map<string, number>();
  for (const [, name = "", value = ""] of header.matchAll(/^#define (\w+) (.+)$/gm)) {
    const shift = /^\((\d+) << (\d+)\)$/.exec(value.trim());
    const number = shift ? Number(shift[1]) * 2 ** Number(shift[2]) : Number(value.trim());
    if (Number.isFinite(number)) defines.set(name, number);
  }
  return defines;
}

/** The `tracing_bridge_result` values by their name after `TRACING_BRIDGE_RESULT_`. */
export function headerResults(header: string): Map<string, number> {
  const results = new Map<string, number>();
  for (
    const [, name = "", value = ""] of header.matchAll(
      /^\s*TRACING_BRIDGE_RESULT_(\w+) = (\d+),$/gm,
    )
  ) {
    results.set(name, Number(value));
  }
  return results;
}

/** The header's functions: name, then the C types of the result and of each parameter. */
export function headerFunctions(header: string): Map<string, { result: string; params: string[] }> {
  const functions = new Map<string, { result: string; params: string[] }>();
  const prototype = /^([\w ]+?\**)\s*\b(tracing_bridge_\w+)\(([^)]*)\);/gm;
  for (const [, result = "", name = "", list = ""] of header.matchAll(prototype)) {
    const params = list.trim() === "void" ? [] : list.split(",").map((param) =>
      // The type is everything but the parameter's name.
      param.replace(/\s+/g, " ").trim().replace(/\s*\b\w+$/, "").trim()
    );
    functions.set(name, { result: result.trim(), params });
  }
  return functions;
}

/** The table's types a C type may be declared as. */
function nativeTypesOf(cType: string): NativeType[] {
  if (cType === "void") return ["void"];
  if (cType === "uint32_t" || cType === "tracing_bridge_result") return ["u32"];
  if (cType === "uint64_t") return ["u64"];
  if (cType === "size_t") return ["usize"];
  if (cType === "struct Option_WakeCallback") return ["function"];
  // A handle is a `pointer`; memory the library reads or writes (out-parameters included) is a
  // `buffer`; a string the library returns is a `pointer` read by the runtime.
  if (/^(const )?struct tracing_bridge_subscriber \*$/.test(cType)) return ["pointer"];
  if (cType === "const char *") return ["pointer"];
  if (cType.endsWith("*")) return ["buffer"];
  return [];
}

/** The `pub const NAME: type = value;` integer constants of a Rust source file. */
function rustConstants(source: string): Map<string, number> {
  const constants = new Map<string, number>();
  const constant = /pub(?:\(crate\))? const (\w+): \w+ = ([^;]+);/g;
  for (const [, name = "", value = ""] of source.matchAll(constant)) {
    const text = value.replace(/_/g, "").trim();
    const number = text === "u32::MAX" ? 0xffffffff : Number(text);
    if (Number.isFinite(number)) constants.set(name, number);
  }
  return constants;
}

/** The one `.rs` file under `shim/src` that declares `pub… const <name>:` (wherever it moves). */
function rustFileDeclaring(name: string): string {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir))) {
      const path = `${dir}/${entry}`;
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (
        path.endsWith(".rs") && new RegExp(`pub(\\(crate\\))? const ${name}:`).test(read(path))
      ) {
        found.push(path);
      }
    }
  };
  walk("shim/src");
  assert.equal(found.length, 1, `pub const ${name} is declared in ${found.length} files: ${found}`);
  return at(found, 0);
}

/** Header constants the bindings do not mirror (with why), so that a new one gets noticed. */
const NOT_MIRRORED: Record<string, string> = {
  TRACING_BRIDGE_MAX_JS_CALLSITES: "the library falls back on its own; the bindings read the bit",
  TRACING_BRIDGE_MAX_LAYERS: "checked by the library, which names the limit in its error",
};

/** The JS layer's default queue capacity, under its old or its prefixed name. */
const CAPACITY_NAMES = ["TRACING_BRIDGE_JS_DEFAULT_CAPACITY", "DEFAULT_CAPACITY"];
/** The control block size under the names it had or may have besides the prefixed one. */
const CONTROL_NAMES = ["TRACING_BRIDGE_JS_CONTROL_BYTES", "CONTROL_BYTES"];

export function defineHeaderScenarios(test: TestFn): void {
  const header = read("bindings/tracing_bridge.h");

  test("header: the symbol table declares every C function of the header, with its C types", () => {
    const functions = headerFunctions(header);
    assert.ok(functions.size >= 30, `only ${functions.size} functions parsed`);
    const table = symbols as Record<
      string,
      { parameters: readonly NativeType[]; result: NativeType }
    >;
    assert.deepEqual(Object.keys(table).sort(), [...functions.keys()].sort());
    const mismatches: string[] = [];
    for (const [name, { result, params }] of functions) {
      const entry = table[name];
      assert.ok(entry, `${name} is not in the symbol table`);
      const { parameters, result: declared } = entry;
      if (!nativeTypesOf(result).includes(declared)) {
        mismatches.push(`${name}: result ${result} declared as ${declared}`);
      }
      if (parameters.length !== params.length) {
        mismatches.push(`${name}: ${params.length} parameters, ${parameters.length} declared`);
        continue;
      }
      params.forEach((cType, index) => {
        const parameter = parameters[index];
        if (parameter === undefined || !nativeTypesOf(cType).includes(parameter)) {
          mismatches.push(`${name}: parameter ${index} ${cType} declared as ${parameters[index]}`);
        }
      });
    }
    assert.deepEqual(mismatches, [], mismatches.join("\n"));
  });

  test("header: every tracing_bridge_result value is mirrored in bindings/errors.ts", () => {
    const results = headerResults(header);
    assert.equal(results.get("OK"), RESULT_OK);
    assert.equal(results.get("BUFFER_TOO_SMALL"), RESULT_BUFFER_TOO_SMALL);
    const headerCodes = [...results].filter(([name]) =>
      name !== "OK" && name !== "BUFFER_TOO_SMALL"
    )
      .map(([name, value]) => `${value} ${name}`);
    const mirrored = Object.entries(RESULT_CODES).map(([value, name]) => `${value} ${name}`);
    assert.deepEqual(mirrored.sort(), headerCodes.sort());
  });

  test("header: every constant the bindings mirror has the header's value", () => {
    const defines = headerDefines(header);
    const mirrored: Record<string, number> = {
      TRACING_BRIDGE_ABI_VERSION: ABI_VERSION,
      TRACING_BRIDGE_DRAIN_NEEDS_BUFFER: NEEDS_BUFFER,
      TRACING_BRIDGE_DRAIN_MORE: MORE,
      TRACING_BRIDGE_CALLSITE_FALLBACK: FALLBACK_BIT,
      TRACING_BRIDGE_SPAN_DISABLED: DISABLED,
      TRACING_BRIDGE_PARENT_CURRENT: PARENT_CURRENT,
      TRACING_BRIDGE_PARENT_NONE: PARENT_NONE,
    };
    for (const name of CONTROL_NAMES) mirrored[name] = CONTROL_BYTES;
    // The JS layer's default capacity is mirrored in the documentation of `capacity` only.
    const documented = /Default (\d+)\.\n\s*\*\/\n\s*capacity\?/.exec(read("bindings/js_layer.ts"));
    assert.ok(documented, "bindings/js_layer.ts no longer documents the default capacity");
    for (const name of CAPACITY_NAMES) mirrored[name] = Number(documented[1]);

    assert.ok(defines.has("TRACING_BRIDGE_ABI_VERSION"), [...defines.keys()].join(" "));
    assert.ok(CAPACITY_NAMES.some((name) => defines.has(name)), "no default capacity define");
    const wrong: string[] = [];
    for (const [name, value] of defines) {
      if (name in mirrored) {
        if (mirrored[name] !== value) {
          wrong.push(`${name}: header ${value}, bindings ${mirrored[name]}`);
        }
      } else if (!(name in NOT_MIRRORED)) {
        wrong.push(
          `${name} = ${value}: neither mirrored by the bindings nor listed as not mirrored`,
        );
      }
    }
    for (const name of Object.keys(mirrored)) {
      if (!defines.has(name) && !CONTROL_NAMES.includes(name) && !CAPACITY_NAMES.includes(name)) {
        wrong.push(`${name}: mirrored by the bindings, missing from the header`);
      }
    }
    assert.deepEqual(wrong, [], wrong.join("\n"));
  });

  test("header: the JS layer's record and value kinds and the JS span limits match the Rust source", () => {
    const wireFile = rustFileDeclaring("KIND_CALLSITE");
    const rust = rustConstants(read(wireFile));
    const ours = Object.entries(wire).filter(([name]) => /^(KIND|VALUE)_|^NONE_U32$/.test(name));
    const theirs = [...rust].filter(([name]) => /^(KIND|VALUE)_|^NONE_U32$/.test(name));
    assert.ok(theirs.length >= 19, `${wireFile}: only ${theirs.length} constants parsed`);
    assert.deepEqual(
      Object.fromEntries(ours),
      Object.fromEntries(theirs),
      `bindings/js_dispatch.ts against ${wireFile}`,
    );
    const callsites = rustFileDeclaring("MAX_FIELDS");
    assert.equal(rustConstants(read(callsites)).get("MAX_FIELDS"), MAX_FIELDS, callsites);
  });
}
