// Child process of the write-failure scenarios (see tests/shared/write_failures.ts).
import * as api from "../../deno/mod.ts";
import { runFullStderrChild, runTornLinesChild } from "../shared/write_failures.ts";

const path = new URL("../../target/release/libfibonacci.so", import.meta.url).pathname;
const [first] = Deno.args;
if (first === "--stderr-full") runFullStderrChild(api, path);
else runTornLinesChild(api, path, first ?? "");
