/**
 * Child process of the OTLP scenarios that depend on the process environment (`OTEL_*` is read
 * by the native library when a layer is built) or on what is printed to stderr.
 */

import process from "node:process";
import type { OtlpLayerOptions } from "../../bindings/public.ts";
import { closedPort } from "./receiver.ts";
import type { Api, FibonacciLibrary } from "./harness.ts";

/** The environment variable holding the layer options (JSON) of scenario `options`. */
export const CHILD_OPTIONS_VARIABLE = "OTLP_CHILD_OPTIONS";
/** Spans the scenarios `receiver-down` and `options` make: fib(4) recursing. */
export const CHILD_SPANS = 9;

/** Runs `scenario`; returns the exit code. */
export async function runOtlpChild(
  api: Api,
  example: FibonacciLibrary,
  libraryPath: string,
  scenario: string,
): Promise<number> {
  const layer = async () => {
    switch (scenario) {
      case "env-only":
        return new api.OtlpLayerConfig({ filter: "info" });
      case "explicit-exporter":
        return new api.OtlpLayerConfig({ exporter: "otlp", filter: "info" });
      case "no-detect":
        return new api.OtlpLayerConfig({ detectResource: false, filter: "info" });
      case "explicit":
        return new api.OtlpLayerConfig({
          serviceName: "explicit-service",
          headers: { "x-shared": "explicit" },
          filter: "info",
        });
      case "options":
        return new api.OtlpLayerConfig(
          JSON.parse(process.env[CHILD_OPTIONS_VARIABLE] ?? "{}") as OtlpLayerOptions,
        );
      case "receiver-down":
        return new api.OtlpLayerConfig({
          endpoint: `http://127.0.0.1:${await closedPort()}`,
          flushTimeoutMs: 500,
          batch: { scheduledDelayMs: 600_000 },
          filter: "info",
        });
      default:
        throw new Error(`unknown scenario ${scenario}`);
    }
  };
  try {
    const tracing = new api.Tracing(
      new api.GlobalTracingConfig({ layers: [await layer()] }),
      { library: libraryPath },
    ).enter();
    example.fibonacci(scenario === "receiver-down" || scenario === "options" ? 4 : 3, false);
    tracing.dispose();
    console.log(`dropped=${tracing.droppedSpans}`);
    // With TEST_OTLP_JSON_FILE, an otlpJson layer writes there too (OTEL_SDK_DISABLED tests).
    const file = process.env.TEST_OTLP_JSON_FILE;
    if (file) {
      const json = new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [new api.OtlpJsonLayerConfig({ writer: { file }, filter: "info" })],
        }),
        { library: libraryPath },
      ).enter();
      example.fibonacci(3, false);
      json.dispose();
      console.log(`json dropped=${json.droppedSpans}`);
    }
    return 0;
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    console.error(`${code}: ${message}`);
    return 1;
  }
}
