/**
 * The runtime-neutral core of tracing-bridge. Applications import `deno/mod.ts` or `bun/mod.ts`,
 * which add the runtime-bound `Tracing`, `openLibrary` and `renderFlameSvg`.
 * @module
 */

export * from "./public.ts";
