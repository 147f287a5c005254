// Runs the shared scenarios under `bun test`.
import { test } from "bun:test";
import * as api from "../../bun/mod.ts";
import { defineScenarios } from "../shared/scenarios.ts";
import { defineJsLayerScenarios } from "../shared/js_layer_scenarios.ts";
import { defineBadInputScenarios } from "../shared/bad_inputs.ts";
import { defineOptionScenarios } from "../shared/options.ts";
import type { JsLayerHarness } from "../shared/js_layer_scenarios.ts";
import { fullExample } from "./example.ts";
import { runBunChild } from "./child.ts";
import { paths, tempDir } from "./libraries.ts";

const harness: JsLayerHarness = {
  runtime: "bun",
  api: api,
  example: fullExample,

  paths,
  tempDir,
  runChild: (script, env) => runBunChild(script, { env }),
};

defineScenarios((name, body) => test(name, body), harness);
defineJsLayerScenarios((name, body) => test(name, body), harness);
defineBadInputScenarios((name, body) => test(name, body), harness);
defineOptionScenarios((name, body) => test(name, body), harness);
