// Child process of the diagnostics scenarios (tests/shared/diagnostics.ts): runs Deno.args[0].
import * as api from "../../deno/mod.ts";
import { diagnosticsChild } from "../shared/diagnostics.ts";
import { LIBRARY_DIR_ENV_VAR, libraryPaths, releaseDirectory } from "../shared/embedding.ts";

const paths = libraryPaths(Deno.env.get(LIBRARY_DIR_ENV_VAR) || releaseDirectory);
const fibonacci = Deno.dlopen(paths.fibonacci, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
});
const mine = Deno.dlopen(paths.myLibrary, {
  my_library_sum: { parameters: ["u32"], result: "u64" },
});
diagnosticsChild(api, {
  fibonacciPath: paths.fibonacci,
  myLibraryPath: paths.myLibrary,
  fibonacci: (index) => void fibonacci.symbols.fibonacci(index, true),
  mySum: (count) => void mine.symbols.my_library_sum(count),
}, Deno.args[0] ?? "");
