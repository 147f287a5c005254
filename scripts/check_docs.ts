/**
 * Checks README.md and docs/*.md against the repository (run by `scripts/check-docs`):
 *
 * - README.md has at most 200 lines;
 * - every relative link resolves: the file or directory exists and a `#anchor` names a heading of
 *   the target file (GitHub's anchor rules: lowercase, punctuation dropped, spaces to `-`, `-1`,
 *   `-2` for repeats);
 * - every repository path written in backticks or in a code block (`shim/...`, `tests/...`, ...)
 *   exists;
 * - the fenced code block right after `<!-- quote: path -->` is exactly the part of that file between
 *   its `// docs:begin` and `// docs:end` lines (the whole file when it has none), so that
 *   quoted examples are the tested code;
 * - the error codes listed under "Errors" in docs/api.md are exactly `TracingErrorCode`'s
 *   (`bindings/errors.ts`);
 * - the option tables of the layer configs name exactly the options the native config parser
 *   accepts. The parser is asked through the library (`target/release/libfibonacci.so`, built by
 *   `scripts/build`): each layer kind is entered with an unknown option, and serde's
 *   "unknown field `x`, expected one of `a`, `b`, ..." in the `INVALID_CONFIG` message lists them.
 */

import * as api from "../deno/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const README_MAX_LINES = 200;
const LIBRARY = `${ROOT}/target/release/libfibonacci.so`;
/** Top-level folders whose paths, written in backticks, must exist. */
const REPO_DIRS = [
  "shim",
  "bindings",
  "deno",
  "bun",
  "tests",
  "scripts",
  "bench",
  "examples",
  "fixtures",
  "docs",
  ".ci",
];
const PATH_PATTERN = new RegExp(`^(?:${REPO_DIRS.map((d) => d.replace(".", "\\.")).join("|")})/`);

type Kind = "fmt" | "timeline" | "flame" | "otlp" | "otlpJson";

/** Where each layer kind's option table is: the first table under that heading. */
const OPTION_TABLES: { file: string; anchor: string; kinds: Kind[] }[] = [
  { file: "docs/api.md", anchor: "fmtlayerconfig-options", kinds: ["fmt"] },
  { file: "docs/insight.md", anchor: "timelinelayerconfig-options", kinds: ["timeline"] },
  { file: "docs/insight.md", anchor: "flamelayerconfig-options", kinds: ["flame"] },
  {
    file: "docs/opentelemetry.md",
    anchor: "opentelemetry-layer-options",
    kinds: ["otlp", "otlpJson"],
  },
];

const problems: string[] = [];
const problem = (file: string, line: number, message: string) =>
  problems.push(`${file}:${line}: ${message}`);

interface Heading {
  line: number;
  slug: string;
}

