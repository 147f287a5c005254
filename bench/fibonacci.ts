/**
 * What the OTLP benchmarks share: the bindings of the running runtime and the example library's
 * `fibonacci(index, false)`, and how many spans one call makes.
 */

import { fileURLToPath } from "node:url";
import type { Api } from "../tests/shared/harness.ts";

export const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
export const runtimeName = isDeno ? "deno" : "bun";
export const libraryPath = fileURLToPath(
  new URL("../target/release/libfibonacci.so", import.meta.url),
);

/** Spans made by one `fibonacci(index, false)` call. */
export function spansPerCall(index: number): number {
  return index < 2 ? 1 : 1 + spansPerCall(index - 1) + spansPerCall(index - 2);
}

/**
 * The bindings of this runtime, `fibonacci(index, false)` and `emit_events(count)` (`count` INFO
 * events outside any span) of the example library.
 */
export async function loadFibonacci(): Promise<
  { api: Api; fibonacci: (index: number) => unknown; emitEvents: (count: number) => void }
> {
  if (isDeno) {
    const api = await import("../deno/mod.ts");
    const library = Deno.dlopen(libraryPath, {
      fibonacci: { parameters: ["u32", "bool"], result: "u64" },
      emit_events: { parameters: ["u32"], result: "void" },
    });
    return {
      api,
      fibonacci: (index) => library.symbols.fibonacci(index, false),
      emitEvents: (count) => library.symbols.emit_events(count),
    };
  }
  const bunFfi = "bun:ffi";
  const { dlopen, FFIType } = await import(bunFfi);
  const api = await import("../bun/mod.ts" as string) as Api;
  const library = dlopen(libraryPath, {
    fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
    emit_events: { args: [FFIType.u32], returns: FFIType.void },
  });
  return {
    api,
    fibonacci: (index) => library.symbols.fibonacci(index, false),
    emitEvents: (count) => library.symbols.emit_events(count),
  };
}
