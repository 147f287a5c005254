// Child process of the OTLP metrics scenarios (see tests/shared/otlp_metrics.ts).
import { dlopen, FFIType } from "bun:ffi";
import { fileURLToPath } from "node:url";
import * as api from "../../bun/mod.ts";
import { metricsChild } from "../shared/otlp_metrics.ts";

const path = fileURLToPath(new URL("../../target/release/libfibonacci.so", import.meta.url));
const { symbols } = dlopen(path, {
  count_calls: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
});
const code = metricsChild(
  api,
  { countCalls: (threads, calls) => symbols.count_calls(threads, calls) },
  path,
  process.argv[2] ?? "",
);
process.exit(code);
