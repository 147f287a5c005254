/**
 * The Bun side of the FFI port: `bun:ffi` over the shared symbol table (mapped by
 * `bunSymbols`), Bun's pointers and callbacks, and the runtime services. Bun has no
 * asynchronous FFI calls: flush and dispose run on the JavaScript thread.
 * @module
 */

import { CString, dlopen, JSCallback, type Pointer, suffix } from "bun:ffi";
import { fileURLToPath } from "node:url";
import { nativeLibrary, type Runtime, type SubscriberHandle } from "../bindings/native.ts";
import {
  abiProbeSymbols,
  bunSymbols,
  type SymbolFunctions,
  symbols as cSymbols,
} from "../bindings/symbols.ts";

/** The C ABI as Bun opens it. */
export const symbols = bunSymbols(cSymbols);

/** A `void (*)(uint32_t layer_index, uint32_t direct_length)` backed by a same-thread callback. */
class WakeCallback {
  readonly #callback: JSCallback;

  constructor(fn: (index: number, length: number) => void) {
    this.#callback = new JSCallback(fn, { args: ["u32", "u32"], returns: "void" });
  }

  get pointer(): Pointer {
    return this.#callback.ptr as Pointer;
  }

  close(): void {
    this.#callback.close();
  }
}

/** The Bun implementation of the runtime port. */
export const bunRuntime: Runtime = {
  name: "bun",
  version: Bun.version,
  libraryFileName(stem) {
    return process.platform === "win32" ? `${stem}.${suffix}` : `lib${stem}.${suffix}`;
  },
  pathFromUrl(url) {
    return fileURLToPath(url);
  },
  canReadEnv() {
    return true;
  },
  readEnv(name) {
    return process.env[name];
  },
  openAbiProbe(path) {
    const library = dlopen(path, bunSymbols(abiProbeSymbols));
    return {
      abiVersion: () => library.symbols.tracing_bridge_abi_version() as number,
      close: () => library.close(),
    };
  },
  open(path) {
    const library = dlopen(path, symbols);
    return nativeLibrary({
      // The shared code passes the runtime's own values through: handles are addresses.
      functions: library.symbols as unknown as SymbolFunctions,
      handleAt: (address) => address === 0n ? null : Number(address) as unknown as SubscriberHandle,
      readCString: (pointer) => new CString(pointer as Pointer).toString(),
      close: () => library.close(),
    });
  },
  createWakeCallback: (fn) => new WakeCallback(fn),
  startUnrefTimer(fn, ms) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
  // Emitted when the event loop runs empty and by `process.exit()`; listeners run synchronously.
  onExit(fn) {
    process.on("exit", () => fn());
  },
};
