// Child process of the JS-span scenarios (a fresh process: the callsite table is per process).
import { fileURLToPath } from "node:url";
import * as api from "../../bun/mod.ts";
import { runInterningChild } from "../shared/js_spans.ts";

const fibonacciPath = fileURLToPath(
  new URL("../../target/release/libfibonacci.so", import.meta.url),
);
if (process.argv[2] === "interning") runInterningChild(api, fibonacciPath);
