// Runs the shared scenarios under `bun test`.
import { test } from "bun:test";
import { dlopen, FFIType } from "bun:ffi";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as api from "../../bun/mod.ts";
import { defineScenarios } from "../shared/scenarios.ts";
import type { Api, ChildResult } from "../shared/harness.ts";

const release = (name: string) =>
  fileURLToPath(new URL(`../../target/release/lib${name}.so`, import.meta.url));
const paths = {
  fibonacci: release("fibonacci"),
  wrongAbi: release("wrong_abi"),
  notABridge: release("not_a_bridge"),
};

const fibonacciLibrary = dlopen(paths.fibonacci, {
  fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
  run_workers: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
});

function runResolveChild(env: Record<string, string>): ChildResult {
  const child = fileURLToPath(new URL("./child_resolve.ts", import.meta.url));
  const output = Bun.spawnSync([process.execPath, child], { env: { ...process.env, ...env } });
  return {
    code: output.exitCode ?? -1,
    stdout: output.stdout.toString(),
    stderr: output.stderr.toString(),
  };
}

defineScenarios((name, body) => test(name, body), {
  runtime: "bun",
  api: api as unknown as Api,
  example: {
    fibonacci: (index, memoized) => fibonacciLibrary.symbols.fibonacci(index, memoized),
    runWorkers: (threads, events) => fibonacciLibrary.symbols.run_workers(threads, events),
  },
  paths,
  tempDir: () => mkdtempSync(join(tmpdir(), "tracing-bridge-")),
  runResolveChild,
});
