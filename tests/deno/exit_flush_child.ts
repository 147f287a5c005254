// Child process of the exit scenarios (see `exitFlushChild` in tests/shared/exit_flush.ts).
// Arguments: <kind> <end|exit|dispose|flushing|unended> <target> [protocol].
import * as api from "../../deno/mod.ts";
import { exitFlushChild, exitsItself } from "../shared/exit_flush.ts";
import { basicExample, paths } from "./libraries.ts";

exitFlushChild(api, basicExample, paths.fibonacci, Deno.args);
if (exitsItself(Deno.args[1] ?? "")) Deno.exit(0);
