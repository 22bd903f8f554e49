//! A timer's schedule and the count of its expirations, kept by evmux
//! itself on every backend: the selector's deadline queue only tells when
//! to look.

use std::time::{Duration, Instant};

/// What a periodic timer does when it is read late, after one or more
/// whole periods went by unread (as tokio's `MissedTickBehavior`).
///
/// It matters only for a fixed-rate timer ([`Timer::set`], [`set_interval`]).
///
/// [`Timer::set`]: crate::time::Timer::set
/// [`set_interval`]: crate::time::Timer::set_interval
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MissedTicks {
    /// Every missed period is counted: `read` returns them all, and the
    /// timer stays on its original grid (`first + k * interval`). The
    /// default.
    #[default]
    Burst,
    /// The missed periods are dropped: `read` returns 1, and the next
    /// expiration is one interval after the read.
    Delay,
    /// The missed periods are dropped: `read` returns 1, and the timer
    /// stays on its original grid, at the first point still ahead.
    Skip,
}

/// How a timer repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// Fixed rate: every `interval` after the first expiration.
    Rate(Duration, MissedTicks),
    /// Fixed delay: each expiration `delay` after the read that counted the
    /// previous one.
    Delay(Duration),
}

/// When a timer expires next, and how it repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Schedule {
    /// The next expiration not yet counted.
    pub(crate) next: Instant,
    /// `None` for a one-shot timer.
    pub(crate) repeat: Option<Repeat>,
}

impl Schedule {
    /// The period of a periodic timer, whichever way it repeats.
    pub(crate) fn interval(&self) -> Option<Duration> {
        match self.repeat? {
            Repeat::Rate(interval, _) | Repeat::Delay(interval) => Some(interval),
        }
    }

    /// Counts the expirations up to `now` and moves past them. Returns the
    /// count (0 if the next one is still ahead) and what is left of the
    /// schedule: `None` once a one-shot timer has expired.
    pub(crate) fn expirations(self, now: Instant) -> (u64, Option<Schedule>) {
        if now < self.next {
            return (0, Some(self));
        }
        let (count, next) = match self.repeat {
            None => return (1, None),
            Some(Repeat::Delay(delay)) => (1, now.checked_add(delay)),
            Some(Repeat::Rate(interval, missed)) => {
                let (periods, on_grid) = self.grid_after(now, interval);
                match missed {
                    MissedTicks::Burst => (periods.saturating_add(1), on_grid),
                    MissedTicks::Skip => (1, on_grid),
                    MissedTicks::Delay if periods == 0 => (1, on_grid),
                    MissedTicks::Delay => (1, now.checked_add(interval)),
                }
            }
        };
        // A schedule beyond what an `Instant` can hold never expires again.
        let left = next.map(|next| Schedule {
            next,
            repeat: self.repeat,
        });
        (count, left)
    }

    /// How many whole periods passed between `next` and `now` (`now` is not
    /// before `next`), and the first point of the grid after `now`.
    fn grid_after(self, now: Instant, interval: Duration) -> (u64, Option<Instant>) {
        let late = now.duration_since(self.next).as_nanos();
        let periods = late / interval.as_nanos().max(1);
        let next = periods
            .checked_add(1)
            .and_then(|n| interval.as_nanos().checked_mul(n))
            .and_then(|nanos| u64::try_from(nanos).ok())
            .and_then(|nanos| self.next.checked_add(Duration::from_nanos(nanos)));
        (u64::try_from(periods).unwrap_or(u64::MAX), next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn rate(next: Instant, interval: Duration, missed: MissedTicks) -> Schedule {
        Schedule {
            next,
            repeat: Some(Repeat::Rate(interval, missed)),
        }
    }

    #[test]
    fn a_one_shot_timer_expires_once() {
        let start = Instant::now();
        let schedule = Schedule {
            next: start + ms(5),
            repeat: None,
        };
        assert_eq!(schedule.expirations(start), (0, Some(schedule)));
        let at = start + Duration::from_secs(3);
        assert_eq!(schedule.expirations(at), (1, None));
    }

    #[test]
    fn a_periodic_timer_counts_the_periods_it_missed() {
        let start = Instant::now();
        let schedule = rate(start + ms(10), ms(10), MissedTicks::Burst);
        let (count, left) = schedule.expirations(start + ms(10));
        assert_eq!(count, 1);
        assert_eq!(left.unwrap().next, start + ms(20));
        let (count, left) = schedule.expirations(start + ms(45));
        assert_eq!(count, 4);
        assert_eq!(left.unwrap().next, start + ms(50));
        let (count, _) = left.unwrap().expirations(start + ms(49));
        assert_eq!(count, 0);
        assert_eq!(schedule.interval(), Some(ms(10)));
    }

    #[test]
    fn skip_and_delay_drop_the_missed_periods() {
        let start = Instant::now();
        let skip = rate(start + ms(10), ms(10), MissedTicks::Skip);
        let (count, left) = skip.expirations(start + ms(45));
        assert_eq!((count, left.unwrap().next), (1, start + ms(50)));
        let delay = rate(start + ms(10), ms(10), MissedTicks::Delay);
        let (count, left) = delay.expirations(start + ms(45));
        assert_eq!((count, left.unwrap().next), (1, start + ms(55)));
        // Late by less than a period: stays on the grid.
        let (count, left) = delay.expirations(start + ms(13));
        assert_eq!((count, left.unwrap().next), (1, start + ms(20)));
    }

    #[test]
    fn a_fixed_delay_counts_from_the_read() {
        let start = Instant::now();
        let schedule = Schedule {
            next: start + ms(10),
            repeat: Some(Repeat::Delay(ms(10))),
        };
        let (count, left) = schedule.expirations(start + ms(37));
        assert_eq!((count, left.unwrap().next), (1, start + ms(47)));
        assert_eq!(schedule.interval(), Some(ms(10)));
    }

    #[test]
    fn a_nanosecond_period_far_behind_does_not_overflow() {
        let start = Instant::now();
        let schedule = rate(start, Duration::from_nanos(1), MissedTicks::Burst);
        let (count, left) = schedule.expirations(start + Duration::from_secs(5));
        assert_eq!(count, 5_000_000_001);
        assert!(left.unwrap().next > start + Duration::from_secs(5));
    }
}
