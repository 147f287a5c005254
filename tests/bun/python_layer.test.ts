// Runs the translated Python layer and the JSON scenarios under `bun test`.
import { test } from "bun:test";
import { dlopen, FFIType } from "bun:ffi";
import { fileURLToPath } from "node:url";
import * as api from "../../bun/mod.ts";
import { definePythonLayerScenarios } from "../shared/python_layer.ts";
import { runBunChild } from "./child.ts";

const fibonacciPath = fileURLToPath(
  new URL("../../target/release/libfibonacci.so", import.meta.url),
);
const { symbols } = dlopen(fibonacciPath, {
  emit_wide_values: { args: [], returns: FFIType.void },
  record_result: { args: [FFIType.u64], returns: FFIType.void },
});

definePythonLayerScenarios((name, body) => test(name, body, 30_000), {
  runtime: "bun",
  api,
  fibonacciPath,
  runExample: () => runBunChild("../../examples/python-layer/bun.ts"),
  emitWideValues: () => symbols.emit_wide_values(),
  recordResult: (value) => symbols.record_result(value),
});
