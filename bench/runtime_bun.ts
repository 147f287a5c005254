// The Bun side of the benchmarks: the public API and the example library's symbols.
import { dlopen, FFIType, JSCallback } from "bun:ffi";
import { fileURLToPath } from "node:url";
import * as api from "../bun/mod.ts";

export const runtime = "bun";
export { api };

export const libraryPath = fileURLToPath(
  new URL("../target/release/libfibonacci.so", import.meta.url),
);

const { symbols } = dlopen(libraryPath, {
  fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
  emit_events: { args: [FFIType.u32], returns: FFIType.void },
  emit_spans: { args: [FFIType.u32], returns: FFIType.void },
  start_emitters: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
  join_workers: { args: [FFIType.u64], returns: FFIType.u64 },
  call_back: { args: [FFIType.function, FFIType.u32], returns: FFIType.void },
});

/** The library's symbols as `dlopen` returns them (for `tracing.instrument`). */
export { symbols };

export const example = {
  fibonacci: (index: number, memoized: boolean) => symbols.fibonacci(index, memoized),
  emitEvents: (count: number) => symbols.emit_events(count),
  emitSpans: (count: number) => symbols.emit_spans(count),
  startEmitters: (threads: number, events: number) => symbols.start_emitters(threads, events),
  joinWorkers: (handle: bigint | number) => Number(symbols.join_workers(handle)),
  /** Calls `fn(pointer, length)` `times` times from native code on this thread. */
  callBack(times: number, fn: (pointer: unknown, length: number) => void): void {
    const callback = new JSCallback(fn, {
      args: [FFIType.ptr, FFIType.u32],
      returns: FFIType.void,
    });
    try {
      symbols.call_back(callback, times);
    } finally {
      callback.close();
    }
  },
};
