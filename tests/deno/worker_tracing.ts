// The Worker of the Worker scenario: see `workerChild` in tests/shared/reentrancy.ts.
/// <reference lib="deno.worker" />
import * as api from "../../deno/mod.ts";
import { workerChild } from "../shared/reentrancy.ts";
import { paths } from "./libraries.ts";

workerChild(api, paths.fibonacci, (message) => self.postMessage(message));
