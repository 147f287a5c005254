// The Python example's `main()`, in Bun: bun examples/python-layer/bun.ts (after scripts/build).
// See layer.ts; deno.ts is the same with Deno's dlopen.
import { dlopen, FFIType } from "bun:ffi";
import { fileURLToPath } from "node:url";
import { GlobalTracingConfig, JsLayerConfig, Tracing } from "../../bun/mod.ts";
import { MyJsLayer } from "./layer.ts";

const path = fileURLToPath(new URL("../../target/release/libfibonacci.so", import.meta.url));
const rustExtension = dlopen(path, {
  fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
}).symbols;

// `initialize_tracing`: no filter, like the Python bridge (the default here would be "info").
function initializeTracing(layer: MyJsLayer): Tracing {
  const config = new GlobalTracingConfig({
    layers: [new JsLayerConfig(layer, { filter: "trace" })],
  });
  return new Tracing(config, { library: path }).enter();
}

function main() {
  using _tracing = initializeTracing(new MyJsLayer());

  console.log("10th fibonacci number: ", rustExtension.fibonacci(10, true));
}

main();
