// Child process of the exit scenarios (see `exitFlushChild` in tests/shared/exit_flush.ts).
// Arguments: <kind> <end|exit|dispose|flushing|unended> <target> [protocol].
import * as api from "../../bun/mod.ts";
import { exitFlushChild, exitsItself } from "../shared/exit_flush.ts";
import { basicExample, paths } from "./libraries.ts";

const args = process.argv.slice(2);
exitFlushChild(api, basicExample, paths.fibonacci, args);
if (args[0] === "none") console.log(`exit listeners: ${process.listenerCount("exit")}`);
if (exitsItself(args[1] ?? "")) process.exit(0);
