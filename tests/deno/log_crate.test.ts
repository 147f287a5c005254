// Runs the `log` crate scenarios under `deno test`.
import * as api from "../../deno/mod.ts";
import { defineLogCrateScenarios } from "../shared/log_crate.ts";
import { basicExample, paths, tempDir } from "./libraries.ts";

defineLogCrateScenarios(
  // One scenario starts the OTLP receiver, a child process whose pipes outlive the test's
  // bookkeeping.
  (name, body) => Deno.test({ name, fn: body, sanitizeResources: false, sanitizeOps: false }),
  {
    runtime: "deno",
    api,
    example: basicExample,
    paths,
    tempDir,
    runChild: () => {
      throw new Error("not used by the log crate scenarios");
    },
  },
);
