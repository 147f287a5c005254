/**
 * OTLP metrics from event fields (`monotonic_counter.*`, `counter.*`, `histogram.*`), run
 * identically by `deno test` and `bun test` against the real OTLP receiver (`mock-collector`,
 * which takes metrics over gRPC and HTTP; see `receiver.ts`), and the scenarios that depend on
 * the process environment, in a child process (`tests/<runtime>/otlp_metrics_child.ts`).
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Api, Harness, TestFn } from "./harness.ts";
import {
  attributes,
  closedPort,
  type OtlpDataPoint,
  type OtlpMetric,
  type Protocol,
  type ReceivedMetric,
  Receiver,
} from "./receiver.ts";
import { expectTracingError } from "./expect.ts";

/** The example library's `count_calls`. */
export interface MetricsExample {
  /** `calls` counted, timed calls on each of `threads` Rust threads; returns the calls made. */
  countCalls(threads: number, calls: number): bigint | number;
}

const PROTOCOLS: Protocol[] = ["grpc", "http/protobuf", "http/json"];
const METRICS_PATH: Record<Protocol, string> = {
  "grpc": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
  "http/protobuf": "/v1/metrics",
  "http/json": "/v1/metrics",
};
/** `AggregationTemporality` of the OTLP JSON mapping. */
const DELTA = 1;
const CUMULATIVE = 2;

async function withReceiver(protocol: Protocol, body: (receiver: Receiver) => Promise<void>) {
  const receiver = await Receiver.start(protocol);
  try {
    await body(receiver);
  } finally {
    await receiver.stop();
  }
}

/** The data points of every export of metric `name`, export by export. */
function exportsOf(metrics: { metric: OtlpMetric }[], name: string): OtlpDataPoint[][] {
  return metrics
    .filter(({ metric }) => metric.name === name)
    .map(({ metric }) => (metric.sum ?? metric.histogram)!.dataPoints);
}

/** The sum of the integer points of `points`. */
function total(points: OtlpDataPoint[]): number {
  return points.reduce((sum, point) => sum + Number(point.asInt ?? point.asDouble), 0);
}

/** The one export of metric `name`. */
function onlyExport(metrics: { metric: OtlpMetric }[], name: string): OtlpDataPoint[] {
  const exports = exportsOf(metrics, name);
  assert.equal(exports.length, 1, `${name} exported once`);
  return exports[0]!;
}

/** Checks what `count_calls(4, 250)` and three JS `hits` make. */
function assertCalls(metrics: { metric: OtlpMetric }[]): void {
  const calls = metrics.find(({ metric }) => metric.name === "calls")!.metric;
  assert.equal(calls.sum?.isMonotonic, true);
  assert.equal(calls.sum?.aggregationTemporality, CUMULATIVE);
  const points = onlyExport(metrics, "calls");
  assert.equal(total(points), 1000, "exactly 1 000 calls from 4 threads");
  assert.deepEqual(
    points.map((point) => attributes(point.attributes).worker).sort(),
    [0, 1, 2, 3],
    "one series per worker, the attribute typed",
  );
  for (const point of points) {
    assert.equal(point.asInt, "250");
    assert.ok(BigInt(point.startTimeUnixNano) <= BigInt(point.timeUnixNano));
  }
  const work = onlyExport(metrics, "work_ms");
  assert.equal(work.reduce((count, point) => count + Number(point.count), 0), 1000);
  assert.equal(work.reduce((sum, point) => sum + point.sum!, 0), 4500);
  assert.equal(work[0]!.min, 0);
  assert.equal(work[0]!.max, 9);
  assert.equal(work[0]!.explicitBounds?.length, 15, "the default boundaries");
  assert.equal(total(onlyExport(metrics, "active_callers")), 0, "up-down counter back to 0");
  const hits = onlyExport(metrics, "hits");
  assert.equal(total(hits), 3, "JS events count");
  assert.equal(attributes(hits[0]!.attributes).route, "/home");
}

/** Emits three JS `hits` events (integers) on `tracing`. */
function hit(tracing: InstanceType<Api["Tracing"]>): void {
  for (let index = 0; index < 3; index++) {
    tracing.event("info", "hit", { "monotonic_counter.hits": 1, route: "/home" });
  }
}

