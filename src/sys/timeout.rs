//! Timeout arithmetic shared by every backend.

// Each backend uses the conversions its OS needs: milliseconds (epoll,
// poll(2)) or a `timespec` (kqueue, event ports, zero-capacity waits).
#![allow(dead_code)]

use std::time::{Duration, Instant};

const NANOS_PER_MILLI: u32 = 1_000_000;

/// The longest wait handed to kernels that take a `timespec` (kqueue, event
/// ports): about three years; a longer wait may end early.
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(100_000_000);

/// Returns true if `timeout` is a whole number of milliseconds, so that an
/// API taking milliseconds can wait for exactly that long.
pub(crate) fn is_whole_millis(timeout: Duration) -> bool {
    timeout.subsec_nanos() % NANOS_PER_MILLI == 0
}

/// Converts `timeout` to milliseconds for APIs that take an integer:
/// rounded up, so that a non-zero timeout never becomes zero (which would
/// turn the caller's wait into a busy loop), and clamped to `max`, so that
/// a huge timeout becomes a long wait that may end early (allowed) rather
/// than an overflow.
pub(crate) fn millis_rounded_up(timeout: Duration, max: u32) -> u32 {
    let round_up = u128::from(!is_whole_millis(timeout));
    let millis = timeout.as_millis().saturating_add(round_up);
    u32::try_from(millis).map_or(max, |millis| millis.min(max))
}

/// Converts a timeout to the kernel's `timespec`, saturating instead of
/// overflowing for durations beyond `i64::MAX` seconds.
#[cfg(unix)]
pub(crate) fn timespec(timeout: Duration) -> rustix::event::Timespec {
    rustix::event::Timespec {
        tv_sec: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: timeout.subsec_nanos().into(),
    }
}

/// The end of a `select` that may wait more than once (after a wake-up
/// that brought no event): each wait gets what is left of the caller's
/// timeout.
pub(crate) struct Deadline {
    timeout: Option<Duration>,
    /// `None` for no timeout, or one too large for an `Instant`, which
    /// waits like no timeout (the OS clamps it anyway).
    at: Option<Instant>,
    first: bool,
}

impl Deadline {
    pub(crate) fn new(timeout: Option<Duration>) -> Deadline {
        let at = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
        Deadline {
            timeout,
            at,
            first: true,
        }
    }

    /// How long the next wait may last: `Some(None)` for no limit,
    /// `Some(Some(left))`, or `None` once the deadline has passed. The first
    /// wait gets the caller's whole timeout, so that a tiny one is not eaten
    /// up by the set-up before the system call; a zero timeout waits once.
    pub(crate) fn next_wait(&mut self) -> Option<Option<Duration>> {
        if std::mem::take(&mut self.first) {
            return Some(self.timeout);
        }
        match (self.timeout, self.at) {
            (Some(timeout), _) if timeout.is_zero() => None,
            (_, None) => Some(self.timeout),
            (_, Some(at)) => {
                let left = at.saturating_duration_since(Instant::now());
                (!left.is_zero()).then_some(Some(left))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_millisecond_rounds_up() {
        assert_eq!(millis_rounded_up(Duration::from_nanos(1), 100), 1);
        assert_eq!(millis_rounded_up(Duration::from_micros(1500), 100), 2);
        assert_eq!(millis_rounded_up(Duration::from_millis(7), 100), 7);
        assert_eq!(millis_rounded_up(Duration::ZERO, 100), 0);
    }

    #[test]
    fn huge_timeouts_clamp() {
        assert_eq!(millis_rounded_up(Duration::MAX, 5), 5);
        let weeks = Duration::from_secs(60 * 60 * 24 * 7 * 52);
        assert_eq!(millis_rounded_up(weeks, i32::MAX as u32), i32::MAX as u32);
    }

    #[test]
    fn a_deadline_gives_each_wait_what_is_left() {
        let mut none = Deadline::new(None);
        assert_eq!(none.next_wait(), Some(None));
        assert_eq!(none.next_wait(), Some(None));
        let mut zero = Deadline::new(Some(Duration::ZERO));
        assert_eq!(zero.next_wait(), Some(Some(Duration::ZERO)));
        assert_eq!(zero.next_wait(), None);
        let long = Duration::from_secs(1000);
        let mut some = Deadline::new(Some(long));
        assert_eq!(some.next_wait(), Some(Some(long)));
        let left = some.next_wait().unwrap().unwrap();
        assert!(left <= long && left > Duration::from_secs(900));
        let mut huge = Deadline::new(Some(Duration::MAX));
        huge.next_wait();
        assert_eq!(huge.next_wait(), Some(Some(Duration::MAX)));
        // Ends as soon as a nanosecond has passed.
        let mut short = Deadline::new(Some(Duration::from_nanos(1)));
        let mut waits = 0;
        while short.next_wait().is_some() {
            waits += 1;
        }
        assert!(waits >= 1);
    }

    #[test]
    fn whole_millis() {
        assert!(is_whole_millis(Duration::from_millis(3)));
        assert!(!is_whole_millis(Duration::from_micros(3001)));
        assert!(!is_whole_millis(Duration::MAX));
    }
}
