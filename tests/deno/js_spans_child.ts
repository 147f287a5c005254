// Child process of the JS-span scenarios (a fresh process: the callsite table is per process).
import * as api from "../../deno/mod.ts";
import { runInterningChild } from "../shared/js_spans.ts";

const fibonacciPath = new URL("../../target/release/libfibonacci.so", import.meta.url).pathname;
if (Deno.args[0] === "interning") runInterningChild(api, fibonacciPath);
