// Runs the re-entrancy and lifecycle scenarios under `bun test`.
import { test } from "bun:test";
import * as api from "../../bun/mod.ts";
import { defineReentrancyScenarios } from "../shared/reentrancy.ts";
import { fullExample } from "./example.ts";
import { runBunChild } from "./child.ts";
import { paths, tempDir } from "./libraries.ts";

defineReentrancyScenarios((name, body) => test(name, body, 90_000), {
  runtime: "bun",
  api: api,
  example: fullExample,
  paths,
  tempDir,
  runChild: (script, env) => runBunChild(script, { env }, 60),
});
