// The Worker of the Worker scenario: see `workerChild` in tests/shared/reentrancy.ts.
import * as api from "../../bun/mod.ts";
import { workerChild } from "../shared/reentrancy.ts";
import { paths } from "./libraries.ts";

declare const self: { postMessage(message: unknown): void };
workerChild(api, paths.fibonacci, (message) => self.postMessage(message));
