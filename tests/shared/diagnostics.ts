/**
 * Diagnostics instead of silence, and no silent library: each case runs in a child process
 * (`tests/<runtime>/child_diagnostics.ts`, which calls {@link diagnosticsChild}) and its stderr
 * is checked.
 */
import { strict as assert } from "node:assert";
import type { Api, ChildResult, TestFn } from "./harness.ts";

/** The libraries a diagnostics child traces, opened by the runtime's own FFI. */
export interface DiagnosticsLibraries {
  fibonacciPath: string;
  myLibraryPath: string;
  fibonacci(index: number): void;
  mySum(count: number): void;
}

/**
 * The body of a diagnostics child: runs `mode`, then prints the diagnostics as JSON, the last
 * line of stdout.
 */
export function diagnosticsChild(api: Api, libraries: DiagnosticsLibraries, mode: string): void {
  const config = (filter: string) =>
    new api.GlobalTracingConfig({ layers: [new api.FmtLayerConfig({ writer: "stdout", filter })] });
  if (mode === "no-library") {
    try {
      new api.Tracing(config("info"));
      console.log("no error");
    } catch (error) {
      const { code, message } = error as { code: string; message: string };
      console.log(JSON.stringify({ code, message }));
    }
    return;
  }
  if (mode === "missing-target" || mode === "off") {
    // The template's crate is `my-library`; its target is `my_library`.
    const tracing = new api.Tracing(config("my-library=debug"), {
      library: libraries.myLibraryPath,
      ...(mode === "off" ? { diagnostics: false } : {}),
    }).enter();
    libraries.mySum(4);
    const live = tracing.diagnostics();
    tracing.dispose();
    console.log(JSON.stringify({ live, final: tracing.diagnostics() }));
    return;
  }
  const filter = mode === "js-dropped" ? "fibonacci=info" : "fibonacci=info,js=info";
  const tracing = new api.Tracing(config(filter), { library: libraries.fibonacciPath }).enter();
  tracing.span("request", () => libraries.fibonacci(5));
  tracing.dispose();
  console.log(JSON.stringify({ final: tracing.diagnostics() }));
}

// deno-lint-ignore no-explicit-any
function lastLine(result: ChildResult): any {
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").at(-1)!);
}

export function defineDiagnosticsScenarios(
  test: TestFn,
  run: (mode: string) => ChildResult,
): void {
  test("a filter naming a target the library lacks says so at dispose, with the hyphen hint", () => {
    const result = run("missing-target");
    const { live, final } = lastLine(result);
    assert.match(
      result.stderr,
      /layers\[0\] \(fmt\) received nothing, although the library recorded spans or events/,
    );
    assert.match(
      result.stderr,
      /its filter names the target `my-library`, which no callsite of the library has; did you mean `my_library`\?/,
    );
    assert.match(result.stderr, /the library's targets: my_library\n/);
    assert.match(result.stderr, /diagnostics: false/);
    // Once: not repeated by the exit hook.
    assert.equal(result.stderr.split("received nothing").length, 2, result.stderr);
    assert.deepEqual(live.layers, [{
      index: 0,
      kind: "fmt",
      received: false,
      missingTargets: [{ target: "my-library", didYouMean: "my_library" }],
    }]);
    assert.deepEqual(final.libraryTargets, ["my_library"]);
    assert.match(final.message, /did you mean `my_library`/);
  });

  test("a JavaScript span every filter dropped names js=info as the fix", () => {
    const result = run("js-dropped");
    const { final } = lastLine(result);
    assert.match(
      result.stderr,
      /1 JavaScript span was dropped by every filter: `request` \(target `js`, INFO\).*Add `js=info` to the filter\./s,
    );
    assert.doesNotMatch(result.stderr, /received nothing/);
    assert.deepEqual(final.droppedJsSpans, {
      count: 1,
      spans: [{ name: "request", target: "js", level: "INFO", fix: "js=info" }],
    });
  });

  test("filters that match print nothing extra", () => {
    const result = run("matching");
    const { final } = lastLine(result);
    assert.equal(result.stderr, "");
    assert.equal(final.message, "");
    assert.equal(final.layers[0].received, true);
    assert.deepEqual(final.droppedJsSpans, { count: 0, spans: [] });
    assert.match(result.stdout, /fibonacci/);
  });

  test("diagnostics: false prints nothing; diagnostics() still explains", () => {
    const result = run("off");
    const { final } = lastLine(result);
    assert.equal(result.stderr, "");
    assert.match(final.message, /did you mean `my_library`/);
  });

  test("no library and no TRACING_BRIDGE_LIB is LIBRARY_NOT_GIVEN, naming the fix", () => {
    const { code, message } = lastLine(run("no-library"));
    assert.equal(code, "LIBRARY_NOT_GIVEN");
    assert.match(message, /^no tracing-bridge library was given\. Tried:\n/);
    assert.match(message, /1\. the path argument: none given\n/);
    assert.match(message, /2\. \$TRACING_BRIDGE_LIB: not set\n/);
    assert.match(message, /\{ library: "\.\/target\/release\/libmy_library\.so" \}/);
    assert.doesNotMatch(message, /cargo build/);
  });
}
