/** The example library's functions, as both runtimes' symbol tables declare them. */

/** Deno `Deno.dlopen` symbols of `libfibonacci.so`. */
export const denoFibonacciSymbols = {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
  run_workers: { parameters: ["u32", "u32"], result: "u64" },
  count_calls: { parameters: ["u32", "u32"], result: "u64" },
  start_workers: { parameters: ["u32", "u32"], result: "u64" },
  join_workers: { parameters: ["u64"], result: "u64" },
  record_result: { parameters: ["u64"], result: "void" },
  follows_from: { parameters: [], result: "void" },
  emit_events: { parameters: ["u32"], result: "void" },
  emit_wide_values: { parameters: [], result: "void" },
  hold_spans: { parameters: ["u32", "u32"], result: "u64" },
  release_spans: { parameters: ["u64"], result: "u64" },
  start_fibonacci: { parameters: ["u32", "u32", "u32"], result: "u64" },
} as const;
