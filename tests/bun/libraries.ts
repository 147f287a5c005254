// The libraries the Bun tests load: the example library and the loader fixtures.
import { dlopen, FFIType } from "bun:ffi";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const release = (name: string) =>
  fileURLToPath(new URL(`../../target/release/lib${name}.so`, import.meta.url));

/** Release builds of the example library and the two loader fixtures. */
export const paths = {
  fibonacci: release("fibonacci"),
  wrongAbi: release("wrong_abi"),
  notABridge: release("not_a_bridge"),
};

const fibonacciLibrary = dlopen(paths.fibonacci, {
  fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
  run_workers: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
});

/** The example library's two basic functions, as the shared scenarios call them. */
export const basicExample = {
  fibonacci: (index: number, memoized: boolean) =>
    fibonacciLibrary.symbols.fibonacci(index, memoized),
  runWorkers: (threads: number, events: number) =>
    fibonacciLibrary.symbols.run_workers(threads, events),
};

/** A new empty directory. */
export const tempDir = () => mkdtempSync(join(tmpdir(), "tracing-bridge-"));
