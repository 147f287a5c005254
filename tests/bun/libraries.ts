// The libraries the Bun tests load: the example library and the loader fixtures.
import { dlopen, FFIType } from "bun:ffi";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildResult } from "../shared/harness.ts";

const release = (name: string) =>
  fileURLToPath(new URL(`../../target/release/lib${name}.so`, import.meta.url));

/** Release builds of the example library and the two loader fixtures. */
export const paths = {
  fibonacci: release("fibonacci"),
  wrongAbi: release("wrong_abi"),
  notABridge: release("not_a_bridge"),
};

const fibonacciLibrary = dlopen(paths.fibonacci, {
  fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
  run_workers: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
});

/** The example library's two basic functions, as the shared scenarios call them. */
export const basicExample = {
  fibonacci: (index: number, memoized: boolean) =>
    fibonacciLibrary.symbols.fibonacci(index, memoized),
  runWorkers: (threads: number, events: number) =>
    fibonacciLibrary.symbols.run_workers(threads, events),
};

/** A new empty directory. */
export const tempDir = () => mkdtempSync(join(tmpdir(), "tracing-bridge-"));

/**
 * Runs `tests/bun/<script>` with Bun, `args` and `env` added, for at most `timeoutSeconds`, so
 * that a hang fails the test.
 */
export function runBunChild(
  script: string,
  options: { args?: string[]; env?: Record<string, string> } = {},
  timeoutSeconds = 120,
): ChildResult {
  const child = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const output = Bun.spawnSync([process.execPath, child, ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    timeout: timeoutSeconds * 1000,
  });
  return {
    code: output.exitCode ?? -1,
    stdout: output.stdout.toString(),
    stderr: output.stderr.toString(),
  };
}
