// Child process of the exit tests: see `exitChild` in tests/shared/embedding.ts.
// Arguments: <mode> <log dir> <fibonacci library> <template library>.
import * as api from "../../deno/mod.ts";
import { exitChild } from "../shared/embedding.ts";

const [, , fibonacciPath = "", myLibraryPath = ""] = Deno.args;
const fibonacci = Deno.dlopen(fibonacciPath, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
  run_workers: { parameters: ["u32", "u32"], result: "u64" },
});
const myLibrary = Deno.dlopen(myLibraryPath, {
  my_library_sum: { parameters: ["u32"], result: "u64" },
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
}, Deno.args);
console.log(JSON.stringify(report));
