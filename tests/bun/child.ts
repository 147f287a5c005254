// Runs a Bun child process of the tests.
import { fileURLToPath } from "node:url";
import type { ChildResult } from "../shared/harness.ts";

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
