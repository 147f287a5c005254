/**
 * Starts `target/release/otlp-receiver` (tests/otlp-receiver: the `mock-collector` crate behind
 * a header-recording, fault-injecting proxy) and talks to its control API. Works in Deno and
 * Bun through `node:child_process` and `fetch`.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export type Protocol = "grpc" | "http/protobuf" | "http/json";
export type FaultMode = "ok" | "slow" | "error" | "hang";

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

export interface RecordedRequest {
  path: string;
  headers: Record<string, string>;
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
  readonly ports: { direct: number; front: number; control: number };
  #child: ChildProcess;

  private constructor(
    protocol: Protocol,
    ports: { direct: number; front: number; control: number },
    child: ChildProcess,
  ) {
    this.protocol = protocol;
    this.ports = ports;
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
    const ports = JSON.parse(line);
    return new Receiver(protocol, ports, child);
  }

  /** The URL to configure: through the recording proxy (`front`) or straight to mock-collector. */
  endpoint(via: "front" | "direct" = "front"): string {
    return `http://127.0.0.1:${this.ports[via]}`;
  }

  async #control(path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`http://127.0.0.1:${this.ports.control}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`receiver ${path}: HTTP ${response.status}`);
    return await response.json();
  }

  /** Every span received so far, and every request the proxy saw. */
  async received(): Promise<{ spans: ReceivedSpan[]; requests: RecordedRequest[] }> {
    const raw = await this.#control("/spans") as {
      spans: { span: OtlpSpan; resource: KeyValue[] }[];
      requests: RecordedRequest[];
    };
    return {
      spans: raw.spans.map(({ span, resource }) => ({
        span,
        attributes: attributes(span.attributes),
        resource: attributes(resource),
      })),
      requests: raw.requests,
    };
  }

  /** Span and request counts, and when (ms since the epoch) the span count last changed. */
  async stats(): Promise<{ spans: number; requests: number; lastChangeMs: number }> {
    return await this.#control("/stats") as {
      spans: number;
      requests: number;
      lastChangeMs: number;
    };
  }

  /** Makes the proxy answer normally, slowly, with errors, or never. */
  async fault(mode: FaultMode, delayMs = 0): Promise<void> {
    await this.#control("/fault", { mode, delayMs });
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
