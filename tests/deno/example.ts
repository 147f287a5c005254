// The example library with every function the scenarios call, opened for Deno.
import { denoFibonacciSymbols } from "../shared/example_library.ts";
import type { FullFibonacciLibrary } from "../shared/harness.ts";
import { paths } from "./libraries.ts";

const { symbols } = Deno.dlopen(paths.fibonacci, denoFibonacciSymbols);

/** `libfibonacci.so`'s functions, as the shared scenarios call them. */
export const fullExample: FullFibonacciLibrary = {
  fibonacci: (index, memoized) => symbols.fibonacci(index, memoized),
  runWorkers: (threads, events) => symbols.run_workers(threads, events),
  startWorkers: (threads, events) => symbols.start_workers(threads, events),
  joinWorkers: (handle) => symbols.join_workers(BigInt(handle)),
  recordResult: (value) => symbols.record_result(BigInt(value)),
  followsFrom: () => symbols.follows_from(),
  emitEvents: (count) => symbols.emit_events(count),
  emitWideValues: () => symbols.emit_wide_values(),
  holdSpans: (threads, depth) => symbols.hold_spans(threads, depth),
  releaseSpans: (handle) => symbols.release_spans(BigInt(handle)),
  startFibonacci: (threads, index, rounds) => symbols.start_fibonacci(threads, index, rounds),
};
