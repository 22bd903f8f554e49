//! Timers as event sources: [`Timer`] becomes readable when it expires.
//!
//! A `Timer` is registered like a socket, with a [`Token`] and
//! [`Interest::READABLE`] (anything without it is `InvalidInput`: a timer
//! is only ever readable); its event is readable. It is one-shot,
//! periodic at a fixed rate, or repeated with a fixed delay after each
//! read, set by a delay or an [`Instant`] (nanosecond resolution, the
//! monotonic clock), and can be set again or disarmed at any time,
//! registered or not. [`Timer::read`] returns how many times it expired
//! since the last read, so a periodic timer that fell behind says how
//! many periods it missed (or, with [`MissedTicks::Skip`] or
//! [`MissedTicks::Delay`], drops them, as tokio's `MissedTickBehavior`).
//!
//! # What a timer costs
//!
//! No descriptor or handle: every backend keeps one deadline queue per
//! `Poll` (a 4-ary min-heap of 16-byte entries, O(log n) to arm, re-arm
//! or disarm, O(1) to find the earliest) and folds its earliest deadline into
//! the wait. A million armed timers on one `Poll` take a few tens of
//! megabytes and no descriptor beyond the `Poll`'s own (see the README's
//! "a million timers" figures). A timer set from another thread for
//! earlier than the deadline a `poll` is waiting for ends that wait on
//! time.
//!
//! # The event model
//!
//! Timer events follow the edge-triggered contract of every source: after
//! an event, call [`read`](Timer::read) until it returns `WouldBlock`. One
//! event may stand for several expirations; an expiration that was
//! already read may still be followed by its event (events are hints). A
//! periodic timer that is not read is reported again at each expiration.
//! Trigger modes (`Registry::register_with`) do not apply: a timer reports
//! one event per due deadline.
//!
//! Setting a timer (again) discards the expirations not yet read, as
//! `timerfd_settime` does. The count is kept by evmux from the monotonic
//! clock on every backend, so it is the same everywhere; a `read` that
//! finds nothing due changes nothing, so it cannot hide an expiration
//! whose event is on its way. Each `read` that counts expirations hands
//! the timer's new schedule to the queue, so that what was counted is not
//! reported again.
//!
//! # How each backend ends its wait at the earliest deadline
//!
//! | Backend | Mechanism | Resolution of the wait |
//! |---------|-----------|------------------------|
//! | epoll (Linux, Android, illumos) | one `timerfd` (CLOCK_MONOTONIC) per `Poll`, set to the earliest deadline, in a small epoll instance of its own that sits in the `Poll`'s set (its event is told apart by `EPOLLRDNORM`, never by a token); made with the first timer, so two descriptors per `Poll` that has timers; set from another thread, it ends a wait in progress | the kernel's timer (ns), without the timer slack of a wait's own timeout |
//! | kqueue (macOS, iOS, BSDs) | one `EVFILT_TIMER` filter per `Poll` (an ident of its own), one-shot, set to the earliest deadline with `NOTE_NSECONDS` (milliseconds on OpenBSD and DragonFly); one duplicate of the kqueue's descriptor per `Poll` that has timers | the kernel's timer |
//! | poll(2) (and forced with `--cfg evmux_force_poll`) | the wait's own timeout; a change from another thread wakes it through the selector's wake-up descriptor | `ppoll` (ns) on Linux, milliseconds rounded up elsewhere |
//! | event ports (Solaris) | `port_getn`'s timeout; a change from another thread is a `port_send` | nanoseconds |
//! | WASI preview 1 | `poll_oneoff`'s clock subscription | nanoseconds |
//! | Windows | `GetQueuedCompletionStatusEx`'s timeout; a change from another thread for earlier than the wait posts one completion to end it | milliseconds, rounded up |
//! | targets without a backend | none: `Timer::new` returns `Unsupported` | — |
//!
//! `CLOCK_BOOTTIME` (a timer that counts suspended time) is not offered
//! yet: a deadline is an `Instant`, which is `CLOCK_MONOTONIC` on Linux,
//! so it would need an API of its own (delays only) and a second queue
//! per `Poll` with an OS timer of that clock, which only epoll (a
//! `CLOCK_BOOTTIME` timerfd) and macOS's kqueue
//! (`NOTE_MACH_CONTINUOUS_TIME`) have; the other backends' waits have no
//! such clock.
//!
//! A timer belongs to the `Poll` it is registered with (its deadline
//! lives in that `Poll`'s queue); it must be deregistered before it is
//! registered with another one. Dropping it removes it.
//!
//! # Examples
//!
//! ```
//! # #[cfg(all(feature = "os-poll", any(target_os = "linux", target_os = "android")))]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::io;
//! use std::time::Duration;
//!
//! use evmux::time::Timer;
//! use evmux::{Events, Interest, Poll, Token};
//!
//! let mut poll = Poll::new()?;
//! let mut events = Events::with_capacity(8);
//! let mut timer = Timer::new()?;
//! poll.registry().register(&mut timer, Token(0), Interest::READABLE)?;
//! timer.set_after(Duration::from_micros(100))?;
//!
//! let mut fired = 0;
//! while fired == 0 {
//!     poll.poll(&mut events, Some(Duration::from_secs(10)))?;
//!     for event in &events {
//!         assert_eq!(event.token(), Token(0));
//!         loop {
//!             match timer.read() {
//!                 Ok(count) => fired += count,
//!                 Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
//!                 Err(e) => return Err(e.into()),
//!             }
//!         }
//!     }
//! }
//! assert_eq!(fired, 1);
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "os-poll", any(target_os = "linux", target_os = "android"))))]
//! # fn main() {}
//! ```

