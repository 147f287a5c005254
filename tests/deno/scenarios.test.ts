// Runs the shared scenarios under `deno test`.
import assert from "node:assert/strict";
import * as api from "../../deno/mod.ts";
import { defineScenarios } from "../shared/scenarios.ts";
import { defineJsLayerScenarios } from "../shared/js_layer_scenarios.ts";
import { defineBadInputScenarios } from "../shared/bad_inputs.ts";
import { defineOptionScenarios } from "../shared/options.ts";
import type { JsLayerHarness } from "../shared/js_layer_scenarios.ts";
import { fullExample } from "./example.ts";
import { runDenoChild } from "./child.ts";
import { paths } from "./libraries.ts";

const runChild = (script: string, env: Record<string, string>, flags: string[]) =>
  runDenoChild(script, { env, flags });

const harness: JsLayerHarness = {
  runtime: "deno",
  api,
  example: fullExample,
  paths,
  tempDir: () => Deno.makeTempDirSync({ prefix: "tracing-bridge-" }),
  runChild,
};

const test = (name: string, body: () => void | Promise<void>) => Deno.test(name, body);
defineScenarios(test, harness);
defineJsLayerScenarios(test, harness);
defineBadInputScenarios(test, harness);
defineOptionScenarios(test, harness);

Deno.test("with --allow-ffi alone, TRACING_BRIDGE_LIB is skipped without a prompt", () => {
  const result = runChild("child_resolve.ts", { TRACING_BRIDGE_LIB: "/nonexistent/libx.so" }, [
    "--allow-ffi",
  ]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^LIBRARY_NOT_GIVEN: /);
  assert.match(result.stderr, /not read: permission to read TRACING_BRIDGE_LIB is not granted/);
  assert.match(result.stderr, /\{ library: "\.\/target\/release\/libmy_library\.so" \}/);
});
