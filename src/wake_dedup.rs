//! Wake de-duplication, done once for every backend: a coalescing `Waker`
//! (`Waker::new_coalescing`) skips the system call while a wake it made is
//! still on its way to `poll`. `Waker::new` does not use it (one system
//! call per wake, as in mio; see "Cost"); the event-ports and Windows
//! wakers always do, since each `port_send` or completion-port post queues
//! an event of its own.
//!
//! # The protocol
//!
//! Each waker owns a word of state, shared with the `Poll` it wakes: two
//! flags and a count of the events `poll` has returned for this waker.
//!
//! - *waking*: a system wake was started since `poll` last returned this
//!   waker's event. It may still be in flight, and may yet fail.
//! - *pending*: a system wake is known to have succeeded since then, so
//!   its event is queued (or being returned right now).
//!
//! `wake` begins with one read-modify-write that sets *waking* (`Release`)
//! and looks at what was there:
//!
//! - *pending*: the system call is skipped. The read-modify-write is what
//!   carries this thread's writes to `poll`, which takes the word with
//!   `Acquire` when it returns the event, so everything the waking thread
//!   did before `wake` happens before `poll` returns, as it would through
//!   the system call.
//! - neither flag (idle): this wake makes the system call and writes
//!   nothing more: `poll` finds the word *waking* and clears it anyway.
//! - *waking* only: another wake's call may still be in flight, or may
//!   have failed, so this one makes its own: only a finished, successful
//!   call may be relied on. When it succeeds it sets *pending*, and the
//!   wakes after it skip their calls.
//!
//! A failed call returns its error and leaves *waking* set, so the next
//! wake makes its own call, as after any call not known to have succeeded.
//!
//! `poll`, when it returns an event with a waker's token, replaces the
//! word with both flags clear and the count one higher, in one
//! read-modify-write with `Acquire`. If neither flag was set, no wake was
//! made since the last event: where each system call queues an event of
//! its own (IOCP, event ports), that event is a storm's second one, whose
//! wakes the first event already carried, and `poll` drops it. The count
//! is written by `poll` alone (it keeps its own copy), and it keeps a wake
//! that finishes after `poll` took its event from marking a later wake's
//! word as *pending*. Clearing
//! a waker whose event is still queued (a source shares its token) costs
//! one more system call, never a lost wake.
//!
//! # Cost
//!
//! Nothing is shared between wakers. A single wake between two polls
//! costs the waking thread one read-modify-write and the system call, and
//! `poll` one read-modify-write: the word's cache line crosses processors
//! once each way, the least a de-duplication can do. A storm of wakes
//! costs two system calls per `poll` (the first, and the one that sets
//! *pending*), then one read-modify-write each on a cache line the waking
//! thread holds. The list of wakers `poll` looks at is a copy it refreshes
//! only when a waker is created or dropped.
//!
//! Those two crossings are the price, and they are why it is opt-in: when
//! every wake is followed by the `poll` that returns it on another core
//! (tokio wakes its driver only when it sleeps, so always), the word's
//! line is on the critical path twice per cycle. On the 2-core benchmark
//! machine, with the two virtual processors on different physical cores
//! (a cache-line round trip of 110-190 ns), that is +5% to +33% on the
//! cross-core single wake; a plain `Waker::new` is at parity with mio.
//! Any skip needs to know that `poll` has not yet returned the earlier
//! wake's event, which only `poll` can write, so no variant of the
//! protocol avoids a crossing per cycle (short of a clock, which costs
//! 20-40 ns a read there).
//!
//! The protocol is model-checked with loom over the interleavings of
//! wakes, failed wakes and `poll` with up to four preemptions (`LOOM_MAX_PREEMPTIONS=4
//! RUSTFLAGS="--cfg loom" cargo test --release --lib wake_dedup`, run by
//! `.ci/correctness.sh`); each of the protocol's orderings and its count
//! is needed for the model to pass.

use std::io;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crate::sys::lock;
use crate::Token;

// The model checker replaces the atomics the protocol is made of.
#[cfg(loom)]
use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicUsize, Ordering};

const WAKING: usize = 0b01;
const PENDING: usize = 0b10;
/// One event returned by `poll`, in the count above the flags.
const ONE: usize = 0b100;

/// The state of one waker (see the module docs).
#[derive(Debug)]
pub(crate) struct WakeState {
    word: AtomicUsize,
    /// The count `poll` last wrote into `word`. Only `poll` touches it
    /// (`Poll::poll` takes `&mut self`), on the same cache line as `word`,
    /// which it writes at the same time.
    returned: AtomicUsize,
    /// Set when the waker is dropped: `WakeDedup` forgets the state at
    /// its next change (see `WakeDedup::remove`). Not part of the
    /// protocol, hence std's atomic under loom too.
    dropped: std::sync::atomic::AtomicBool,
}

