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
import type { ChildResult } from "../shared/harness.ts";

const paths = libraryPaths(Deno.env.get(LIBRARY_DIR_ENV_VAR) || releaseDirectory);

const fibonacci = Deno.dlopen(paths.fibonacci, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
  run_workers: { parameters: ["u32", "u32"], result: "u64" },
});
const myLibrary = Deno.dlopen(paths.myLibrary, {
  my_library_sum: { parameters: ["u32"], result: "u64" },
});

function runExitChild(args: string[]): ChildResult {
  const child = new URL("./child_exit.ts", import.meta.url).pathname;
  // --allow-all: Deno lets nothing less read /proc/self/task, where the child counts threads.
  const output = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", child, ...args],
  }).outputSync();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

defineEmbeddingScenarios((name, body) => Deno.test(name, body), {
  runtime: "deno",
  api,
  fibonacci: {
    fibonacci: (index, memoized) => fibonacci.symbols.fibonacci(index, memoized),
    runWorkers: (threads, events) => fibonacci.symbols.run_workers(threads, events),
  },
  myLibrary: { sum: (count) => myLibrary.symbols.my_library_sum(count) },
  paths,
  // An entry with `name` binds that C function under another key (e.g. `_nonblocking`).
  boundSymbols: Object.entries(symbols).map(([key, definition]) =>
    "name" in definition ? definition.name : key
  ),
  tempDir: () => Deno.makeTempDirSync({ prefix: "tracing-bridge-" }),
  runExitChild,
});
