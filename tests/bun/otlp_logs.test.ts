// Runs the OpenTelemetry logs scenarios under `bun test`.
import { test } from "bun:test";
import * as api from "../../bun/mod.ts";
import { defineOtlpLogsScenarios } from "../shared/otlp_logs.ts";
import { basicExample, paths, tempDir } from "./libraries.ts";

defineOtlpLogsScenarios((name, body) => test(name, body, 30_000), {
  runtime: "bun",
  api: api,
  example: basicExample,
  paths,
  tempDir,
  runChild: () => {
    throw new Error("not used by the OTLP scenarios");
  },
});
