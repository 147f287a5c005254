//! The one error type of the crate, and the result codes it maps to at the C boundary.

use std::fmt;

/// Result of every fallible C function. `Ok` is the only success value; every other value
/// comes with a message, readable through `tracing_bridge_last_error_message`.
///
/// The values start at 7100 so that a result is never mistaken for a count or a boolean.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum tracing_bridge_result {
    /// The call succeeded.
    Ok = 7100,
    /// A pointer argument was null.
    NullParameter = 7101,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 7102,
    /// The configuration document is malformed or names an unknown option or value.
    InvalidConfig = 7103,
    /// A filter directive could not be parsed.
    InvalidFilter = 7104,
    /// An output file could not be opened for appending.
    FileNotWritable = 7105,
    /// A global subscriber of this library is already active; dispose it first.
    GlobalAlreadyActive = 7106,
    /// Some other code already set `tracing`'s global default dispatcher in this library.
    GlobalDefaultTaken = 7107,
    /// This subscriber handle is already installed.
    AlreadyInstalled = 7108,
    /// This subscriber handle is not installed.
    NotInstalled = 7109,
    /// A current-thread subscriber was uninstalled from a thread other than the one that installed it.
    WrongThread = 7110,
    /// The library panicked; the panic was caught and the call had no effect.
    Panic = 7111,
    /// The caller's buffer is too small; `out_written` holds the size needed.
    BufferTooSmall = 7112,
    /// An input file (such as folded stacks to render) could not be read.
    FileNotReadable = 7113,
    /// The folded stacks to render hold no stack: nothing was recorded.
    NoStacks = 7114,
    /// An argument is out of range or malformed (a span name, level, field value, traceparent).
    InvalidParameter = 7115,
    /// A span handle is unknown on this thread: the span was ended already, or made elsewhere.
    UnknownSpan = 7116,
    /// The call cannot run while this thread dispatches a span or event (from inside a
    /// callback the dispatch called); make it after the callback returns.
    Reentrant = 7117,
    /// The config asks for something (a layer kind, the OTLP gRPC protocol, flame graph
    /// rendering) that needs a cargo feature of tracing-bridge this library was built without.
    FeatureDisabled = 7118,
}

/// The result code is also the error kind in Rust.
pub type ErrorKind = tracing_bridge_result;

/// An error with a kind (the C result code) and a message that names the problem and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// Creates an error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The kind of error, which is also its C result code.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `FEATURE_DISABLED`: `what` (at `field`, e.g. `layers[0]`) needs the cargo `feature`.
    #[allow(dead_code)] // unused when every feature is on
    pub(crate) fn feature_disabled(field: &str, what: &str, feature: &str) -> Self {
        let at = if field.is_empty() {
            String::new()
        } else {
            format!("{field}: ")
        };
        Self::new(
            ErrorKind::FeatureDisabled,
            format!(
                "{at}{what} needs the cargo feature \"{feature}\" of tracing-bridge, which this \
                 library was built without; enable it in the library's Cargo.toml \
                 (`tracing-bridge = {{ ..., features = [\"{feature}\"] }}`)"
            ),
        )
    }

    pub(crate) fn invalid_config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidConfig, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
