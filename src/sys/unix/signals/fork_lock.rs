//! A lock that a process created by fork(2) can take even if another
//! thread of its parent held it at the moment of the fork.
//!
//! A child starts with one thread, a copy of the one that forked; a lock
//! held by any other thread of the parent stays held in the child's copy
//! of memory forever (`std::sync::Mutex` would deadlock the child's first
//! `Signals::new`). This lock records the id of the *process* that holds
//! it: all threads of a process share it, so a holder whose process id is
//! not the caller's can only be a thread of a parent, which does not
//! exist here, and the caller takes the lock over.
//!
//! What the lock protected may then be half updated (the parent's thread
//! stopped in the middle); the users keep their updates to a few field
//! stores, so the worst case is a listener count or a slot that the child
//! never uses. Contention is rare (listeners are created and dropped
//! seldom), so a waiter yields its processor rather than sleeping on a
//! futex. Never used in a signal handler.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread;

/// The calling process's id: a raw system call on Linux (never a cached
/// value a fork could leave stale).
pub(crate) fn current_pid() -> i32 {
    rustix::process::getpid().as_raw_nonzero().get()
}

pub(crate) struct ForkLock<T> {
    /// The id of the process whose thread holds the lock, or 0.
    holder: AtomicI32,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through a guard, and one guard exists
// at a time per process (see `lock`); a process's memory is its own.
unsafe impl<T: Send> Sync for ForkLock<T> {}

impl<T> ForkLock<T> {
    pub(crate) const fn new(value: T) -> ForkLock<T> {
        ForkLock {
            holder: AtomicI32::new(0),
            value: UnsafeCell::new(value),
        }
    }

    pub(crate) fn lock(&self) -> ForkGuard<'_, T> {
        let me = current_pid();
        loop {
            match self
                .holder
                .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return ForkGuard { lock: self },
                // Held when this process was forked from its parent.
                Err(holder) if holder != me => {
                    if self
                        .holder
                        .compare_exchange(holder, me, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                    {
                        return ForkGuard { lock: self };
                    }
                }
                Err(_) => thread::yield_now(),
            }
        }
    }
}

pub(crate) struct ForkGuard<'a, T> {
    lock: &'a ForkLock<T>,
}

impl<T> Deref for ForkGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard is the only one of this process (see `lock`).
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for ForkGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for ForkGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.holder.store(0, Ordering::Release);
    }
}
