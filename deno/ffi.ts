/**
 * The Deno side of the FFI port: `Deno.dlopen` over the shared symbol table, with the
 * `nonblocking` variants only Deno has, Deno's pointers and callbacks, and the runtime services.
 * @module
 */

import {
  type FfiPort,
  nativeLibrary,
  type Runtime,
  type SubscriberHandle,
} from "../bindings/native.ts";
import {
  abiProbeSymbols,
  type OffThreadFunctions,
  type SymbolFunctions,
  symbols as cSymbols,
} from "../bindings/symbols.ts";

/**
 * The C ABI as Deno opens it: the shared table, and the calls that may wait for a receiver or
 * render a file again as `nonblocking` (on Deno's blocking pool, returning a Promise).
 */
export const symbols = {
  ...cSymbols,
  tracing_bridge_subscriber_flush_with_message_nonblocking: {
    ...cSymbols.tracing_bridge_subscriber_flush_with_message,
    name: "tracing_bridge_subscriber_flush_with_message",
    nonblocking: true,
  },
  tracing_bridge_subscriber_shutdown_nonblocking: {
    ...cSymbols.tracing_bridge_subscriber_shutdown,
    name: "tracing_bridge_subscriber_shutdown",
    nonblocking: true,
  },
  tracing_bridge_flame_render_svg_nonblocking: {
    ...cSymbols.tracing_bridge_flame_render_svg,
    name: "tracing_bridge_flame_render_svg",
    nonblocking: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

const wakeDefinition = { parameters: ["u32", "u32"], result: "void" } as const;

/** A `void (*)(uint32_t layer_index, uint32_t direct_length)` backed by a Deno callback. */
class WakeCallback {
  readonly #callback: Deno.UnsafeCallback<typeof wakeDefinition>;

  constructor(fn: (index: number, length: number) => void) {
    this.#callback = new Deno.UnsafeCallback(wakeDefinition, fn);
  }

  get pointer(): Deno.PointerObject {
    return this.#callback.pointer;
  }

  close(): void {
    this.#callback.close();
  }
}

function openPort(path: string): FfiPort {
  const library = Deno.dlopen(path, symbols);
  // The shared code passes the runtime's own values through: handles are `Deno.PointerObject`s.
  const functions = library.symbols as unknown as
    & SymbolFunctions
    & {
      [Name in keyof OffThreadFunctions as `${Name}_nonblocking`]: OffThreadFunctions[Name];
    };
  return {
    functions,
    offThread: {
      tracing_bridge_subscriber_flush_with_message:
        functions.tracing_bridge_subscriber_flush_with_message_nonblocking,
      tracing_bridge_subscriber_shutdown: functions.tracing_bridge_subscriber_shutdown_nonblocking,
      tracing_bridge_flame_render_svg: functions.tracing_bridge_flame_render_svg_nonblocking,
    },
    handleAt: (address) => Deno.UnsafePointer.create(address) as SubscriberHandle | null,
    readCString: (pointer) => Deno.UnsafePointerView.getCString(pointer as Deno.PointerObject),
    close: () => library.close(),
  };
}

/** The Deno implementation of the runtime port. */
export const denoRuntime: Runtime = {
  name: "deno",
  version: Deno.version.deno,
  libraryFileName(stem) {
    switch (Deno.build.os) {
      case "darwin":
        return `lib${stem}.dylib`;
      case "windows":
        return `${stem}.dll`;
      default:
        return `lib${stem}.so`;
    }
  },
  pathFromUrl(url) {
    return decodeURIComponent(url.pathname);
  },
  canReadEnv(name) {
    return Deno.permissions.querySync({ name: "env", variable: name }).state === "granted";
  },
  readEnv(name) {
    // Ask first, so that a program run with --allow-ffi alone neither prompts nor throws.
    const status = Deno.permissions.querySync({ name: "env", variable: name });
    return status.state === "granted" ? Deno.env.get(name) : undefined;
  },
  openAbiProbe(path) {
    const library = Deno.dlopen(path, abiProbeSymbols);
    return {
      abiVersion: () => library.symbols.tracing_bridge_abi_version(),
      close: () => library.close(),
    };
  },
  open: (path) => nativeLibrary(openPort(path)),
  createWakeCallback: (fn) => new WakeCallback(fn),
  startUnrefTimer(fn, ms) {
    const timer = setInterval(fn, ms);
    Deno.unrefTimer(timer);
    return () => clearInterval(timer);
  },
  // Dispatched when the event loop runs empty and by `Deno.exit()`.
  onExit(fn) {
    globalThis.addEventListener("unload", () => fn());
  },
};
