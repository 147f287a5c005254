// The example library with every function the scenarios call, opened for Bun.
import { dlopen, FFIType } from "bun:ffi";
import type { FullFibonacciLibrary } from "../shared/harness.ts";
import { paths } from "./libraries.ts";

const { symbols } = dlopen(paths.fibonacci, {
  fibonacci: { args: [FFIType.u32, FFIType.bool], returns: FFIType.u64 },
  run_workers: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
  start_workers: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
  join_workers: { args: [FFIType.u64], returns: FFIType.u64 },
  record_result: { args: [FFIType.u64], returns: FFIType.void },
  follows_from: { args: [], returns: FFIType.void },
  emit_events: { args: [FFIType.u32], returns: FFIType.void },
  emit_wide_values: { args: [], returns: FFIType.void },
  hold_spans: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
  release_spans: { args: [FFIType.u64], returns: FFIType.u64 },
  start_fibonacci: { args: [FFIType.u32, FFIType.u32, FFIType.u32], returns: FFIType.u64 },
});

/** `libfibonacci.so`'s functions, as the shared scenarios call them. */
export const fullExample: FullFibonacciLibrary = {
  fibonacci: (index, memoized) => symbols.fibonacci(index, memoized),
  runWorkers: (threads, events) => symbols.run_workers(threads, events),
  startWorkers: (threads, events) => symbols.start_workers(threads, events),
  joinWorkers: (handle) => symbols.join_workers(handle),
  recordResult: (value) => symbols.record_result(value),
  followsFrom: () => symbols.follows_from(),
  emitEvents: (count) => symbols.emit_events(count),
  emitWideValues: () => symbols.emit_wide_values(),
  holdSpans: (threads, depth) => symbols.hold_spans(threads, depth),
  releaseSpans: (handle) => symbols.release_spans(handle),
  startFibonacci: (threads, index, rounds) => symbols.start_fibonacci(threads, index, rounds),
};
