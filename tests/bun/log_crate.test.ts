// Runs the `log` crate scenarios under `bun test`.
import { test } from "bun:test";
import * as api from "../../bun/mod.ts";
import { defineLogCrateScenarios } from "../shared/log_crate.ts";
import { basicExample, paths, tempDir } from "./libraries.ts";

defineLogCrateScenarios((name, body) => test(name, body, 30_000), {
  runtime: "bun",
  api: api,
  example: basicExample,
  paths,
  tempDir,
  runChild: () => {
    throw new Error("not used by the log crate scenarios");
  },
});
