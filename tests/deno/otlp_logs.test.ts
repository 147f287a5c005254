// Runs the OpenTelemetry logs scenarios under `deno test`.
import * as api from "../../deno/mod.ts";
import { defineOtlpLogsScenarios } from "../shared/otlp_logs.ts";
import { basicExample, paths, tempDir } from "./libraries.ts";

defineOtlpLogsScenarios(
  // The receiver is a child process whose pipes outlive a single test's bookkeeping.
  (name, body) => Deno.test({ name, fn: body, sanitizeResources: false, sanitizeOps: false }),
  {
    runtime: "deno",
    api,
    example: basicExample,
    paths,
    tempDir,
    runChild: () => {
      throw new Error("not used by the OTLP scenarios");
    },
  },
);
