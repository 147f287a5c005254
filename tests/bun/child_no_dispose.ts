// Child process: starts a JS layer and exits without disposing it.
import { dlopen, FFIType } from "bun:ffi";
import { fileURLToPath } from "node:url";
import { GlobalTracingConfig, JsLayerConfig, Tracing } from "../../bun/mod.ts";

const path = fileURLToPath(new URL("../../target/release/libfibonacci.so", import.meta.url));
const { symbols } = dlopen(path, {
  run_workers: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
});
let events = 0;
new Tracing(
  new GlobalTracingConfig({
    layers: [new JsLayerConfig({ onEvent: () => void events++ }, { filter: "info" })],
  }),
  { library: path },
).enter();
symbols.run_workers(2, 100);
console.log(`events seen: ${events}`);
