// Runs the shared fmt file scenarios (non-blocking, rolling, timer, json) under `bun test`.
import { test } from "bun:test";
import * as api from "../../bun/mod.ts";
import { defineFmtFileScenarios } from "../shared/fmt_files.ts";
import { basicExample, paths, tempDir } from "./libraries.ts";

defineFmtFileScenarios((name, body) => test(name, body, 60_000), {
  api,
  example: basicExample,
  paths,
  tempDir,
});
