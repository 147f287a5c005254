// Runs the accounting scenarios under `deno test`.
import * as api from "../../deno/mod.ts";
import { defineAccountingScenarios } from "../shared/accounting.ts";
import { runDenoChild } from "./child.ts";
import { basicExample, paths } from "./libraries.ts";

defineAccountingScenarios(
  // The receiver is a child process whose pipes outlive a single test's bookkeeping.
  (name, body) => Deno.test({ name, fn: body, sanitizeResources: false, sanitizeOps: false }),
  {
    runtime: "deno",
    api,
    example: basicExample,
    fibonacciPath: paths.fibonacci,
    runChild: (args) =>
      runDenoChild("accounting_child.ts", {
        args,
        flags: ["--allow-ffi", "--allow-read", "--allow-net=127.0.0.1"],
      }, 60),
  },
);
