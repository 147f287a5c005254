// Runs the OpenTelemetry layers' scenarios under `bun test`.
import { test } from "bun:test";
import * as api from "../../bun/mod.ts";
import { defineOtlpScenarios } from "../shared/otlp.ts";
import { basicExample, paths, tempDir } from "./libraries.ts";

defineOtlpScenarios((name, body) => test(name, body, 30_000), {
  runtime: "bun",
  api: api,
  example: basicExample,
  paths,
  tempDir,
  runChild: () => {
    throw new Error("not used by the OTLP scenarios");
  },
});
