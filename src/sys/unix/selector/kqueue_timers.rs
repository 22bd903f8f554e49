//! `time::Timer`s on kqueue: one deadline queue per selector, and one
//! `EVFILT_TIMER` filter per selector set to its earliest deadline.
//!
//! The filter has an ident of its own (`IDENT`): filters are keyed by
//! ident and filter, and evmux adds no other `EVFILT_TIMER` to a
//! selector's kqueue, so the event is told apart by its filter and ident,
//! whatever a user's tokens are. It is added one-shot (`EV_ONESHOT`),
//! relative to now, in nanoseconds (`NOTE_NSECONDS`) where the system has
//! them (Apple, FreeBSD, NetBSD) and in milliseconds rounded up elsewhere
//! (OpenBSD, DragonFly); adding it again replaces it. A change made from
//! another thread reaches a `kevent` wait in progress, which then ends at
//! the new deadline.
//!
//! Changes go through a duplicate of the kqueue's descriptor, made when
//! the first timer is registered (so that a `Poll` without timers costs no
//! more than before, and the changes do not depend on which clone of the
//! selector is still open).
//!
//! Man pages: kevent(2) (`EVFILT_TIMER`, `EV_ONESHOT`, `NOTE_NSECONDS`).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{apply, change, filter, flags, Event, Events};
use crate::sys::lock;
use crate::sys::timer_queue::{DrivenQueue, OsTimer, TimerQueue, TimerTable};
use crate::sys::unix::kevent as sys;
use crate::Token;

/// The ident of the selector's timer filter ("evmx").
const IDENT: usize = 0x6576_6d78;

/// A selector's timers.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    /// Set once the filter can be added: `select` looks for timers from
    /// then on.
    active: AtomicBool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    driven: DrivenQueue,
    kq: Option<Kqueue>,
}

/// The duplicate of the selector's kqueue that sets the filter.
#[derive(Debug)]
struct Kqueue(OwnedFd);

impl OsTimer for Kqueue {
    fn fire_after(&self, after: Duration) -> io::Result<()> {
        let (unit, amount) = amount(after);
        let add = flags(sys::EV_ADD | sys::EV_ONESHOT | sys::EV_RECEIPT);
        let mut change = change(IDENT, filter(sys::EVFILT_TIMER), add, unit, Token(0));
        // The field is `intptr_t` (`i64` on NetBSD): an `isize` fits.
        change.data = amount as _;
        apply(self.0.as_fd(), &[change]).map(drop)
    }
}

impl Timers {
    /// Whether any timer was ever registered with this selector.
    #[inline]
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::SeqCst)
    }

    /// Duplicates `kq` for the timer filter's changes, once.
    pub(crate) fn start(&self, kq: BorrowedFd<'_>) -> io::Result<()> {
        if self.is_active() {
            return Ok(());
        }
        let mut state = lock(&self.state);
        if state.kq.is_none() {
            // Before the filter can be added (by `drive`, after this): a
            // `select` that sees its event then sees `active` too.
            state.kq = Some(Kqueue(rustix::io::fcntl_dupfd_cloexec(kq, 0)?));
            self.active.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    /// After a wait: takes the timer filter's event out of `events`, adds
    /// the timers that are due (as room allows), and sets the filter for
    /// the next deadline. Returns true if the filter's event was there.
    pub(crate) fn after_wait(&self, events: &mut Events) -> io::Result<bool> {
        let before = events.len();
        events.retain(|event| !is_ours(event));
        let fired = events.len() != before;
        let mut state = lock(&self.state);
        let State { driven, kq } = &mut *state;
        let room = events.capacity() - events.len();
        driven.queue.expire(Instant::now(), room, |token| {
            // Readable, as every `EVFILT_TIMER` event is (ident 0: not ours).
            events.push(Event(change(0, filter(sys::EVFILT_TIMER), 0, 0, token)));
        });
        if let Some(kq) = kq {
            driven.drive(kq, fired)?;
        }
        Ok(fired)
    }
}

fn is_ours(event: &Event) -> bool {
    event.0.filter == sys::EVFILT_TIMER && event.0.ident as usize == IDENT
}

impl TimerTable for Timers {
    fn with_timers<R>(&self, f: impl FnOnce(&mut TimerQueue) -> R) -> R {
        f(&mut lock(&self.state).driven.queue)
    }

    fn timers_changed(&self) -> io::Result<()> {
        let mut state = lock(&self.state);
        let State { driven, kq } = &mut *state;
        match kq {
            Some(kq) => driven.drive(kq, false),
            None => Ok(()),
        }
    }
}

/// The delay in the finest unit the system has, as `(fflags, data)`: at
/// least 1 (some systems refuse 0), and at most what `intptr_t` holds in
/// nanoseconds, or `i32::MAX` milliseconds (24.8 days: a longer wait fires
/// early, finds nothing due, and the filter is added again for what is
/// left).
fn amount(delay: Duration) -> (u32, isize) {
    if let Some(nanoseconds) = sys::TIMER_NANOSECONDS {
        if let Ok(nanos) = i32::try_from(delay.as_nanos()) {
            return (nanoseconds, (nanos as isize).max(1));
        }
    }
    let millis = crate::sys::timeout::millis_rounded_up(delay, i32::MAX as u32);
    (0, (millis as isize).max(1))
}
