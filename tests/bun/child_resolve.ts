// Child process of the resolution tests: opens the library with no explicit path.
import { openLibrary } from "../../bun/mod.ts";

try {
  const library = openLibrary();
  console.log(`opened ${library.path} (tracing-bridge ${library.version})`);
} catch (error) {
  const { code, message } = error as { code: string; message: string };
  console.error(`${code}: ${message}`);
  process.exit(1);
}
