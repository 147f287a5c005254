// Runs a Deno child process of the tests.
import type { ChildResult } from "../shared/harness.ts";

/**
 * Runs `tests/deno/<script>` with `deno run`, the given permission flags, `args` and `env`
 * added, for at most `timeoutSeconds` (`timeout`), so that a hang fails the test.
 */
export function runDenoChild(
  script: string,
  options: { args?: string[]; env?: Record<string, string>; flags: string[] },
  timeoutSeconds = 120,
): ChildResult {
  const child = new URL(`./${script}`, import.meta.url).pathname;
  const output = new Deno.Command("timeout", {
    args: [
      String(timeoutSeconds),
      Deno.execPath(),
      "run",
      ...options.flags,
      child,
      ...(options.args ?? []),
    ],
    ...(options.env ? { env: options.env } : {}),
  }).outputSync();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
