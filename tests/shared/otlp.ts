/**
 * The OpenTelemetry layers' scenarios, run identically by `deno test` and `bun test`, against a
 * real OTLP receiver (`mock-collector`, see `receiver.ts`) on 127.0.0.1.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Harness, TestFn } from "./harness.ts";
import {
  attributes,
  closedPort,
  type KeyValue,
  type OtlpSpan,
  type Protocol,
  type ReceivedSpan,
  Receiver,
} from "./receiver.ts";
import { at, expectTracingError } from "./expect.ts";

export const PROTOCOLS: Protocol[] = ["grpc", "http/protobuf", "http/json"];
export const EXPORT_PATH: Record<Protocol, string> = {
  "grpc": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
  "http/protobuf": "/v1/traces",
  "http/json": "/v1/traces",
};
/** Status codes of the OTLP JSON mapping. */
const STATUS_UNSET = 0;
const STATUS_ERROR = 2;

export async function withReceiver(
  protocol: Protocol,
  body: (receiver: Receiver) => Promise<void>,
) {
  const receiver = await Receiver.start(protocol);
  try {
    await body(receiver);
  } finally {
    await receiver.stop();
  }
}

function byName(spans: ReceivedSpan[], name: string): ReceivedSpan[] {
  return spans.filter(({ span }) => span.name === name);
}

/**
 * Runs `tests/<runtime>/otlp_child.ts <scenario>` with `env` added (and this process's `OTEL_*`
 * variables removed); returns its output.
 */
