// Child process of the Worker scenario: see `workerParent` in tests/shared/reentrancy.ts.
import * as api from "../../bun/mod.ts";
import { workerParent } from "../shared/reentrancy.ts";
import { fullExample } from "./example.ts";
import { paths } from "./libraries.ts";

await workerParent(
  api,
  fullExample,
  paths.fibonacci,
  () => new Worker(new URL("./worker_tracing.ts", import.meta.url).href),
);