mod schedule;

use std::time::{Duration, Instant};
use std::{fmt, io};

use crate::event::Source;
use crate::trigger::Trigger;
use crate::{sys, Interest, Registry, Token};

pub use self::schedule::MissedTicks;
pub(crate) use self::schedule::{Repeat, Schedule};

/// A one-shot or periodic timer, readable when it expires. See the
/// [module docs](self).
pub struct Timer {
    inner: sys::timer::Timer,
    schedule: Option<Schedule>,
    missed: MissedTicks,
    registered: sys::RegisteredWith,
}

impl Timer {
    /// Creates a disarmed timer. It holds no descriptor or handle: its
    /// deadline goes into the queue of the `Poll` it is registered with.
    ///
    /// # Errors
    ///
    /// `Unsupported` on a backend without timers (see the module docs).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use evmux::time::Timer;
    ///
    /// // Disarmed: it will not fire until set.
    /// let timer = Timer::new()?;
    /// assert_eq!(timer.deadline(), None);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn new() -> io::Result<Timer> {
        Ok(Timer {
            inner: sys::timer::Timer::new()?,
            schedule: None,
            missed: MissedTicks::default(),
            registered: sys::RegisteredWith::default(),
        })
    }

    /// Arms a one-shot expiration `delay` from now (a zero delay expires at
    /// once).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a delay beyond what an `Instant` can hold.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use evmux::time::Timer;
    /// use evmux::{Events, Interest, Poll, Token};
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let mut timer = Timer::new()?;
    /// poll.registry().register(&mut timer, Token(0), Interest::READABLE)?;
    /// timer.set_after(Duration::from_millis(5))?;
    ///
    /// // The timer's event ends the wait after about 5 ms.
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// assert_eq!(events.iter().next().map(|event| event.token()), Some(Token(0)));
    /// assert_eq!(timer.read()?, 1);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn set_after(&mut self, delay: Duration) -> io::Result<()> {
        self.set(later(delay)?, None)
    }

    /// Arms a one-shot expiration at `deadline` (at once if it has passed).
    ///
    /// # Errors
    ///
    /// None on the backends that have timers; kept for symmetry.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::{Duration, Instant};
    ///
    /// use evmux::time::Timer;
    ///
    /// let mut timer = Timer::new()?;
    /// let deadline = Instant::now() + Duration::from_secs(60);
    /// timer.set_at(deadline)?;
    /// assert_eq!(timer.deadline(), Some(deadline));
    /// assert_eq!(timer.interval(), None);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn set_at(&mut self, deadline: Instant) -> io::Result<()> {
        self.set(deadline, None)
    }

    /// Arms a periodic timer that expires every `interval`, first one
    /// `interval` from now.
    ///
    /// # Errors
    ///
    /// As [`set`](Timer::set).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use evmux::time::Timer;
    /// use evmux::{Events, Interest, Poll, Token};
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let mut tick = Timer::new()?;
    /// poll.registry().register(&mut tick, Token(0), Interest::READABLE)?;
    /// tick.set_interval(Duration::from_millis(2))?;
    ///
    /// // Every 2 ms; a slow loop reads the ticks it missed as one count.
    /// let mut ticks = 0;
    /// while ticks < 3 {
    ///     poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    ///     assert!(!events.is_empty(), "no tick within 10 s");
    ///     ticks += tick.read().unwrap_or(0);
    /// }
    /// assert_eq!(tick.interval(), Some(Duration::from_millis(2)));
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn set_interval(&mut self, interval: Duration) -> io::Result<()> {
        self.set(later(interval)?, Some(interval))
    }

    /// Arms the timer: first at `first`, then, if `interval` is given,
    /// every `interval` after it (fixed rate; a late read is handled as
    /// [`set_missed_ticks`](Timer::set_missed_ticks) says). Replaces any
    /// earlier setting and discards expirations not yet read.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero interval.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::{Duration, Instant};
    ///
    /// use evmux::time::Timer;
    ///
    /// let mut timer = Timer::new()?;
    /// // First in one second, then every 100 ms.
    /// let first = Instant::now() + Duration::from_secs(1);
    /// timer.set(first, Some(Duration::from_millis(100)))?;
    /// assert_eq!(timer.deadline(), Some(first));
    /// // A zero interval is refused.
    /// assert!(timer.set(first, Some(Duration::ZERO)).is_err());
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn set(&mut self, first: Instant, interval: Option<Duration>) -> io::Result<()> {
        let repeat = match interval {
            Some(interval) => Some(Repeat::Rate(nonzero(interval)?, self.missed)),
            None => None,
        };
        self.apply(Some(Schedule {
            next: first,
            repeat,
        }))
    }

    /// Arms a fixed-delay timer: first `delay` from now, then each
    /// expiration `delay` after the [`read`](Timer::read) that counted the
    /// previous one (so a slow handler is never called back-to-back, and
    /// `read` always returns 1).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero delay, or one beyond what an `Instant` can
    /// hold.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::{Duration, Instant};
    ///
    /// use evmux::time::Timer;
    /// use evmux::{Events, Interest, Poll, Token};
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let mut job = Timer::new()?;
    /// poll.registry().register(&mut job, Token(0), Interest::READABLE)?;
    /// job.set_fixed_delay(Duration::from_millis(2))?;
    ///
    /// let mut runs = 0;
    /// while runs < 2 {
    ///     poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    ///     if job.read().is_ok() {
    ///         runs += 1;
    ///         // The next run is 2 ms after this read, however long the
    ///         // job takes.
    ///         assert!(job.deadline().unwrap() > Instant::now());
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn set_fixed_delay(&mut self, delay: Duration) -> io::Result<()> {
        let repeat = Some(Repeat::Delay(nonzero(delay)?));
        let next = later(delay)?;
        self.apply(Some(Schedule { next, repeat }))
    }

    /// Chooses what a fixed-rate periodic timer does when it is read after
    /// whole periods went by ([`MissedTicks::Burst`] by default). Applies
    /// to the current setting and to later ones.
    ///
    /// # Errors
    ///
    /// None on the backends that have timers; kept for symmetry.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::{Duration, Instant};
    ///
    /// use evmux::time::{MissedTicks, Timer};
    ///
    /// let mut tick = Timer::new()?;
    /// tick.set_missed_ticks(MissedTicks::Skip)?;
    /// // Started 25 ms ago with a 10 ms period: three ticks are due, but
    /// // `Skip` reports one and stays on the 10 ms grid.
    /// tick.set(Instant::now() - Duration::from_millis(25), Some(Duration::from_millis(10)))?;
    /// assert_eq!(tick.read()?, 1);
    /// assert_eq!(tick.missed_ticks(), MissedTicks::Skip);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn set_missed_ticks(&mut self, missed: MissedTicks) -> io::Result<()> {
        self.missed = missed;
        match self.schedule {
            Some(Schedule {
                next,
                repeat: Some(Repeat::Rate(interval, _)),
            }) => self.apply(Some(Schedule {
                next,
                repeat: Some(Repeat::Rate(interval, missed)),
            })),
            _ => Ok(()),
        }
    }

    /// What a fixed-rate periodic timer does when read late.
    pub fn missed_ticks(&self) -> MissedTicks {
        self.missed
    }

    /// Disarms the timer and discards expirations not yet read.
    ///
    /// # Errors
    ///
    /// None on the backends that have timers; kept for symmetry.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io;
    /// use std::time::Duration;
    ///
    /// use evmux::time::Timer;
    ///
    /// let mut timer = Timer::new()?;
    /// timer.set_after(Duration::ZERO)?;
    /// // Disarming also drops the expiration not yet read.
    /// timer.disarm()?;
    /// assert_eq!(timer.read().unwrap_err().kind(), io::ErrorKind::WouldBlock);
    /// assert_eq!(timer.deadline(), None);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn disarm(&mut self) -> io::Result<()> {
        self.apply(None)
    }

    /// Returns how many times the timer expired since the last read (or
    /// since it was set), at least 1; always 1 for a fixed-delay timer and
    /// with [`MissedTicks::Delay`] or [`MissedTicks::Skip`].
    ///
    /// The count comes from evmux's own schedule and the monotonic clock;
    /// a read that finds nothing due changes nothing, so it can never hide
    /// an expiration whose event is on its way.
    ///
    /// # Errors
    ///
    /// `WouldBlock` if it has not expired since.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io;
    /// use std::time::{Duration, Instant};
    ///
    /// use evmux::time::Timer;
    ///
    /// let mut timer = Timer::new()?;
    /// // Not expired yet: WouldBlock, as for a socket with nothing to read.
    /// timer.set_after(Duration::from_secs(60))?;
    /// assert_eq!(timer.read().unwrap_err().kind(), io::ErrorKind::WouldBlock);
    ///
    /// // A periodic timer whose first expiration is 25 ms in the past: those
    /// // expirations, missed, are counted by one read.
    /// timer.set(Instant::now() - Duration::from_millis(25), Some(Duration::from_millis(10)))?;
    /// assert!(timer.read()? >= 3);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn read(&mut self) -> io::Result<u64> {
        let Some(schedule) = self.schedule else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        let (count, left) = schedule.expirations(Instant::now());
        if count == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        // The selector's copy moves with it, so that an expiration counted
        // here is not reported again.
        self.apply(left)?;
        Ok(count)
    }

    /// The next expiration, or `None` if the timer is disarmed (or was a
    /// one-shot timer whose expiration was read).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use evmux::time::Timer;
    ///
    /// let mut timer = Timer::new()?;
    /// timer.set_after(Duration::from_secs(5))?;
    /// let left = timer.deadline().expect("armed").saturating_duration_since(std::time::Instant::now());
    /// assert!(left <= Duration::from_secs(5));
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.schedule.map(|schedule| schedule.next)
    }

    /// The period of a periodic timer (fixed rate or fixed delay).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use evmux::time::Timer;
    ///
    /// let mut timer = Timer::new()?;
    /// timer.set_after(Duration::from_secs(5))?;
    /// assert_eq!(timer.interval(), None);
    /// timer.set_interval(Duration::from_secs(1))?;
    /// assert_eq!(timer.interval(), Some(Duration::from_secs(1)));
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn interval(&self) -> Option<Duration> {
        self.schedule.and_then(|schedule| schedule.interval())
    }

    /// Records `schedule` and hands it to the selector's queue.
    fn apply(&mut self, schedule: Option<Schedule>) -> io::Result<()> {
        self.inner.set(schedule)?;
        self.schedule = schedule;
        Ok(())
    }
}

