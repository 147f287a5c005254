// Your own library in Deno: its functions through Deno.dlopen, its tracing through
// tracing-bridge. Run (see README.md): deno run --allow-ffi --allow-env --allow-read deno.ts
// [path/to/libmy_library.so], after cargo build --release.
//
// The bindings come from $TRACING_BRIDGE_BINDINGS (the root of a tracing-bridge checkout or
// its URL), else from this repository (../../). Once published, import
// "jsr:@tracing-bridge/tracing-bridge" statically instead.
const bindingsRoot = Deno.env.get("TRACING_BRIDGE_BINDINGS");
const bindings = new URL(
  "deno/mod.ts",
  bindingsRoot
    ? new URL(bindingsRoot.replace(/\/?$/, "/"), `file://${Deno.cwd()}/`)
    : new URL("../../", import.meta.url),
);
const { FmtLayerConfig, GlobalTracingConfig, Tracing } = await import(
  bindings.href
) as typeof import("../../deno/mod.ts");

// The library: the argument, else the first build found: ./target (a copy of this folder),
// $CARGO_TARGET_DIR, this repository's target (../../target).
const file = "release/libmy_library.so";
const candidates = [
  new URL(`target/${file}`, import.meta.url).pathname,
  ...(Deno.env.get("CARGO_TARGET_DIR") ? [`${Deno.env.get("CARGO_TARGET_DIR")}/${file}`] : []),
  new URL(`../../target/${file}`, import.meta.url).pathname,
];
const exists = (path: string) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
};
const libraryPath = Deno.args[0] ?? candidates.find(exists) ?? candidates[0]!;

// Your functions. The bindings open the same path for the tracing_bridge_* functions: both
// handles share one loaded library.
const myLibrary = Deno.dlopen(libraryPath, {
  my_library_sum: { parameters: ["u32"], result: "u64" },
});

{
  using _tracing = new Tracing(
    new GlobalTracingConfig({
      layers: [new FmtLayerConfig({ format: "compact", filter: "my_library=debug" })],
    }),
    { library: libraryPath },
  ).enter();
  console.log(`[deno] my_library_sum(4) = ${myLibrary.symbols.my_library_sum(4)}`);
} // disposed here: flushed and uninstalled

myLibrary.close();