impl WakeState {
    pub(crate) fn new() -> WakeState {
        WakeState {
            word: AtomicUsize::new(0),
            returned: AtomicUsize::new(0),
            dropped: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn is_dropped(&self) -> bool {
        self.dropped.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Runs `wake`, the system call, unless a wake made earlier is known
    /// to have succeeded and `poll` has not returned its event yet.
    pub(crate) fn wake_with(&self, wake: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
        let before = self.word.fetch_or(WAKING, Ordering::Release);
        if before & PENDING != 0 {
            return Ok(());
        }
        let result = wake();
        if before & WAKING != 0 && result.is_ok() {
            // Another wake's call may have failed, so this success is
            // written down and the wakes after it skip their calls. Fails,
            // harmlessly, if `poll` cleared the word meanwhile: the event
            // of this call may then be returned with no wake waiting for
            // it, which costs a later wake its call, no more.
            let _ = self.word.compare_exchange(
                before,
                before | PENDING,
                Ordering::Release,
                Ordering::Relaxed,
            );
        }
        result
    }

    /// Called by `poll` when it returns this waker's event: both flags
    /// clear and the count one higher, acquiring what every wake before
    /// this point published. One read-modify-write, so that the cache
    /// line crosses processors once.
    ///
    /// Returns false if no wake was made since the last call: every wake
    /// so far was then carried by an event already returned, and the one
    /// in hand is stale. Backends whose system wake queues an event per
    /// call (IOCP, event ports) drop such an event, so that the second
    /// call a storm makes shows no second event.
    #[inline]
    pub(crate) fn event_returned(&self) -> bool {
        let count = self.returned.load(Ordering::Relaxed).wrapping_add(ONE);
        self.returned.store(count, Ordering::Relaxed);
        let before = self.word.swap(count, Ordering::Acquire);
        before & (WAKING | PENDING) != 0
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
        let mut wakers = lock(&self.wakers);
        wakers.retain(|(_, other)| !other.is_dropped());
        wakers.push((token, Arc::clone(&state)));
        self.changed.store(true, Ordering::Release);
        state
    }

    /// Forgets the state of a waker being dropped: marks it, for the next
    /// `add` or `events_returned` to remove from the list. Takes no lock:
    /// a forked child may drop a waker it inherited while a thread of the
    /// parent held the lock at the fork, and nothing would release it.
    pub(crate) fn remove(&self, state: &Arc<WakeState>) {
        state
            .dropped
            .store(true, std::sync::atomic::Ordering::Release);
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
            let mut wakers = lock(&self.wakers);
            wakers.retain(|(_, other)| !other.is_dropped());
            copy.clone_from(&wakers);
        }
        for (token, state) in copy.iter() {
            if returned(*token) {
                // An eventfd or a pipe coalesces its wakes: the event in
                // hand is never a second one.
                let _ = state.event_returned();
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
    fn two_system_wakes_at_most_until_poll_returns_events() {
        let dedup = WakeDedup::default();
        let state = dedup.add(Token(0));
        let mut copy = Vec::new();
        let calls = Cell::new(0);
        // The first wake's success is not written down; the second makes
        // its own call and lets the rest skip theirs.
        for _ in 0..100 {
            state.wake_with(counting(&calls)).unwrap();
        }
        assert_eq!(calls.get(), 2);
        dedup.events_returned(&mut copy, |_| true);
        state.wake_with(counting(&calls)).unwrap();
        assert_eq!(calls.get(), 3);
    }

    #[test]
    fn a_single_wake_per_poll_always_makes_its_system_call() {
        let dedup = WakeDedup::default();
        let state = dedup.add(Token(0));
        let mut copy = Vec::new();
        let calls = Cell::new(0);
        for round in 1..=10 {
            state.wake_with(counting(&calls)).unwrap();
            assert_eq!(calls.get(), round);
            dedup.events_returned(&mut copy, |_| true);
        }
    }

    #[test]
    fn a_storms_second_system_wake_is_stale_when_its_event_is_taken() {
        let state = WakeState::new();
        let calls = Cell::new(0);
        for _ in 0..100 {
            state.wake_with(counting(&calls)).unwrap();
        }
        assert_eq!(calls.get(), 2);
        // A kernel that queues an event per call hands over two.
        assert!(state.event_returned());
        assert!(!state.event_returned());
        // A wake after that is not stale.
        state.wake_with(counting(&calls)).unwrap();
        assert!(state.event_returned());
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
/// wake, and a thread that polls, wakes (as a thread does that finds the
/// waker cleared by `poll`) and polls again; any one of the three system
/// calls may fail. The kernel is an atomic counter of queued wake events
/// (a system call is a release, taking events an acquire, as they are in
/// the kernel). It is run with both kinds of kernel: one that hands over
/// all queued wakes as one event (eventfd, pipe, kqueue) and one that
/// queues an event per call (IOCP, event ports), whose stale events
/// `poll` drops.
#[cfg(all(test, loom))]
mod loom_model {
    use super::*;
    use loom::sync::Arc as LoomArc;

    const WAKES: usize = 3;

    struct World {
        state: WakeState,
        kernel: AtomicUsize,
        /// An event per system call, rather than one for all of them.
        per_call: bool,
        /// The wake whose system call fails, if any.
        failing: Option<usize>,
        data: [AtomicUsize; WAKES],
    }

    impl World {
        /// Wake number `wake`: publishes its value, then wakes.
        fn wake(&self, wake: usize) -> bool {
            self.data[wake].store(1, Ordering::Relaxed);
            let system_wake = || {
                if self.failing == Some(wake) {
                    return Err(io::Error::from(io::ErrorKind::Other));
                }
                self.kernel.fetch_add(1, Ordering::Release);
                Ok(())
            };
            self.state.wake_with(system_wake).is_ok()
        }

        /// One `poll`: takes queued events, if any, and clears the waker
        /// as the backends do. Returns whether it returned an event and
        /// which values it saw after that.
        fn poll(&self) -> (bool, [bool; WAKES]) {
            let got = if self.per_call {
                // Only this thread takes events: the count stays above
                // zero between the load and the subtraction.
                self.kernel.load(Ordering::Relaxed) > 0 && {
                    self.kernel.fetch_sub(1, Ordering::Acquire);
                    self.state.event_returned()
                }
            } else {
                let got = self.kernel.swap(0, Ordering::Acquire) > 0;
                if got {
                    let _ = self.state.event_returned();
                }
                got
            };
            let seen = [0, 1, 2].map(|w| self.data[w].load(Ordering::Relaxed) == 1);
            (got, seen)
        }

        fn queued(&self) -> bool {
            self.kernel.load(Ordering::Relaxed) > 0
        }
    }

    fn run(failing: Option<usize>) {
        for per_call in [false, true] {
            model(per_call, failing);
        }
    }

    fn model(per_call: bool, failing: Option<usize>) {
        loom::model(move || {
            let world = LoomArc::new(World {
                state: WakeState::new(),
                kernel: AtomicUsize::new(0),
                per_call,
                failing,
                data: [0; WAKES].map(AtomicUsize::new),
            });
            let producers = [0, 1].map(|w| {
                let world = LoomArc::clone(&world);
                loom::thread::spawn(move || world.wake(w))
            });
            let first = world.poll();
            let woke2 = world.wake(2);
            let mut polls = vec![first, world.poll()];
            let [woke0, woke1] = producers.map(|p| p.join().unwrap());
            let woke = [woke0, woke1, woke2];
            // A per-call kernel's events are taken one at a time: take the
            // rest, including those `poll` drops as stale.
            while per_call && world.queued() {
                polls.push(world.poll());
            }
            // A wake that returned Ok is either seen by a poll that
            // returned an event, or still queued for the next poll.
            let queued = world.queued();
            for w in 0..WAKES {
                if woke[w] {
                    let seen = polls.iter().any(|&(got, seen)| got && seen[w]);
                    assert!(queued || seen, "wake {w} lost");
                }
            }
            // And the next round works: a wake after this poll is queued.
            if !queued {
                world
                    .state
                    .wake_with(|| {
                        world.kernel.fetch_add(1, Ordering::Release);
                        Ok(())
                    })
                    .unwrap();
                assert!(world.poll().0);
            }
        });
    }

    #[test]
    fn wakes_are_never_lost_and_carry_their_writes() {
        run(None);
    }

    #[test]
    fn a_failed_first_system_wake_is_never_relied_on() {
        run(Some(0));
    }

    #[test]
    fn a_failed_concurrent_system_wake_is_never_relied_on() {
        run(Some(1));
    }

    #[test]
    fn a_failed_wake_after_a_poll_is_never_relied_on() {
        run(Some(2));
    }
}
