//! Wake de-duplication, done once for every backend: a `Waker` skips the
//! system call while a wake it made is still on its way to `poll`.
//!
//! # The protocol
//!
//! Each waker owns a word of state, shared with the `Poll` it wakes: a
//! status (idle, waking, pending) and a count of system wakes that tells
//! one system wake from the next.
//!
//! - `wake` on an idle waker marks it waking, makes the system call, then
//!   marks it pending (unless `poll` has already taken the event: see
//!   below). If the call fails the waker goes back to idle and the error
//!   is returned, so the next wake tries again.
//! - `wake` on a pending waker skips the system call, but still writes the
//!   word (a read-modify-write with `Release`): `poll` reads it with
//!   `Acquire` when it takes the event, so everything the waking thread
//!   did before `wake` happens before `poll` returns, as it would through
//!   the system call.
//! - `wake` on a waker that is waking (another thread's system call is in
//!   flight and may yet fail) makes its own system call: only a finished,
//!   successful call may be relied on.
//! - `poll`, when it returns an event with a waker's token, sets that
//!   waker back to idle (with `Acquire`). A waker whose event is returned
//!   is always cleared, and after its system call, which happened before
//!   `poll` saw the event. Clearing one whose event is still queued (a
//!   source shares its token) costs one more system call, never a lost
//!   wake.
//!
//! The count in the word keeps a waker that finishes its system call
//! after `poll` cleared it from marking a later thread's wake as pending.
//!
//! # Cost
//!
//! Nothing is shared between wakers, and `poll` touches a waker's word
//! only when it returns that waker's event, with one read-modify-write.
//! A storm of wakes writes one cache line owned by the waking thread. The list of
//! wakers `poll` looks at is a copy it refreshes only when a waker is
//! created or dropped.
//!
//! The protocol is model-checked with loom over every interleaving of
//! wakes, failed wakes and `poll` (`RUSTFLAGS="--cfg loom" cargo test
//! --release --lib wake_dedup`, run by `.ci/correctness.sh`).

use std::io;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crate::sys::lock;
use crate::Token;

// The model checker replaces the one atomic the protocol is made of.
#[cfg(loom)]
use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicUsize, Ordering};

const STATUS: usize = 0b11;
const IDLE: usize = 0;
const WAKING: usize = 1;
const PENDING: usize = 2;
/// One system wake, in the count above the status bits.
const ONE: usize = STATUS + 1;

/// The state of one waker (see the module docs).
#[derive(Debug)]
pub(crate) struct WakeState {
    word: AtomicUsize,
}

impl WakeState {
    pub(crate) fn new() -> WakeState {
        WakeState {
            word: AtomicUsize::new(IDLE),
        }
    }

    /// Runs `wake`, the system call, unless a wake made earlier by this
    /// waker has not been returned by `poll` yet.
    pub(crate) fn wake_with(&self, wake: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
        let mut word = self.word.load(Ordering::Relaxed);
        let waking = loop {
            let (next, ordering) = match word & STATUS {
                // The RMW that carries this thread's writes to `poll`.
                PENDING => (word, Ordering::Release),
                IDLE => (
                    (word & !STATUS).wrapping_add(ONE) | WAKING,
                    Ordering::Relaxed,
                ),
                _ => return wake(),
            };
            match self
                .word
                .compare_exchange_weak(word, next, ordering, Ordering::Relaxed)
            {
                Ok(_) if next == word => return Ok(()),
                Ok(_) => break next,
                Err(now) => word = now,
            }
        };
        let result = wake();
        let after = match result {
            Ok(()) => (waking & !STATUS) | PENDING,
            Err(_) => (waking & !STATUS) | IDLE,
        };
        // If `poll` took the event meanwhile (the word moved on), the waker
        // stays idle. Looked at first, so that a word `poll` already took
        // is only read, not pulled back for a write that would fail.
        if self.word.load(Ordering::Relaxed) == waking {
            let _ = self
                .word
                .compare_exchange(waking, after, Ordering::Release, Ordering::Relaxed);
        }
        result
    }

    /// Called by `poll` when it returns this waker's event: back to idle,
    /// acquiring what every wake before this point published. One
    /// read-modify-write, so that the cache line crosses processors once.
    #[inline]
    pub(crate) fn event_returned(&self) {
        self.word.fetch_and(!STATUS, Ordering::Acquire);
    }
}

/// The wakers of one `Poll`, shared by its registry's clones.
#[derive(Debug, Default)]
pub(crate) struct WakeDedup {
    wakers: Mutex<Vec<(Token, Arc<WakeState>)>>,
    /// Set when `wakers` changed since `poll` last copied it.
    changed: AtomicBool,
}

impl WakeDedup {
    /// The state of a new waker with `token`, which `poll` clears when it
    /// returns an event with that token.
    pub(crate) fn add(&self, token: Token) -> Arc<WakeState> {
        let state = Arc::new(WakeState::new());
        lock(&self.wakers).push((token, Arc::clone(&state)));
        self.changed.store(true, Ordering::Release);
        state
    }

    /// Forgets the state of a waker being dropped.
    pub(crate) fn remove(&self, state: &Arc<WakeState>) {
        lock(&self.wakers).retain(|(_, other)| !Arc::ptr_eq(other, state));
        self.changed.store(true, Ordering::Release);
    }

