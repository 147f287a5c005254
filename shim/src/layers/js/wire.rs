//! The byte format in which JS-layer records cross to JavaScript (decoded by
//! `bindings/js_dispatch.ts`). Little-endian throughout.
//!
//! ```text
//! record   := u32 length-of-rest, u8 kind, payload
//! CALLSITE := u32 id, u8 level, u8 is_span, str name, str target, ostr module_path,
//!             ostr file, u32 line (u32::MAX = none), u8 n, str field_name × n
//! THREAD   := u32 id, ostr name
//! NEW_SPAN := u32 callsite, f64 span, f64 parent (0 = none), u32 thread, f64 timestamp, fields
//! EVENT    := u32 callsite, f64 parent (0 = none), u32 thread, f64 timestamp, fields
//! RECORD   := u32 callsite, f64 span, fields
//! FOLLOWS  := f64 span, f64 follows
//! ENTER | EXIT | CLOSE := f64 span
//! fields   := u8 n, (u8 field_index, value) × n
//! value    := STR str | SAME (the last string sent for this callsite field) | NUMBER f64
//!           | I64 i64 | U64 u64 | TRUE | FALSE | BIGINT str (decimal) | BYTES u32 len, bytes
//! str      := u32 len, UTF-8 bytes;   ostr := str, or u32::MAX for none
//! ```
//! Span ids are small integers assigned by the layer, never reused; timestamps are
//! milliseconds since the Unix epoch.

pub(crate) const KIND_CALLSITE: u8 = 1;
pub(crate) const KIND_THREAD: u8 = 2;
pub(crate) const KIND_NEW_SPAN: u8 = 10;
pub(crate) const KIND_EVENT: u8 = 11;
pub(crate) const KIND_RECORD: u8 = 12;
pub(crate) const KIND_FOLLOWS: u8 = 13;
pub(crate) const KIND_ENTER: u8 = 14;
pub(crate) const KIND_EXIT: u8 = 15;
pub(crate) const KIND_CLOSE: u8 = 16;

pub(crate) const VALUE_STR: u8 = 0;
pub(crate) const VALUE_SAME: u8 = 1;
pub(crate) const VALUE_NUMBER: u8 = 2;
pub(crate) const VALUE_I64: u8 = 3;
pub(crate) const VALUE_U64: u8 = 4;
pub(crate) const VALUE_TRUE: u8 = 5;
pub(crate) const VALUE_FALSE: u8 = 6;
pub(crate) const VALUE_BIGINT: u8 = 7;
pub(crate) const VALUE_BYTES: u8 = 8;

pub(crate) const NONE_U32: u32 = u32::MAX;

/// The largest integer a JavaScript number holds exactly.
pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Appends little-endian values to a byte buffer.
pub(crate) trait WireWrite {
    fn put_u8(&mut self, value: u8);
    fn put_u32(&mut self, value: u32);
    fn put_f64(&mut self, value: f64);
    fn put_bytes(&mut self, value: &[u8]);
    fn put_str(&mut self, value: &str) {
        self.put_u32(u32::try_from(value.len()).unwrap_or(u32::MAX - 1));
        self.put_bytes(&value.as_bytes()[..value.len().min(u32::MAX as usize - 1)]);
    }
    fn put_optional_str(&mut self, value: Option<&str>) {
        match value {
            Some(value) => self.put_str(value),
            None => self.put_u32(NONE_U32),
        }
    }
}

impl WireWrite for Vec<u8> {
    fn put_u8(&mut self, value: u8) {
        self.push(value);
    }
    fn put_u32(&mut self, value: u32) {
        self.extend_from_slice(&value.to_le_bytes());
    }
    fn put_f64(&mut self, value: f64) {
        self.extend_from_slice(&value.to_le_bytes());
    }
    fn put_bytes(&mut self, value: &[u8]) {
        self.extend_from_slice(value);
    }
}

/// The wire code of a level: 0 = TRACE … 4 = ERROR.
pub(crate) fn level_code(level: &tracing::Level) -> u8 {
    match *level {
        tracing::Level::TRACE => 0,
        tracing::Level::DEBUG => 1,
        tracing::Level::INFO => 2,
        tracing::Level::WARN => 3,
        tracing::Level::ERROR => 4,
    }
}
