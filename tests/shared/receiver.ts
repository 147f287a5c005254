/**
 * Starts `target/release/otlp-receiver` (tests/otlp-receiver: the `mock-collector` crate behind
 * a header-recording, fault-injecting proxy, reachable in plain text, over TLS and over mutual
 * TLS with certificates generated at start) and talks to its control API. Works in Deno and
 * Bun through `node:child_process` and `fetch`.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export type Protocol = "grpc" | "http/protobuf" | "http/json";
export type FaultMode = "ok" | "slow" | "error" | "hang" | "status" | "reset";
/** Where a request reached the proxy: `front` (plain), `tls` or `mtls`. */
export type Transport = "plain" | "tls" | "mtls";
/** The receiver's listening ports (all on 127.0.0.1). */
export interface ReceiverPorts {
  /** mock-collector itself. */
  direct: number;
  /** The recording, fault-injecting proxy, in plain text. */
  front: number;
  /** The control API. */
  control: number;
  /** The same proxy over TLS (server certificate signed by `certs.ca`). */
  tls: number;
  /** The same proxy over TLS requiring a client certificate signed by `certs.clientCa`. */
  mtls: number;
}

/** Absolute paths of the PEM files the receiver generated at start (removed when it stops). */
export interface ReceiverCerts {
  /** The directory holding them. */
  dir: string;
  /** The CA that signed the server certificate (for `127.0.0.1` and `localhost`). */
  ca: string;
  /** A CA unrelated to the server certificate: verification fails against it. */
  wrongCa: string;
  /** The CA the `mtls` port requires client certificates to be signed by. */
  clientCa: string;
  /** A client certificate signed by `clientCa`. */
  clientCert: string;
  /** The PKCS#8 key of `clientCert`. */
  clientKey: string;
  /** A PKCS#8 key that does not match `clientCert`. */
  otherKey: string;
  /** A file that is not PEM. */
  notPem: string;
}

/** The receiver's counters. */
export interface ReceiverStats {
  /** Spans received by mock-collector. */
  spans: number;
  /** Log records received by mock-collector. */
  logs: number;
  /** Metrics received by mock-collector (one per metric per export request). */
  metrics: number;
  /** The data points of those metrics. */
  metricDataPoints: number;
  /** Export requests received by the proxy (front, tls and mtls). */
  requests: number;
  /** Of those, the ones a fault answered (error, status, reset, hang) instead of mock-collector. */
  faulted: number;
  /** TLS handshakes that failed on the tls and mtls ports. */
  tlsFailures: number;
  /** When (ms since the epoch) the span or log record count last changed; 0 if never. */
  lastChangeMs: number;
}

/** An OTLP `AnyValue` in the JSON mapping. */
export type AnyValue = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: string;
};
export type KeyValue = { key: string; value?: AnyValue };

/** A span in the OTLP JSON mapping, as the receiver got it. */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: KeyValue[];
  events?: { name: string; timeUnixNano: string; attributes?: KeyValue[] }[];
  status?: { code?: number; message?: string };
}

/** A received span with its resource and scope attributes, flattened for assertions. */
export interface ReceivedSpan {
  span: OtlpSpan;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

/** A log record in the OTLP JSON mapping, as the receiver got it. */
export interface OtlpLogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber?: number;
  severityText?: string;
  body?: AnyValue;
  attributes?: KeyValue[];
  flags?: number;
  /** Hex; empty for a record outside any span. */
  traceId?: string;
  spanId?: string;
}

/** A received log record with its attributes and resource flattened for assertions. */
export interface ReceivedLogRecord {
  record: OtlpLogRecord;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

/** A number data point (sums) or a histogram data point in the OTLP JSON mapping. */
export interface OtlpDataPoint {
  attributes?: KeyValue[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  asInt?: string;
  asDouble?: number;
  count?: string;
  sum?: number;
  min?: number;
  max?: number;
  bucketCounts?: string[];
  explicitBounds?: number[];
}

/** A metric in the OTLP JSON mapping, as the receiver got it. */
export interface OtlpMetric {
  name: string;
  sum?: { dataPoints: OtlpDataPoint[]; aggregationTemporality: number; isMonotonic?: boolean };
  histogram?: { dataPoints: OtlpDataPoint[]; aggregationTemporality: number };
}

/** A received metric (one export's points of it) with its resource attributes, flattened. */
export interface ReceivedMetric {
  metric: OtlpMetric;
  resource: Record<string, unknown>;
}

export interface RecordedRequest {
  path: string;
  headers: Record<string, string>;
  /** Which port it came in on. */
  transport: Transport;
  /** `"HTTP/1.1"` or `"HTTP/2.0"`. */
  version: string;
  /** When the proxy received it, in ms since the epoch. */
  receivedMs: number;
  /** The fault that answered it (`"slow"`: delayed, then forwarded), or `null`: forwarded. */
  fault: FaultMode | null;
}

/** A failed TLS handshake on the tls or mtls port. */
export interface TlsFailure {
  transport: Transport;
  /** The server side's reason (rustls). */
  error: string;
  receivedMs: number;
}

/** The answer of {@link Receiver.failWithStatus}. */
export interface StatusFault {
  /** How many export requests get it, then the receiver answers normally again. */
  count?: number;
  /** `Retry-After` of the first faulted answer (gRPC also gets a `RetryInfo` of that many seconds). */
  retryAfter?: string;
  /** The `grpc-status` for gRPC requests. Default: mapped from the HTTP status (503 → 14). */
  grpcStatus?: number;
}

export const RECEIVER_BINARY = fileURLToPath(
  new URL("../../target/release/otlp-receiver", import.meta.url),
);

/** Plain values of an OTLP attribute list. */
export function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) result[key] = plain(value);
  return result;
}

