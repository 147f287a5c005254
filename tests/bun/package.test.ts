// The npm package as a Bun user gets it: `npm pack`, installed into a fresh project, imported
// by its name. Checks package.json `files` and `exports` (Deno's channel is JSR, checked by
// `deno publish --dry-run` in scripts/test).
import { expect, test } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LIBRARY_DIR_ENV_VAR, libraryPaths, releaseDirectory } from "../shared/embedding.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const { myLibrary } = libraryPaths(process.env[LIBRARY_DIR_ENV_VAR] || releaseDirectory);

const app = `
import { dlopen, FFIType } from "bun:ffi";
import * as byName from "tracing-bridge";
import { FmtLayerConfig, GlobalTracingConfig, Tracing } from "tracing-bridge/bun";

if (byName.Tracing !== Tracing) throw new Error("'tracing-bridge' is not 'tracing-bridge/bun'");
const [library = "", log = ""] = process.argv.slice(2);
const mine = dlopen(library, { my_library_sum: { args: [FFIType.u32], returns: FFIType.u64 } });
{
  using _tracing = new Tracing(
    new GlobalTracingConfig({ layers: [new FmtLayerConfig({ writer: { file: log } })] }),
    { library },
  ).enter();
  mine.symbols.my_library_sum(3);
}
`;

test("the npm package installs into a new project and works by its name", () => {
  const dir = mkdtempSync(join(tmpdir(), "tracing-bridge-package-"));
  const run = (command: string, args: string[], cwd: string) =>
    execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const tarball = run("npm", ["pack", "--silent", "--pack-destination", dir], root).trim();
  const project = join(dir, "app");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), '{ "name": "app", "private": true }\n');
  writeFileSync(join(project, "app.ts"), app);
  run(
    "npm",
    ["install", "--offline", "--no-audit", "--no-fund", "--silent", join(dir, tarball)],
    project,
  );
  const log = join(dir, "app.log");
  run(process.execPath, ["app.ts", myLibrary, log], project);
  expect(readFileSync(log, "utf8")).toMatch(/INFO sum\{count=3\}: my_library: summed total=6\n$/);

  // The same project type-checks with what `bun init` writes (strict, noUncheckedIndexedAccess,
  // noImplicitOverride, …), plus exactOptionalPropertyTypes: `.ts` files under node_modules are
  // checked with the user's options (skipLibCheck skips only `.d.ts`). Bun's types come from
  // this repository's node_modules, as `bun init` would install them.
  writeFileSync(join(project, "tsconfig.json"), BUN_INIT_TSCONFIG);
  for (const dependency of ["@types", "bun-types"]) {
    symlinkSync(join(root, "node_modules", dependency), join(project, "node_modules", dependency));
  }
  writeFileSync(join(project, "layer.ts"), typedLayer);
  const tsc = join(root, "node_modules", ".bin", "tsc");
  const checked = spawnSync(tsc, ["--noEmit", "-p", "."], { cwd: project, encoding: "utf8" });
  expect(checked.stdout + checked.stderr).toBe("");
  expect(checked.status).toBe(0);
}, 90_000); // npm pack + install + tsc: seconds, more on a loaded machine

// What `bun init` (1.4) writes, with exactOptionalPropertyTypes added.
const BUN_INIT_TSCONFIG = `{
  "compilerOptions": {
    "lib": ["ESNext"],
    "target": "ESNext",
    "module": "Preserve",
    "moduleDetection": "force",
    "jsx": "react-jsx",
    "allowJs": true,
    "types": ["bun"],
    "moduleResolution": "bundler",
    "allowImportingTsExtensions": true,
    "verbatimModuleSyntax": true,
    "noEmit": true,
    "strict": true,
    "skipLibCheck": true,
    "noFallthroughCasesInSwitch": true,
    "noUncheckedIndexedAccess": true,
    "noImplicitOverride": true,
    "exactOptionalPropertyTypes": true,
    "noUnusedLocals": false,
    "noUnusedParameters": false,
    "noPropertyAccessFromIndexSignature": false
  }
}
`;

// A layer's state is typed from what onNewSpan returns; options take undefined.
const typedLayer = `
import { JsLayerConfig } from "tracing-bridge";

export const config = new JsLayerConfig({
  onNewSpan: (span) => ({ started: span.timestamp }),
  onClose: (_id, state) => {
    const started: number | undefined = state?.started;
    console.log(started);
  },
}, { filter: process.env.MY_FILTER });
`;
