/**
 * Re-entrancy and lifecycle scenarios (issue "Nothing crashes, whatever the caller does"), run
 * identically by `deno test` and `bun test`. What could crash the process runs in a child
 * (`tests/<runtime>/reentrancy_child.ts`), so that a crash fails one test with its output.
 */

import assert from "node:assert/strict";
import type { EventData, SpanData } from "../../bindings/public.ts";
import type { Api, FullFibonacciLibrary, Harness, TestFn } from "./harness.ts";

/** The callbacks an action is tried from. */
export const CALLBACK_KINDS = [
  "onEvent",
  "onNewSpan",
  "onClose",
  "onError",
  "jsSpanClose",
  "otherThreadEvent",
] as const;
export type CallbackKind = (typeof CALLBACK_KINDS)[number];

/** What a callback does to the tracing (or library) that called it. */
export const ACTIONS = [
  "dispose",
  "disposeThenNewGlobal",
  "flush",
  "flushAsync",
  "setFilter",
  "setLayerFilter",
  "startSpan",
  "event",
  "newCurrentThreadTracing",
  "newGlobalWhileActive",
  "libraryClose",
] as const;
export type Action = (typeof ACTIONS)[number];

/** One action's outcome in the child: `ok` or the TracingError code thrown. */
export interface Outcome {
  kind: CallbackKind;
  action: Action;
  outcome: string;
  /** Records delivered to the layer after the trigger returned, made after dispose. */
  afterDispose: number;
  /** Whether a fresh tracing recorded an event afterwards. */
  usable: boolean;
}

/** The outcomes each action may have; anything else (PANIC, a crash, a hang) fails. */
const EXPECTED: Record<Action, readonly string[]> = {
  dispose: ["ok"],
  disposeThenNewGlobal: ["ok"],
  flush: ["ok"],
  flushAsync: ["ok"],
  setFilter: ["ok"],
  setLayerFilter: ["ok"],
  startSpan: ["ok"],
  event: ["ok"],
  // tracing-core borrows the thread's dispatcher while it dispatches a record made on this
  // thread: a current-thread install then gets the typed REENTRANT error.
  newCurrentThreadTracing: ["ok", "REENTRANT"],
  newGlobalWhileActive: ["GLOBAL_ALREADY_ACTIVE"],
  libraryClose: ["LIBRARY_IN_USE"],
};

type Tracing = InstanceType<Api["Tracing"]>;

/**
 * Child side: for each action, a global tracing whose JS layer performs `action` once from a
 * callback of `kind`, then checks that the process is still usable. Prints one JSON line per
 * action.
 */
export async function reentrancyChild(
  api: Api,
  example: FullFibonacciLibrary,
  libraryPath: string,
  kind: CallbackKind,
): Promise<void> {
  for (const action of ACTIONS) {
    const outcome = await tryAction(api, example, libraryPath, kind, action);
    console.log(JSON.stringify(outcome));
  }
}

/** A worker as both runtimes have it. */
export interface WorkerLike {
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  terminate(): void;
}

/**
 * Child side of the Worker scenario: a Worker enters a global tracing with a JS layer and is
 * terminated without disposing it; the main thread must then be able to enter its own.
 */
