/**
 * The public API, the same in both runtimes: `deno/mod.ts` and `bun/mod.ts` re-export it after
 * binding `Tracing`, `openLibrary` and `renderFlameSvg` to their runtime (`useRuntime`).
 * @module
 */

export {
  CurrentThreadTracingConfig,
  type FmtFormat,
  FmtLayerConfig,
  type FmtLayerOptions,
  type FmtTimer,
  type FmtWriter,
  GlobalTracingConfig,
  type LayerConfig,
  type RollingWriter,
  type Rotation,
  type SpanEvent,
  TracingConfig,
  type TracingConfigOptions,
  type TracingScope,
  type Writer,
} from "./config.ts";
export {
  type OtelAttributeValue,
  type OtelBatchOptions,
  type OtelExporter,
  type OtelMetricsOptions,
  type OtelSampler,
  type OtelScope,
  type OtelSdkOptions,
  type OtelSpanAttributes,
  type OtelSpanLimits,
  type OtelTracesExporter,
  OtlpJsonLayerConfig,
  type OtlpJsonLayerOptions,
  type OtlpJsonSignals,
  OtlpLayerConfig,
  type OtlpLayerOptions,
  type OtlpProtocol,
  type OtlpSignals,
} from "./otlp.ts";
export { TracingError, type TracingErrorCode } from "./errors.ts";
export {
  activeOpenTelemetryContext,
  type EventOptions,
  JsSpan,
  type SpanFields,
  type SpanFieldValue,
  type SpanLevel,
  type StartSpanOptions,
  type TraceContext,
} from "./js_spans.ts";
export {
  type CallsiteMetadata,
  type EventData,
  type Fields,
  type FieldValue,
  JsLayerConfig,
  type JsLayerOptions,
  type Layer,
  type LayerErrorContext,
  type LayerMethod,
  type Level,
  type SpanData,
  type ThreadInfo,
} from "./js_layer.ts";
export type {
  DroppedJsSpan,
  LayerDiagnostics,
  MissingTarget,
  TracingDiagnostics,
} from "./diagnostics.ts";
export { FlameLayerConfig, type FlameLayerOptions } from "./flame.ts";
export { type FlameSvgOptions, renderFlameSvg } from "./flame_svg.ts";
export { TimelineLayerConfig, type TimelineLayerOptions, type TimelineStyle } from "./timeline.ts";
export { ABI_VERSION, LIBRARY_ENV_VAR, openLibrary, TracingLibrary } from "./library.ts";
export { Tracing, TracingBase, type TracingOptions } from "./tracing.ts";
export type { InstrumentOptions } from "./instrument.ts";
