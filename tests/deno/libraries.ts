// The libraries the Deno tests load: the example library and the loader fixtures.
const release = (name: string) =>
  new URL(`../../target/release/lib${name}.so`, import.meta.url).pathname;

/** Release builds of the example library and the two loader fixtures. */
export const paths = {
  fibonacci: release("fibonacci"),
  wrongAbi: release("wrong_abi"),
  notABridge: release("not_a_bridge"),
};

const fibonacciLibrary = Deno.dlopen(paths.fibonacci, {
  fibonacci: { parameters: ["u32", "bool"], result: "u64" },
  run_workers: { parameters: ["u32", "u32"], result: "u64" },
});

/** The example library's two basic functions, as the shared scenarios call them. */
export const basicExample = {
  fibonacci: (index: number, memoized: boolean) =>
    fibonacciLibrary.symbols.fibonacci(index, memoized),
  runWorkers: (threads: number, events: number) =>
    fibonacciLibrary.symbols.run_workers(threads, events),
};

/** A new empty directory. */
export const tempDir = () => Deno.makeTempDirSync({ prefix: "tracing-bridge-" });
