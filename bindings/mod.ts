/**
 * The runtime-neutral core of tracing-bridge. Applications import `deno/mod.ts` or `bun/mod.ts`,
 * which bind it to their runtime first: without one, `Tracing`, `openLibrary` and
 * `renderFlameSvg` throw.
 * @module
 */

export * from "./public.ts";
