//! The JS span value decoder: the first byte is the field count, the rest the encoded values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracing_bridge::js_spans::values::{decode, with_decoded, with_values};

fuzz_target!(|data: &[u8]| {
    let Some((&count, bytes)) = data.split_first() else {
        return;
    };
    let count = usize::from(count);
    let decoded = decode(bytes, count);
    // Lends the values as `tracing` values, as a span or event would record them.
    let lent = with_decoded(bytes, count, |values| {
        with_values(values, |lent| {
            assert_eq!(lent.len(), values.len());
            format!("{values:?}")
        })
    });
    match (decoded, lent) {
        (Ok(a), Ok(b)) => assert_eq!(format!("{a:?}"), b),
        (Err(a), Err(b)) => assert_eq!(a.message(), b.message()),
        (a, b) => panic!("decode and with_decoded disagree: {a:?} vs {b:?}"),
    }
});
