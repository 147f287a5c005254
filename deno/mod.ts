/**
 * tracing-bridge for Deno: see what a Rust library loaded with `Deno.dlopen` does, through
 * Rust's `tracing` ecosystem.
 *
 * ```ts
 * import { FmtLayerConfig, GlobalTracingConfig, Tracing } from "@tracing-bridge/tracing-bridge";
 *
 * using tracing = new Tracing(
 *   new GlobalTracingConfig({ layers: [new FmtLayerConfig({ format: "compact" })] }),
 *   { library: "./target/release/libmy_library.so" },
 * ).enter();
 * ```
 * @module
 */

import { useRuntime } from "../bindings/native.ts";
import { denoRuntime } from "./ffi.ts";

useRuntime(denoRuntime);

export * from "../bindings/public.ts";
