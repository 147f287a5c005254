// Runs the re-entrancy and lifecycle scenarios under `deno test`.
import * as api from "../../deno/mod.ts";
import type { ChildResult } from "../shared/harness.ts";
import { defineReentrancyScenarios } from "../shared/reentrancy.ts";
import { fullExample } from "./example.ts";
import { paths, tempDir } from "./libraries.ts";

/** Runs a child for at most a minute (`timeout`), so that a hang fails the test. */
function runChild(script: string, env: Record<string, string>, denoFlags: string[]): ChildResult {
  const child = new URL(`./${script}`, import.meta.url).pathname;
  const output = new Deno.Command("timeout", {
    args: ["60", Deno.execPath(), "run", ...denoFlags, child],
    env,
  }).outputSync();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

defineReentrancyScenarios((name, body) => Deno.test(name, body), {
  runtime: "deno",
  api,
  example: fullExample,
  paths,
  tempDir,
  runChild,
});
