//! Timers as event sources: [`Timer`] becomes readable when it expires.
//!
//! A `Timer` is registered like a socket, with a [`Token`]; its event is
//! readable. It is one-shot or periodic, set by a delay or an [`Instant`]
//! (nanosecond resolution, the monotonic clock), and can be set again or
//! disarmed at any time, registered or not. [`Timer::read`] returns how
//! many times it expired since the last read, so a periodic timer that
//! fell behind says how many periods it missed.
//!
//! # The event model
//!
//! Timer events follow the edge-triggered contract of every source: after
//! an event, call [`read`](Timer::read) until it returns `WouldBlock`. One
//! event may stand for several expirations; an expiration that was
//! already read may still be followed by its event (events are hints).
//! A periodic timer that is not read is not guaranteed further events on
//! every backend (kqueue and Windows arm the next expiration when the
//! timer is read).
//!
//! Setting a timer (again) discards the expirations not yet read, as
//! `timerfd_settime` does. The count is kept by evmux from the monotonic
//! clock on every backend, so it is the same everywhere; the OS mechanism
//! only makes the timer readable.
//!
//! # How each backend does it
//!
//! | Backend | Mechanism | Resolution of the wait |
//! |---------|-----------|------------------------|
//! | epoll (Linux, Android, illumos) | a `timerfd` (CLOCK_MONOTONIC), one descriptor per timer, registered like any descriptor; periodic natively | the kernel's timer (ns), independent of `poll`'s timeout |
//! | poll(2) (and forced with `--cfg evmux_force_poll`) | a deadline kept by the selector (a heap per `Poll`), folded into its own wait; no descriptor | `ppoll` (ns) on Linux, milliseconds rounded up elsewhere |
//! | kqueue (macOS, iOS, BSDs) | `EVFILT_TIMER` with `NOTE_NSECONDS` (milliseconds on OpenBSD), one-shot, armed again at each read | the kernel's timer |
//! | WASI preview 1 | as poll(2): a deadline in the selector, folded into `poll_oneoff`'s clock subscription | nanoseconds |
//! | Windows | a waitable timer (high-resolution where the system has them), waited on by the thread pool, which posts its expiration to the completion port; armed again at each read | 100 ns units; the system's timer tick without high resolution |
//! | event ports (Solaris) | as poll(2): a deadline in the selector, folded into `port_getn`'s timeout | nanoseconds |
//! | targets without a backend | none: `Timer::new` returns `Unsupported` | — |
//!
//! A timer belongs to the `Poll` it is registered with (on poll(2), its
//! deadline lives in that `Poll`'s selector); it must be deregistered
//! before it is registered with another one. Dropping it removes it.
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

pub(crate) use self::schedule::Schedule;

/// A one-shot or periodic timer, readable when it expires. See the
/// [module docs](self).
pub struct Timer {
    inner: sys::timer::Timer,
    schedule: Option<Schedule>,
    registered: sys::RegisteredWith,
}

impl Timer {
    /// Creates a disarmed timer.
    ///
    /// # Errors
    ///
    /// The OS's errors for creating it (`EMFILE` for a `timerfd`), or
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
            registered: sys::RegisteredWith::default(),
        })
    }

    /// Arms a one-shot expiration `delay` from now (a zero delay expires at
    /// once).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a delay beyond what an `Instant` can hold; the
    /// OS's errors.
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
    /// The OS's errors.
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
    /// every `interval` after it. Replaces any earlier setting and
    /// discards expirations not yet read.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero interval; the OS's errors.
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
        if interval.is_some_and(|interval| interval.is_zero()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a periodic timer's interval must not be zero",
            ));
        }
        let schedule = Schedule {
            next: first,
            interval,
        };
        self.inner.arm(schedule)?;
        self.schedule = Some(schedule);
        Ok(())
    }

    /// Disarms the timer and discards expirations not yet read.
    ///
    /// # Errors
    ///
    /// The OS's errors.
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
        self.inner.disarm()?;
        self.schedule = None;
        Ok(())
    }

    /// Returns how many times the timer expired since the last read (or
    /// since it was set), at least 1.
    ///
    /// # Errors
    ///
    /// `WouldBlock` if it has not expired since; the OS's errors.
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
            // An early report (a kqueue timer clamped on a 32-bit system):
            // the backend arms the rest.
            self.inner.after_read(Some(schedule))?;
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.schedule = left;
        self.inner.after_read(left)?;
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

    /// The period of a periodic timer.
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
        self.schedule.and_then(|schedule| schedule.interval)
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

/// The registration checks are made here, once for every backend:
/// `AlreadyExists` for a second registration, `NotFound` for a timer not
/// registered with this `Poll`.
impl Source for Timer {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.register_with(registry, token, interests, Trigger::EDGE)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.reregister_with(registry, token, interests, Trigger::EDGE)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        self.registered.check(registry.selector().id())?;
        self.inner.deregister(registry.selector())?;
        self.registered.set(None);
        Ok(())
    }

    fn register_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        self.registered.check_unregistered()?;
        let selector = registry.selector();
        self.inner.register(selector, token, interests, trigger)?;
        self.registered.set(Some(selector.id()));
        Ok(())
    }

    fn reregister_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        self.registered.check(registry.selector().id())?;
        let selector = registry.selector();
        self.inner.reregister(selector, token, interests, trigger)
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
