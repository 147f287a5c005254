// Runs the shared embedding scenarios under `bun test`. The libraries come from
// target/release/, or from the directory in $TRACING_BRIDGE_TEST_LIB_DIR (scripts/release).
import { test } from "bun:test";
import { dlopen, FFIType } from "bun:ffi";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as api from "../../bun/mod.ts";
import { symbols } from "../../bun/ffi.ts";
import {
  defineEmbeddingScenarios,
  LIBRARY_DIR_ENV_VAR,
  libraryPaths,
  releaseDirectory,
} from "../shared/embedding.ts";
import { runBunChild } from "./child.ts";

const paths = libraryPaths(process.env[LIBRARY_DIR_ENV_VAR] || releaseDirectory);

const fibonacci = dlopen(paths.fibonacci, {
  fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
  run_workers: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
});
const myLibrary = dlopen(paths.myLibrary, {
  my_library_sum: { args: [FFIType.u32], returns: FFIType.u64 },
});

const runExitChild = (args: string[]) => runBunChild("child_exit.ts", { args });

defineEmbeddingScenarios((name, body) => test(name, body), {
  runtime: "bun",
  api: api,
  fibonacci: {
    fibonacci: (index, memoized) => fibonacci.symbols.fibonacci(index, memoized),
    runWorkers: (threads, events) => fibonacci.symbols.run_workers(threads, events),
  },
  myLibrary: { sum: (count) => myLibrary.symbols.my_library_sum(count) },
  paths,
  boundSymbols: Object.keys(symbols),
  tempDir: () => mkdtempSync(join(tmpdir(), "tracing-bridge-")),
  runExitChild,
});
