// Runs the exit scenarios under `deno test`: tracings still entered at exit are disposed.
import { defineExitFlushScenarios } from "../shared/exit_flush.ts";
import { runDenoChild } from "./child.ts";
import { tempDir } from "./libraries.ts";

const flags = [
  "--allow-ffi",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net=127.0.0.1",
];

defineExitFlushScenarios(
  // The receiver is a child process whose pipes outlive a single test's bookkeeping.
  (name, body) => Deno.test({ name, fn: body, sanitizeResources: false, sanitizeOps: false }),
  {
    runtime: "deno",
    tempDir,
    runExitFlushChild: (args) => runDenoChild("exit_flush_child.ts", { args, flags }, 60),
    runPlainChild: () => runDenoChild("exit_plain_child.ts", { flags }, 60),
  },
);
