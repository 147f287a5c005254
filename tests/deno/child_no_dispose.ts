// Child process: starts a JS layer and exits without disposing it.
import { GlobalTracingConfig, JsLayerConfig, Tracing } from "../../deno/mod.ts";
import { denoFibonacciSymbols } from "../shared/example_library.ts";

const path = new URL("../../target/release/libfibonacci.so", import.meta.url).pathname;
const { symbols } = Deno.dlopen(path, denoFibonacciSymbols);
let events = 0;
new Tracing(
  new GlobalTracingConfig({
    layers: [new JsLayerConfig({ onEvent: () => void events++ }, { filter: "info" })],
  }),
  { library: path },
).enter();
symbols.run_workers(2, 100);
console.log(`events seen: ${events}`);
