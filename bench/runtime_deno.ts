// The Deno side of the benchmarks: the public API and the example library's symbols.
import * as api from "../deno/mod.ts";

export const runtime = "deno";
export { api };

export const libraryPath = new URL("../target/release/libfibonacci.so", import.meta.url).pathname;

const { symbols } = Deno.dlopen(libraryPath, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
  emit_events: { parameters: ["u32"], result: "void" },
  emit_spans: { parameters: ["u32"], result: "void" },
  start_emitters: { parameters: ["u32", "u32"], result: "u64" },
  join_workers: { parameters: ["u64"], result: "u64" },
  call_back: { parameters: ["function", "u32"], result: "void" },
});

/** The library's symbols as `dlopen` returns them (for `tracing.instrument`). */
export { symbols };

export const example = {
  fibonacci: (index: number, memoized: boolean) => symbols.fibonacci(index, memoized),
  emitEvents: (count: number) => symbols.emit_events(count),
  emitSpans: (count: number) => symbols.emit_spans(count),
  startEmitters: (threads: number, events: number) => symbols.start_emitters(threads, events),
  joinWorkers: (handle: bigint | number) => Number(symbols.join_workers(BigInt(handle))),
  /** Calls `fn(pointer, length)` `times` times from native code on this thread. */
  callBack(times: number, fn: (pointer: unknown, length: number) => void): void {
    const callback = new Deno.UnsafeCallback(
      { parameters: ["pointer", "u32"], result: "void" } as const,
      fn,
    );
    try {
      symbols.call_back(callback.pointer, times);
    } finally {
      callback.close();
    }
  },
};