interface Doc {
  file: string;
  lines: string[];
  /** Per line: inside a fenced code block (fence lines included). */
  fenced: boolean[];
  headings: Heading[];
  anchors: Set<string>;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** GitHub's heading anchor: inline markup dropped, lowercase, punctuation removed, ` ` to `-`. */
function slugOf(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "");
  return text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

function readDoc(file: string): Doc {
  const lines = Deno.readTextFileSync(`${ROOT}/${file}`).split("\n");
  const fenced: boolean[] = [];
  const headings: Heading[] = [];
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  lines.forEach((line, index) => {
    const marker = line.match(/^\s*(`{3,}|~{3,})/)?.[1];
    if (fence !== undefined) {
      fenced.push(true);
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) {
        fence = undefined;
      }
      return;
    }
    if (marker !== undefined) {
      fence = marker;
      fenced.push(true);
      return;
    }
    fenced.push(false);
    const heading = line.match(/^#{1,6}\s+(.*?)\s*#*\s*$/);
    if (heading) {
      const base = slugOf(heading[1] ?? "");
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      const slug = count === 0 ? base : `${base}-${count}`;
      headings.push({ line: index + 1, slug });
      anchors.add(slug);
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1] ?? "");
  });
  return { file, lines, fenced, headings, anchors };
}

/** `line` with each inline code span blanked out (same length), and the spans' contents. */
function splitCode(line: string): { prose: string; spans: string[] } {
  const spans: string[] = [];
  const prose = line.replace(/(`+)(.+?)\1/g, (whole, _ticks, content: string) => {
    spans.push(content);
    return "x".repeat(whole.length);
  });
  return { prose, spans };
}

const docs = new Map<string, Doc>();
function doc(file: string): Doc {
  let found = docs.get(file);
  if (found === undefined) {
    found = readDoc(file);
    docs.set(file, found);
  }
  return found;
}

function dirname(file: string): string {
  const slash = file.lastIndexOf("/");
  return slash < 0 ? "" : file.slice(0, slash);
}

/** `base/../x/./y` as a path relative to the root, or undefined when it leaves the root. */
function normalize(base: string, target: string): string | undefined {
  const parts: string[] = [];
  for (const part of [...base.split("/"), ...target.split("/")]) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else {
      parts.push(part);
    }
  }
  return parts.join("/");
}

function checkLinks(source: Doc): void {
  source.lines.forEach((line, index) => {
    if (source.fenced[index]) return;
    const { prose } = splitCode(line);
    for (const match of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = match[1] ?? "";
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) continue;
      const hash = target.indexOf("#");
      const pathPart = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
      const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
      const resolved = pathPart === "" ? source.file : normalize(dirname(source.file), pathPart);
      if (resolved === undefined || !exists(`${ROOT}/${resolved}`)) {
        problem(source.file, index + 1, `link to a missing file: ${target}`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!resolved.endsWith(".md")) {
        problem(source.file, index + 1, `anchor into a file that is not markdown: ${target}`);
      } else if (!doc(resolved).anchors.has(anchor)) {
        problem(source.file, index + 1, `no heading for the anchor: ${target}`);
      }
    }
  });
}

function checkPaths(source: Doc): void {
  source.lines.forEach((line, index) => {
    const texts = source.fenced[index] ? [line] : splitCode(line).spans;
    for (const text of texts) {
      for (let word of text.split(/[\s"'`(),;=\[\]]+/)) {
        word = word.replace(/^\.\//, "").replace(/[.,:;]+$/, "");
        if (!PATH_PATTERN.test(word) || /[<>*{}…]|\.\.\./.test(word)) continue;
        if (!exists(`${ROOT}/${word}`)) {
          problem(source.file, index + 1, `no such file or directory in the repository: ${word}`);
        }
      }
    }
  });
}

/** The lines of `file` between `// docs:begin` and `// docs:end`, or all of them. */
function quotedPart(file: string): string[] {
  const lines = Deno.readTextFileSync(`${ROOT}/${file}`).replace(/\n$/, "").split("\n");
  const begin = lines.findIndex((line) => line.trim() === "// docs:begin");
  const end = lines.findIndex((line) => line.trim() === "// docs:end");
  return begin < 0 || end < begin ? lines : lines.slice(begin + 1, end);
}

function checkQuotes(source: Doc): void {
  source.lines.forEach((line, index) => {
    if (source.fenced[index]) return;
    const quote = line.match(/^<!--\s*quote:\s*(\S+)\s*-->\s*$/)?.[1];
    if (quote === undefined) return;
    if (!exists(`${ROOT}/${quote}`)) {
      problem(source.file, index + 1, `quoted file is missing: ${quote}`);
      return;
    }
    let start = index + 1;
    while (source.lines[start] === "") start++;
    if (!/^(`{3,}|~{3,})/.test(source.lines[start] ?? "")) {
      problem(source.file, index + 1, `no code block right after the quote of ${quote}`);
      return;
    }
    const end = source.fenced.findIndex((fenced, at) =>
      at > start && fenced && /^(`{3,}|~{3,})\s*$/.test(source.lines[at] ?? "")
    );
    const block = source.lines.slice(start + 1, end < 0 ? undefined : end);
    const expected = quotedPart(quote);
    const differs = block.findIndex((text, at) => text !== expected[at]);
    if (differs >= 0 || block.length !== expected.length) {
      const at = differs >= 0 ? differs : Math.min(block.length, expected.length);
      problem(
        source.file,
        start + 2 + at,
        `the code block differs from ${quote} (its docs:begin/docs:end part) here: ` +
          `${JSON.stringify(block[at])} vs ${JSON.stringify(expected[at])}`,
      );
    }
  });
}

/** The option names of a table: `{ top-level names, nested names by parent }` for each kind. */
interface Options {
  top: Set<string>;
  nested: Map<string, Set<string>>;
}

function tableOptions(source: Doc, anchor: string, kinds: Kind[]): Map<Kind, Options> {
  const heading = source.headings.findIndex((h) => h.slug === anchor);
  const result = new Map<Kind, Options>(
    kinds.map((kind) => [kind, { top: new Set(), nested: new Map() }]),
  );
  if (heading < 0) {
    problem(source.file, 1, `no heading #${anchor} (the option table of ${kinds.join(", ")})`);
    return result;
  }
  const end = source.headings[heading + 1]?.line ?? source.lines.length + 1;
  let rows = 0;
  for (let index = source.headings[heading]?.line ?? end; index < end - 1; index++) {
    const line = source.lines[index] ?? "";
    if (!line.startsWith("|")) {
      if (rows > 0) break;
      continue;
    }
    rows++;
    if (rows <= 2) continue; // the header and the separator
    const cell = line.split(/(?<!\\)\|/)[1] ?? "";
    const marked = kinds.filter((kind) => cell.includes(`(${kind})`));
    const applies = marked.length > 0 ? marked : kinds;
    let parent: string | undefined;
    for (const [, name = ""] of cell.matchAll(/`([^`]+)`/g)) {
      const dot = name.indexOf(".");
      if (dot >= 0) parent = name.slice(0, dot);
      for (const kind of applies) {
        const options = result.get(kind)!;
        if (dot >= 0) {
          options.top.add(parent!);
          const set = options.nested.get(parent!) ?? new Set();
          set.add(name.slice(dot + 1));
          options.nested.set(parent!, set);
        } else if (parent !== undefined) {
          options.nested.get(parent)!.add(name);
        } else {
          options.top.add(name);
        }
      }
    }
  }
  if (rows <= 2) {
    problem(source.file, source.headings[heading]?.line ?? 0, `no option table under it`);
  }
  return result;
}

const UNKNOWN = "checkDocsUnknownOption";

/** The options the native parser accepts for `kind` (under `parent`, when given). */
function nativeOptions(kind: Kind, parent?: string): string[] {
  // An option no config type declares: the casts let it through to the native parser, which
  // rejects it before any file is opened or any connection made.
  const options: Record<string, unknown> = parent === undefined
    ? { [UNKNOWN]: 1 }
    : { [parent]: { [UNKNOWN]: 1 } };
  const layer = {
    fmt: () => new api.FmtLayerConfig(options as never),
    timeline: () => new api.TimelineLayerConfig({ ...options, path: "unused.trace.json" } as never),
    flame: () => new api.FlameLayerConfig({ ...options, path: "unused.folded" } as never),
    otlp: () => new api.OtlpLayerConfig(options as never),
    otlpJson: () => new api.OtlpJsonLayerConfig(options as never),
  }[kind]();
  const where = `${kind}${parent === undefined ? "" : `.${parent}`}`;
  try {
    const tracing = new api.Tracing(new api.GlobalTracingConfig({ layers: [layer] }), {
      library: LIBRARY,
    });
    tracing.enter();
    tracing.dispose();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const expected = message.match(/unknown field `[^`]*`, expected (.*)$/m);
    if (expected) return [...(expected[1] ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? "");
    if (/unknown field `[^`]*`, there are no fields/.test(message)) return [];
    throw new Error(`${where}: the unknown option failed, but not as expected: ${message}`);
  }
  throw new Error(`${where}: an unknown option was accepted; its options cannot be read`);
}

function compare(
  file: string,
  line: number,
  what: string,
  documented: Set<string>,
  native: string[],
) {
  const missing = native.filter((name) => !documented.has(name));
  const extra = [...documented].filter((name) => !native.includes(name));
  if (missing.length > 0) {
    problem(file, line, `${what}: accepted but not in the table: ${missing.join(", ")}`);
  }
  if (extra.length > 0) {
    problem(file, line, `${what}: in the table but not accepted: ${extra.join(", ")}`);
  }
}

function checkOptionTables(): number {
  if (!exists(LIBRARY)) {
    problem("scripts/check_docs.ts", 1, `${LIBRARY} is missing: run scripts/build first`);
    return 0;
  }
  let checked = 0;
  for (const { file, anchor, kinds } of OPTION_TABLES) {
    const source = doc(file);
    const line = source.headings.find((h) => h.slug === anchor)?.line ?? 1;
    for (const [kind, options] of tableOptions(source, anchor, kinds)) {
      compare(file, line, `${kind} options`, options.top, nativeOptions(kind));
      checked++;
      for (const [parent, names] of options.nested) {
        compare(file, line, `${kind} ${parent}.* options`, names, nativeOptions(kind, parent));
        checked++;
      }
    }
  }
  return checked;
}

/** The codes in docs/api.md's "Errors" section against the `TracingErrorCode` union. */
function checkErrorCodes(): void {
  const source = doc("docs/api.md");
  const heading = source.headings.findIndex((h) => h.slug === "errors");
  if (heading < 0) {
    problem(source.file, 1, "no heading #errors (the list of error codes)");
    return;
  }
  const start = source.headings[heading]?.line ?? 0;
  const end = source.headings[heading + 1]?.line ?? source.lines.length + 1;
  const section = source.lines.slice(start, end - 1).join("\n");
  const documented = new Set([...section.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1] ?? ""));
  const union = Deno.readTextFileSync(`${ROOT}/bindings/errors.ts`)
    .match(/export type TracingErrorCode =([^;]*);/)?.[1];
  if (union === undefined) {
    problem("bindings/errors.ts", 1, "no `export type TracingErrorCode = ...;` to compare with");
    return;
  }
  const codes = [...union.matchAll(/"([A-Z0-9_]+)"/g)].map((m) => m[1] ?? "");
  compare(source.file, start, "error codes (bindings/errors.ts)", documented, codes);
}

const files = [
  "README.md",
  ...[...Deno.readDirSync(`${ROOT}/docs`)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
    .map((entry) => `docs/${entry.name}`)
    .sort(),
];

const readme = doc("README.md");
const readmeLines = readme.lines.length - (readme.lines.at(-1) === "" ? 1 : 0);
if (readmeLines > README_MAX_LINES) {
  problem("README.md", readmeLines, `${readmeLines} lines; at most ${README_MAX_LINES}`);
}
for (const file of files) {
  checkLinks(doc(file));
  checkPaths(doc(file));
  checkQuotes(doc(file));
}
checkErrorCodes();
const tables = checkOptionTables();

if (problems.length > 0) {
  console.error(problems.join("\n"));
  console.error(`check-docs: ${problems.length} problem(s)`);
  Deno.exit(1);
}
console.log(
  `check-docs: ok: README.md ${readmeLines} lines; links and paths of ${files.length} files; ` +
    `error codes match bindings/errors.ts; ${tables} option lists match the native parser`,
);
