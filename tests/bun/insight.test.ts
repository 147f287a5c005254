// Runs the shared performance-insight scenarios under `bun test`.
import { test } from "bun:test";
import * as api from "../../bun/mod.ts";
import { defineInsightScenarios } from "../shared/insight.ts";
import type { Api } from "../shared/harness.ts";
import { basicExample, paths, tempDir } from "./libraries.ts";

defineInsightScenarios((name, body) => test(name, body, 60_000), {
  runtime: "bun",
  api: api as unknown as Api,
  example: basicExample,
  paths,
  tempDir,
});
