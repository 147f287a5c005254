// Runs the shared fmt file scenarios (non-blocking, rolling, timer, json) under `deno test`.
import * as api from "../../deno/mod.ts";
import { defineFmtFileScenarios } from "../shared/fmt_files.ts";
import { basicExample, paths, tempDir } from "./libraries.ts";

defineFmtFileScenarios((name, body) => Deno.test(name, body), {
  api,
  example: basicExample,
  paths,
  tempDir,
});
