// The body of scripts/flamegraph: renders folded stacks to SVG through the shim's inferno.
import { parseArgs } from "node:util";
import process from "node:process";
import { renderFlameSvg, TracingError } from "../deno/mod.ts";

const usage = "usage: scripts/flamegraph [--chart] [--title TEXT] [--width PX] " +
  "[--min-width PCT] [--inverted] INPUT.folded [OUTPUT.svg]";

class UsageError extends Error {}

/** This repository's release build of the shim alone: rendering needs no library of a user's. */
const shimBuild = new URL("../target/release/libtracing_bridge.so", import.meta.url).pathname;

function numberOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    throw new UsageError(`--${name} needs a non-negative number`);
  }
  return value;
}

async function main(): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: Deno.args,
      allowPositionals: true,
      options: {
        chart: { type: "boolean", default: false },
        title: { type: "string" },
        width: { type: "string" },
        "min-width": { type: "string" },
        inverted: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) {
      console.log(usage);
      return 0;
    }
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError("give one input");
    const [input] = positionals;
    if (input === undefined) throw new UsageError("give one input");
    const output = positionals[1] ?? input.replace(/(\.folded)?$/, ".svg");
    await renderFlameSvg(input, output, {
      style: values.chart ? "chart" : "graph",
      title: values.title,
      width: numberOption("width", values.width),
      minWidth: numberOption("min-width", values["min-width"]),
      inverted: values.inverted,
    }, { library: shimBuild });
    console.log(`flamegraph: wrote ${output}`);
    return 0;
  } catch (error) {
    if (error instanceof TracingError) {
      console.error(`flamegraph: ${error.message} (${error.code})`);
      return 1;
    }
    console.error(`flamegraph: ${(error as Error).message}\n${usage}`);
    return 2;
  }
}

process.exitCode = await main();
