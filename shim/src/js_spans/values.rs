//! Field values as JavaScript encodes them: for each field of the callsite, in order, one tag
//! byte and its payload (little-endian):
//!
//! | tag | value | payload |
//! |---|---|---|
//! | 0 | absent (the field is not recorded) | none |
//! | 1 | string | `u32` byte length, UTF-8 bytes |
//! | 2 | number (`f64`) | 8 bytes |
//! | 3 | integer (`i64`, from a safe integer or a bigint) | 8 bytes |
//! | 4 | boolean | 1 byte, 0 or 1 |
//! | 5 | unsigned integer (`u64`, a bigint above `i64::MAX`) | 8 bytes |
//!
//! A tag-5 value that fits an `i64` is decoded as one (the bindings never send such a value
//! with tag 5): JavaScript's integers reach the layers as `i64`, and the OpenTelemetry layer
//! need not look for unsigned ones to turn into integers (`layers::otel::integers`).

use tracing::field::Value;

use crate::error::{Error, ErrorKind};

/// One decoded value, borrowing strings from the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// Not recorded.
    Absent,
    /// A string.
    Str(&'a str),
    /// A floating-point number.
    F64(f64),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A boolean.
    Bool(bool),
}

/// How many values a callsite has at most (its fields plus `message` or `otel.name`); up to
/// this many are decoded and lent on the stack, more (not made by the bindings) on the heap.
const INLINE: usize = super::callsites::MAX_FIELDS + 1;

/// Up to this many values are decoded and lent in arrays of this size.
const SMALL: usize = 4;

/// Decodes exactly `count` values from `bytes` and runs `f` with them, without allocating.
pub fn with_decoded<R>(
    bytes: &[u8],
    count: usize,
    f: impl FnOnce(&[FieldValue<'_>]) -> R,
) -> Result<R, Error> {
    /// Decodes into an array of `N` on the stack (`count <= N`).
    fn on_stack<const N: usize, R>(
        bytes: &[u8],
        count: usize,
        f: impl FnOnce(&[FieldValue<'_>]) -> R,
    ) -> Result<R, Error> {
        let mut values = [FieldValue::Absent; N];
        decode_into(bytes, &mut values[..count])?;
        Ok(f(&values[..count]))
    }
    // Most spans have a few fields: a small array is cheaper to fill than one of `INLINE`.
    if count <= SMALL {
        on_stack::<SMALL, R>(bytes, count, f)
    } else if count <= INLINE {
        on_stack::<INLINE, R>(bytes, count, f)
    } else {
        Ok(f(&decode(bytes, count)?))
    }
}

/// Decodes exactly `count` values from `bytes`.
pub fn decode(bytes: &[u8], count: usize) -> Result<Vec<FieldValue<'_>>, Error> {
    let mut values = vec![FieldValue::Absent; count];
    decode_into(bytes, &mut values)?;
    Ok(values)
}

/// Decodes exactly `values.len()` values from `bytes` into `values`.
fn decode_into<'a>(bytes: &'a [u8], values: &mut [FieldValue<'a>]) -> Result<(), Error> {
    let count = values.len();
    let mut rest = bytes;
    for (index, slot) in values.iter_mut().enumerate() {
        let (&tag, tail) = rest
            .split_first()
            .ok_or_else(|| malformed(index, "the values end before this field"))?;
        rest = tail;
        let value = match tag {
            0 => FieldValue::Absent,
            1 => {
                let length = u32::from_le_bytes(take::<4>(&mut rest, index)?) as usize;
                if rest.len() < length {
                    return Err(malformed(index, "string length exceeds the values"));
                }
                let (text, tail) = rest.split_at(length);
                rest = tail;
                FieldValue::Str(
                    std::str::from_utf8(text)
                        .map_err(|_| malformed(index, "string is not valid UTF-8"))?,
                )
            }
            2 => FieldValue::F64(f64::from_le_bytes(take::<8>(&mut rest, index)?)),
            3 => FieldValue::I64(i64::from_le_bytes(take::<8>(&mut rest, index)?)),
            4 => FieldValue::Bool(take::<1>(&mut rest, index)?[0] != 0),
            5 => {
                let number = u64::from_le_bytes(take::<8>(&mut rest, index)?);
                match i64::try_from(number) {
                    Ok(signed) => FieldValue::I64(signed),
                    Err(_) => FieldValue::U64(number),
                }
            }
            other => return Err(malformed(index, &format!("unknown value tag {other}"))),
        };
        *slot = value;
    }
    if !rest.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!(
                "values: {} bytes left after the {count} field(s) of the callsite",
                rest.len()
            ),
        ));
    }
    Ok(())
}

