// Runs the header drift checks (tests/shared/header.ts) under `deno test`.
import { defineHeaderScenarios } from "../shared/header.ts";

defineHeaderScenarios((name, body) => Deno.test(name, body));
