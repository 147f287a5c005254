// Child process of the OTLP scenarios (see tests/shared/otlp_child.ts).
import { dlopen, FFIType } from "bun:ffi";
import { fileURLToPath } from "node:url";
import * as api from "../../bun/mod.ts";
import { runOtlpChild } from "../shared/otlp_child.ts";

const path = fileURLToPath(new URL("../../target/release/libfibonacci.so", import.meta.url));
const fibonacci = dlopen(path, {
  fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
  run_workers: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
});
const code = await runOtlpChild(
  api,
  {
    fibonacci: (index, memoized) => fibonacci.symbols.fibonacci(index, memoized),
    runWorkers: (threads, events) => fibonacci.symbols.run_workers(threads, events),
  },
  path,
  process.argv[2] ?? "",
);
process.exit(code);
