// Runs the `tracing.instrument` scenarios under `bun test`.
import { test } from "bun:test";
import { dlopen, FFIType } from "bun:ffi";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as api from "../../bun/mod.ts";
import { defineInstrumentScenarios } from "../shared/instrument.ts";

const fibonacciPath = fileURLToPath(
  new URL("../../target/release/libfibonacci.so", import.meta.url),
);
const { symbols } = dlopen(fibonacciPath, {
  fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
});

defineInstrumentScenarios((name, body) => test(name, body, 30_000), {
  runtime: "bun",
  api,
  fibonacciPath,
  symbols,
  tempDir: () => mkdtempSync(join(tmpdir(), "tracing-bridge-")),
});
