// Child process of the re-entrancy matrix: see `reentrancyChild` in tests/shared/reentrancy.ts.
import * as api from "../../bun/mod.ts";
import { type CallbackKind, reentrancyChild } from "../shared/reentrancy.ts";
import { fullExample } from "./example.ts";
import { paths } from "./libraries.ts";

const kind = process.env.REENTRANCY_KIND as CallbackKind;
await reentrancyChild(api, fullExample, paths.fibonacci, kind);
