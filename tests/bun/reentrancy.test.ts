// Runs the re-entrancy and lifecycle scenarios under `bun test`.
import { test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as api from "../../bun/mod.ts";
import type { ChildResult } from "../shared/harness.ts";
import { defineReentrancyScenarios } from "../shared/reentrancy.ts";
import { fullExample } from "./example.ts";
import { paths } from "./libraries.ts";

/** Runs a child for at most a minute, so that a hang fails the test. */
function runChild(script: string, env: Record<string, string>): ChildResult {
  const child = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const output = Bun.spawnSync([process.execPath, child], {
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return {
    code: output.exitCode ?? -1,
    stdout: output.stdout.toString(),
    stderr: output.stderr.toString(),
  };
}

defineReentrancyScenarios((name, body) => test(name, body, 90_000), {
  runtime: "bun",
  api: api,
  example: fullExample,
  paths,
  tempDir: () => mkdtempSync(join(tmpdir(), "tracing-bridge-")),
  runChild,
});
