// The dummy Python layer of `pyo3-python-tracing-subscriber` (from the PyO3 guide's page on
// tracing), translated line by line into a JavaScript layer. docs/js-layers.md quotes the lines
// between the markers, and scripts/check-docs checks that the quote is exactly this code;
// tests/shared/python_layer.ts runs deno.ts and bun.ts and checks what they print.
import type { EventData, Fields, Layer, SpanData } from "../../bindings/public.ts";

// docs:begin
export class MyJsLayer implements Layer<number> {
  constructor() {
  }

  // `onNewSpan` can return some state
  onNewSpan(span: SpanData, spanId: number): number {
    console.log(`[on_new_span]: ${JSON.stringify(span)} | ${spanId}`);
    return 1 + Math.floor(Math.random() * 1000);
  }

  // The state from `onNewSpan` is passed back into other trait methods
  onEvent(event: EventData, state: number | undefined) {
    console.log(`[on_event]: ${JSON.stringify(event)} | ${state}`);
  }

  onClose(spanId: number, state: number | undefined) {
    console.log(`[on_close]: ${spanId} | ${state}`);
  }

  onRecord(spanId: number, values: Fields, state: number | undefined) {
    console.log(`[on_record]: ${spanId} | ${JSON.stringify(values)} | ${state}`);
  }
}
// docs:end