fn take<const N: usize>(rest: &mut &[u8], index: usize) -> Result<[u8; N], Error> {
    if rest.len() < N {
        return Err(malformed(index, "the values end inside this field"));
    }
    let (head, tail) = rest.split_at(N);
    *rest = tail;
    Ok(head.try_into().expect("length checked"))
}

fn malformed(index: usize, what: &str) -> Error {
    Error::new(
        ErrorKind::InvalidParameter,
        format!("values: field {index}: {what}"),
    )
}

/// Lends `values` as `tracing` values, in field order (on the stack, for up to `INLINE`).
pub fn with_values<R>(values: &[FieldValue<'_>], f: impl FnOnce(&[Option<&dyn Value>]) -> R) -> R {
    fn lend<'v>(value: &'v FieldValue<'_>) -> Option<&'v dyn Value> {
        match value {
            FieldValue::Absent => None,
            FieldValue::Str(text) => Some(text),
            FieldValue::F64(number) => Some(number),
            FieldValue::I64(number) => Some(number),
            FieldValue::U64(number) => Some(number),
            FieldValue::Bool(flag) => Some(flag),
        }
    }
    /// Lends in an array of `N` on the stack (`values.len() <= N`).
    fn on_stack<const N: usize, R>(
        values: &[FieldValue<'_>],
        f: impl FnOnce(&[Option<&dyn Value>]) -> R,
    ) -> R {
        let mut lent: [Option<&dyn Value>; N] = [None; N];
        for (slot, value) in lent.iter_mut().zip(values) {
            *slot = lend(value);
        }
        f(&lent[..values.len()])
    }
    if values.len() <= SMALL {
        on_stack::<SMALL, R>(values, f)
    } else if values.len() <= INLINE {
        on_stack::<INLINE, R>(values, f)
    } else {
        let lent: Vec<Option<&dyn Value>> = values.iter().map(lend).collect();
        f(&lent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tag_round_trips() {
        let mut bytes = vec![0, 1, 2, 0, 0, 0, b'h', b'i', 2];
        bytes.extend(1.5f64.to_le_bytes());
        bytes.push(3);
        bytes.extend((-7i64).to_le_bytes());
        bytes.extend([4, 1, 5]);
        bytes.extend(u64::MAX.to_le_bytes());
        let values = decode(&bytes, 6).unwrap();
        assert_eq!(
            values,
            [
                FieldValue::Absent,
                FieldValue::Str("hi"),
                FieldValue::F64(1.5),
                FieldValue::I64(-7),
                FieldValue::Bool(true),
                FieldValue::U64(u64::MAX),
            ]
        );
    }

    #[test]
    fn an_unsigned_value_that_fits_an_i64_is_one() {
        let mut bytes = vec![5];
        bytes.extend(7u64.to_le_bytes());
        bytes.push(5);
        bytes.extend((i64::MAX as u64).to_le_bytes());
        bytes.push(5);
        bytes.extend((i64::MAX as u64 + 1).to_le_bytes());
        assert_eq!(
            decode(&bytes, 3).unwrap(),
            [
                FieldValue::I64(7),
                FieldValue::I64(i64::MAX),
                FieldValue::U64(i64::MAX as u64 + 1),
            ]
        );
    }

    #[test]
    fn malformed_values_name_the_field() {
        assert!(decode(&[1, 9, 0, 0, 0, b'a'], 1)
            .unwrap_err()
            .message()
            .contains("field 0"));
        assert!(decode(&[9], 1).unwrap_err().message().contains("tag 9"));
        assert!(decode(&[0, 0], 1).unwrap_err().message().contains("left"));
        assert!(decode(&[], 1).unwrap_err().message().contains("end"));
        assert!(decode(&[1, 1, 0, 0, 0, 0xff], 1)
            .unwrap_err()
            .message()
            .contains("UTF-8"));
    }
}
