/**
 * What each runtime's test file provides to the shared scenarios, so that Deno and Bun run
 * exactly the same checks.
 */

import type * as PublicApi from "../../bindings/public.ts";

/**
 * The public API of `deno/mod.ts` or `bun/mod.ts`: both re-export `bindings/public.ts`, bound to
 * their runtime. Imported from there, so that `deno check` and `tsc` with Bun's types both check
 * the shared scenarios.
 */
export type Api = typeof PublicApi;

/** The example library's own functions. */
export interface FibonacciLibrary {
  fibonacci(index: number, useMemoized: boolean): bigint | number;
  runWorkers(threads: number, eventsPerThread: number): bigint | number;
}

/** Every function of the example library the JS layer scenarios use. */
export interface FullFibonacciLibrary extends FibonacciLibrary {
  startWorkers(threads: number, eventsPerThread: number): bigint | number;
  joinWorkers(handle: bigint | number): bigint | number;
  recordResult(value: number): void;
  followsFrom(): void;
  emitEvents(count: number): void;
  emitWideValues(): void;
  /** Holds `depth` nested spans open on each of `threads` Rust threads until released. */
  holdSpans(threads: number, depth: number): bigint | number;
  releaseSpans(handle: bigint | number): bigint | number;
  /** `fibonacci(index, false)` `rounds` times on each of `threads` Rust threads; see joinWorkers. */
  startFibonacci(threads: number, index: number, rounds: number): bigint | number;
}

/** A finished child process. */
export interface ChildResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Harness {
  runtime: "deno" | "bun";
  api: Api;
  example: FibonacciLibrary;
  paths: {
    /** The example library (embeds the shim). */
    fibonacci: string;
    /** A library claiming ABI version 999. */
    wrongAbi: string;
    /** A library without any tracing-bridge symbol. */
    notABridge: string;
  };
  /** A new empty directory. */
  tempDir(): string;
  /**
   * Runs `tests/<runtime>/<script>` with `env` added and, in Deno, only the given permission
   * flags.
   */
  runChild(script: string, env: Record<string, string>, denoFlags: string[]): ChildResult;
}

export type TestFn = (name: string, body: () => void | Promise<void>) => void;
