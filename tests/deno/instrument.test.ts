// Runs the `tracing.instrument` scenarios under `deno test`.
import * as api from "../../deno/mod.ts";
import { defineInstrumentScenarios } from "../shared/instrument.ts";

const fibonacciPath = new URL("../../target/release/libfibonacci.so", import.meta.url).pathname;
const { symbols } = Deno.dlopen(fibonacciPath, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
});
const nonblocking = Deno.dlopen(fibonacciPath, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64", nonblocking: true },
}).symbols;

defineInstrumentScenarios((name, body) => Deno.test(name, body), {
  runtime: "deno",
  api,
  fibonacciPath,
  symbols,
  nonblocking,
  tempDir: () => Deno.makeTempDirSync({ prefix: "tracing-bridge-" }),
});
