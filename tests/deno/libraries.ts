// The libraries the Deno tests load: the example library and the loader fixtures.
import type { ChildResult } from "../shared/harness.ts";
const release = (name: string) =>
  new URL(`../../target/release/lib${name}.so`, import.meta.url).pathname;

/** Release builds of the example library and the two loader fixtures. */
export const paths = {
  fibonacci: release("fibonacci"),
  wrongAbi: release("wrong_abi"),
  notABridge: release("not_a_bridge"),
};

const fibonacciLibrary = Deno.dlopen(paths.fibonacci, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
  run_workers: { parameters: ["u32", "u32"], result: "u64" },
});

/** The example library's two basic functions, as the shared scenarios call them. */
export const basicExample = {
  fibonacci: (index: number, memoized: boolean) =>
    fibonacciLibrary.symbols.fibonacci(index, memoized),
  runWorkers: (threads: number, events: number) =>
    fibonacciLibrary.symbols.run_workers(threads, events),
};

/** A new empty directory. */
export const tempDir = () => Deno.makeTempDirSync({ prefix: "tracing-bridge-" });

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
    env: options.env,
  }).outputSync();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
