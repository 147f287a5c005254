// Runs the shared performance-insight scenarios under `bun test`.
import { test } from "bun:test";
import { dlopen, FFIType } from "bun:ffi";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as api from "../../bun/mod.ts";
import { defineInsightScenarios } from "../shared/insight.ts";
import type { Api } from "../shared/harness.ts";
import { paths } from "./libraries.ts";

const fibonacciLibrary = dlopen(paths.fibonacci, {
  fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
  run_workers: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
});

defineInsightScenarios((name, body) => test(name, body, 60_000), {
  runtime: "bun",
  api: api as unknown as Api,
  example: {
    fibonacci: (index, memoized) => fibonacciLibrary.symbols.fibonacci(index, memoized),
    runWorkers: (threads, events) => fibonacciLibrary.symbols.run_workers(threads, events),
  },
  paths,
  tempDir: () => mkdtempSync(join(tmpdir(), "tracing-bridge-")),
});
