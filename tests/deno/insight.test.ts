// Runs the shared performance-insight scenarios under `deno test`.
import assert from "node:assert/strict";
import * as api from "../../deno/mod.ts";
import { defineInsightScenarios } from "../shared/insight.ts";
import { basicExample, paths, tempDir } from "./libraries.ts";

defineInsightScenarios((name, body) => Deno.test(name, body), {
  runtime: "deno",
  api,
  example: basicExample,
  paths,
  tempDir,
});

Deno.test("scripts/flamegraph renders an existing folded file, and reports a missing one", () => {
  const dir = Deno.makeTempDirSync({ prefix: "tracing-bridge-" });
  Deno.writeTextFileSync(`${dir}/stacks.folded`, "main; parse 30\nmain; parse; lex 20\nmain 5\n");
  const script = new URL("../../scripts/flamegraph", import.meta.url).pathname;
  const run = (...args: string[]) => {
    const output = new Deno.Command(script, { args, cwd: dir }).outputSync();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      text: decoder.decode(output.stdout) + decoder.decode(output.stderr),
    };
  };
  const rendered = run("--chart", "--title", "Parsing", "stacks.folded");
  assert.equal(rendered.code, 0, rendered.text);
  assert.match(rendered.text, /wrote stacks\.svg/);
  const svg = Deno.readTextFileSync(`${dir}/stacks.svg`);
  assert.match(svg, />Parsing</);
  assert.match(svg, /<title>lex \(20 ns, 36\.36%\)<\/title>/);
  const missing = run("none.folded");
  assert.equal(missing.code, 1);
  assert.match(missing.text, /cannot read the folded stacks `none\.folded`.*\(FILE_NOT_READABLE\)/);
});
