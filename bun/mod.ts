/**
 * tracing-bridge for Bun: see what a Rust library loaded with `bun:ffi` does, through
 * Rust's `tracing` ecosystem.
 *
 * ```ts
 * import { FmtLayerConfig, GlobalTracingConfig, Tracing } from "tracing-bridge";
 *
 * using tracing = new Tracing(
 *   new GlobalTracingConfig({ layers: [new FmtLayerConfig({ format: "compact" })] }),
 *   { library: "./target/release/libmy_library.so" },
 * ).enter();
 * ```
 * @module
 */

import { useRuntime } from "../bindings/native.ts";
import { bunRuntime } from "./ffi.ts";

useRuntime(bunRuntime);

export * from "../bindings/public.ts";
