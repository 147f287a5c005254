/**
 * Disposing at exit: every `Tracing` still entered when the program exits normally (the event
 * loop ran empty, `Deno.exit()`, `process.exit()`) is disposed then, so that its layers are
 * flushed and shut down, each bounded by its `flushTimeoutMs`; so is a disposed `Tracing`
 * whose layers are not shut down yet because a `flushAsync()` (or `await using`'s shutdown) was
 * still running on another thread. The exit hook is registered with the runtime only when the
 * first `Tracing` is entered: a program that never enters one is untouched.
 * @module
 */

import type { Runtime } from "./native.ts";

/** What the exit hook needs of an entered `Tracing`. */
export interface ExitDisposable {
  /**
   * Disposes now, on this thread, without waiting for calls in flight on other threads: when
   * it returns, the layers are flushed and shut down.
   */
  disposeAtExit(): void;
}

/** The tracings entered and not yet released (freed), in the order they were entered. */
const entered = new Set<ExitDisposable>();
let hooked = false;

/** Records an entered tracing; registers the exit hook with `runtime` the first time. */
export function trackEntered(runtime: Runtime, tracing: ExitDisposable): void {
  entered.add(tracing);
  if (hooked) return;
  hooked = true;
  try {
    runtime.onExit(disposeAllAtExit);
  } catch (error) {
    console.error("tracing-bridge: could not register the exit hook:", error);
  }
}

/** Forgets a tracing once its handle is freed. */
export function forgetEntered(tracing: ExitDisposable): void {
  entered.delete(tracing);
}

/**
 * The exit hook: disposes every tracing still entered or still shutting down, the last entered
 * first (as `using` would). Never throws: failures go to stderr.
 */
function disposeAllAtExit(): void {
  const remaining = [...entered].reverse();
  entered.clear();
  for (const tracing of remaining) {
    try {
      tracing.disposeAtExit();
    } catch (error) {
      try {
        console.error("tracing-bridge: dispose at exit failed:", error);
      } catch {
        // Nothing left to report to.
      }
    }
  }
}
