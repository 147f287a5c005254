// Child process of the exit tests: see `exitChild` in tests/shared/embedding.ts.
// Arguments: <mode> <log dir> <fibonacci library> <template library>.
import { dlopen, FFIType } from "bun:ffi";
import * as api from "../../bun/mod.ts";
import { exitChild } from "../shared/embedding.ts";

const args = process.argv.slice(2);
const [, , fibonacciPath = "", myLibraryPath = ""] = args;
const fibonacci = dlopen(fibonacciPath, {
  fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
  run_workers: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
});
const myLibrary = dlopen(myLibraryPath, {
  my_library_sum: { args: [FFIType.u32], returns: FFIType.u64 },
});

const report = exitChild(api, {
  fibonacci: {
    fibonacci: (index, memoized) => fibonacci.symbols.fibonacci(index, memoized),
    runWorkers: (threads, events) => fibonacci.symbols.run_workers(threads, events),
  },
  myLibrary: { sum: (count) => myLibrary.symbols.my_library_sum(count) },
  close() {
    fibonacci.close();
    myLibrary.close();
  },
}, args);
console.log(JSON.stringify(report));
