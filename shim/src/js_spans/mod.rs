//! Spans and events that JavaScript creates: real `tracing` spans and events, recorded by the
//! dispatcher that is current on the JavaScript thread, so every configured layer (fmt, OTLP,
//! JS layers) sees them, and native spans created while one is entered become its children.
//!
//! - [`callsites`]: names, targets, levels and field names, interned into leaked, registered
//!   callsites (bounded; past the bound a shared fallback callsite carries the real name).
//! - [`values`]: the compact encoding of field values.
//! - [`spans`]: per-thread span handles; create, enter, exit, end, events.
//! - `detached`: spans that only an OpenTelemetry layer records, made without the registry.
//! - [`trace_context`]: W3C `traceparent`/`tracestate` through the OpenTelemetry layers.
//!
//! ```
//! use tracing_bridge::js_spans::{callsites::{Callsites, CallsiteKind}, spans};
//! let mut session = tracing_bridge::Session::from_json(r#"{"layers":[{"kind":"fmt"}]}"#)?;
//! session.install_current_thread()?;
//! let callsite = Callsites::global()
//!     .intern(CallsiteKind::Span, tracing::Level::INFO, "request", "app", &["id"])?;
//! let mut values = vec![3u8]; // field 0: an i64
//! values.extend(42i64.to_le_bytes());
//! let span = spans::create(callsite, spans::PARENT_CURRENT, &values)?;
//! spans::enter(span)?;
//! tracing::info!("inside request");
//! spans::end(span)?;
//! session.uninstall()?;
//! # Ok::<(), tracing_bridge::Error>(())
//! ```

pub mod callsites;
#[cfg(feature = "otlp")]
pub(crate) mod detached;
pub mod spans;
pub mod trace_context;
pub mod values;
