// Child process of the re-entrancy matrix: see `reentrancyChild` in tests/shared/reentrancy.ts.
import * as api from "../../deno/mod.ts";
import { type CallbackKind, reentrancyChild } from "../shared/reentrancy.ts";
import { fullExample } from "./example.ts";
import { paths } from "./libraries.ts";

const kind = Deno.env.get("REENTRANCY_KIND") as CallbackKind;
await reentrancyChild(api, fullExample, paths.fibonacci, kind);