    /// Called by `poll` when it returns events, with its copy of the list
    /// and whether a token is among the events: clears the wakers whose
    /// event is returned (and any other waker with the same token, which
    /// costs at most one more system call). Other wakers are not touched.
    #[inline]
    pub(crate) fn events_returned(
        &self,
        copy: &mut Vec<(Token, Arc<WakeState>)>,
        returned: impl Fn(Token) -> bool,
    ) {
        if self.changed.load(Ordering::Relaxed) && self.changed.swap(false, Ordering::Acquire) {
            copy.clone_from(&lock(&self.wakers));
        }
        for (token, state) in copy.iter() {
            if returned(*token) {
                state.event_returned();
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn counting(calls: &Cell<u32>) -> impl Fn() -> io::Result<()> + '_ {
        move || {
            calls.set(calls.get() + 1);
            Ok(())
        }
    }

    fn failing() -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::Other))
    }

    #[test]
    fn one_system_wake_until_poll_returns_events() {
        let dedup = WakeDedup::default();
        let state = dedup.add(Token(0));
        let mut copy = Vec::new();
        let calls = Cell::new(0);
        state.wake_with(counting(&calls)).unwrap();
        state.wake_with(counting(&calls)).unwrap();
        assert_eq!(calls.get(), 1);
        dedup.events_returned(&mut copy, |_| true);
        state.wake_with(counting(&calls)).unwrap();
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn a_failed_wake_is_retried() {
        let state = WakeState::new();
        assert!(state.wake_with(failing).is_err());
        let calls = Cell::new(0);
        state.wake_with(counting(&calls)).unwrap();
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn a_wake_while_another_is_in_flight_makes_its_own_system_call() {
        let state = WakeState::new();
        let calls = Cell::new(0);
        // The second wake runs inside the first one's system call, which
        // then fails: the second must not have relied on it.
        let outer = state.wake_with(|| {
            state.wake_with(counting(&calls)).unwrap();
            failing()
        });
        assert!(outer.is_err());
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn a_system_call_that_ends_after_poll_took_its_event_leaves_the_waker_idle() {
        let dedup = WakeDedup::default();
        let state = dedup.add(Token(0));
        let mut copy = Vec::new();
        state
            .wake_with(|| {
                dedup.events_returned(&mut copy, |_| true);
                Ok(())
            })
            .unwrap();
        let calls = Cell::new(0);
        state.wake_with(counting(&calls)).unwrap();
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn a_dropped_waker_leaves_polls_copy_at_the_next_events() {
        let dedup = WakeDedup::default();
        let state = dedup.add(Token(0));
        let mut copy = Vec::new();
        dedup.events_returned(&mut copy, |_| true);
        assert_eq!(copy.len(), 1);
        dedup.remove(&state);
        dedup.events_returned(&mut copy, |_| true);
        assert!(copy.is_empty());
    }
}

/// The model: every interleaving of two threads that publish a value and
/// wake (one of whose system calls may fail) and a thread that polls. The
/// kernel is an atomic counter of queued wake events (a system call is a
/// release, taking events an acquire, as they are in the kernel).
#[cfg(all(test, loom))]
mod loom_model {
    use super::*;
    use loom::sync::atomic::AtomicBool as LoomBool;
    use loom::sync::Arc as LoomArc;

    struct World {
        state: WakeState,
        kernel: AtomicUsize,
        fail_first: LoomBool,
        data: [AtomicUsize; 2],
    }

    impl World {
        fn system_wake(&self) -> io::Result<()> {
            if self.fail_first.swap(false, Ordering::Relaxed) {
                return Err(io::Error::from(io::ErrorKind::Other));
            }
            self.kernel.fetch_add(1, Ordering::Release);
            Ok(())
        }

        /// One `poll`: takes the queued events, if any, and clears the
        /// waker as `Poll::poll` does.
        fn poll(&self) -> bool {
            let got = self.kernel.swap(0, Ordering::Acquire) > 0;
            if got {
                self.state.event_returned();
            }
            got
        }
    }

    fn run(fail_first: bool) {
        loom::model(move || {
            let world = LoomArc::new(World {
                state: WakeState::new(),
                kernel: AtomicUsize::new(0),
                fail_first: LoomBool::new(fail_first),
                data: [AtomicUsize::new(0), AtomicUsize::new(0)],
            });
            let producers: Vec<_> = (0..2)
                .map(|i| {
                    let world = LoomArc::clone(&world);
                    loom::thread::spawn(move || {
                        world.data[i].store(1, Ordering::Relaxed);
                        world.state.wake_with(|| world.system_wake()).is_ok()
                    })
                })
                .collect();
            // The poller: one poll concurrent with the wakes.
            let got = world.poll();
            let seen = [0, 1].map(|i| world.data[i].load(Ordering::Relaxed) == 1);
            let woke: Vec<bool> = producers.into_iter().map(|p| p.join().unwrap()).collect();
            // A wake that returned Ok is either seen by the poll that
            // returned an event, or still queued for the next poll.
            let queued = world.kernel.load(Ordering::Relaxed) > 0;
            for i in 0..2 {
                if woke[i] {
                    assert!(queued || (got && seen[i]), "wake {i} lost");
                }
            }
            // And the next round works: a wake after this poll is queued.
            if !queued {
                world.state.wake_with(|| world.system_wake()).unwrap();
                assert!(world.poll());
            }
        });
    }

    #[test]
    fn wakes_are_never_lost_and_carry_their_writes() {
        run(false);
    }

    #[test]
    fn a_failed_system_wake_is_never_relied_on() {
        run(true);
    }
}
