// Child process of the write-failure scenarios (see tests/shared/write_failures.ts).
import * as api from "../../bun/mod.ts";
import type { Api } from "../shared/harness.ts";
import { runTornLinesChild } from "../shared/write_failures.ts";

const path = new URL("../../target/release/libfibonacci.so", import.meta.url).pathname;
runTornLinesChild(api as unknown as Api, path, process.argv[2] ?? "");