/// `delay` from now.
fn later(delay: Duration) -> io::Result<Instant> {
    Instant::now().checked_add(delay).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the timer's delay is beyond what the clock can represent",
        )
    })
}

/// `period`, unless it is zero.
fn nonzero(period: Duration) -> io::Result<Duration> {
    if period.is_zero() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a periodic timer's interval must not be zero",
        ));
    }
    Ok(period)
}

/// A timer is only ever readable: any other interest would never be met.
fn check_interests(interests: Interest) -> io::Result<()> {
    if interests.is_readable() {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        "a time::Timer must be registered with Interest::READABLE (its only event)",
    ))
}

/// The registration checks are made here, once for every backend:
/// `InvalidInput` without `READABLE`, `AlreadyExists` for a second
/// registration, `NotFound` for a timer not registered with this `Poll`.
impl Source for Timer {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        check_interests(interests)?;
        self.registered.check_unregistered()?;
        self.inner
            .register(registry.selector(), token, self.schedule)?;
        self.registered.set(Some(registry.selector().id()));
        Ok(())
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        check_interests(interests)?;
        self.registered.check(registry.selector().id())?;
        self.inner.reregister(token, self.schedule)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        self.registered.check(registry.selector().id())?;
        self.inner.deregister();
        self.registered.set(None);
        Ok(())
    }

    /// A timer has no descriptor to take a mode: it reports one event per
    /// expiration whatever the mode (see the [`trigger`](crate::trigger)
    /// docs).
    fn register_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        _: Trigger,
    ) -> io::Result<()> {
        self.register(registry, token, interests)
    }

    fn reregister_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        _: Trigger,
    ) -> io::Result<()> {
        self.reregister(registry, token, interests)
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("deadline", &self.deadline())
            .field("interval", &self.interval())
            .finish()
    }
}
