//! The two helpers every C export goes through: panic catching and pointer checking.

use std::{
    any::Any,
    panic::{catch_unwind, AssertUnwindSafe},
};

use super::last_error::{clear_last_error, set_last_error};
use crate::error::{tracing_bridge_result, Error, ErrorKind};

/// Runs `body`, turning an error into its result code (and the last error message) and a
/// panic into `Panic`, so that neither unwinds into the host runtime.
pub(crate) fn guarded(body: impl FnOnce() -> Result<(), Error>) -> tracing_bridge_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            clear_last_error();
            tracing_bridge_result::Ok
        }
        Ok(Err(error)) => {
            let kind = error.kind();
            set_last_error(kind, error.message().to_owned());
            kind
        }
        Err(payload) => {
            set_last_error(
                tracing_bridge_result::Panic,
                format!(
                    "tracing-bridge panicked (a bug; please report it): {}",
                    panic_message(&*payload)
                ),
            );
            tracing_bridge_result::Panic
        }
    }
}

/// Like [`guarded`] for functions that cannot fail: a panic yields `fallback`.
pub(crate) fn guarded_or<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("unknown panic payload")
}

/// Borrows `pointer` mutably, or fails with an error naming `parameter`.
///
/// # Safety
/// A non-null `pointer` must point to a valid, exclusively borrowed `T`.
pub(crate) unsafe fn try_mut<'a, T>(pointer: *mut T, parameter: &str) -> Result<&'a mut T, Error> {
    pointer.as_mut().ok_or_else(|| null_parameter(parameter))
}

/// Borrows `pointer` shared, or fails with an error naming `parameter`. For calls that may run
/// on several threads at once (flush, shutdown).
///
/// # Safety
/// A non-null `pointer` must point to a valid `T` that nobody borrows mutably meanwhile.
pub(crate) unsafe fn try_ref<'a, T>(pointer: *const T, parameter: &str) -> Result<&'a T, Error> {
    pointer.as_ref().ok_or_else(|| null_parameter(parameter))
}

/// Borrows `len` bytes at `pointer`, or fails with an error naming `parameter`.
///
/// # Safety
/// A non-null `pointer` must point to `len` readable bytes.
pub(crate) unsafe fn try_slice<'a>(
    pointer: *const u8,
    len: usize,
    parameter: &str,
) -> Result<&'a [u8], Error> {
    if pointer.is_null() {
        return Err(null_parameter(parameter));
    }
    Ok(std::slice::from_raw_parts(pointer, len))
}

/// Reads `len` bytes at `pointer` as UTF-8, or fails with an error naming `parameter`.
///
/// # Safety
/// As for [`try_slice`].
pub(crate) unsafe fn try_str<'a>(
    pointer: *const u8,
    len: usize,
    parameter: &str,
) -> Result<&'a str, Error> {
    std::str::from_utf8(try_slice(pointer, len, parameter)?).map_err(|error| {
        Error::new(
            ErrorKind::InvalidUtf8,
            format!("{parameter} is not valid UTF-8: {error}"),
        )
    })
}

fn null_parameter(parameter: &str) -> Error {
    Error::new(
        ErrorKind::NullParameter,
        format!("{parameter} must not be null"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::last_error::last_error;

    #[test]
    fn a_panic_becomes_the_panic_code_with_a_message() {
        let result = guarded(|| panic!("boom"));
        assert_eq!(result, tracing_bridge_result::Panic);
        assert!(last_error().contains("boom"));
    }

    #[test]
    fn an_error_becomes_its_code_and_message() {
        let result = guarded(|| Err(Error::invalid_config("bad field")));
        assert_eq!(result, tracing_bridge_result::InvalidConfig);
        assert_eq!(last_error(), "bad field");
        assert_eq!(guarded(|| Ok(())), tracing_bridge_result::Ok);
        assert_eq!(last_error(), "");
    }

    #[test]
    fn a_panic_in_an_infallible_call_yields_the_fallback() {
        assert_eq!(guarded_or(7, || panic!("boom")), 7);
    }
}
