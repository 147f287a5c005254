/**
 * The OpenTelemetry layers: {@link OtlpLayerConfig} exports spans to an OTLP receiver (gRPC,
 * HTTP/protobuf or HTTP/JSON); {@link OtlpJsonLayerConfig} writes them as OTLP JSON lines to
 * stdout, stderr or a file.
 *
 * Every option left out falls back to the standard `OTEL_*` environment variable of the
 * process, read by the native library itself (no `--allow-env` needed in Deno); explicit
 * options win. Invalid values fail `enter()` with `INVALID_CONFIG`, naming the option or the
 * variable. `OTEL_SDK_DISABLED=true` makes both layers record nothing.
 * @module
 */

import { type LayerConfig, optionNames, type Writer } from "./config.ts";

/** OTLP wire protocols. */
export type OtlpProtocol = "grpc" | "http/protobuf" | "http/json";

/**
 * Where an {@link OtlpLayerConfig} sends its spans, as `OTEL_TRACES_EXPORTER` names it: the
 * OTLP receiver, OTLP JSON lines on stdout (what an `OtlpJsonLayerConfig` writes there), or
 * nowhere (the layer records nothing).
 */
export type OtelExporter = "otlp" | "console" | "none";

/** The exporter of spans ({@link OtelExporter}). */
export type OtelTracesExporter = OtelExporter;

/**
 * Where each signal of an {@link OtlpLayerConfig} goes. Each falls back to its
 * `OTEL_TRACES_EXPORTER`, `OTEL_LOGS_EXPORTER` or `OTEL_METRICS_EXPORTER` variable, then
 * traces `"otlp"`, logs and metrics `"none"`.
 */
export interface OtlpSignals {
  /** Spans (the same as the layer's `exporter` option: give one of them). */
  traces?: OtelExporter | undefined;
  /** Log records: every event that passes the layer's filter, linked to its span. */
  logs?: OtelExporter | undefined;
  /** Metrics from event fields named `monotonic_counter.*`, `counter.*`, `histogram.*`. */
  metrics?: OtelExporter | undefined;
}

/** Which signals an {@link OtlpJsonLayerConfig} writes, one OTLP JSON object per line. */
export interface OtlpJsonSignals {
  /** `TracesData` lines. Default `true`. */
  traces?: boolean | undefined;
  /** `LogsData` lines. Default `false`. */
  logs?: boolean | undefined;
  /** `MetricsData` lines. Default `false`. */
  metrics?: boolean | undefined;
}

/** Metrics export settings; each falls back to its `OTEL_*` variable. */
export interface OtelMetricsOptions {
  /** Time between periodic exports, in ms. Default `OTEL_METRIC_EXPORT_INTERVAL`, else 60000. */
  exportIntervalMs?: number | undefined;
  /** Longest time one export may take, in ms. Default `OTEL_METRIC_EXPORT_TIMEOUT`, else 30000. */
  exportTimeoutMs?: number | undefined;
  /**
   * Default `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, else `"cumulative"`. `"delta"`
   * and `"lowmemory"`: counters and histograms delta, up-down counters cumulative.
   */
  temporality?: "cumulative" | "delta" | "lowmemory" | undefined;
}

/**
 * A resource or scope attribute value: a string, number or boolean, or an array of values of
 * one of those types (not nested).
 */
export type OtelAttributeValue = string | number | boolean | string[] | number[] | boolean[];

/** The samplers of the OpenTelemetry specification, named as in `OTEL_TRACES_SAMPLER`. */
export type OtelSampler =
  | "always_on"
  | "always_off"
  | "traceidratio"
  | "parentbased_always_on"
  | "parentbased_always_off"
  | "parentbased_traceidratio";

/** Span limits; each falls back to its `OTEL_*_LIMIT` variable, then 128. */
export interface OtelSpanLimits {
  /** `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`. */
  maxAttributesPerSpan?: number | undefined;
  /** `OTEL_SPAN_EVENT_COUNT_LIMIT`. */
  maxEventsPerSpan?: number | undefined;
  /** `OTEL_SPAN_LINK_COUNT_LIMIT`. */
  maxLinksPerSpan?: number | undefined;
  /** `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`. */
  maxAttributesPerEvent?: number | undefined;
  /** `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`. */
  maxAttributesPerLink?: number | undefined;
  /**
   * The longest string attribute value of spans, events and links, in characters (Unicode code
   * points; strings in arrays too): longer ones are cut. Default
   * `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else
   * unlimited.
   */
  attributeValueLengthLimit?: number | undefined;
}

/** Batch span processor settings; each falls back to its `OTEL_BSP_*` variable. */
export interface OtelBatchOptions {
  /** Spans buffered before new ones are dropped (and counted). Default 2048. */
  maxQueueSize?: number | undefined;
  /** Spans per export, at most `maxQueueSize`. Default 512. */
  maxExportBatchSize?: number | undefined;
  /** Longest wait before a partial batch is exported, in ms. Default 5000. */
  scheduledDelayMs?: number | undefined;
  /** Longest time one export may take, in ms. Default 30000. */
  exportTimeoutMs?: number | undefined;
}