export function defineOtlpMetricsScenarios(
  test: TestFn,
  h: Harness,
  example: MetricsExample,
): void {
  const { api, paths } = h;
  const library = () => ({ library: paths.fibonacci });

  for (const protocol of PROTOCOLS) {
    test(`otlp metrics ${protocol}: 1 000 calls from 4 Rust threads, a histogram and JS events arrive exactly, on dispose without waiting for the interval`, async () => {
      await withReceiver(protocol, async (receiver) => {
        const tracing = new api.Tracing(
          new api.GlobalTracingConfig({
            layers: [
              new api.OtlpLayerConfig({
                endpoint: receiver.endpoint(),
                protocol,
                serviceName: "metrics-test",
                signals: { traces: "none", metrics: "otlp" },
                metrics: { exportIntervalMs: 60_000 },
                filter: "info",
              }),
            ],
          }),
          library(),
        ).enter();
        assert.equal(Number(example.countCalls(4, 250)), 1000);
        hit(tracing);
        const started = performance.now();
        tracing.dispose();
        assert.ok(performance.now() - started < 10_000, "dispose exports at once");
        assert.equal(tracing.droppedSpans, 0);

        const metrics = await receiver.metrics();
        assertCalls(metrics);
        assert.equal(metrics[0]!.resource["service.name"], "metrics-test");
        const { requests } = await receiver.received();
        assert.deepEqual(requests.map(({ path }) => path), [METRICS_PATH[protocol]]);
        assert.equal((await receiver.stats()).metrics, metrics.length);
      });
    });
  }

  test("otlp metrics: over TLS, the interval exports by itself", async () => {
    await withReceiver("http/protobuf", async (receiver) => {
      using _tracing = new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [
            new api.OtlpLayerConfig({
              endpoint: receiver.endpoint("tls"),
              certificate: receiver.certs.ca,
              signals: { traces: "none", metrics: "otlp" },
              metrics: { exportIntervalMs: 100 },
              filter: "info",
            }),
          ],
        }),
        library(),
      ).enter();
      example.countCalls(1, 5);
      const deadline = Date.now() + 10_000;
      while ((await receiver.stats()).metrics === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const first = exportsOf(await receiver.metrics(), "calls")[0];
      assert.ok(first, "exported by the interval, before any flush or dispose");
      assert.equal(total(first), 5);
      const { requests } = await receiver.received();
      assert.equal(requests[0]!.transport, "tls");
    });
  });

  test("otlp metrics: delta temporality starts over at each export, cumulative keeps counting", async () => {
    await withReceiver("http/json", async (receiver) => {
      for (const temporality of ["delta", "cumulative"] as const) {
        await receiver.clear();
        const tracing = new api.Tracing(
          new api.GlobalTracingConfig({
            layers: [
              new api.OtlpLayerConfig({
                endpoint: receiver.endpoint(),
                protocol: "http/json",
                signals: { traces: "none", metrics: "otlp" },
                metrics: { exportIntervalMs: 600_000, temporality },
                filter: "info",
              }),
            ],
          }),
          library(),
        ).enter();
        example.countCalls(2, 10);
        tracing.flush();
        example.countCalls(2, 5);
        tracing.dispose();
        const metrics = await receiver.metrics();
        const exports = exportsOf(metrics, "calls");
        assert.equal(exports.length, 2, temporality);
        const [first, second] = exports as [OtlpDataPoint[], OtlpDataPoint[]];
        const calls = metrics.find(({ metric }) => metric.name === "calls")!.metric;
        const active = metrics.find(({ metric }) => metric.name === "active_callers")!.metric;
        assert.equal(active.sum?.aggregationTemporality, CUMULATIVE, "up-down stays cumulative");
        if (temporality === "delta") {
          assert.equal(calls.sum?.aggregationTemporality, DELTA);
          assert.deepEqual([total(first), total(second)], [20, 10]);
          for (const point of second) {
            assert.equal(point.startTimeUnixNano, first[0]!.timeUnixNano, "starts at the last");
          }
        } else {
          assert.equal(calls.sum?.aggregationTemporality, CUMULATIVE);
          assert.deepEqual([total(first), total(second)], [20, 30]);
          const starts = (points: OtlpDataPoint[]) =>
            points.map((point) => point.startTimeUnixNano).sort();
          assert.deepEqual(starts(second), starts(first), "same start times");
        }
      }
    });
  });

  test("otlpJson metrics: MetricsData lines beside TracesData lines", () => {
    const file = join(h.tempDir(), "otel.jsonl");
    const tracing = new api.Tracing(
      new api.GlobalTracingConfig({
        layers: [
          new api.OtlpJsonLayerConfig({
            writer: { file },
            signals: { metrics: true },
            filter: "info",
          }),
        ],
      }),
      library(),
    ).enter();
    h.example.fibonacci(3, false);
    example.countCalls(4, 250);
    hit(tracing);
    tracing.dispose();
    const lines = readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line));
    assert.ok(lines.some((line) => line.resourceSpans), "traces stay on");
    const metricLines = lines.filter((line) => line.resourceMetrics);
    assert.equal(metricLines.length, 1, "one export, on dispose");
    const metrics: { metric: OtlpMetric }[] = [];
    for (const line of metricLines) {
      for (const resourceMetrics of line.resourceMetrics) {
        for (const scopeMetrics of resourceMetrics.scopeMetrics) {
          assert.equal(scopeMetrics.scope.name, "tracing-bridge");
          for (const metric of scopeMetrics.metrics) metrics.push({ metric });
        }
      }
    }
    assertCalls(metrics);
  });

  test("otlp metrics: data points of a failed export are counted as dropped", async () => {
    const tracing = new api.Tracing(
      new api.GlobalTracingConfig({
        layers: [
          new api.OtlpLayerConfig({
            endpoint: `http://127.0.0.1:${await closedPort()}`,
            signals: { traces: "none", metrics: "otlp" },
            timeoutMs: 200,
            flushTimeoutMs: 2000,
            filter: "info",
          }),
        ],
      }),
      library(),
    ).enter();
    example.countCalls(1, 3);
    tracing.dispose();
    // calls, work_ms and active_callers: one series each.
    assert.equal(tracing.droppedSpans, 3);
  });

  test("otlp metrics: invalid options are INVALID_CONFIG errors that name the option", () => {
    const enter = (options: Record<string, unknown>) => () =>
      new api.Tracing(
        new api.GlobalTracingConfig({
          layers: [new api.OtlpLayerConfig({ signals: { metrics: "otlp" }, ...options })],
        }),
        library(),
      ).enter();
    expectTracingError(
      enter({ metrics: { exportIntervalMs: 0 } }),
      "INVALID_CONFIG",
      /layers\[0\]\.metrics\.exportIntervalMs must be at least 1/,
    );
    expectTracingError(
      enter({ metrics: { exportTimeoutMs: 0 } }),
      "INVALID_CONFIG",
      /layers\[0\]\.metrics\.exportTimeoutMs must be at least 1/,
    );
    expectTracingError(
      enter({ metrics: { temporality: "sometimes" } }),
      "INVALID_CONFIG",
      /layers\[0\]\.metrics\.temporality`: unknown variant `sometimes`/,
    );
    expectTracingError(
      enter({ signals: { metrics: "prometheus" } }),
      "INVALID_CONFIG",
      /layers\[0\]\.signals\.metrics`: unknown variant `prometheus`/,
    );
  });

  const child = (scenario: string, env: Record<string, string>) =>
    runMetricsChild(h.runtime, scenario, env);

  test("otlp metrics: OTEL_METRICS_EXPORTER=otlp turns them on for a default config; none and unset send nothing", async () => {
    await withReceiver("http/protobuf", async (receiver) => {
      const base = {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint(),
        OTEL_TRACES_EXPORTER: "none",
        OTEL_METRIC_EXPORT_INTERVAL: "600000",
      };
      const on = child("default", { ...base, OTEL_METRICS_EXPORTER: "otlp" });
      assert.equal(on.code, 0, on.stderr);
      assertCalls(await receiver.metrics());
      assert.match(on.stdout, /dropped=0/);
      assert.match(
        on.stderr,
        /metric field `histogram\.latency` = "slow" was not recorded: it is a string, not a number/,
        "a bad value is reported with its field",
      );
      assert.match(
        on.stderr,
        /1 values of metric fields were not recorded: `histogram\.latency`: 1/,
      );
      for (const off of [{ OTEL_METRICS_EXPORTER: "none" }, {}]) {
        await receiver.clear();
        const result = child("default", { ...base, ...off });
        assert.equal(result.code, 0, result.stderr);
        assert.equal((await receiver.stats()).metrics, 0);
        assert.deepEqual((await receiver.received()).requests, [], "nothing sent");
      }
    });
  });

  test("otlp metrics: exported at exit without dispose, console writes MetricsData to stdout", async () => {
    await withReceiver("grpc", async (receiver) => {
      const result = child("no-dispose", {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint(),
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_TRACES_EXPORTER: "none",
        OTEL_METRICS_EXPORTER: "otlp",
      });
      assert.equal(result.code, 0, result.stderr);
      assertCalls(await receiver.metrics());
    });
    const console = child("default", {
      OTEL_TRACES_EXPORTER: "none",
      OTEL_METRICS_EXPORTER: "console",
    });
    assert.equal(console.code, 0, console.stderr);
    const lines = console.stdout.split("\n").filter((line) => line.startsWith("{"));
    assert.equal(lines.length, 1, console.stdout);
    const metrics = JSON.parse(lines[0]!).resourceMetrics[0].scopeMetrics[0].metrics
      .map((metric: OtlpMetric) => ({ metric }));
    assertCalls(metrics);
  });

  test("otlp metrics: invalid metrics variables are INVALID_CONFIG errors that name them", () => {
    for (
      const [variable, value] of [
        ["OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "sometimes"],
        ["OTEL_METRIC_EXPORT_INTERVAL", "0"],
        ["OTEL_METRIC_EXPORT_TIMEOUT", "soon"],
        ["OTEL_METRICS_EXPORTER", "prometheus"],
      ]
    ) {
      const result = child("default", {
        OTEL_TRACES_EXPORTER: "none",
        OTEL_METRICS_EXPORTER: "console",
        [variable!]: value!,
      });
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, /INVALID_CONFIG/);
      assert.ok(result.stderr.includes(`${variable}=\`${value}\``), result.stderr);
    }
  });
}

