// Runs the translated Python layer and the JSON scenarios under `deno test`.
import * as api from "../../deno/mod.ts";
import { definePythonLayerScenarios } from "../shared/python_layer.ts";
import { runDenoChild } from "./child.ts";

const fibonacciPath = new URL("../../target/release/libfibonacci.so", import.meta.url).pathname;
const { symbols } = Deno.dlopen(fibonacciPath, {
  emit_wide_values: { parameters: [], result: "void" },
  record_result: { parameters: ["u64"], result: "void" },
});

definePythonLayerScenarios((name, body) => Deno.test(name, body), {
  runtime: "deno",
  api,
  fibonacciPath,
  runExample: () =>
    runDenoChild("../../examples/python-layer/deno.ts", {
      flags: ["--allow-ffi", "--allow-read"],
    }),
  emitWideValues: () => symbols.emit_wide_values(),
  recordResult: (value) => symbols.record_result(value),
});