export function runChild(h: Harness, scenario: string, env: Record<string, string>) {
  const script = fileURLToPath(new URL(`../${h.runtime}/otlp_child.ts`, import.meta.url));
  const args = h.runtime === "deno"
    ? [
      "run",
      "--allow-ffi",
      "--allow-read",
      "--allow-env",
      "--allow-net=127.0.0.1",
      script,
      scenario,
    ]
    : [script, scenario];
  const cleanEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("OTEL_")),
  );
  const output = spawnSync(process.execPath, args, {
    env: { ...cleanEnv, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return {
    code: output.status ?? -1,
    pid: output.pid,
    stdout: output.stdout,
    stderr: output.stderr,
  };
}

/** Every span of OTLP JSON `lines` (`TracesData` objects), with its resource and scope. */
function jsonLineSpans(lines: string[]) {
  const spans: {
    span: OtlpSpan;
    resource: Record<string, unknown>;
    scope: { name: string; version?: string; attributes?: KeyValue[] };
    schemaUrl?: string;
  }[] = [];
  for (const line of lines) {
    for (const resourceSpans of JSON.parse(line).resourceSpans) {
      for (const scopeSpans of resourceSpans.scopeSpans) {
        for (const span of scopeSpans.spans) {
          spans.push({
            span,
            resource: attributes(resourceSpans.resource.attributes),
            scope: scopeSpans.scope,
            schemaUrl: scopeSpans.schemaUrl,
          });
        }
      }
    }
  }
  return spans;
}

/** `os.type` of the semantic conventions for this platform. */
const OS_TYPE: Record<string, string> = { linux: "linux", darwin: "darwin", win32: "windows" };

export function defineOtlpScenarios(test: TestFn, h: Harness): void {
  const { api, example, paths } = h;
  const library = () => ({ library: paths.fibonacci });
  /** Long enough that only flush and dispose export: no test depends on the timer. */
  const NO_TIMER = { scheduledDelayMs: 600_000 };

  for (const protocol of PROTOCOLS) {
    test(`otlp ${protocol}: JS-thread and worker-thread spans arrive once with links, attributes, events, status, resource and headers`, async () => {
      await withReceiver(protocol, async (receiver) => {
        {
          using _tracing = new api.Tracing(
            new api.GlobalTracingConfig({
              layers: [
                new api.OtlpLayerConfig({
                  endpoint: receiver.endpoint(),
                  protocol,
                  headers: { "x-test-token": "t-123" },
                  serviceName: "otlp-test",
                  resource: {
                    "deployment.environment": "test",
                    "build": 7,
                    "tags": ["blue", "canary"],
                    "ports": [80, 443],
                    "ratios": [0.5, 1.5],
                    "flags": [true, false],
                  },
                  batch: NO_TIMER,
                  filter: "info",
                }),
              ],
            }),
            library(),
          ).enter();
          assert.equal(Number(example.fibonacci(4, false)), 3);
          assert.equal(Number(example.runWorkers(3, 5)), 15);
        } // dispose: flushed and confirmed before it returns

        const { spans, requests } = await receiver.received();
        const fib = byName(spans, "fib");
        const runs = byName(spans, "run_workers");
        const workers = byName(spans, "worker");
        assert.equal(fib.length, 9, "fib(4) recursing makes 9 spans");
        assert.equal(runs.length, 1);
        assert.equal(workers.length, 3);
        assert.equal(spans.length, 13, "nothing else, nothing twice");
        assert.equal(new Set(spans.map(({ span }) => span.spanId)).size, 13);
        for (const { span } of spans) {
          assert.match(span.traceId, /^[0-9a-f]{32}$/);
          assert.match(span.spanId, /^[0-9a-f]{16}$/);
          assert.match(span.startTimeUnixNano, /^\d+$/);
        }

        // fib: one root, every other span's parent is a fib span of the same trace.
        const fibIds = new Map(fib.map(({ span }) => [span.spanId, span]));
        const fibRoots = fib.filter(({ span }) => !span.parentSpanId);
        assert.equal(fibRoots.length, 1);
        assert.equal(at(fibRoots, 0).attributes.index, 4, "unsigned fields are integers");
        for (const { span } of fib) {
          assert.equal(span.traceId, at(fibRoots, 0).span.traceId);
          if (span.parentSpanId) assert.ok(fibIds.has(span.parentSpanId), "parent is a fib span");
        }
        const fib4 = at(fibRoots, 0);
        assert.equal(fib4.attributes.use_memoized, false);
        assert.equal(fib4.attributes.level, "INFO");
        assert.equal(fib4.attributes.target, "fibonacci");
        assert.equal(fib4.span.status?.code ?? STATUS_UNSET, STATUS_UNSET);
        const computed = fib4.span.events!.find((event) => event.name === "computed")!;
        const computedAttributes = attributes(computed.attributes);
        assert.equal(computedAttributes.value, 3);
        assert.equal(computedAttributes.level, "INFO");
        assert.equal(computedAttributes.target, "fibonacci");

        // Worker spans: recorded on Rust threads, children of run_workers across threads.
        const run = at(runs, 0);
        assert.equal(run.attributes.threads, 3);
        const threadNames = workers.map(({ attributes }) => attributes["thread.name"]).sort();
        assert.deepEqual(threadNames, ["worker-0", "worker-1", "worker-2"]);
        for (const worker of workers) {
          assert.equal(worker.span.parentSpanId, run.span.spanId);
          assert.equal(worker.span.traceId, run.span.traceId);
          const index = worker.attributes.index as number;
          const events = worker.span.events!;
          assert.equal(events.length, 5);
          const third = attributes(at(events, 3).attributes);
          assert.equal(at(events, 3).name, "worker event");
          assert.equal(third.text, "hello");
          assert.equal(third.sequence, 3);
          assert.equal(third.unsigned, 3);
          assert.equal(third.point, "Point { x: " + index + ", y: 3 }");
          assert.equal(third.signed, -3);
          assert.equal(third.flag, false);
          assert.equal(third.float, 1.5);
          assert.equal(third.level, "INFO");
          assert.equal(third.error, `item ${index} failed`);
          // An `error` field marks the span as failed, with the error's text.
          assert.equal(worker.span.status?.code, STATUS_ERROR);
          assert.equal(worker.span.status?.message, `item ${index} failed`);
        }

        for (const { resource } of spans) {
          assert.equal(resource["service.name"], "otlp-test");
          assert.equal(resource["deployment.environment"], "test");
          assert.equal(resource.build, 7);
          assert.deepEqual(resource.tags, ["blue", "canary"]);
          assert.deepEqual(resource.ports, [80, 443]);
          assert.deepEqual(resource.ratios, [0.5, 1.5]);
          assert.deepEqual(resource.flags, [true, false]);
          assert.equal(resource["telemetry.sdk.language"], "rust");
        }
        assert.ok(requests.length >= 1);
        for (const request of requests) {
          assert.equal(request.path, EXPORT_PATH[protocol]);
          assert.equal(request.headers["x-test-token"], "t-123");
        }
      });
    });

    test(`otlp ${protocol}: 10 000 spans then dispose: all 10 000 received, none dropped`, async () => {
      await withReceiver(protocol, async (receiver) => {
        const tracing = new api.Tracing(
          new api.GlobalTracingConfig({
            layers: [
              new api.OtlpLayerConfig({
                endpoint: receiver.endpoint("direct"),
                protocol,
                // mock-collector refuses HTTP bodies over 2 MiB: keep JSON batches below it.
                batch: { ...NO_TIMER, maxQueueSize: 10_000, maxExportBatchSize: 500 },
                filter: "info",
              }),
            ],
          }),
          library(),
        ).enter();
        for (let i = 0; i < 10_000; i++) example.fibonacci(1, false);
        tracing.dispose();
        assert.equal((await receiver.stats()).spans, 10_000);
        assert.equal(tracing.droppedSpans, 0);
      });
    });

    test(`otlp ${protocol}: receiver down: dispose returns within the flush timeout and counts the dropped spans`, async () => {
      const port = await closedPort();
      const tracing = new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [
            new api.OtlpLayerConfig({
              endpoint: `http://127.0.0.1:${port}`,
              protocol,
              flushTimeoutMs: 800,
              batch: NO_TIMER,
              filter: "info",
            }),
          ],
        }),
        library(),
      ).enter();
      for (let i = 0; i < 50; i++) example.fibonacci(1, false);
      const flushStarted = performance.now();
      tracing.flush(); // neither throws nor hangs
      assert.ok(performance.now() - flushStarted < 2_000);
      const started = performance.now();
      tracing.dispose();
      const took = performance.now() - started;
      assert.ok(took < 2_000, `dispose took ${took} ms`);
      assert.equal(tracing.droppedSpans, 50);
    });

    for (const mode of ["slow", "error"] as const) {
      test(`otlp ${protocol}: ${mode} receiver: flush and dispose return within the timeout, spans counted as dropped`, async () => {
        await withReceiver(protocol, async (receiver) => {
          await receiver.fault(mode, 5_000);
          const tracing = new api.Tracing(
            new api.GlobalTracingConfig({
              layers: [
                new api.OtlpLayerConfig({
                  endpoint: receiver.endpoint(),
                  protocol,
                  flushTimeoutMs: 600,
                  batch: NO_TIMER,
                  filter: "info",
                }),
              ],
            }),
            library(),
          ).enter();
          for (let i = 0; i < 20; i++) example.fibonacci(1, false);
          const started = performance.now();
          tracing.flush();
          tracing.dispose();
          const took = performance.now() - started;
          assert.ok(took < 3_000, `flush + dispose took ${took} ms`);
          assert.equal(tracing.droppedSpans, 20);
          assert.equal((await receiver.stats()).spans, 0);
          assert.ok((await receiver.stats()).requests >= 1, "the exporter did try");
        });
      });
    }
  }

  for (const protocol of ["grpc", "http/protobuf"] as const) {
    test(`otlp ${protocol}: gzip, span limits and samplers apply`, async () => {
      await withReceiver(protocol, async (receiver) => {
        const trace = (options: Record<string, unknown>) => {
          using _tracing = new api.Tracing(
            new api.GlobalTracingConfig({
              layers: [
                new api.OtlpLayerConfig({
                  endpoint: receiver.endpoint(),
                  protocol,
                  batch: NO_TIMER,
                  filter: "info",
                  ...options,
                }),
              ],
            }),
            library(),
          ).enter();
          example.runWorkers(1, 6);
        };
        trace({ compression: "gzip", spanLimits: { maxEventsPerSpan: 2 } });
        const { spans, requests } = await receiver.received();
        assert.equal(spans.length, 2, "run_workers and one worker");
        assert.equal(at(byName(spans, "worker"), 0).span.events!.length, 2, "maxEventsPerSpan");
        assert.ok(requests.length >= 1);
        for (const request of requests) {
          const encoding = protocol === "grpc"
            ? request.headers["grpc-encoding"]
            : request.headers["content-encoding"];
          assert.equal(encoding, "gzip");
        }
        trace({ sampler: "always_off" });
        trace({ sampler: "parentbased_traceidratio", samplerArg: 0 });
        assert.equal((await receiver.stats()).spans, 2, "nothing sampled, nothing sent");
        trace({ sampler: "traceidratio", samplerArg: 1 });
        assert.equal((await receiver.stats()).spans, 4);
        const everyAttribute =
          at(byName((await receiver.received()).spans, "worker"), 0).attributes;
        for (const key of ["thread.id", "thread.name", "busy_ns", "idle_ns", "code.line.number"]) {
          assert.ok(key in everyAttribute, `${key} is there by default`);
        }
        await receiver.clear();
        trace({ spanAttributes: { thread: false, busyIdle: false, location: false } });
        const lean = at(byName((await receiver.received()).spans, "worker"), 0).attributes;
        for (const key of ["thread.id", "thread.name", "busy_ns", "idle_ns", "code.line.number"]) {
          assert.ok(!(key in lean), `spanAttributes turned ${key} off`);
        }
        assert.equal(lean.index, everyAttribute.index, "the span's own fields stay");
      });
    });
  }

  test("otlp: a current-thread config exports the JS thread's spans only, also with await using", async () => {
    await withReceiver("grpc", async (receiver) => {
      {
        await using _tracing = new api.Tracing(
          new api.CurrentThreadTracingConfig({
            layers: [
              new api.OtlpLayerConfig({
                endpoint: receiver.endpoint(),
                protocol: "grpc",
                batch: NO_TIMER,
                filter: "info",
              }),
            ],
          }),
          library(),
        ).enter();
        example.fibonacci(2, false);
        example.runWorkers(2, 3);
      }
      const { spans } = await receiver.received();
      assert.deepEqual(spans.map(({ span }) => span.name).sort(), [
        "fib",
        "fib",
        "fib",
        "run_workers",
      ]);
    });
  });

  test("otlp: two OpenTelemetry layers in one config are refused, naming both", () => {
    const tracing = new api.Tracing(
      new api.GlobalTracingConfig({
        layers: [
          new api.OtlpLayerConfig({ endpoint: "http://127.0.0.1:1" }),
          new api.FmtLayerConfig({ writer: "stderr" }),
          new api.OtlpJsonLayerConfig({ writer: "stderr" }),
        ],
      }),
      library(),
    );
    expectTracingError(
      () => tracing.enter(),
      "INVALID_CONFIG",
      /layers\[2\]: a config can have one OpenTelemetry layer \(otlp or otlpJson\), and layers\[0\] is one already/,
    );
  });

  test("otlp: a receiver that never answers is abandoned at the flush timeout", async () => {
    await withReceiver("grpc", async (receiver) => {
      await receiver.fault("hang");
      const tracing = new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [
            new api.OtlpLayerConfig({
              endpoint: receiver.endpoint(),
              protocol: "grpc",
              flushTimeoutMs: 500,
              batch: NO_TIMER,
              filter: "info",
            }),
          ],
        }),
        library(),
      ).enter();
      example.fibonacci(3, false);
      const started = performance.now();
      tracing.dispose();
      assert.ok(performance.now() - started < 2_000);
      assert.equal(tracing.droppedSpans, 5);
    });
  });

  test("otlp: flush() and flushAsync() export what is pending before they return", async () => {
    await withReceiver("grpc", async (receiver) => {
      await using tracing = new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [
            new api.OtlpLayerConfig({
              endpoint: receiver.endpoint(),
              protocol: "grpc",
              batch: NO_TIMER,
              filter: "info",
            }),
          ],
        }),
        library(),
      ).enter();
      example.fibonacci(3, false);
      tracing.flush();
      assert.equal((await receiver.stats()).spans, 5);
      example.fibonacci(2, false);
      await tracing.flushAsync();
      assert.equal((await receiver.stats()).spans, 8);
    });
  });

  test("otlp: await using exports everything; in Deno the event loop keeps running meanwhile", async () => {
    await withReceiver("http/protobuf", async (receiver) => {
      await receiver.fault("slow", 400);
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10);
      let disposeMs = 0;
      try {
        {
          await using _tracing = new api.Tracing(
            new api.GlobalTracingConfig({
              layers: [
                new api.OtlpLayerConfig({
                  endpoint: receiver.endpoint(),
                  batch: NO_TIMER,
                  filter: "info",
                }),
              ],
            }),
            library(),
          ).enter();
          example.fibonacci(3, false);
          ticks = 0;
          disposeMs = performance.now();
        }
        disposeMs = performance.now() - disposeMs;
      } finally {
        clearInterval(ticker);
      }
      assert.equal((await receiver.stats()).spans, 5);
      assert.ok(disposeMs >= 350, `the slow receiver answered after ${disposeMs} ms`);
      if (h.runtime === "deno") {
        assert.ok(ticks >= 10, `only ${ticks} timer ticks while disposing off-thread`);
      } else {
        // Bun has no asynchronous FFI calls: dispose is synchronous, bounded by the timeout.
        assert.equal(ticks, 0);
      }
    });
  });

  test("otlpJson: a file of OTLP JSON lines that parse as TracesData (also by an OTLP/HTTP JSON receiver)", async () => {
    const file = join(h.tempDir(), "spans.jsonl");
    {
      using _tracing = new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [
            new api.OtlpJsonLayerConfig({
              writer: { file },
              serviceName: "json-test",
              scope: {
                name: "fib-lib",
                version: "1.2.3",
                schemaUrl: "https://opentelemetry.io/schemas/1.26.0",
                attributes: { "lib.kind": "native", "shard": 3, "zones": ["a", "b"] },
              },
              batch: { maxExportBatchSize: 4 },
              filter: "info",
            }),
          ],
        }),
        library(),
      ).enter();
      example.fibonacci(3, false);
      example.runWorkers(2, 2);
    }
    const lines = readFileSync(file, "utf8").split("\n").filter((line) => line.length > 0);
    assert.ok(lines.length >= 2, "batches of 4 make several lines");
    let spanCount = 0;
    for (const line of lines) {
      const data = JSON.parse(line);
      assert.deepEqual(Object.keys(data), ["resourceSpans"]);
      for (const resourceSpans of data.resourceSpans) {
        assert.equal(attributes(resourceSpans.resource.attributes)["service.name"], "json-test");
        for (const scopeSpans of resourceSpans.scopeSpans) {
          assert.equal(scopeSpans.scope.name, "fib-lib");
          assert.equal(scopeSpans.scope.version, "1.2.3");
          assert.equal(scopeSpans.schemaUrl, "https://opentelemetry.io/schemas/1.26.0");
          assert.deepEqual(attributes(scopeSpans.scope.attributes), {
            "lib.kind": "native",
            "shard": 3,
            "zones": ["a", "b"],
          });
          for (const span of scopeSpans.spans) {
            spanCount++;
            assert.match(span.traceId, /^[0-9a-f]{32}$/);
            assert.match(span.spanId, /^[0-9a-f]{16}$/);
            assert.match(span.startTimeUnixNano, /^\d+$/, "int64 times are strings");
            assert.equal(typeof span.kind, "number", "enums are numbers");
          }
        }
      }
    }
    assert.equal(spanCount, 5 + 3, "fib(3) makes 5 spans, run_workers(2) makes 3");

    await withReceiver("http/json", async (receiver) => {
      for (const line of lines) {
        const response = await fetch(`${receiver.endpoint("direct")}/v1/traces`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: line,
        });
        assert.equal(response.status, 200, await response.text());
      }
      const { spans } = await receiver.received();
      assert.equal(spans.length, 8);
      const worker = at(byName(spans, "worker"), 0);
      assert.equal(worker.span.status?.code, STATUS_ERROR);
    });
  });

  test("otlp: invalid options are INVALID_CONFIG errors that name the option", () => {
    const enter = (options: Record<string, unknown>) => () =>
      new api.Tracing(
        new api.GlobalTracingConfig({ layers: [new api.OtlpLayerConfig(options)] }),
        library(),
      ).enter();
    expectTracingError(enter({ endpoint: "not a url" }), "INVALID_CONFIG", /layers\[0\]\.endpoint/);
    expectTracingError(
      enter({ protocol: "udp" }),
      "INVALID_CONFIG",
      /`layers\[0\]\.protocol`: unknown variant `udp`, expected one of `grpc`, `http\/protobuf`, `http\/json`/,
    );
    expectTracingError(
      enter({ headers: { "bad header": "x" } }),
      "INVALID_CONFIG",
      /layers\[0\]\.headers: `bad header` is not a valid header name/,
    );
    expectTracingError(
      enter({ batch: { maxQueueSize: -5 } }),
      "INVALID_CONFIG",
      /`layers\[0\]\.batch\.maxQueueSize`: must not be negative, got -5/,
    );
    expectTracingError(
      enter({ timeoutMs: -1 }),
      "INVALID_CONFIG",
      /`layers\[0\]\.timeoutMs`: must not be negative/,
    );
    expectTracingError(
      enter({ sampler: "traceidratio", samplerArg: 3 }),
      "INVALID_CONFIG",
      /layers\[0\]\.samplerArg: the ratio must be from 0 to 1/,
    );
    expectTracingError(
      enter({ colour: "red" }),
      "INVALID_CONFIG",
      /`layers\[0\]\.colour`: unknown field `colour`/,
    );
    // A failed enter installs nothing: a valid global config starts right after.
    using _ok = new api.Tracing(
      new api.GlobalTracingConfig({
        layers: [new api.OtlpJsonLayerConfig({ writer: { file: join(h.tempDir(), "ok.jsonl") } })],
      }),
      library(),
    ).enter();
  });

  test("otlp: OTEL_* variables fill what the config leaves out; explicit options win", async () => {
    await withReceiver("grpc", async (receiver) => {
      const env = {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint(),
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_EXPORTER_OTLP_HEADERS: "x-env-token=e%201,x-shared=from-env",
        OTEL_SERVICE_NAME: "env-service",
        OTEL_RESOURCE_ATTRIBUTES: "team=core,service.name=ignored",
        OTEL_BSP_SCHEDULE_DELAY: "600000",
      };
      const fromEnv = runChild(h, "env-only", env);
      assert.equal(fromEnv.code, 0, fromEnv.stderr);
      let { spans, requests } = await receiver.received();
      assert.equal(spans.length, 5);
      assert.equal(at(spans, 0).resource["service.name"], "env-service");
      assert.equal(at(spans, 0).resource.team, "core");
      assert.equal(at(requests, 0).headers["x-env-token"], "e 1");
      assert.equal(at(requests, 0).headers["x-shared"], "from-env");

      await receiver.clear();
      const explicit = runChild(h, "explicit", env);
      assert.equal(explicit.code, 0, explicit.stderr);
      ({ spans, requests } = await receiver.received());
      assert.equal(spans.length, 5);
      assert.equal(at(spans, 0).resource["service.name"], "explicit-service");
      assert.equal(at(requests, 0).headers["x-shared"], "explicit");
      assert.equal(at(requests, 0).headers["x-env-token"], "e 1");

      const invalid = runChild(h, "env-only", {
        ...env,
        OTEL_EXPORTER_OTLP_PROTOCOL: "carrier-pigeon",
      });
      assert.notEqual(invalid.code, 0);
      assert.match(
        invalid.stderr,
        /INVALID_CONFIG: layers\[0\]: environment variable OTEL_EXPORTER_OTLP_PROTOCOL=`carrier-pigeon` is not an OTLP protocol/,
      );
    });
  });

  test("otlp: spans dropped because the receiver is down are reported once on stderr", () => {
    const child = runChild(h, "receiver-down", {});
    assert.equal(child.code, 0, child.stderr);
    const reports = child.stderr.split("\n").filter((line) => line.includes("spans were"));
    assert.equal(reports.length, 1, child.stderr);
    assert.match(
      at(reports, 0),
      /^tracing-bridge: layers\[0\] \(otlp, http\/protobuf to http:\/\/127\.0\.0\.1:\d+\/v1\/traces\): 9 of 9 spans were dropped because the export failed: /,
    );
    assert.match(child.stdout, /dropped=9/);
  });

  test("otlp: OTEL_SDK_DISABLED=true makes otlp and otlpJson record nothing (any case; only `true`)", async () => {
    await withReceiver("grpc", async (receiver) => {
      const dir = h.tempDir();
      const env = (disabled: string, file: string) => ({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint(),
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_BSP_SCHEDULE_DELAY: "600000",
        OTEL_SDK_DISABLED: disabled,
        TEST_OTLP_JSON_FILE: join(dir, file),
      });
      for (const [index, value] of ["true", "TRUE"].entries()) {
        const child = runChild(h, "env-only", env(value, `disabled${index}.jsonl`));
        assert.equal(child.code, 0, child.stderr);
        assert.equal(child.stderr, "", "nothing to report");
        assert.match(child.stdout, /^dropped=0$/m);
        assert.match(child.stdout, /^json dropped=0$/m);
        assert.ok(!existsSync(join(dir, `disabled${index}.jsonl`)), "the file is not even opened");
      }
      assert.deepEqual(await receiver.stats().then(({ spans, requests }) => [spans, requests]), [
        0,
        0,
      ]);

      const enabled = runChild(h, "env-only", env("false", "enabled.jsonl"));
      assert.equal(enabled.code, 0, enabled.stderr);
      assert.equal((await receiver.stats()).spans, 5);
      assert.equal(readFileSync(join(dir, "enabled.jsonl"), "utf8").trim().split("\n").length, 1);

      const other = runChild(h, "env-only", env("yes", "other.jsonl"));
      assert.equal(other.code, 0, other.stderr);
      assert.match(
        other.stderr,
        /^tracing-bridge: layers\[0\]: environment variable OTEL_SDK_DISABLED=`yes` is neither `true` nor `false`; read as false/m,
      );
      assert.equal((await receiver.stats()).spans, 10, "any value but true records");
    });
  });

  test("otlp: OTEL_TRACES_EXPORTER none records nothing, console writes OTLP JSON lines to stdout, `exporter` wins, bad values name the variable", async () => {
    await withReceiver("grpc", async (receiver) => {
      const env = (exporter: string) => ({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint(),
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_BSP_SCHEDULE_DELAY: "600000",
        OTEL_SERVICE_NAME: "console-service",
        OTEL_TRACES_EXPORTER: exporter,
      });
      const none = runChild(h, "env-only", env("none"));
      assert.equal(none.code, 0, none.stderr);
      assert.match(none.stdout, /^dropped=0$/m);

      const console = runChild(h, "env-only", env("console"));
      assert.equal(console.code, 0, console.stderr);
      const lines = console.stdout.split("\n").filter((line) => line.startsWith("{"));
      const spans = jsonLineSpans(lines);
      assert.equal(spans.length, 5, console.stdout);
      for (const { span, resource } of spans) {
        assert.equal(span.name, "fib");
        assert.equal(resource["service.name"], "console-service");
      }
      assert.match(console.stdout, /^dropped=0$/m);
      assert.deepEqual(await receiver.stats().then(({ spans, requests }) => [spans, requests]), [
        0,
        0,
      ]);

      const explicit = runChild(h, "explicit-exporter", env("none"));
      assert.equal(explicit.code, 0, explicit.stderr);
      assert.equal((await receiver.stats()).spans, 5, 'exporter: "otlp" wins over the variable');

      const unknown = runChild(h, "env-only", env("zipkin"));
      assert.equal(unknown.code, 1);
      assert.match(
        unknown.stderr,
        /INVALID_CONFIG: layers\[0\]: environment variable OTEL_TRACES_EXPORTER=`zipkin`: `zipkin` is not an exporter of this layer; use `otlp`, `console` or `none`/,
      );
      const two = runChild(h, "env-only", env("otlp,console"));
      assert.equal(two.code, 1);
      assert.match(
        two.stderr,
        /INVALID_CONFIG: layers\[0\]: environment variable OTEL_TRACES_EXPORTER=`otlp,console` names more than one exporter/,
      );
    });
  });

  test("otlp: the resource is detected (pid, executable, runtime, host, OS) under OTEL_RESOURCE_ATTRIBUTES; detectResource: false leaves it out", async () => {
    await withReceiver("http/protobuf", async (receiver) => {
      const env = {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint(),
        OTEL_BSP_SCHEDULE_DELAY: "600000",
      };
      const detected = runChild(h, "env-only", env);
      assert.equal(detected.code, 0, detected.stderr);
      let { spans } = await receiver.received();
      assert.equal(spans.length, 5);
      const resource = at(spans, 0).resource;
      assert.equal(resource["process.pid"], detected.pid, "the child's pid");
      assert.equal(resource["process.executable.name"], basename(process.execPath));
      assert.equal(resource["process.runtime.name"], h.runtime);
      assert.equal(resource["process.runtime.version"], process.versions[h.runtime]);
      // `uname -n`: Deno's os.hostname() needs --allow-sys, which the tests do not grant.
      const host = spawnSync("uname", ["-n"], { encoding: "utf8" }).stdout.trim();
      assert.equal(resource["host.name"], host);
      assert.equal(resource["os.type"], OS_TYPE[process.platform]);
      assert.match(String(resource["service.name"]), /^unknown_service:/);

      await receiver.clear();
      const off = runChild(h, "no-detect", {
        ...env,
        OTEL_RESOURCE_ATTRIBUTES: "host.name=from-env,process.runtime.name=from-env",
      });
      assert.equal(off.code, 0, off.stderr);
      ({ spans } = await receiver.received());
      assert.equal(spans.length, 5);
      const lean = at(spans, 0).resource;
      for (const key of ["process.pid", "process.executable.name", "process.runtime.version"]) {
        assert.ok(!(key in lean), `${key} is not detected`);
      }
      assert.equal(lean["host.name"], "from-env");
      assert.equal(lean["process.runtime.name"], "from-env");
      assert.equal(lean["telemetry.sdk.language"], "rust");
    });
  });

  test("otlp: attribute values are cut to the length limit, in characters, on spans and events", async () => {
    await withReceiver("http/protobuf", async (receiver) => {
      {
        using tracing = new api.Tracing(
          new api.GlobalTracingConfig({
            layers: [
              new api.OtlpLayerConfig({
                endpoint: receiver.endpoint(),
                spanLimits: { attributeValueLengthLimit: 5 },
                batch: NO_TIMER,
                filter: "info",
              }),
            ],
          }),
          library(),
        ).enter();
        tracing.span("limited", { text: "héllo wörld", short: "abc", number: 1234567 }, () => {
          tracing.event("info", "noted", { note: "ünïcödé text" });
          example.runWorkers(1, 4);
        });
      }
      let { spans } = await receiver.received();
      const limited = at(byName(spans, "limited"), 0);
      assert.equal(limited.attributes.text, "héllo");
      assert.equal(limited.attributes.short, "abc");
      assert.equal(limited.attributes.number, 1234567);
      assert.equal(attributes(at(limited.span.events!, 0).attributes).note, "ünïcö");
      const worker = at(byName(spans, "worker"), 0);
      const third = attributes(at(worker.span.events!, 3).attributes);
      assert.equal(third.point, "Point", "a Debug field, cut");
      assert.equal(third.text, "hello", "5 characters stay");
      assert.equal(third.error, "item ");
      assert.equal(worker.span.status?.message, "item 0 failed", "the status keeps all of it");

      // The environment: the span variable wins over the general one.
      await receiver.clear();
      const child = runChild(h, "env-only", {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint(),
        OTEL_BSP_SCHEDULE_DELAY: "600000",
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "6",
        OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: "3",
      });
      assert.equal(child.code, 0, child.stderr);
      ({ spans } = await receiver.received());
      assert.equal(spans.length, 5);
      for (const { attributes } of spans) {
        assert.equal(attributes.target, "fib");
        assert.equal(attributes.level, "INF");
      }
    });
  });

  test("otlp: spans made on the JavaScript thread carry its thread.name, as worker threads carry theirs", async () => {
    await withReceiver("http/protobuf", async (receiver) => {
      let jsThreadName: string | undefined;
      {
        using tracing = new api.Tracing(
          new api.GlobalTracingConfig({
            layers: [
              new api.OtlpLayerConfig({
                endpoint: receiver.endpoint(),
                batch: NO_TIMER,
                filter: "info",
              }),
              new api.JsLayerConfig({
                onEvent(event) {
                  jsThreadName ??= event.thread.name;
                },
              }),
            ],
          }),
          library(),
        ).enter();
        tracing.span("on the js thread", () => {
          tracing.event("info", "here");
          example.fibonacci(1, false);
        });
        example.runWorkers(1, 1);
      }
      const { spans } = await receiver.received();
      assert.ok(jsThreadName, "the JS layer names the JavaScript thread");
      for (const name of ["on the js thread", "fib", "run_workers"]) {
        const span = at(byName(spans, name), 0);
        assert.equal(typeof span.attributes["thread.id"], "number");
        assert.equal(span.attributes["thread.name"], jsThreadName, name);
      }
      assert.equal(at(byName(spans, "worker"), 0).attributes["thread.name"], "worker-0");
    });
  });
}