/**
 * Runs `tests/<runtime>/otlp_metrics_child.ts <scenario>` with `env` added (and this process's
 * `OTEL_*` variables removed); returns its output.
 */
export function runMetricsChild(
  runtime: "deno" | "bun",
  scenario: string,
  env: Record<string, string>,
) {
  const script = fileURLToPath(new URL(`../${runtime}/otlp_metrics_child.ts`, import.meta.url));
  const args = runtime === "deno"
    ? ["run", "--allow-ffi", "--allow-read", "--allow-env", "--allow-net=127.0.0.1", script]
    : [script];
  const cleanEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("OTEL_")),
  );
  const output = spawnSync(process.execPath, [...args, scenario], {
    env: { ...cleanEnv, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: output.status ?? -1, stdout: output.stdout, stderr: output.stderr };
}

/**
 * The child's side: a default `otlp` layer (everything from `OTEL_*`), `count_calls(4, 250)`,
 * three JS `hits` and one bad value; `default` disposes, `no-dispose` leaves it to the exit
 * hook. Returns the exit code.
 */
export function metricsChild(
  api: Api,
  example: MetricsExample,
  libraryPath: string,
  scenario: string,
): number {
  try {
    const tracing = new api.Tracing(
      new api.GlobalTracingConfig({ layers: [new api.OtlpLayerConfig({ filter: "info" })] }),
      { library: libraryPath },
    ).enter();
    example.countCalls(4, 250);
    hit(tracing);
    tracing.event("info", "timed", { "histogram.latency": "slow" });
    if (scenario === "default") {
      tracing.dispose();
      console.log(`dropped=${tracing.droppedSpans}`);
    }
    return 0;
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    console.error(`${code}: ${message}`);
    return 1;
  }
}

export type { ReceivedMetric };
