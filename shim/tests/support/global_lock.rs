//! One global config at a time: tests of one file that install a global config hold this lock
//! (a process has one global dispatcher, and each test file is one process).

use std::sync::{Mutex, MutexGuard, PoisonError};

static GLOBAL: Mutex<()> = Mutex::new(());

/// Waits for the other tests of this file that install a global config.
pub fn global_lock() -> MutexGuard<'static, ()> {
    GLOBAL.lock().unwrap_or_else(PoisonError::into_inner)
}
