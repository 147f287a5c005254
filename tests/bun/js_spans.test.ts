// Runs the JS-span scenarios under `bun test`.
import { test } from "bun:test";
import { dlopen, FFIType } from "bun:ffi";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as api from "../../bun/mod.ts";
import { defineJsSpanScenarios } from "../shared/js_spans.ts";
import { runBunChild } from "./child.ts";

const fibonacciPath = fileURLToPath(
  new URL("../../target/release/libfibonacci.so", import.meta.url),
);
const fibonacciLibrary = dlopen(fibonacciPath, {
  fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
  run_workers: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
});

defineJsSpanScenarios((name, body) => test(name, body, 30_000), {
  runtime: "bun",
  api: api,
  example: {
    fibonacci: (index, memoized) => fibonacciLibrary.symbols.fibonacci(index, memoized),
    runWorkers: (threads, events) => fibonacciLibrary.symbols.run_workers(threads, events),
  },
  fibonacciPath,
  tempDir: () => mkdtempSync(join(tmpdir(), "tracing-bridge-")),
  runChild: (args) => runBunChild("js_spans_child.ts", { args }),
});
