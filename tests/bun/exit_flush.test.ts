// Runs the exit scenarios under `bun test`: tracings still entered at exit are disposed.
import { test } from "bun:test";
import { defineExitFlushScenarios } from "../shared/exit_flush.ts";
import { runBunChild } from "./child.ts";
import { tempDir } from "./libraries.ts";

defineExitFlushScenarios((name, body) => test(name, body, 60_000), {
  runtime: "bun",
  tempDir,
  runExitFlushChild: (args) => runBunChild("exit_flush_child.ts", { args }, 60),
  runPlainChild: () => runBunChild("exit_plain_child.ts", {}, 60),
});