/** The instrumentation scope the spans are reported under. */
export interface OtelScope {
  /** Default `"tracing-bridge"`. */
  name?: string | undefined;
  /** Default: the bridge's version (with the default name). */
  version?: string | undefined;
  /** The scope's schema URL (`ScopeSpans.schemaUrl`). Default none. */
  schemaUrl?: string | undefined;
  /** Scope attributes. Default none. */
  attributes?: Record<string, OtelAttributeValue> | undefined;
}

/**
 * The attributes every span gets besides its own fields (as `tracing-opentelemetry` adds
 * them); each is on unless set to `false`.
 */
export interface OtelSpanAttributes {
  /** `code.file.path`, `code.module.name`, `code.line.number` (Rust callsites only). */
  location?: boolean | undefined;
  /** `thread.id` and `thread.name` of the thread that made the span. */
  thread?: boolean | undefined;
  /** `busy_ns` and `idle_ns`: time spent entered and not entered. */
  busyIdle?: boolean | undefined;
  /** `level`: the span's level (`INFO`). */
  level?: boolean | undefined;
  /** `target`: the span's target (its Rust module, or the `target` a JS span was given). */
  target?: boolean | undefined;
}

/** Options both OpenTelemetry layers share. */
export interface OtelSdkOptions {
  /**
   * `service.name`. Default: `resource["service.name"]`, else `OTEL_SERVICE_NAME`, else
   * `OTEL_RESOURCE_ATTRIBUTES`, else `unknown_service:<program>`.
   */
  serviceName?: string | undefined;
  /**
   * Resource attributes, merged over `OTEL_RESOURCE_ATTRIBUTES`, which is merged over the
   * detected ones (see `detectResource`).
   */
  resource?: Record<string, OtelAttributeValue> | undefined;
  /**
   * Whether the resource starts with what is detected: `process.pid`,
   * `process.executable.name`, `process.runtime.name`/`version` (`deno` or `bun` and its
   * version), `host.name`, `os.type`. Default `true`.
   */
  detectResource?: boolean | undefined;
  /** Default `OTEL_TRACES_SAMPLER`, else `"parentbased_always_on"`. */
  sampler?: OtelSampler | undefined;
  /** The ratio (0 to 1) of the ratio samplers. Default `OTEL_TRACES_SAMPLER_ARG`, else 1. */
  samplerArg?: number | undefined;
  /** Span limits. */
  spanLimits?: OtelSpanLimits | undefined;
  /** Batching of spans (`OTEL_BSP_*`). */
  batch?: OtelBatchOptions | undefined;
  /** Batching of log records, when logs are on (`OTEL_BLRP_*`, then the same defaults). */
  logsBatch?: OtelBatchOptions | undefined;
  /** Metrics export, when metrics are on. */
  metrics?: OtelMetricsOptions | undefined;
  /**
   * When logs are on, whether events inside spans are also span events. Default `false`: each
   * event is exported once, as a log record linked to its span. Without logs, events are span
   * events.
   */
  spanEvents?: boolean | undefined;
  /** Instrumentation scope. Default name `"tracing-bridge"` with the bridge's version. */
  scope?: OtelScope | undefined;
  /** Attributes added to every span besides its fields. Default: all. */
  spanAttributes?: OtelSpanAttributes | undefined;
  /**
   * How long `flush()` and dispose wait for the receiver, in ms. Default 5000. Dispose drops
   * what is not exported by then; see `Tracing.droppedSpans`.
   */
  flushTimeoutMs?: number | undefined;
  /** This layer's own filter, in `RUST_LOG` syntax. */
  filter?: string | undefined;
}

/** Options of {@link OtlpLayerConfig}. */
export interface OtlpLayerOptions extends OtelSdkOptions {
  /**
   * The receiver: for gRPC `https://host:port` or `http://host:port` (or `host:port`, TLS
   * unless `insecure`); for HTTP the traces URL (`/v1/traces` is added when the URL has no
   * path). Log records go to `/v1/logs` of the same base, so with logs on an HTTP URL's path
   * must be empty or end in `/v1/traces`. `https://` is verified against the system's root
   * certificates (or `certificate`). Default `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT`, else
   * `http://localhost:4317` (gRPC) or `http://localhost:4318/v1/traces` (HTTP).
   */
  endpoint?: string | undefined;
  /** Default `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `"http/protobuf"`. */
  protocol?: OtlpProtocol | undefined;
  /** Request headers (gRPC metadata), merged over `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`. */
  headers?: Record<string, string> | undefined;
  /** Timeout of one request, in ms. Default `OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT`, else 10000. */
  timeoutMs?: number | undefined;
  /** Default `OTEL_EXPORTER_OTLP_(TRACES_)COMPRESSION`, else `"none"`. */
  compression?: "gzip" | "none" | undefined;
  /**
   * PEM file of the certificate authorities that verify an `https` receiver, instead of the
   * system's roots. Default `OTEL_EXPORTER_OTLP_(TRACES_)CERTIFICATE`.
   */
  certificate?: string | undefined;
  /** PEM client certificate chain for mutual TLS. Default `OTEL_EXPORTER_OTLP_(TRACES_)CLIENT_CERTIFICATE`. */
  clientCertificate?: string | undefined;
  /** PEM private key of `clientCertificate`. Default `OTEL_EXPORTER_OTLP_(TRACES_)CLIENT_KEY`. */
  clientKey?: string | undefined;
  /**
   * gRPC endpoints without a scheme only: `true` connects without TLS. Default
   * `OTEL_EXPORTER_OTLP_(TRACES_)INSECURE`, else `false`.
   */
  insecure?: boolean | undefined;
  /**
   * Where the spans go. Default `OTEL_TRACES_EXPORTER` (one exporter), else `"otlp"`. With
   * `"console"` or `"none"` the receiver options are not used.
   */
  exporter?: OtelTracesExporter | undefined;
  /** Where each signal goes: traces, logs, metrics. */
  signals?: OtlpSignals | undefined;
}

