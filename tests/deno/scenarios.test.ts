// Runs the shared scenarios under `deno test`.
import assert from "node:assert/strict";
import * as api from "../../deno/mod.ts";
import { defineScenarios } from "../shared/scenarios.ts";
import type { ChildResult } from "../shared/harness.ts";

const release = (name: string) =>
  new URL(`../../target/release/lib${name}.so`, import.meta.url).pathname;
const paths = {
  fibonacci: release("fibonacci"),
  wrongAbi: release("wrong_abi"),
  notABridge: release("not_a_bridge"),
};

const fibonacciLibrary = Deno.dlopen(paths.fibonacci, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
  run_workers: { parameters: ["u32", "u32"], result: "u64" },
});

function runResolveChild(env: Record<string, string>, denoFlags: string[]): ChildResult {
  const child = new URL("./child_resolve.ts", import.meta.url).pathname;
  const output = new Deno.Command(Deno.execPath(), {
    args: ["run", ...denoFlags, child],
    env,
  }).outputSync();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

defineScenarios((name, body) => Deno.test(name, body), {
  runtime: "deno",
  api,
  example: {
    fibonacci: (index, memoized) => fibonacciLibrary.symbols.fibonacci(index, memoized),
    runWorkers: (threads, events) => fibonacciLibrary.symbols.run_workers(threads, events),
  },
  paths,
  tempDir: () => Deno.makeTempDirSync({ prefix: "tracing-bridge-" }),
  runResolveChild,
});

Deno.test("with --allow-ffi alone, TRACING_BRIDGE_LIB is skipped without a prompt or an error", () => {
  const result = runResolveChild({ TRACING_BRIDGE_LIB: "/nonexistent/libx.so" }, ["--allow-ffi"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /opened .*target\/release\/libtracing_bridge\.so/);
});
