// Runs the OTLP metrics scenarios under `bun test`.
import { dlopen, FFIType } from "bun:ffi";
import { test } from "bun:test";
import * as api from "../../bun/mod.ts";
import { defineOtlpMetricsScenarios } from "../shared/otlp_metrics.ts";
import { basicExample, paths, tempDir } from "./libraries.ts";

const { symbols } = dlopen(paths.fibonacci, {
  count_calls: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
});

defineOtlpMetricsScenarios(
  (name, body) => test(name, body, 60_000),
  {
    runtime: "bun",
    api,
    example: basicExample,
    paths,
    tempDir,
    runChild: () => {
      throw new Error("not used by the OTLP metrics scenarios");
    },
  },
  { countCalls: (threads, calls) => symbols.count_calls(threads, calls) },
);