function plain(value: AnyValue | undefined): unknown {
  if (value === undefined) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(plain);
  if (value.kvlistValue !== undefined) return attributes(value.kvlistValue.values);
  return value.bytesValue;
}

export class Receiver {
  readonly protocol: Protocol;
  readonly ports: ReceiverPorts;
  readonly certs: ReceiverCerts;
  #child: ChildProcess;

  private constructor(
    protocol: Protocol,
    ports: ReceiverPorts,
    certs: ReceiverCerts,
    child: ChildProcess,
  ) {
    this.protocol = protocol;
    this.ports = ports;
    this.certs = certs;
    this.#child = child;
  }

  /** Starts a receiver for `protocol` and waits until it listens. */
  static async start(protocol: Protocol): Promise<Receiver> {
    const child = spawn(RECEIVER_BINARY, [protocol], { stdio: ["pipe", "pipe", "inherit"] });
    const line = await new Promise<string>((resolve, reject) => {
      let buffered = "";
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`otlp-receiver exited with ${code}`)));
      child.stdout!.on("data", (chunk: Uint8Array | string) => {
        buffered += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
        const end = buffered.indexOf("\n");
        if (end >= 0) resolve(buffered.slice(0, end));
      });
    });
    child.removeAllListeners("exit");
    child.removeAllListeners("error");
    child.stdout!.removeAllListeners("data");
    child.stdout!.destroy();
    const { direct, front, control, tls, mtls, certs } = JSON.parse(line);
    return new Receiver(protocol, { direct, front, control, tls, mtls }, certs, child);
  }

  /**
   * The URL to configure: through the recording proxy (`front`; `tls` and `mtls` are the same
   * proxy over `https://`) or straight to mock-collector (`direct`).
   */
  endpoint(via: "front" | "direct" | "tls" | "mtls" = "front"): string {
    const scheme = via === "tls" || via === "mtls" ? "https" : "http";
    return `${scheme}://127.0.0.1:${this.ports[via]}`;
  }

  async #control(path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`http://127.0.0.1:${this.ports.control}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "content-type": "application/json" },
      body: body === undefined ? null : JSON.stringify(body),
    });
    if (!response.ok) {
      throw new Error(`receiver ${path}: HTTP ${response.status}: ${await response.text()}`);
    }
    return await response.json();
  }

  /** Every span received so far, every request the proxy saw, every failed TLS handshake. */
  async received(): Promise<
    { spans: ReceivedSpan[]; requests: RecordedRequest[]; tlsFailures: TlsFailure[] }
  > {
    const raw = await this.#control("/spans") as {
      spans: { span: OtlpSpan; resource: KeyValue[] }[];
      requests: RecordedRequest[];
      tlsFailures: TlsFailure[];
    };
    return {
      spans: raw.spans.map(({ span, resource }) => ({
        span,
        attributes: attributes(span.attributes),
        resource: attributes(resource),
      })),
      requests: raw.requests,
      tlsFailures: raw.tlsFailures,
    };
  }

  /** Every log record received so far. */
  async logs(): Promise<ReceivedLogRecord[]> {
    const raw = await this.#control("/logs") as {
      logs: { logRecord: OtlpLogRecord; resource: KeyValue[] }[];
    };
    return raw.logs.map(({ logRecord, resource }) => ({
      record: logRecord,
      attributes: attributes(logRecord.attributes),
      resource: attributes(resource),
    }));
  }

  /** Every metric received so far, in the order received (one entry per metric per export). */
  async metrics(): Promise<ReceivedMetric[]> {
    const raw = await this.#control("/metrics") as {
      metrics: { metric: OtlpMetric; resource: KeyValue[] }[];
    };
    return raw.metrics.map(({ metric, resource }) => ({ metric, resource: attributes(resource) }));
  }

  /** Span, request and fault counts, and when (ms since the epoch) the span count last changed. */
  async stats(): Promise<ReceiverStats> {
    return await this.#control("/stats") as ReceiverStats;
  }

  /**
   * Makes the proxy answer normally, slowly, with errors, or never; with `count`, only the next
   * `count` requests, then it answers normally again.
   */
  async fault(mode: FaultMode, delayMs = 0, count?: number): Promise<void> {
    await this.#control("/fault", { mode, delayMs, count });
  }

  /**
   * Answers the next `count` export requests (default: all until the next fault call) with
   * HTTP `status` and a small text body, or for gRPC with HTTP 200 and the `grpc-status` mapped
   * from it (503, 502, 504 → 14 UNAVAILABLE; 429 → 8 RESOURCE_EXHAUSTED; 400 → 3
   * INVALID_ARGUMENT), then recovers by itself.
   */
  async failWithStatus(status: number, options: StatusFault = {}): Promise<void> {
    await this.#control("/fault", { mode: "status", status, ...options });
  }

  /**
   * Closes the connection of each of the next `count` export requests (default: all until the
   * next fault call) without an answer, after reading the request; then recovers by itself.
   */
  async resetConnections(count?: number): Promise<void> {
    await this.#control("/fault", { mode: "reset", count });
  }

  async clear(): Promise<void> {
    await this.#control("/clear", {});
  }

  /** Stops the receiver (it exits when its stdin closes) and waits for it. */
  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    this.#child.stdin!.end();
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** A 127.0.0.1 port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
