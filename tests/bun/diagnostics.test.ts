// Runs the shared diagnostics scenarios under `bun test`, each in a child process.
import { test } from "bun:test";
import { defineDiagnosticsScenarios } from "../shared/diagnostics.ts";
import { runBunChild } from "./child.ts";

defineDiagnosticsScenarios(
  (name, body) => test(name, body),
  (mode) => runBunChild("child_diagnostics.ts", { args: [mode] }),
);
