// Runs the OpenTelemetry layers' scenarios under `deno test`.
import * as api from "../../deno/mod.ts";
import { defineOtlpScenarios } from "../shared/otlp.ts";
import { paths } from "./libraries.ts";

const fibonacciLibrary = Deno.dlopen(paths.fibonacci, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
  run_workers: { parameters: ["u32", "u32"], result: "u64" },
});

defineOtlpScenarios(
  // The receiver is a child process whose pipes outlive a single test's bookkeeping.
  (name, body) => Deno.test({ name, fn: body, sanitizeResources: false, sanitizeOps: false }),
  {
    runtime: "deno",
    api,
    example: {
      fibonacci: (index, memoized) => fibonacciLibrary.symbols.fibonacci(index, memoized),
      runWorkers: (threads, events) => fibonacciLibrary.symbols.run_workers(threads, events),
    },
    paths,
    tempDir: () => Deno.makeTempDirSync({ prefix: "tracing-bridge-" }),
    runChild: () => {
      throw new Error("not used by the OTLP scenarios");
    },
  },
);
