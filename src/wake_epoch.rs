//! Wake de-duplication, done once for every backend: a `Waker` skips the
//! system call when a wake it made is still on its way to `poll`.
//!
//! `Poll::poll` counts the batches of events it hands to the application
//! (the epoch). A waker remembers the epoch of its last system wake. While
//! the epoch has not moved on, the event of that wake has not been handed
//! over yet: it is queued in the OS, or in the batch `poll` is collecting.
//! A new wake would only coalesce with it, so it returns at once. A wake
//! that comes after `poll` returned sees a new epoch and wakes for real.
//!
//! The cost on the polling side is one atomic increment per `poll` that
//! returns events, paid only once a waker relies on it; until then `poll`
//! reads one flag that lives in the `Poll` itself. Wakers made from a clone
//! of the registry cannot set that flag and always make the system call.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// A registry's part in wake de-duplication.
#[derive(Debug)]
pub(crate) struct WakeDedup {
    epoch: Arc<AtomicU64>,
    /// Set once a waker relies on the epoch.
    relied_on: AtomicBool,
    /// True for the registry inside the `Poll`, the one whose `poll`
    /// counts epochs.
    polled: bool,
}

impl WakeDedup {
    /// The part of the registry inside a new `Poll`.
    pub(crate) fn new() -> WakeDedup {
        WakeDedup {
            epoch: Arc::default(),
            relied_on: AtomicBool::new(false),
            polled: true,
        }
    }

    /// The part of a cloned registry, which is never polled.
    pub(crate) fn for_clone(&self) -> WakeDedup {
        WakeDedup {
            epoch: Arc::clone(&self.epoch),
            relied_on: AtomicBool::new(false),
            polled: false,
        }
    }

    /// Called by `poll` when it returns events.
    #[inline]
    pub(crate) fn events_returned(&self) {
        if self.relied_on.load(Ordering::Acquire) {
            self.epoch.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// The gate for a new waker made from this registry.
    pub(crate) fn gate(&self) -> WakeGate {
        if !self.polled {
            return WakeGate::Always;
        }
        // Before the waker exists: its first wake makes the system call,
        // and the `poll` that returns that event sees the flag.
        self.relied_on.store(true, Ordering::Release);
        WakeGate::Epoch {
            epoch: Arc::clone(&self.epoch),
            last: AtomicU64::new(NEVER),
        }
    }
}

/// A waker's record of its last system wake.
#[derive(Debug)]
pub(crate) enum WakeGate {
    /// Every wake makes the system call.
    Always,
    /// A wake is skipped while `last`, the epoch of the last system wake,
    /// is still current.
    Epoch {
        epoch: Arc<AtomicU64>,
        last: AtomicU64,
    },
}

/// No epoch: the next wake makes the system call.
const NEVER: u64 = u64::MAX;

impl WakeGate {
    /// Runs `wake`, the system call, unless a wake of this epoch already
    /// did.
    pub(crate) fn wake_with(&self, wake: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
        let WakeGate::Epoch { epoch, last } = self else {
            return wake();
        };
        let now = epoch.load(Ordering::SeqCst);
        if last.swap(now, Ordering::SeqCst) == now {
            return Ok(());
        }
        wake().inspect_err(|_| last.store(NEVER, Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn counting(calls: &Cell<u32>) -> impl Fn() -> io::Result<()> + '_ {
        move || {
            calls.set(calls.get() + 1);
            Ok(())
        }
    }

    #[test]
    fn one_system_wake_per_epoch() {
        let dedup = WakeDedup::new();
        let gate = dedup.gate();
        let calls = Cell::new(0);
        gate.wake_with(counting(&calls)).unwrap();
        gate.wake_with(counting(&calls)).unwrap();
        assert_eq!(calls.get(), 1);
        dedup.events_returned();
        gate.wake_with(counting(&calls)).unwrap();
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn wakers_of_a_clone_always_wake() {
        let dedup = WakeDedup::new();
        let gate = dedup.for_clone().gate();
        let calls = Cell::new(0);
        gate.wake_with(counting(&calls)).unwrap();
        gate.wake_with(counting(&calls)).unwrap();
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn a_failed_wake_is_retried() {
        let dedup = WakeDedup::new();
        let gate = dedup.gate();
        assert!(gate
            .wake_with(|| Err(io::Error::from(io::ErrorKind::Other)))
            .is_err());
        let calls = Cell::new(0);
        gate.wake_with(counting(&calls)).unwrap();
        assert_eq!(calls.get(), 1);
    }
}
