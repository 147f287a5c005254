// Runs the re-entrancy and lifecycle scenarios under `deno test`.
import * as api from "../../deno/mod.ts";
import { defineReentrancyScenarios } from "../shared/reentrancy.ts";
import { fullExample } from "./example.ts";
import { runDenoChild } from "./child.ts";
import { paths, tempDir } from "./libraries.ts";

defineReentrancyScenarios((name, body) => Deno.test(name, body), {
  runtime: "deno",
  api,
  example: fullExample,
  paths,
  tempDir,
  runChild: (script, env, flags) => runDenoChild(script, { env, flags }, 60),
});
