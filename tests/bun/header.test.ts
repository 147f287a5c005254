// Runs the header drift checks (tests/shared/header.ts) under `bun test`.
import { test } from "bun:test";
import { defineHeaderScenarios } from "../shared/header.ts";

defineHeaderScenarios((name, body) => test(name, body));
