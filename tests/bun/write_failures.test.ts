// Runs the write-failure scenarios (tests/shared/write_failures.ts) under `bun test`.
import { test } from "bun:test";
import * as api from "../../bun/mod.ts";
import { defineWriteFailureScenarios } from "../shared/write_failures.ts";
import type { Api } from "../shared/harness.ts";
import { basicExample, paths, tempDir } from "./libraries.ts";

defineWriteFailureScenarios((name, body) => test(name, body, 120_000), {
  runtime: "bun",
  api: api as unknown as Api,
  example: basicExample,
  paths,
  tempDir,
  runChild: () => {
    throw new Error("not used by the write-failure scenarios");
  },
});
