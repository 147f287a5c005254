// Child process of the write-failure scenarios (see tests/shared/write_failures.ts).
import * as api from "../../bun/mod.ts";
import type { Api } from "../shared/harness.ts";
import { runFullStderrChild, runTornLinesChild } from "../shared/write_failures.ts";

const path = new URL("../../target/release/libfibonacci.so", import.meta.url).pathname;
const first = process.argv[2];
if (first === "--stderr-full") runFullStderrChild(api as unknown as Api, path);
else runTornLinesChild(api as unknown as Api, path, first ?? "");
