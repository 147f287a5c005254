// Runs the shared scenarios under `bun test`.
import { test } from "bun:test";
import { dlopen, FFIType } from "bun:ffi";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as api from "../../bun/mod.ts";
import { defineScenarios } from "../shared/scenarios.ts";
import { defineJsLayerScenarios } from "../shared/js_layer_scenarios.ts";
import { defineBadInputScenarios } from "../shared/bad_inputs.ts";
import { defineOptionScenarios } from "../shared/options.ts";
import type { ChildResult } from "../shared/harness.ts";
import type { JsLayerHarness } from "../shared/js_layer_scenarios.ts";
import { paths } from "./libraries.ts";

const { symbols } = dlopen(paths.fibonacci, {
  fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
  run_workers: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
  start_workers: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
  join_workers: { args: [FFIType.u64], returns: FFIType.u64 },
  record_result: { args: [FFIType.u64], returns: FFIType.void },
  follows_from: { args: [], returns: FFIType.void },
  emit_events: { args: [FFIType.u32], returns: FFIType.void },
  emit_wide_values: { args: [], returns: FFIType.void },
});

function runChild(script: string, env: Record<string, string>): ChildResult {
  const child = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const output = Bun.spawnSync([process.execPath, child], { env: { ...process.env, ...env } });
  return {
    code: output.exitCode ?? -1,
    stdout: output.stdout.toString(),
    stderr: output.stderr.toString(),
  };
}

const harness: JsLayerHarness = {
  runtime: "bun",
  api: api,
  example: {
    fibonacci: (index, memoized) => symbols.fibonacci(index, memoized),
    runWorkers: (threads, events) => symbols.run_workers(threads, events),
    startWorkers: (threads, events) => symbols.start_workers(threads, events),
    joinWorkers: (handle) => symbols.join_workers(handle),
    recordResult: (value) => symbols.record_result(value),
    followsFrom: () => symbols.follows_from(),
    emitEvents: (count) => symbols.emit_events(count),
    emitWideValues: () => symbols.emit_wide_values(),
  },
  paths,
  tempDir: () => mkdtempSync(join(tmpdir(), "tracing-bridge-")),
  runChild,
};

defineScenarios((name, body) => test(name, body), harness);
defineJsLayerScenarios((name, body) => test(name, body), harness);
defineBadInputScenarios((name, body) => test(name, body), harness);
defineOptionScenarios((name, body) => test(name, body), harness);
