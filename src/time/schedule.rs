//! A timer's schedule and the count of its expirations, kept by evmux
//! itself on every backend: the OS mechanism only tells when to look.

use std::time::{Duration, Instant};

/// When a timer expires next, and how often after that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Schedule {
    /// The next expiration not yet counted.
    pub(crate) next: Instant,
    /// The period of a periodic timer; `None` for a one-shot one.
    pub(crate) interval: Option<Duration>,
}

impl Schedule {
    /// Counts the expirations up to `now` and moves past them. Returns the
    /// count (0 if the next one is still ahead) and what is left of the
    /// schedule: `None` once a one-shot timer has expired.
    pub(crate) fn expirations(self, now: Instant) -> (u64, Option<Schedule>) {
        if now < self.next {
            return (0, Some(self));
        }
        let Some(interval) = self.interval else {
            return (1, None);
        };
        let late = now.duration_since(self.next).as_nanos();
        let periods = late / interval.as_nanos().max(1);
        let count = u64::try_from(periods).unwrap_or(u64::MAX).saturating_add(1);
        let next = periods
            .checked_add(1)
            .and_then(|n| interval.as_nanos().checked_mul(n))
            .and_then(|nanos| u64::try_from(nanos).ok())
            .and_then(|nanos| self.next.checked_add(Duration::from_nanos(nanos)));
        // A schedule beyond what an `Instant` can hold never expires again.
        (
            count,
            next.map(|next| Schedule {
                next,
                interval: self.interval,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_shot_timer_expires_once() {
        let start = Instant::now();
        let schedule = Schedule {
            next: start + Duration::from_millis(5),
            interval: None,
        };
        assert_eq!(schedule.expirations(start), (0, Some(schedule)));
        let at = start + Duration::from_secs(3);
        assert_eq!(schedule.expirations(at), (1, None));
    }

    #[test]
    fn a_periodic_timer_counts_the_periods_it_missed() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let schedule = Schedule {
            next: start + ms(10),
            interval: Some(ms(10)),
        };
        let (count, left) = schedule.expirations(start + ms(10));
        assert_eq!(count, 1);
        assert_eq!(left.unwrap().next, start + ms(20));
        let (count, left) = schedule.expirations(start + ms(45));
        assert_eq!(count, 4);
        assert_eq!(left.unwrap().next, start + ms(50));
        let (count, _) = left.unwrap().expirations(start + ms(49));
        assert_eq!(count, 0);
    }

    #[test]
    fn a_nanosecond_period_far_behind_does_not_overflow() {
        let start = Instant::now();
        let schedule = Schedule {
            next: start,
            interval: Some(Duration::from_nanos(1)),
        };
        let (count, left) = schedule.expirations(start + Duration::from_secs(5));
        assert_eq!(count, 5_000_000_001);
        assert!(left.unwrap().next > start + Duration::from_secs(5));
    }
}
