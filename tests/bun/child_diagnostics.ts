// Child process of the diagnostics scenarios (tests/shared/diagnostics.ts): runs argv[2].
import { dlopen, FFIType } from "bun:ffi";
import * as api from "../../bun/mod.ts";
import { diagnosticsChild } from "../shared/diagnostics.ts";
import { LIBRARY_DIR_ENV_VAR, libraryPaths, releaseDirectory } from "../shared/embedding.ts";

const paths = libraryPaths(process.env[LIBRARY_DIR_ENV_VAR] || releaseDirectory);
const fibonacci = dlopen(paths.fibonacci, {
  fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
});
const mine = dlopen(paths.myLibrary, {
  my_library_sum: { args: [FFIType.u32], returns: FFIType.u64 },
});
diagnosticsChild(api, {
  fibonacciPath: paths.fibonacci,
  myLibraryPath: paths.myLibrary,
  fibonacci: (index) => void fibonacci.symbols.fibonacci(index, true),
  mySum: (count) => void mine.symbols.my_library_sum(count),
}, process.argv[2] ?? "");
