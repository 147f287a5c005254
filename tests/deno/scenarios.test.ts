// Runs the shared scenarios under `deno test`.
import assert from "node:assert/strict";
import * as api from "../../deno/mod.ts";
import { defineScenarios } from "../shared/scenarios.ts";
import { defineJsLayerScenarios } from "../shared/js_layer_scenarios.ts";
import { defineBadInputScenarios } from "../shared/bad_inputs.ts";
import { defineOptionScenarios } from "../shared/options.ts";
import { denoFibonacciSymbols } from "../shared/example_library.ts";
import type { ChildResult } from "../shared/harness.ts";
import type { JsLayerHarness } from "../shared/js_layer_scenarios.ts";
import { paths } from "./libraries.ts";

const { symbols } = Deno.dlopen(paths.fibonacci, denoFibonacciSymbols);

function runChild(script: string, env: Record<string, string>, denoFlags: string[]): ChildResult {
  const child = new URL(`./${script}`, import.meta.url).pathname;
  const output = new Deno.Command(Deno.execPath(), {
    args: ["run", ...denoFlags, child],
    env,
  }).outputSync();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

const harness: JsLayerHarness = {
  runtime: "deno",
  api,
  example: {
    fibonacci: (index, memoized) => symbols.fibonacci(index, memoized),
    runWorkers: (threads, events) => symbols.run_workers(threads, events),
    startWorkers: (threads, events) => symbols.start_workers(threads, events),
    joinWorkers: (handle) => symbols.join_workers(BigInt(handle)),
    recordResult: (value) => symbols.record_result(BigInt(value)),
    followsFrom: () => symbols.follows_from(),
    emitEvents: (count) => symbols.emit_events(count),
    emitWideValues: () => symbols.emit_wide_values(),
  },
  paths,
  tempDir: () => Deno.makeTempDirSync({ prefix: "tracing-bridge-" }),
  runChild,
};

const test = (name: string, body: () => void | Promise<void>) => Deno.test(name, body);
defineScenarios(test, harness);
defineJsLayerScenarios(test, harness);
defineBadInputScenarios(test, harness);
defineOptionScenarios(test, harness);

Deno.test("with --allow-ffi alone, TRACING_BRIDGE_LIB is skipped without a prompt or an error", () => {
  const result = runChild("child_resolve.ts", { TRACING_BRIDGE_LIB: "/nonexistent/libx.so" }, [
    "--allow-ffi",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /opened .*target\/release\/libtracing_bridge\.so/);
});
