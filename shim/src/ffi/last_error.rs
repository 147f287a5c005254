//! The result and message of the last failed call, kept per thread.

use std::cell::{Cell, RefCell};

use crate::error::tracing_bridge_result;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
    static LAST_RESULT: Cell<tracing_bridge_result> = const { Cell::new(tracing_bridge_result::Ok) };
}

pub(crate) fn set_last_error(result: tracing_bridge_result, message: String) {
    LAST_RESULT.with(|last| last.set(result));
    LAST_ERROR.with(|last| *last.borrow_mut() = message);
}

pub(crate) fn clear_last_error() {
    LAST_RESULT.with(|last| last.set(tracing_bridge_result::Ok));
    LAST_ERROR.with(|last| last.borrow_mut().clear());
}

pub(crate) fn last_error() -> String {
    LAST_ERROR.with(|last| last.borrow().clone())
}

pub(crate) fn last_result() -> tracing_bridge_result {
    LAST_RESULT.with(Cell::get)
}
