/**
 * OpenTelemetry logs scenarios (events as OTLP log records), run identically by `deno test` and
 * `bun test`, against the OTLP receiver (`mock-collector`, see `receiver.ts`).
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Harness, TestFn } from "./harness.ts";
import { attributes, closedPort, type Protocol, type ReceivedLogRecord } from "./receiver.ts";
import { PROTOCOLS, runChild, withReceiver } from "./otlp.ts";
import { CHILD_OPTIONS_VARIABLE, CHILD_SPANS } from "./otlp_child.ts";
import { at, expectTracingError } from "./expect.ts";

export const LOGS_EXPORT_PATH: Record<Protocol, string> = {
  "grpc": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
  "http/protobuf": "/v1/logs",
  "http/json": "/v1/logs",
};
/** Status codes of the OTLP JSON mapping. */
const STATUS_ERROR = 2;

function body(log: ReceivedLogRecord): string | undefined {
  return log.record.body?.stringValue;
}

export function defineOtlpLogsScenarios(test: TestFn, h: Harness): void {
  const { api, example, paths } = h;
  const library = () => ({ library: paths.fibonacci });
  /** Long enough that only flush and dispose export: no test depends on the timer. */
  const NO_TIMER = { scheduledDelayMs: 600_000 };

  for (const protocol of PROTOCOLS) {
    test(`otlp logs ${protocol}: events inside and outside spans, from JS and Rust threads, arrive once with severity, body, typed attributes and their span's ids`, async () => {
      await withReceiver(protocol, async (receiver) => {
        {
          using tracing = new api.Tracing(
            new api.GlobalTracingConfig({
              layers: [
                new api.OtlpLayerConfig({
                  endpoint: receiver.endpoint(),
                  protocol,
                  serviceName: "logs-test",
                  signals: { logs: "otlp" },
                  batch: NO_TIMER,
                  logsBatch: NO_TIMER,
                  filter: "info",
                }),
              ],
            }),
            library(),
          ).enter();
          tracing.event("warn", "outside", { count: 3, ratio: 0.5, ok: true, name: "x" }, {
            target: "app",
          });
          tracing.span("js-parent", { job: 1 }, () => {
            tracing.event("info", "inside js", { n: 1 });
          });
          assert.equal(Number(example.fibonacci(3, false)), 2);
          assert.equal(Number(example.runWorkers(2, 3)), 6);
          // Above index 93 the example library warns through the `log` crate, inside `fib`.
          example.fibonacci(94, true);
          assert.equal(tracing.droppedSpans, 0);
        }

        const logs = await receiver.logs();
        const { spans, requests } = await receiver.received();
        // 2 from JS, 5 `computed` (fib(3) recursing), 6 `worker event`, 1 `workers joined`, and
        // of fib(94): the `log` warning and 1 `computed`.
        assert.equal(logs.length, 16, JSON.stringify(logs.map(body)));
        const spansById = new Map(spans.map(({ span }) => [span.spanId, span]));
        const spanOf = (log: ReceivedLogRecord) => {
          const span = spansById.get(log.record.spanId ?? "");
          assert.ok(span, `the span of "${body(log)}" was exported`);
          assert.equal(log.record.traceId, span.traceId);
          return span;
        };
        const withBody = (text: string) => logs.filter((log) => body(log) === text);

        const outside = at(withBody("outside"), 0);
        assert.ok(!outside.record.traceId && !outside.record.spanId, "no span, no ids");
        assert.equal(outside.record.severityNumber, 13);
        assert.equal(outside.record.severityText, "WARN");
        assert.equal(outside.attributes.target, "app");
        assert.equal(outside.attributes.count, 3);
        assert.equal(outside.attributes.ratio, 0.5);
        assert.equal(outside.attributes.ok, true);
        assert.equal(outside.attributes.name, "x");
        assert.equal(outside.resource["service.name"], "logs-test");

        const insideJs = at(withBody("inside js"), 0);
        assert.equal(spanOf(insideJs).name, "js-parent");
        assert.equal(insideJs.record.severityNumber, 9);
        assert.equal(insideJs.attributes.n, 1);

        const computed = withBody("computed");
        assert.equal(computed.length, 6);
        for (const log of computed) {
          assert.equal(spanOf(log).name, "fib");
          assert.equal(log.record.severityText, "INFO");
          assert.equal(log.attributes.target, "fibonacci");
          // Unsigned fields are integers when they fit an i64 (fib(94) saturates at u64::MAX).
          if (log.attributes.value !== "18446744073709551615") {
            assert.equal(typeof log.attributes.value, "number", "unsigned fields are integers");
          }
          assert.match(String(log.attributes["code.file.path"]), /lib\.rs$/);
          assert.equal(typeof log.attributes["code.line.number"], "number");
          assert.match(log.record.timeUnixNano, /^\d+$/);
        }

        const workerEvents = withBody("worker event");
        assert.equal(workerEvents.length, 6);
        for (const log of workerEvents) {
          const span = spanOf(log);
          assert.equal(span.name, "worker", "recorded on a Rust thread, linked to its span");
          const sequence = log.attributes.sequence as number;
          assert.equal(log.attributes.signed, -sequence || 0);
          assert.equal(log.attributes.unsigned, sequence);
          assert.equal(log.attributes.float, sequence * 0.5);
          assert.equal(log.attributes.flag, sequence % 2 === 0);
          assert.equal(log.attributes.text, "hello");
          assert.equal(log.attributes.error, `item ${log.attributes.worker} failed`);
          assert.equal(
            log.attributes.point,
            `Point { x: ${log.attributes.worker}, y: ${sequence} }`,
          );
          // Not a span event too (spanEvents defaults to false), yet the error still fails it.
          assert.equal(span.events?.length ?? 0, 0);
          assert.equal(span.status?.code, STATUS_ERROR);
          assert.equal(span.status?.message, `item ${log.attributes.worker} failed`);
        }
        assert.equal(spanOf(at(withBody("workers joined"), 0)).name, "run_workers");

        // A record logged through the `log` crate: its own target and location, its span.
        const logged = logs.filter((log) => body(log)?.startsWith("fibonacci(94) does not fit"));
        assert.equal(logged.length, 1);
        const warning = at(logged, 0);
        assert.equal(warning.record.severityNumber, 13);
        assert.equal(warning.attributes.target, "fibonacci");
        assert.match(String(warning.attributes["code.file.path"]), /lib\.rs$/);
        assert.equal(typeof warning.attributes["code.line.number"], "number");
        assert.ok(
          !Object.keys(warning.attributes).some((key) => key.startsWith("log.")),
          JSON.stringify(warning.attributes),
        );
        assert.equal(spanOf(warning).name, "fib");

        const logRequests = requests.filter(({ path }) => path === LOGS_EXPORT_PATH[protocol]);
        assert.ok(logRequests.length >= 1, JSON.stringify(requests.map(({ path }) => path)));
      });
    });
  }

  test("otlp logs: spanEvents true keeps events on their spans as well", async () => {
    await withReceiver("http/protobuf", async (receiver) => {
      {
        using _tracing = new api.Tracing(
          new api.GlobalTracingConfig({
            layers: [
              new api.OtlpLayerConfig({
                endpoint: receiver.endpoint(),
                signals: { logs: "otlp" },
                spanEvents: true,
                filter: "info",
              }),
            ],
          }),
          library(),
        ).enter();
        example.fibonacci(1, false);
      }
      const logs = await receiver.logs();
      const { spans } = await receiver.received();
      assert.equal(logs.length, 1);
      assert.equal(at(spans, 0).span.events?.length, 1);
      assert.equal(at(logs, 0).record.spanId, at(spans, 0).span.spanId);
    });
  });

  test("otlp logs: a receiver fault counts the log records and spans dropped (droppedSpans)", async () => {
    await withReceiver("http/protobuf", async (receiver) => {
      await receiver.fault("error");
      const tracing = new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [
            new api.OtlpLayerConfig({
              endpoint: receiver.endpoint(),
              signals: { logs: "otlp" },
              flushTimeoutMs: 1_000,
              batch: NO_TIMER,
              logsBatch: NO_TIMER,
              filter: "info",
            }),
          ],
        }),
        library(),
      ).enter();
      example.fibonacci(3, false); // 5 spans, 5 events
      tracing.dispose();
      assert.equal(tracing.droppedSpans, 10);
      assert.equal((await receiver.stats()).logs, 0);
    });
  });

  test("otlp logs: dropped log records are reported once on stderr, apart from spans", async () => {
    const port = await closedPort();
    const child = runChild(h, "options", {
      [CHILD_OPTIONS_VARIABLE]: JSON.stringify({
        endpoint: `http://127.0.0.1:${port}`,
        signals: { logs: "otlp" },
        flushTimeoutMs: 500,
        batch: NO_TIMER,
        logsBatch: NO_TIMER,
        filter: "info",
      }),
    });
    assert.equal(child.code, 0, child.stderr);
    const reports = child.stderr.split("\n").filter((line) => line.includes(" were "));
    assert.equal(reports.length, 2, child.stderr);
    assert.ok(
      reports.some((line) =>
        /^tracing-bridge: layers\[0\] \(otlp, logs http\/protobuf to http:\/\/127\.0\.0\.1:\d+\/v1\/logs\): 9 of 9 log records were dropped because the export failed: /
          .test(line)
      ),
      child.stderr,
    );
    assert.ok(reports.some((line) => line.includes(`${CHILD_SPANS} of ${CHILD_SPANS} spans`)));
    assert.match(child.stdout, new RegExp(`dropped=${2 * CHILD_SPANS}`));
  });

  test("otlp logs: OTEL_LOGS_EXPORTER turns logs on for a default config, `none` (or signals.logs) sends none, other values are typed errors", async () => {
    await withReceiver("grpc", async (receiver) => {
      const env = {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint(),
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_BSP_SCHEDULE_DELAY: "600000",
        OTEL_BLRP_SCHEDULE_DELAY: "600000",
      };
      const options = (layer: Record<string, unknown>) => ({
        [CHILD_OPTIONS_VARIABLE]: JSON.stringify({ filter: "info", ...layer }),
      });
      // fib(4): 9 spans, 9 `computed` events.
      const on = runChild(h, "options", { ...env, ...options({}), OTEL_LOGS_EXPORTER: "otlp" });
      assert.equal(on.code, 0, on.stderr);
      assert.deepEqual(
        await receiver.stats().then(({ spans, logs }) => [spans, logs]),
        [CHILD_SPANS, CHILD_SPANS],
      );

      await receiver.clear();
      for (
        const [variable, layer] of [
          [undefined, {}],
          ["none", {}],
          ["otlp", { signals: { logs: "none" } }],
        ] as const
      ) {
        const extra: Record<string, string> = variable ? { OTEL_LOGS_EXPORTER: variable } : {};
        const off = runChild(h, "options", { ...env, ...options(layer), ...extra });
        assert.equal(off.code, 0, off.stderr);
      }
      assert.deepEqual(
        await receiver.stats().then(({ spans, logs }) => [spans, logs]),
        [3 * CHILD_SPANS, 0],
        "logs off: spans only",
      );

      const invalid = runChild(h, "options", {
        ...env,
        ...options({}),
        OTEL_LOGS_EXPORTER: "zipkin",
      });
      assert.notEqual(invalid.code, 0);
      assert.match(
        invalid.stderr,
        /INVALID_CONFIG: layers\[0\]: environment variable OTEL_LOGS_EXPORTER=`zipkin`: `zipkin` is not an exporter of this layer; use `otlp`, `console` or `none`, or set `signals\.logs` in the config/,
      );
    });
  });

  test("otlp logs: the console exporter writes LogsData lines to stdout", () => {
    const child = runChild(h, "options", {
      [CHILD_OPTIONS_VARIABLE]: JSON.stringify({
        signals: { traces: "none", logs: "console" },
        filter: "info",
      }),
    });
    assert.equal(child.code, 0, child.stderr);
    const lines = child.stdout.split("\n").filter((line) => line.startsWith("{"));
    let records = 0;
    for (const line of lines) {
      for (const resourceLogs of JSON.parse(line).resourceLogs) {
        for (const scopeLogs of resourceLogs.scopeLogs) records += scopeLogs.logRecords.length;
      }
    }
    assert.equal(records, CHILD_SPANS);
  });

  test("otlpJson logs: LogsData lines beside TracesData lines, each record linked to a span of the file", () => {
    const file = join(h.tempDir(), "signals.jsonl");
    {
      using _tracing = new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [
            new api.OtlpJsonLayerConfig({
              writer: { file },
              signals: { traces: true, logs: true },
              filter: "info",
            }),
          ],
        }),
        library(),
      ).enter();
      example.fibonacci(3, false);
    }
    const spanIds = new Set<string>();
    const records: { spanId: string; traceId: string; severityNumber: number }[] = [];
    for (const line of readFileSync(file, "utf8").trim().split("\n")) {
      const data = JSON.parse(line);
      if (data.resourceSpans) {
        for (const resourceSpans of data.resourceSpans) {
          for (const scopeSpans of resourceSpans.scopeSpans) {
            for (const span of scopeSpans.spans) spanIds.add(span.spanId);
          }
        }
        continue;
      }
      assert.ok(Array.isArray(data.resourceLogs), line);
      for (const resourceLogs of data.resourceLogs) {
        assert.ok(attributes(resourceLogs.resource.attributes)["service.name"]);
        for (const scopeLogs of resourceLogs.scopeLogs) {
          assert.equal(scopeLogs.scope.name, "tracing-bridge");
          records.push(...scopeLogs.logRecords);
        }
      }
    }
    assert.equal(spanIds.size, 5);
    assert.equal(records.length, 5);
    for (const record of records) {
      assert.ok(spanIds.has(record.spanId));
      assert.match(record.traceId, /^[0-9a-f]{32}$/);
      assert.equal(record.severityNumber, 9);
    }
  });

  test("otlp logs: an endpoint path that says nowhere for logs is a typed error", () => {
    for (
      const [endpoint, ok] of [
        ["http://127.0.0.1:4318/v1/traces", true],
        ["http://127.0.0.1:4318/custom", false],
      ] as const
    ) {
      const config = new api.GlobalTracingConfig({
        layers: [new api.OtlpLayerConfig({ endpoint, signals: { logs: "otlp" } })],
      });
      if (ok) {
        new api.Tracing(config, library()).enter().dispose();
      } else {
        expectTracingError(
          () => new api.Tracing(config, library()).enter(),
          "INVALID_CONFIG",
          /layers\[0\]\.endpoint: `http:\/\/127\.0\.0\.1:4318\/custom` has a path that does not end in `\/v1\/traces`/,
        );
      }
    }
  });
}
