// Child process of the OTLP metrics scenarios (see tests/shared/otlp_metrics.ts).
import * as api from "../../deno/mod.ts";
import { metricsChild } from "../shared/otlp_metrics.ts";

const path = new URL("../../target/release/libfibonacci.so", import.meta.url).pathname;
const { symbols } = Deno.dlopen(path, {
  count_calls: { parameters: ["u32", "u32"], result: "u64" },
});
const code = metricsChild(
  api,
  { countCalls: (threads, calls) => symbols.count_calls(threads, calls) },
  path,
  Deno.args[0] ?? "",
);
Deno.exit(code);
