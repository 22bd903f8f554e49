//! Timeout arithmetic shared by every backend.

// Each backend uses the conversions its OS needs: milliseconds (epoll,
// poll(2)) or a `timespec` (kqueue, event ports, zero-capacity waits).
#![allow(dead_code)]

use std::time::Duration;

const NANOS_PER_MILLI: u32 = 1_000_000;

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
    fn whole_millis() {
        assert!(is_whole_millis(Duration::from_millis(3)));
        assert!(!is_whole_millis(Duration::from_micros(3001)));
        assert!(!is_whole_millis(Duration::MAX));
    }
}
