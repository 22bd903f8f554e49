//! `time::Timer` on epoll: a `timerfd` per timer (Linux, Android, illumos).
//!
//! The descriptor is created `CLOCK_MONOTONIC` (the clock behind
//! `Instant`), non-blocking and close-on-exec, and is registered with the
//! selector like any descriptor, so trigger modes apply to it. The kernel
//! makes it readable at the expiration and keeps a periodic timer going
//! by itself; reading it (in `after_read`) clears the readiness. The
//! expiration is set relative to now (an `Instant` cannot be turned into
//! a `timespec`), so it falls at or after the requested `Instant`.
//!
//! Man pages: timerfd_create(2) (`timerfd_settime`, reading the count).

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use rustix::time::{Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags};

use crate::sys::timeout::timespec;
use crate::sys::Selector;
use crate::time::Schedule;
use crate::trigger::Trigger;
use crate::{Interest, Token};

/// A timerfd.
#[derive(Debug)]
pub(crate) struct Timer {
    fd: OwnedFd,
}

impl Timer {
    pub(crate) fn new() -> io::Result<Timer> {
        let flags = TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC;
        let fd = rustix::time::timerfd_create(TimerfdClockId::Monotonic, flags)?;
        Ok(Timer { fd })
    }

    pub(crate) fn arm(&mut self, schedule: Schedule) -> io::Result<()> {
        // A zero value would disarm: an expiration already due is one
        // nanosecond away.
        let value = schedule
            .next
            .saturating_duration_since(Instant::now())
            .max(Duration::from_nanos(1));
        let interval = schedule.interval.unwrap_or(Duration::ZERO);
        self.settime(value, interval)
    }

    pub(crate) fn disarm(&mut self) -> io::Result<()> {
        self.settime(Duration::ZERO, Duration::ZERO)
    }

    /// Reads the kernel's count, which clears the readiness; evmux counts
    /// from its own schedule (see `crate::time`).
    pub(crate) fn after_read(&mut self, _left: Option<Schedule>) -> io::Result<()> {
        let mut count = [0u8; 8];
        match rustix::io::read(&self.fd, &mut count) {
            Ok(_) | Err(rustix::io::Errno::AGAIN) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    fn settime(&self, value: Duration, interval: Duration) -> io::Result<()> {
        let spec = Itimerspec {
            it_interval: timespec(interval),
            it_value: timespec(value),
        };
        rustix::time::timerfd_settime(&self.fd, TimerfdTimerFlags::empty(), &spec)?;
        Ok(())
    }

    pub(crate) fn register(
        &mut self,
        selector: &Selector,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        selector.register(self.fd.as_fd(), token, interests, trigger)
    }

    pub(crate) fn reregister(
        &mut self,
        selector: &Selector,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        selector.reregister(self.fd.as_fd(), token, interests, trigger)
    }

    pub(crate) fn deregister(&mut self, selector: &Selector) -> io::Result<()> {
        selector.deregister(self.fd.as_fd())
    }
}
