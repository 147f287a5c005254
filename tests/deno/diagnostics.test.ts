// Runs the shared diagnostics scenarios under `deno test`, each in a child process.
import { defineDiagnosticsScenarios } from "../shared/diagnostics.ts";
import { runDenoChild } from "./child.ts";

defineDiagnosticsScenarios(
  (name, body) => Deno.test(name, body),
  (mode) =>
    runDenoChild("child_diagnostics.ts", {
      args: [mode],
      flags: ["--allow-ffi", "--allow-read", "--allow-env"],
    }),
);