/** Options of {@link OtlpJsonLayerConfig}. */
export interface OtlpJsonLayerOptions extends OtelSdkOptions {
  /** Where lines go. Default `"stdout"`. */
  writer?: Writer | undefined;
  /** Which signals are written. Default traces only. */
  signals?: OtlpJsonSignals | undefined;
}

/** Every option of {@link OtelSdkOptions}, shared by both OpenTelemetry layers. */
export const OTEL_SDK_OPTIONS = optionNames<OtelSdkOptions>()([
  "serviceName",
  "resource",
  "detectResource",
  "sampler",
  "samplerArg",
  "spanLimits",
  "batch",
  "logsBatch",
  "metrics",
  "spanEvents",
  "scope",
  "spanAttributes",
  "flushTimeoutMs",
  "filter",
]);

/** Every option of {@link OtlpLayerOptions}. */
export const OTLP_OPTIONS = optionNames<OtlpLayerOptions>()([
  "endpoint",
  "protocol",
  "headers",
  "timeoutMs",
  "compression",
  "certificate",
  "clientCertificate",
  "clientKey",
  "insecure",
  "exporter",
  "signals",
  ...OTEL_SDK_OPTIONS,
]);

/** Every option of {@link OtlpJsonLayerOptions}. */
export const OTLP_JSON_OPTIONS = optionNames<OtlpJsonLayerOptions>()([
  "writer",
  "signals",
  ...OTEL_SDK_OPTIONS,
]);

/** The options of the OpenTelemetry options that are objects, by option. */
export const OTEL_NESTED_OPTIONS = {
  spanLimits: optionNames<OtelSpanLimits>()([
    "maxAttributesPerSpan",
    "maxEventsPerSpan",
    "maxLinksPerSpan",
    "maxAttributesPerEvent",
    "maxAttributesPerLink",
    "attributeValueLengthLimit",
  ]),
  batch: optionNames<OtelBatchOptions>()([
    "maxQueueSize",
    "maxExportBatchSize",
    "scheduledDelayMs",
    "exportTimeoutMs",
  ]),
  logsBatch: optionNames<OtelBatchOptions>()([
    "maxQueueSize",
    "maxExportBatchSize",
    "scheduledDelayMs",
    "exportTimeoutMs",
  ]),
  metrics: optionNames<OtelMetricsOptions>()([
    "exportIntervalMs",
    "exportTimeoutMs",
    "temporality",
  ]),
  scope: optionNames<OtelScope>()(["name", "version", "schemaUrl", "attributes"]),
  spanAttributes: optionNames<OtelSpanAttributes>()([
    "location",
    "thread",
    "busyIdle",
    "level",
    "target",
  ]),
} as const;

/** Spans exported to an OTLP receiver (an OpenTelemetry Collector, Jaeger, …). */
export class OtlpLayerConfig implements LayerConfig {
  /** The options given, frozen. */
  readonly options: Readonly<OtlpLayerOptions>;

  /** An OTLP exporter; every option falls back to its `OTEL_*` environment variable. */
  constructor(options: OtlpLayerOptions = {}) {
    this.options = Object.freeze({ ...options });
  }

  /** The JSON form sent to the native library. */
  toJSON(): Record<string, unknown> {
    return { kind: "otlp", ...this.options };
  }
}

/**
 * Spans as OTLP JSON: one `TracesData` object per line (the OTLP protobuf JSON mapping, as an
 * OTLP/HTTP JSON receiver accepts it), to stdout, stderr or a file.
 */
export class OtlpJsonLayerConfig implements LayerConfig {
  /** The options given, frozen. */
  readonly options: Readonly<OtlpJsonLayerOptions>;

  /** An OTLP JSON writer, to stdout unless `writer` says otherwise. */
  constructor(options: OtlpJsonLayerOptions = {}) {
    this.options = Object.freeze({ ...options });
  }

  /** The JSON form sent to the native library. */
  toJSON(): Record<string, unknown> {
    return { kind: "otlpJson", ...this.options };
  }
}
