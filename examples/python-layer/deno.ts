// The Python example's `main()`, in Deno: deno run --allow-ffi examples/python-layer/deno.ts
// (after scripts/build). See layer.ts.
import { GlobalTracingConfig, JsLayerConfig, Tracing } from "../../deno/mod.ts";
import { MyJsLayer } from "./layer.ts";

const path = new URL("../../target/release/libfibonacci.so", import.meta.url).pathname;
const rustExtension = Deno.dlopen(path, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
}).symbols;

// docs:begin
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
// docs:end

main();
