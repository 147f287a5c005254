// Runs the OTLP metrics scenarios under `deno test`.
import * as api from "../../deno/mod.ts";
import { defineOtlpMetricsScenarios } from "../shared/otlp_metrics.ts";
import { basicExample, paths, tempDir } from "./libraries.ts";

const { symbols } = Deno.dlopen(paths.fibonacci, {
  count_calls: { parameters: ["u32", "u32"], result: "u64" },
});

defineOtlpMetricsScenarios(
  // The receiver is a child process whose pipes outlive a single test's bookkeeping.
  (name, body) => Deno.test({ name, fn: body, sanitizeResources: false, sanitizeOps: false }),
  {
    runtime: "deno",
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