export async function workerParent(
  api: Api,
  example: FullFibonacciLibrary,
  libraryPath: string,
  startWorker: () => WorkerLike,
): Promise<void> {
  const worker = startWorker();
  await new Promise<void>((resolve) => {
    worker.addEventListener("message", (event) => {
      if (event.data === "entered") resolve();
    });
  });
  console.log("worker entered");
  example.runWorkers(2, 50); // queued for the worker's layer
  worker.terminate();
  example.runWorkers(4, 500); // recorded while the worker's thread ends
  const started = Date.now();
  let tracing: InstanceType<Api["Tracing"]> | undefined;
  let seen = 0;
  const layers = [new api.JsLayerConfig({ onEvent: () => void seen++ }, { filter: "info" })];
  while (tracing === undefined) {
    try {
      tracing = new api.Tracing(new api.GlobalTracingConfig({ layers }), {
        library: libraryPath,
      }).enter();
    } catch (error) {
      if ((error as { code?: string }).code !== "GLOBAL_ALREADY_ACTIVE") throw error;
      if (Date.now() - started > 5000) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  console.log(`main entered a global tracing after ${Date.now() - started} ms`);
  example.runWorkers(2, 10);
  tracing.dispose();
  console.log(`main saw ${seen} events`);
}

/** Worker side: enters a global tracing with a JS layer and never disposes it. */
export function workerChild(
  api: Api,
  libraryPath: string,
  post: (message: string) => void,
): void {
  let seen = 0;
  new api.Tracing(
    new api.GlobalTracingConfig({
      layers: [new api.JsLayerConfig({ onEvent: () => void seen++ }, { filter: "info" })],
    }),
    { library: libraryPath },
  ).enter();
  setInterval(() => void seen, 1000);
  post("entered");
}

async function tryAction(
  api: Api,
  example: FullFibonacciLibrary,
  libraryPath: string,
  kind: CallbackKind,
  action: Action,
): Promise<Outcome> {
  let outcome = "not run";
  let done = false;
  let disposedAt: number | undefined;
  let delivered = 0;
  const extra: Tracing[] = [];
  const pending: Promise<unknown>[] = [];
  const global = (layers: InstanceType<Api["JsLayerConfig"]>[]) =>
    new api.Tracing(new api.GlobalTracingConfig({ layers }), { library: libraryPath });

  const act = () => {
    if (done) return;
    done = true;
    try {
      switch (action) {
        case "dispose":
          tracing.dispose();
          disposedAt = delivered;
          break;
        case "disposeThenNewGlobal":
          tracing.dispose();
          disposedAt = delivered;
          extra.push(global([new api.JsLayerConfig({ onEvent() {} })]).enter());
          break;
        case "flush":
          tracing.flush();
          break;
        case "flushAsync":
          pending.push(tracing.flushAsync());
          break;
        case "setFilter":
          tracing.setFilter("trace");
          break;
        case "setLayerFilter":
          tracing.setLayerFilter(0, "debug");
          break;
        case "startSpan":
          tracing.startSpan("from a callback").end();
          break;
        case "event":
          tracing.event("info", "from a callback");
          break;
        case "newCurrentThreadTracing":
          extra.push(
            new api.Tracing(
              new api.CurrentThreadTracingConfig({ layers: [new api.FmtLayerConfig()] }),
              { library: libraryPath },
            ).enter(),
          );
          break;
        case "newGlobalWhileActive":
          extra.push(global([]).enter());
          break;
        case "libraryClose":
          tracing.library.close();
          break;
      }
      outcome = "ok";
    } catch (error) {
      outcome = (error as { code?: string }).code ?? `untyped: ${error}`;
    }
  };

  let jsSpanState: unknown;
  const layer = {
    onNewSpan(span: SpanData) {
      delivered++;
      if (kind === "onNewSpan") act();
      return span.name;
    },
    onEvent(event: EventData) {
      delivered++;
      if (kind === "onError") throw new Error("provoked");
      if (kind === "onEvent" && event.message === "step") act();
      if (kind === "otherThreadEvent" && event.thread.name?.startsWith("worker-")) act();
    },
    onClose(_id: number, state: unknown) {
      delivered++;
      if (kind === "onClose" && state === "fib") act();
      if (kind === "jsSpanClose" && state === "js outer") {
        jsSpanState = state;
        act();
      }
    },
  };
  const onError = () => {
    if (kind === "onError") act();
  };
  const tracing: Tracing = global([new api.JsLayerConfig(layer, { filter: "trace", onError })])
    .enter();
  switch (kind) {
    case "jsSpanClose":
      tracing.span("js outer", () => example.fibonacci(3, true));
      break;
    case "otherThreadEvent":
      example.runWorkers(2, 20);
      if (!tracing.disposed) tracing.flush();
      break;
    default:
      example.fibonacci(5, true);
  }
  await Promise.allSettled(pending);
  // Records made after dispose must not reach the layer.
  let afterDispose = 0;
  if (disposedAt !== undefined) {
    const before = delivered;
    example.fibonacci(4, true);
    example.runWorkers(1, 5);
    await new Promise((resolve) => setTimeout(resolve, 5));
    afterDispose = delivered - before;
  }
  void jsSpanState;
  for (const other of extra) other.dispose();
  if (!tracing.disposed) tracing.dispose();
  await new Promise((resolve) => setTimeout(resolve, 0));
  // Still usable: a fresh global tracing gets a record.
  let seen = 0;
  {
    using _fresh = global([
      new api.JsLayerConfig({ onEvent: () => void seen++ }, {
        filter: "info",
      }),
    ]).enter();
    example.fibonacci(3, true);
  }
  return { kind, action, outcome, afterDispose, usable: seen > 0 };
}

/** Parent side: the re-entrancy matrix and the lifecycle scenarios. */
export function defineReentrancyScenarios(
  test: TestFn,
  h: Omit<Harness, "example"> & { example: FullFibonacciLibrary },
): void {
  const { api, example, paths } = h;
  const global = (layers: InstanceType<Api["JsLayerConfig"]>[]) =>
    new api.Tracing(new api.GlobalTracingConfig({ layers }), { library: paths.fibonacci });

  for (const kind of CALLBACK_KINDS) {
    test(`re-entrancy: every action from inside ${kind} (child process)`, () => {
      const result = h.runChild("reentrancy_child.ts", { REENTRANCY_KIND: kind }, [
        "--allow-ffi",
        "--allow-read",
        "--allow-env",
      ]);
      const outcomes = result.stdout.split("\n").filter((line) => line.startsWith("{")).map(
        (line) => JSON.parse(line) as Outcome,
      );
      assert.equal(result.code, 0, `exit ${result.code}\n${result.stdout}\n${result.stderr}`);
      assert.doesNotMatch(result.stderr, /panicked|PANIC/);
      assert.deepEqual(outcomes.map((o) => o.action), [...ACTIONS], result.stderr);
      for (const outcome of outcomes) {
        const what = `${kind} → ${outcome.action}: ${JSON.stringify(outcome)}`;
        assert.ok(EXPECTED[outcome.action].includes(outcome.outcome), what);
        assert.equal(outcome.afterDispose, 0, what);
        assert.ok(outcome.usable, what);
      }
    });
  }

  test("a JS event inside a callback of a current-thread config is a typed error, not lost", () => {
    const codes: string[] = [];
    let events = 0;
    const tracing: InstanceType<Api["Tracing"]> = new api.Tracing(
      new api.CurrentThreadTracingConfig({
        layers: [
          new api.JsLayerConfig({
            onEvent(event: EventData) {
              events++;
              if (event.message !== "computed") return;
              try {
                tracing.event("info", "nested");
              } catch (error) {
                codes.push((error as { code: string }).code);
              }
            },
          }, { filter: "info" }),
        ],
      }),
      { library: paths.fibonacci },
    ).enter();
    example.fibonacci(3, true);
    tracing.event("info", "after the callback"); // outside a dispatch: recorded
    tracing.dispose();
    assert.deepEqual(codes, ["REENTRANT"]);
    assert.equal(events, 2);
  });

  test("dispose while flushAsync() is pending: uninstalled when it returns", async () => {
    let delivered = 0;
    const tracing = global([
      new api.JsLayerConfig({ onEvent: () => void delivered++ }, {
        filter: "info",
      }),
    ]).enter();
    const flushing = tracing.flushAsync();
    example.runWorkers(2, 10); // queued on Rust threads, not yet delivered
    tracing.dispose();
    const atDispose = delivered;
    assert.equal(atDispose, 2 * 10 + 1, "every record made before dispose was delivered");
    // The global slot is free at once, and nothing recorded now reaches the old layer.
    let next = 0;
    const successor = global([
      new api.JsLayerConfig({ onEvent: () => void next++ }, {
        filter: "info",
      }),
    ]).enter();
    example.runWorkers(1, 5);
    successor.flush();
    await flushing;
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(delivered, atDispose);
    assert.equal(next, 5 + 1);
    successor.dispose();
  });

  test("a terminated Worker's global tracing is released; its records never reach it", () => {
    const result = h.runChild("worker_parent.ts", {}, [
      "--allow-ffi",
      "--allow-read",
      "--allow-env",
    ]);
    assert.equal(result.code, 0, `exit ${result.code}\n${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /worker entered/);
    assert.match(result.stdout, /main entered a global tracing after \d+ ms/);
    assert.match(result.stdout, /main saw 21 events/);
  });

  test("js layer accounting: delivered + droppedRecords = records made; no unannounced ids", () => {
    interface Tally {
      callbacks: number;
      spans: Set<number>;
      badParents: number;
      badCloses: number;
    }
    const tallyLayer = (tally: Tally) => ({
      onNewSpan(span: SpanData, id: number) {
        tally.callbacks++;
        if (span.parent !== undefined && !tally.spans.has(span.parent)) tally.badParents++;
        tally.spans.add(id);
        return id;
      },
      onEvent(event: EventData, state: unknown) {
        tally.callbacks++;
        if (event.parent !== undefined && !tally.spans.has(event.parent)) tally.badParents++;
        if (event.parent !== undefined && state !== event.parent) tally.badParents++;
      },
      onEnter(id: number) {
        tally.callbacks++;
        if (!tally.spans.has(id)) tally.badCloses++;
      },
      onExit(id: number) {
        tally.callbacks++;
        if (!tally.spans.has(id)) tally.badCloses++;
      },
      onClose(id: number, state: unknown) {
        tally.callbacks++;
        if (!tally.spans.has(id) || state !== id) tally.badCloses++;
      },
    });
    let sawDroppedSpan = false;
    for (let round = 0; round < 30 && !sawDroppedSpan; round++) {
      const small: Tally = { callbacks: 0, spans: new Set(), badParents: 0, badCloses: 0 };
      const full: Tally = { callbacks: 0, spans: new Set(), badParents: 0, badCloses: 0 };
      const tracing = global([
        new api.JsLayerConfig(tallyLayer(small), { filter: "info", capacity: 3 }),
        new api.JsLayerConfig(tallyLayer(full), { filter: "info" }),
      ]).enter();
      example.runWorkers(4, 30);
      tracing.dispose();
      assert.equal(small.badParents, 0, "an id was named before its onNewSpan");
      assert.equal(small.badCloses, 0, "a span was entered, exited or closed unannounced");
      assert.equal(full.badParents + full.badCloses, 0);
      assert.ok(tracing.droppedRecords > 0, "the small queue dropped records");
      assert.equal(
        small.callbacks + tracing.droppedRecords,
        full.callbacks,
        "delivered + dropped = made",
      );
      sawDroppedSpan = small.spans.size < full.spans.size;
    }
    assert.ok(sawDroppedSpan, "no round dropped a span's creation");
  });

  test("event.metadata is a frozen object of the documented keys, not decoder state", () => {
    const seen: EventData[] = [];
    {
      using _tracing = global([
        new api.JsLayerConfig({
          onEvent(event: EventData) {
            seen.push(event);
            try {
              (event.metadata as { fieldNames?: unknown }).fieldNames = ["renamed", "x"];
            } catch {
              // frozen: writing throws in strict code
            }
          },
        }, { filter: "debug" }),
      ]).enter();
      example.fibonacci(3, true);
      example.fibonacci(3, true);
    }
    assert.ok(seen.length >= 4);
    for (const event of seen) {
      assert.deepEqual(Object.keys(event.metadata).sort(), [
        "file",
        "level",
        "line",
        "modulePath",
        "name",
        "target",
      ]);
      assert.ok(Object.isFrozen(event.metadata));
    }
    const steps = seen.filter((event) => event.message === "step");
    assert.ok(steps.length >= 2);
    for (const event of steps) assert.deepEqual(Object.keys(event.fields), ["step", "value"]);
  });

  // Before: 1 177 levels in Deno and 6 947 in Bun (a plain wrapper: ~13 000 and ~37 000).
  const depth = h.runtime === "deno" ? 2500 : 10000;
  test(`tracing.span nests ${depth} deep without overflowing the stack`, () => {
    let reached = 0;
    const tracing = new api.Tracing(
      new api.GlobalTracingConfig({
        layers: [new api.FmtLayerConfig({ writer: { file: `${h.tempDir()}/deep.log` } })],
      }),
      { library: paths.fibonacci },
    ).enter();
    try {
      const nest = (level: number): void => {
        reached = level;
        if (level < depth) tracing.span("deep", () => nest(level + 1));
      };
      nest(1);
    } finally {
      tracing.dispose();
    }
    assert.equal(reached, depth);
  });
}
