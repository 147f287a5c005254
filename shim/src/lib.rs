//! # tracing-bridge
//!
//! A `tracing` subscriber for native libraries loaded into Deno or Bun. A library links this
//! crate; its C ABI (see [`ffi`]) lets JavaScript configure layers, each with its own filter,
//! and install them globally or for the calling thread. The layer kinds ([`layers`]):
//!
//! - `fmt`: human-readable or JSON lines to stdout, stderr or a file ([`layers::fmt`]);
//! - `js`: spans and events delivered to a JavaScript `Layer` object ([`layers::js`]);
//! - `timeline`: a Trace Event Format file for Perfetto ([`layers::timeline`]);
//! - `flame`: folded stacks for flame graphs ([`layers::flame`], rendered by [`flame_graph`]);
//! - `otlp`: OpenTelemetry spans to an OTLP receiver over gRPC or HTTP;
//! - `otlpJson`: OpenTelemetry spans as OTLP JSON lines (both: `docs/opentelemetry.md`).
//!
//! JavaScript can also make spans and events of its own in the library ([`js_spans`]).
//!
//! To embed it in your own `cdylib`, depend on this crate and name it once, e.g.
//! `use tracing_bridge as _;`: a dependency that the code never names is not linked, and its
//! C functions would then be missing from your library (see `examples/template`).
//!
//! Rust code can use the same machinery directly:
//!
//! ```
//! let mut session = tracing_bridge::Session::from_json(
//!     r#"{"layers":[{"kind":"fmt","writer":"stderr","filter":"debug"}]}"#,
//! )?;
//! session.install_current_thread()?;
//! tracing::info!("recorded by the fmt layer");
//! session.uninstall()?;
//! # Ok::<(), tracing_bridge::Error>(())
//! ```
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

/// Every note the shim prints goes to stderr through this, not `std::eprintln!`, which panics
/// when stderr cannot be written (a full disk behind a redirect, say): a note that cannot be
/// printed is lost, and the thread printing it (a writer thread, a traced thread) goes on.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod config;
pub mod diagnostics;
pub mod dispatch;
mod error;
pub mod ffi;
mod filter;
#[cfg(feature = "flame")]
pub mod flame_graph;
pub mod js_spans;
pub mod layers;
mod log_bridge;
mod options;
mod session;
mod util;

pub use config::Config;
pub use dispatch::{BaseLayer, BaseSubscriber, MAX_LAYERS};
pub use error::{tracing_bridge_result, Error, ErrorKind};
pub use session::Session;
