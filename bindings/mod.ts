/**
 * The runtime-neutral core of tracing-bridge. Applications import `deno/mod.ts` or `bun/mod.ts`.
 * @module
 */

export * from "./config.ts";
export * from "./errors.ts";
export * from "./js_layer.ts";
export * from "./js_spans.ts";
export * from "./insight.ts";
export * from "./library.ts";
export * from "./otlp.ts";
export * from "./tracing.ts";
export type { NativeLibrary, Runtime, SubscriberHandle } from "./native.ts";
