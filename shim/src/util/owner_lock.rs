//! A lock for data that one thread uses nearly all the time and other threads only now and
//! then: releasing it is a plain store, where `std::sync::Mutex` releases with an atomic swap
//! (which it needs to find parked waiters). On the owning thread's path that halves what a
//! lock costs; a thread that finds the lock taken spins, then yields, then naps until it is
//! free, which suits locks that are rarely contended and held briefly.

use std::{
    cell::UnsafeCell,
    ops::{Deref, DerefMut},
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

pub(crate) struct OwnerLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reached through a guard, and one guard exists at a time (the
// `locked` flag, taken with Acquire and released with Release, orders the accesses).
unsafe impl<T: Send> Send for OwnerLock<T> {}
// SAFETY: as above; sharing the lock hands the value from thread to thread, so `T: Send`.
unsafe impl<T: Send> Sync for OwnerLock<T> {}

impl<T> OwnerLock<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Locks, waiting as long as another thread holds the lock.
    pub(crate) fn lock(&self) -> OwnerLockGuard<'_, T> {
        if self
            .locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        OwnerLockGuard { lock: self }
    }

    #[cold]
    fn lock_contended(&self) {
        let mut attempts = 0u32;
        loop {
            if !self.locked.load(Ordering::Relaxed)
                && self
                    .locked
                    .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
            attempts = attempts.saturating_add(1);
            if attempts < 64 {
                std::hint::spin_loop();
            } else if attempts < 128 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(50));
            }
        }
    }
}

pub(crate) struct OwnerLockGuard<'a, T> {
    lock: &'a OwnerLock<T>,
}

impl<T> Deref for OwnerLockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for OwnerLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the lock, and is borrowed mutably.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for OwnerLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::OwnerLock;

    #[test]
    fn threads_taking_turns_lose_no_update() {
        let lock = Arc::new(OwnerLock::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = Arc::clone(&lock);
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        let mut value = lock.lock();
                        // A read and a write apart: a second holder would lose increments.
                        let read = *value;
                        std::hint::black_box(&read);
                        *value = read + 1;
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(*lock.lock(), 80_000);
    }

    #[test]
    fn a_guard_dropped_while_unwinding_releases_the_lock() {
        let lock = Arc::new(OwnerLock::new(1));
        let held = Arc::clone(&lock);
        let result = std::thread::spawn(move || {
            let _guard = held.lock();
            panic!("while holding the lock");
        })
        .join();
        assert!(result.is_err());
        assert_eq!(*lock.lock(), 1);
    }
}
