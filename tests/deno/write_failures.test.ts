// Runs the write-failure scenarios (tests/shared/write_failures.ts) under `deno test`.
import * as api from "../../deno/mod.ts";
import { defineWriteFailureScenarios } from "../shared/write_failures.ts";
import { basicExample, paths, tempDir } from "./libraries.ts";

defineWriteFailureScenarios(
  (name, body) => Deno.test({ name, fn: body, sanitizeResources: false, sanitizeOps: false }),
  {
    runtime: "deno",
    api,
    example: basicExample,
    paths,
    tempDir,
    runChild: () => {
      throw new Error("not used by the write-failure scenarios");
    },
  },
);
