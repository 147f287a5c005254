// Child process of the OTLP scenarios (see tests/shared/otlp_child.ts).
import * as api from "../../deno/mod.ts";
import { runOtlpChild } from "../shared/otlp_child.ts";

const path = new URL("../../target/release/libfibonacci.so", import.meta.url).pathname;
const fibonacci = Deno.dlopen(path, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
  run_workers: { parameters: ["u32", "u32"], result: "u64" },
});
const code = await runOtlpChild(
  api,
  {
    fibonacci: (index, memoized) => fibonacci.symbols.fibonacci(index, memoized),
    runWorkers: (threads, events) => fibonacci.symbols.run_workers(threads, events),
  },
  path,
  Deno.args[0] ?? "",
);
Deno.exit(code);
