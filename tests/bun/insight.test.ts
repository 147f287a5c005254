// Runs the shared performance-insight scenarios under `bun test`.
import { test } from "bun:test";
import * as api from "../../bun/mod.ts";
import { defineInsightScenarios } from "../shared/insight.ts";
import { basicExample, paths, tempDir } from "./libraries.ts";

defineInsightScenarios((name, body) => test(name, body, 60_000), {
  runtime: "bun",
  api: api,
  example: basicExample,
  paths,
  tempDir,
});
