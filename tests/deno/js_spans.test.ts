// Runs the JS-span scenarios under `deno test`.
import * as api from "../../deno/mod.ts";
import { defineJsSpanScenarios } from "../shared/js_spans.ts";
import { runDenoChild } from "./child.ts";

const fibonacciPath = new URL("../../target/release/libfibonacci.so", import.meta.url).pathname;
const fibonacciLibrary = Deno.dlopen(fibonacciPath, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
  run_workers: { parameters: ["u32", "u32"], result: "u64" },
});

defineJsSpanScenarios(
  // The receiver is a child process whose pipes outlive a single test's bookkeeping.
  (name, body) => Deno.test({ name, fn: body, sanitizeResources: false, sanitizeOps: false }),
  {
    runtime: "deno",
    api,
    example: {
      fibonacci: (index, memoized) => fibonacciLibrary.symbols.fibonacci(index, memoized),
      runWorkers: (threads, events) => fibonacciLibrary.symbols.run_workers(threads, events),
    },
    fibonacciPath,
    tempDir: () => Deno.makeTempDirSync({ prefix: "tracing-bridge-" }),
    runChild: (args) =>
      runDenoChild("js_spans_child.ts", { args, flags: ["--allow-ffi", "--allow-read"] }),
  },
);
