/**
 * Child of `bench/js_spans.ts` (Deno only), run with `OTEL_DENO=true`: makes `Deno.args[0]` spans
 * (start + 2 attributes + end) through `@opentelemetry/api`, i.e. Deno's built-in OpenTelemetry,
 * which exports them (OTLP HTTP/protobuf) to `OTEL_EXPORTER_OTLP_ENDPOINT` and flushes at exit.
 */

import { trace } from "@opentelemetry/api";

const spans = Number(Deno.args[0]);
const tracer = trace.getTracer("bench");
for (let index = 0; index < spans; index++) {
  const span = tracer.startSpan("request");
  span.setAttribute("route", "/users");
  span.setAttribute("index", index);
  span.end();
}
