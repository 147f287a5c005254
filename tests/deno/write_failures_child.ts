// Child process of the write-failure scenarios (see tests/shared/write_failures.ts).
import * as api from "../../deno/mod.ts";
import { runTornLinesChild } from "../shared/write_failures.ts";

const path = new URL("../../target/release/libfibonacci.so", import.meta.url).pathname;
runTornLinesChild(api, path, Deno.args[0] ?? "");
