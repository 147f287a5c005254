// Runs the shared embedding scenarios under `deno test`. The libraries come from
// target/release/, or from the directory in $TRACING_BRIDGE_TEST_LIB_DIR (scripts/release).
import * as api from "../../deno/mod.ts";
import { symbols } from "../../deno/ffi.ts";
import {
  defineEmbeddingScenarios,
  LIBRARY_DIR_ENV_VAR,
  libraryPaths,
  releaseDirectory,
} from "../shared/embedding.ts";
import { runDenoChild } from "./child.ts";

const paths = libraryPaths(Deno.env.get(LIBRARY_DIR_ENV_VAR) || releaseDirectory);

const fibonacci = Deno.dlopen(paths.fibonacci, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
  run_workers: { parameters: ["u32", "u32"], result: "u64" },
});
const myLibrary = Deno.dlopen(paths.myLibrary, {
  my_library_sum: { parameters: ["u32"], result: "u64" },
});

// --allow-all: Deno lets nothing less read /proc/self/task, where the child counts threads.
const runExitChild = (args: string[]) =>
  runDenoChild("child_exit.ts", { args, flags: ["--allow-all"] });

defineEmbeddingScenarios((name, body) => Deno.test(name, body), {
  runtime: "deno",
  api,
  fibonacci: {
    fibonacci: (index, memoized) => fibonacci.symbols.fibonacci(index, memoized),
    runWorkers: (threads, events) => fibonacci.symbols.run_workers(threads, events),
  },
  myLibrary: { sum: (count) => myLibrary.symbols.my_library_sum(count) },
  paths,
  // A symbol bound twice (e.g. a `nonblocking` variant) names its C function in `name`.
  boundSymbols: Object.entries(symbols).map(([key, definition]) =>
    "name" in definition ? definition.name : key
  ),
  tempDir: () => Deno.makeTempDirSync({ prefix: "tracing-bridge-" }),
  runExitChild,
});
