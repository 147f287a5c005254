/**
 * The OTLP exporter over TLS and its retries, run identically by `deno test` and `bun test`,
 * against the receiver of `receiver.ts`: its `tls` and `mtls` ports (certificates generated at
 * start), and its status and reset faults.
 *
 * - TLS: each protocol delivers every span over `https://` verified against the `certificate`
 *   option; a wrong CA, or the mTLS port without a client certificate, drops every span and says
 *   why; the `OTEL_EXPORTER_OTLP_(TRACES_)CERTIFICATE`, `_CLIENT_CERTIFICATE` and `_CLIENT_KEY`
 *   variables do the same as the options.
 * - Bad certificate options fail `enter()` naming the option and the file.
 * - Retries: 503s (once with `Retry-After`) and closed connections are retried until the spans
 *   arrive; a 400 is not retried.
 */

import assert from "node:assert/strict";
import type { OtlpLayerOptions } from "../../bindings/public.ts";
import type { Harness, TestFn } from "./harness.ts";
import { at, expectTracingError } from "./expect.ts";
import { EXPORT_PATH, PROTOCOLS, runChild, withReceiver } from "./otlp.ts";
import { CHILD_OPTIONS_VARIABLE, CHILD_SPANS } from "./otlp_child.ts";
import type { Protocol, Receiver, RecordedRequest } from "./receiver.ts";

/**
 * The TLS options of the `otlp` layer (paths of PEM files). Written here as well as in the
 * bindings, so that these scenarios compile whether or not `OtlpLayerOptions` has them yet.
 */
export type TlsLayerOptions = OtlpLayerOptions & {
  /** CA certificate(s) the receiver's certificate must verify against. */
  certificate?: string;
  /** Client certificate (chain) for mutual TLS. */
  clientCertificate?: string;
  /** The private key of `clientCertificate`. */
  clientKey?: string;
};

/** Spans made by one traced call: fib(4) recursing makes 9. */
const SPANS = 9;
/** Long enough that only dispose exports: one batch, one export request (plus its retries). */
const NO_TIMER = { scheduledDelayMs: 600_000 };
/**
 * Bounds the retries of an export that cannot succeed (a certificate that does not verify is
 * never accepted, however often it is tried), well inside dispose's default flush timeout
 * (5 000 ms), so that the failure's own reason is what gets reported.
 */
const SHORT_TIMEOUT_MS = 2_000;

function escape(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
}

/** The requests in the order the receiver got them. */
function inOrder(requests: RecordedRequest[]): RecordedRequest[] {
  return [...requests].sort((a, b) => a.receivedMs - b.receivedMs);
}

