// The libraries the Bun tests load: the example library and the loader fixtures.
import { fileURLToPath } from "node:url";

const release = (name: string) =>
  fileURLToPath(new URL(`../../target/release/lib${name}.so`, import.meta.url));

/** Release builds of the example library and the two loader fixtures. */
export const paths = {
  fibonacci: release("fibonacci"),
  wrongAbi: release("wrong_abi"),
  notABridge: release("not_a_bridge"),
};
