// Child process of the accounting scenarios (see `runAccountingChild` in
// tests/shared/accounting.ts). Arguments: <scenario> <endpoint> <protocol>.
import * as api from "../../bun/mod.ts";
import { runAccountingChild } from "../shared/accounting.ts";
import { fullExample } from "./example.ts";
import { paths } from "./libraries.ts";

await runAccountingChild(api, fullExample, paths.fibonacci, process.argv.slice(2));