export function defineOtlpTlsScenarios(test: TestFn, h: Harness): void {
  const { api, example, paths } = h;

  /**
   * Enters a global `Tracing` with one `otlp` layer (`filter: "info"`, no batch timer, then
   * `options`), makes {@link SPANS} spans, disposes it; returns the spans it dropped.
   */
  const traceAndDispose = (options: TlsLayerOptions): number => {
    const layer: TlsLayerOptions = { batch: NO_TIMER, filter: "info", ...options };
    const tracing = new api.Tracing(
      new api.GlobalTracingConfig({ layers: [new api.OtlpLayerConfig(layer)] }),
      { library: paths.fibonacci },
    ).enter();
    assert.equal(Number(example.fibonacci(4, false)), 3);
    tracing.dispose();
    return tracing.droppedSpans;
  };

  /** Runs `options` in the OTLP child (fib(4): {@link CHILD_SPANS} spans); returns its output. */
  const runOptionsChild = (options: TlsLayerOptions) => {
    const layer: TlsLayerOptions = { batch: NO_TIMER, filter: "info", ...options };
    const child = runChild(h, "options", { [CHILD_OPTIONS_VARIABLE]: JSON.stringify(layer) });
    assert.equal(child.code, 0, child.stderr);
    const reports = child.stderr.split("\n").filter((line) =>
      line.startsWith("tracing-bridge: layers[0] (otlp")
    );
    return { ...child, reports };
  };

  /** Asserts that every span arrived once, each request over `transport`, to the export path. */
  const assertDelivered = async (
    receiver: Receiver,
    protocol: Protocol,
    transport: "plain" | "tls" | "mtls",
  ) => {
    const { spans, requests, tlsFailures } = await receiver.received();
    assert.equal(spans.length, SPANS, "every span arrived");
    assert.equal(new Set(spans.map(({ span }) => span.spanId)).size, SPANS, "none twice");
    assert.ok(requests.length >= 1);
    for (const request of requests) {
      assert.equal(request.transport, transport);
      assert.equal(request.path, EXPORT_PATH[protocol]);
      if (protocol === "grpc") assert.equal(request.version, "HTTP/2.0");
    }
    assert.deepEqual(tlsFailures, [], "no failed handshake");
  };

  for (const protocol of PROTOCOLS) {
    // --- TLS ---

    test(`otlp ${protocol} over TLS: every span arrives, verified against the certificate option`, async () => {
      await withReceiver(protocol, async (receiver) => {
        const dropped = traceAndDispose({
          endpoint: receiver.endpoint("tls"),
          protocol,
          certificate: receiver.certs.ca,
        });
        assert.equal(dropped, 0);
        await assertDelivered(receiver, protocol, "tls");
      });
    });

    test(`otlp ${protocol} over TLS: a certificate that does not verify drops every span and reports why`, async () => {
      await withReceiver(protocol, async (receiver) => {
        const child = runOptionsChild({
          endpoint: receiver.endpoint("tls"),
          protocol,
          certificate: receiver.certs.wrongCa,
          timeoutMs: SHORT_TIMEOUT_MS,
        });
        assert.match(child.stdout, new RegExp(`dropped=${CHILD_SPANS}\\b`));
        assert.equal(child.reports.length, 1, child.stderr);
        assert.match(
          at(child.reports, 0),
          new RegExp(`\\b${CHILD_SPANS} of ${CHILD_SPANS} spans\\b`),
        );
        assert.match(
          at(child.reports, 0),
          /certificate/i,
          "the verification failure is the reason",
        );
        const stats = await receiver.stats();
        assert.equal(stats.spans, 0);
        assert.equal(stats.requests, 0, "no request got past the handshake");
        assert.ok(stats.tlsFailures >= 1, "the exporter did try the TLS port");
      });
    });

    test(`otlp ${protocol} over mTLS: the client certificate and key are presented and every span arrives`, async () => {
      await withReceiver(protocol, async (receiver) => {
        const dropped = traceAndDispose({
          endpoint: receiver.endpoint("mtls"),
          protocol,
          certificate: receiver.certs.ca,
          clientCertificate: receiver.certs.clientCert,
          clientKey: receiver.certs.clientKey,
        });
        assert.equal(dropped, 0);
        await assertDelivered(receiver, protocol, "mtls");
      });
    });

    test(`otlp ${protocol} over mTLS: without a client certificate every span is dropped and counted`, async () => {
      await withReceiver(protocol, async (receiver) => {
        const dropped = traceAndDispose({
          endpoint: receiver.endpoint("mtls"),
          protocol,
          certificate: receiver.certs.ca,
          timeoutMs: SHORT_TIMEOUT_MS,
        });
        assert.equal(dropped, SPANS);
        const { spans, requests, tlsFailures } = await receiver.received();
        assert.equal(spans.length, 0);
        assert.equal(requests.length, 0, "the receiver refused the handshake");
        assert.ok(tlsFailures.length >= 1);
        for (const failure of tlsFailures) assert.equal(failure.transport, "mtls");
      });
    });

    // --- Certificate options checked when the layer is built ---

    test(`otlp ${protocol}: bad certificate options are errors naming the option and the file`, async () => {
      await withReceiver(protocol, async (receiver) => {
        const { certs } = receiver;
        const enter = (options: TlsLayerOptions) => () =>
          new api.Tracing(
            new api.GlobalTracingConfig({
              layers: [
                new api.OtlpLayerConfig({
                  endpoint: receiver.endpoint("tls"),
                  protocol,
                  ...options,
                }),
              ],
            }),
            { library: paths.fibonacci },
          ).enter();

        const missing = `${certs.dir}/no-such-ca.pem`;
        const missingError = expectFileError(enter({ certificate: missing }));
        assert.match(missingError.message, /layers\[0\]\.certificate/);
        assert.match(missingError.message, escape(missing));

        const notPem = expectTracingError(
          enter({ certificate: certs.notPem }),
          "INVALID_CONFIG",
          /layers\[0\]\.certificate/,
        );
        assert.match(notPem.message, escape(certs.notPem));
        assert.match(notPem.message, /\b(not|no)\b[^\n]*\bPEM\b/i, "says it is not PEM");

        const notPemKey = expectTracingError(
          enter({ clientCertificate: certs.clientCert, clientKey: certs.notPem }),
          "INVALID_CONFIG",
          /layers\[0\]\.clientKey/,
        );
        assert.match(notPemKey.message, escape(certs.notPem));

        const mismatch = expectTracingError(
          enter({ clientCertificate: certs.clientCert, clientKey: certs.otherKey }),
          "INVALID_CONFIG",
          /layers\[0\]\.clientKey/,
        );
        assert.match(mismatch.message, /match/i, "says the key does not match the certificate");

        for (
          const half of [{ clientCertificate: certs.clientCert }, { clientKey: certs.clientKey }]
        ) {
          const error = expectTracingError(enter(half), "INVALID_CONFIG");
          assert.match(error.message, /layers\[0\]\.clientCertificate/);
          assert.match(error.message, /layers\[0\]\.clientKey/);
        }

        // A failed enter installs nothing: a valid TLS config starts right after.
        assert.equal(
          traceAndDispose({
            endpoint: receiver.endpoint("tls"),
            protocol,
            certificate: certs.ca,
          }),
          0,
        );
        assert.equal((await receiver.stats()).spans, SPANS);
      });
    });

    // --- Retries (through the plain proxy: retrying does not depend on TLS) ---

    test(`otlp ${protocol}: two 503s are retried until every span arrives`, async () => {
      await withReceiver(protocol, async (receiver) => {
        await receiver.failWithStatus(503, { count: 2 });
        const dropped = traceAndDispose({ endpoint: receiver.endpoint(), protocol });
        assert.equal(dropped, 0);
        const stats = await receiver.stats();
        assert.equal(stats.spans, SPANS);
        assert.equal(stats.faulted, 2);
        assert.ok(stats.requests >= 3, `${stats.requests} requests`);
        await assertDelivered(receiver, protocol, "plain");
      });
    });

    test(`otlp ${protocol}: a 503 with Retry-After: 1 is retried after a second`, async () => {
      await withReceiver(protocol, async (receiver) => {
        await receiver.failWithStatus(503, { count: 1, retryAfter: "1" });
        const dropped = traceAndDispose({ endpoint: receiver.endpoint(), protocol });
        assert.equal(dropped, 0);
        assert.equal((await receiver.stats()).spans, SPANS);
        const requests = inOrder((await receiver.received()).requests);
        assert.ok(requests.length >= 2);
        assert.equal(at(requests, 0).fault, "status");
        assert.equal(at(requests, 1).fault, null);
        const waited = at(requests, 1).receivedMs - at(requests, 0).receivedMs;
        assert.ok(waited >= 900, `the retry came ${waited} ms after the 503, not after ~1 s`);
      });
    });

    test(`otlp ${protocol}: connections closed without an answer are retried until every span arrives`, async () => {
      await withReceiver(protocol, async (receiver) => {
        await receiver.resetConnections(2);
        const dropped = traceAndDispose({ endpoint: receiver.endpoint(), protocol });
        assert.equal(dropped, 0);
        const stats = await receiver.stats();
        assert.equal(stats.spans, SPANS);
        assert.equal(stats.faulted, 2);
        assert.ok(stats.requests >= 3, `${stats.requests} requests`);
      });
    });

    test(`otlp ${protocol}: a 400 is not retried; the spans are dropped, counted and reported`, async () => {
      await withReceiver(protocol, async (receiver) => {
        await receiver.failWithStatus(400, { count: 1 });
        const child = runOptionsChild({ endpoint: receiver.endpoint(), protocol });
        assert.match(child.stdout, new RegExp(`dropped=${CHILD_SPANS}\\b`));
        const stats = await receiver.stats();
        assert.equal(stats.requests, 1, "exactly one request: no retry");
        assert.equal(stats.spans, 0);
        assert.equal(child.reports.length, 1, child.stderr);
        assert.match(
          at(child.reports, 0),
          new RegExp(`\\b${CHILD_SPANS} of ${CHILD_SPANS} spans\\b`),
        );
        // gRPC: the 400 became INVALID_ARGUMENT (3).
        const reason = protocol === "grpc" ? /invalid.?argument|\b3\b/i : /\b400\b/;
        assert.match(at(child.reports, 0), reason);
      });
    });
  }

  // --- The environment variables ---

  test("otlp over TLS: OTEL_EXPORTER_OTLP_(TRACES_)CERTIFICATE, _CLIENT_CERTIFICATE and _CLIENT_KEY", async () => {
    await withReceiver("http/protobuf", async (receiver) => {
      const { certs } = receiver;
      const common = {
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
        OTEL_BSP_SCHEDULE_DELAY: "600000",
      };
      // The general variables.
      const general = runChild(h, "env-only", {
        ...common,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint("mtls"),
        OTEL_EXPORTER_OTLP_CERTIFICATE: certs.ca,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certs.clientCert,
        OTEL_EXPORTER_OTLP_CLIENT_KEY: certs.clientKey,
      });
      assert.equal(general.code, 0, general.stderr);
      assert.match(general.stdout, /dropped=0\b/, general.stderr);
      let { spans, requests } = await receiver.received();
      assert.equal(spans.length, 5, "fib(3) makes 5 spans");
      assert.ok(requests.length >= 1);
      for (const request of requests) assert.equal(request.transport, "mtls");

      // The traces variables; TRACES_CERTIFICATE wins over the general one, which would fail.
      await receiver.clear();
      const traces = runChild(h, "env-only", {
        ...common,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint("mtls"),
        OTEL_EXPORTER_OTLP_CERTIFICATE: certs.wrongCa,
        OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: certs.ca,
        OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: certs.clientCert,
        OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: certs.clientKey,
      });
      assert.equal(traces.code, 0, traces.stderr);
      assert.match(traces.stdout, /dropped=0\b/, traces.stderr);
      ({ spans, requests } = await receiver.received());
      assert.equal(spans.length, 5);
      assert.ok(requests.length >= 1);
      for (const request of requests) assert.equal(request.transport, "mtls");

      // A variable naming a missing file is an error naming the variable.
      const missing = `${certs.dir}/no-such-ca.pem`;
      const invalid = runChild(h, "env-only", {
        ...common,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint("tls"),
        OTEL_EXPORTER_OTLP_CERTIFICATE: missing,
      });
      assert.notEqual(invalid.code, 0);
      assert.match(invalid.stderr, /OTEL_EXPORTER_OTLP_CERTIFICATE/);
      assert.match(invalid.stderr, escape(missing));
    });
  });
}

/**
 * Asserts that `body` throws a `TracingError` for a certificate file that cannot be read:
 * `INVALID_CONFIG` or `FILE_NOT_READABLE`, either says it.
 */
function expectFileError(body: () => unknown): Error {
  try {
    body();
  } catch (error) {
    const { name, code, message } = error as Error & { code?: string };
    assert.equal(name, "TracingError", message);
    assert.ok(code === "INVALID_CONFIG" || code === "FILE_NOT_READABLE", `${code}: ${message}`);
    return error as Error;
  }
  assert.fail("expected a TracingError for the missing certificate file, nothing thrown");
}
