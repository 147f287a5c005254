// Runs the OTLP TLS and retry scenarios under `bun test`.
import { test } from "bun:test";
import * as api from "../../bun/mod.ts";
import { defineOtlpTlsScenarios } from "../shared/otlp_tls.ts";
import { basicExample, paths, tempDir } from "./libraries.ts";

defineOtlpTlsScenarios((name, body) => test(name, body, 30_000), {
  runtime: "bun",
  api: api,
  example: basicExample,
  paths,
  tempDir,
  runChild: () => {
    throw new Error("not used by the OTLP scenarios");
  },
});
