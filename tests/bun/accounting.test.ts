// Runs the accounting scenarios under `bun test`.
import { test } from "bun:test";
import * as api from "../../bun/mod.ts";
import { defineAccountingScenarios } from "../shared/accounting.ts";
import { runBunChild } from "./child.ts";
import { basicExample, paths } from "./libraries.ts";

defineAccountingScenarios((name, body) => test(name, body, 60_000), {
  runtime: "bun",
  api,
  example: basicExample,
  fibonacciPath: paths.fibonacci,
  runChild: (args) => runBunChild("accounting_child.ts", { args }, 60),
});
