//! `time::Timer` on kqueue: an `EVFILT_TIMER` filter per timer.
//!
//! Each timer has an `ident` of its own (filters are keyed by ident and
//! filter, so timer idents never meet descriptors). The filter is added
//! one-shot (`EV_ONESHOT`) for the next expiration, relative to now, in
//! nanoseconds (`NOTE_NSECONDS`) where the system has them (Apple,
//! FreeBSD, NetBSD) and in milliseconds rounded up elsewhere (OpenBSD,
//! DragonFly); a periodic timer's next expiration is added when the timer
//! is read, from evmux's own schedule, so that the first expiration and
//! the period may differ. The event is reported readable.
//!
//! Setting a timer before registering it only records the schedule; the
//! filter is added when it is registered. The timer keeps a clone of the
//! selector (which shares its kqueue: no descriptor of its own) to set and
//! remove its filter later.
//!
//! Man pages: kevent(2) (`EVFILT_TIMER`, `EV_ONESHOT`, `NOTE_NSECONDS`).

use std::io;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::sys::selector::{apply, change, delete, filter, flags, Selector};
use crate::sys::unix::kevent as sys;
use crate::time::Schedule;
use crate::trigger::Trigger;
use crate::{Interest, Token};

/// Idents of timer filters, unique in the process.
static NEXT_IDENT: AtomicUsize = AtomicUsize::new(1);

/// A timer filter, and the kqueue it is registered with.
#[derive(Debug)]
pub(crate) struct Timer {
    ident: usize,
    schedule: Option<Schedule>,
    registration: Option<(Selector, Token)>,
}

impl Timer {
    pub(crate) fn new() -> io::Result<Timer> {
        Ok(Timer {
            ident: NEXT_IDENT.fetch_add(1, Ordering::Relaxed),
            schedule: None,
            registration: None,
        })
    }

    pub(crate) fn arm(&mut self, schedule: Schedule) -> io::Result<()> {
        self.schedule = Some(schedule);
        self.submit()
    }

    pub(crate) fn disarm(&mut self) -> io::Result<()> {
        self.schedule = None;
        self.submit()
    }

    /// Adds the filter for the next expiration of a periodic timer.
    pub(crate) fn after_read(&mut self, left: Option<Schedule>) -> io::Result<()> {
        self.schedule = left;
        if left.is_some() {
            self.submit()?;
        }
        Ok(())
    }

    /// Makes the kernel's filter match the schedule, if registered.
    fn submit(&self) -> io::Result<()> {
        let Some((selector, token)) = &self.registration else {
            return Ok(());
        };
        let change = match self.schedule {
            Some(schedule) => add_timer(self.ident, schedule.next, *token),
            None => change(self.ident, filter(sys::EVFILT_TIMER), delete(), 0, *token),
        };
        apply(selector.as_fd(), &[change]).map(drop)
    }

    pub(crate) fn register(
        &mut self,
        selector: &Selector,
        token: Token,
        _: Interest,
        _: Trigger,
    ) -> io::Result<()> {
        self.registration = Some((selector.try_clone()?, token));
        let result = self.submit();
        if result.is_err() {
            self.registration = None;
        }
        result
    }

    pub(crate) fn reregister(
        &mut self,
        _: &Selector,
        token: Token,
        _: Interest,
        _: Trigger,
    ) -> io::Result<()> {
        if let Some((_, old)) = &mut self.registration {
            *old = token;
        }
        self.submit()
    }

    pub(crate) fn deregister(&mut self, _: &Selector) -> io::Result<()> {
        self.remove()
    }

    /// Deletes the filter (a missing one, already fired, is no error).
    fn remove(&mut self) -> io::Result<()> {
        let Some((selector, token)) = self.registration.take() else {
            return Ok(());
        };
        let change = change(self.ident, filter(sys::EVFILT_TIMER), delete(), 0, token);
        apply(selector.as_fd(), &[change]).map(drop)
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Err(error) = self.remove() {
            warn!("failed to remove a timer filter: {}", error);
        }
    }
}

/// The change that adds a one-shot timer filter expiring at `at`.
fn add_timer(ident: usize, at: Instant, token: Token) -> sys::kevent {
    let delay = at.saturating_duration_since(Instant::now());
    let (unit, amount) = amount(delay);
    let add = flags(sys::EV_ADD | sys::EV_ONESHOT | sys::EV_RECEIPT);
    let mut change = change(ident, filter(sys::EVFILT_TIMER), add, unit, token);
    // The field is `intptr_t` (`i64` on NetBSD); `amount` fits either.
    change.data = amount as _;
    change
}

/// The delay in the finest unit the system has, as `(fflags, data)`: at
/// least 1 (some systems refuse 0), and at most what `intptr_t` holds on
/// 32-bit systems (a longer timer expires early; evmux's schedule counts
/// no expiration then, and the timer is added again when it is read).
fn amount(delay: Duration) -> (u32, i32) {
    if let Some(nanoseconds) = sys::TIMER_NANOSECONDS {
        if let Ok(nanos) = i32::try_from(delay.as_nanos()) {
            return (nanoseconds, nanos.max(1));
        }
    }
    let millis = crate::sys::timeout::millis_rounded_up(delay, i32::MAX as u32);
    (0, (millis as i32).max(1))
}
