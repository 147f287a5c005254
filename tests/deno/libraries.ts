// The libraries the Deno tests load: the example library and the loader fixtures.
const release = (name: string) =>
  new URL(`../../target/release/lib${name}.so`, import.meta.url).pathname;

/** Release builds of the example library and the two loader fixtures. */
export const paths = {
  fibonacci: release("fibonacci"),
  wrongAbi: release("wrong_abi"),
  notABridge: release("not_a_bridge"),
};
