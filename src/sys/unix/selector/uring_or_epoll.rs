//! The Linux selector of a build with `--cfg evmux_io_uring`: io_uring
//! (`uring.rs`) where the kernel allows it, epoll (`epoll.rs`) otherwise,
//! decided once per `Poll` by `Poll::new`.
//!
//! io_uring is tried unless the environment variable `EVMUX_IO_URING` is
//! `0` (so one installed binary can be compared on both backends). Any
//! failure to set up a ring falls back to epoll: `ENOSYS` (a kernel
//! without io_uring), `EPERM` (the `kernel.io_uring_disabled` sysctl, a
//! container's seccomp profile), `ENOMEM` (locked-memory limits), or a
//! kernel older than 5.13 (no multishot poll). Both backends report
//! epoll's `Event`, so everything above the selector is the same.
//!
//! `IoSourceState` removes a dropped source's poll request on io_uring
//! (see `uring.rs`: the request holds the file open); on epoll it holds
//! nothing and does nothing.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::sys::RawSource;
use crate::trigger::Trigger;
use crate::{Interest, Token};

#[path = "epoll.rs"]
#[allow(dead_code)]
mod epoll;
#[path = "uring.rs"]
mod uring;
#[path = "uring_requests.rs"]
mod uring_requests;
#[path = "uring_ring.rs"]
mod uring_ring;
#[path = "uring_waker.rs"]
mod uring_waker;

pub(crate) use self::epoll::{event, Event, Events, TimerHost};
pub(crate) use self::uring_waker::RingWaker;

/// The environment variable that turns io_uring off (`0`).
const SWITCH: &str = "EVMUX_IO_URING";

/// A `Poll`'s backend.
#[derive(Debug)]
pub(crate) enum Selector {
    Uring(uring::Selector),
    Epoll(epoll::Selector),
}

impl Selector {
    pub(crate) fn new() -> io::Result<Selector> {
        if std::env::var_os(SWITCH).is_none_or(|value| value != "0") {
            match uring::Selector::new() {
                Ok(selector) => return Ok(Selector::Uring(selector)),
                Err(error) => trace!("io_uring unavailable, using epoll: {}", error),
            }
        }
        epoll::Selector::new().map(Selector::Epoll)
    }

    /// A `Waker` of the ring's own on io_uring (`Unsupported` in a forked
    /// child); `None` on epoll (the eventfd waker serves).
    pub(crate) fn ring_waker(&self, token: Token) -> Option<io::Result<RingWaker>> {
        match self {
            Selector::Uring(s) => Some(s.waker(token)),
            Selector::Epoll(_) => None,
        }
    }

    pub(crate) fn try_clone(&self) -> io::Result<Selector> {
        match self {
            Selector::Uring(s) => s.try_clone().map(Selector::Uring),
            Selector::Epoll(s) => s.try_clone().map(Selector::Epoll),
        }
    }

    pub(crate) fn id(&self) -> usize {
        match self {
            Selector::Uring(s) => s.id(),
            Selector::Epoll(s) => s.id(),
        }
    }

    /// The backend's name, for messages and `Debug`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Selector::Uring(_) => "io_uring",
            Selector::Epoll(_) => "epoll",
        }
    }

    /// Whether `Trigger::exclusive` is available: epoll only.
    pub(crate) fn has_exclusive(&self) -> bool {
        matches!(self, Selector::Epoll(_))
    }

    pub(crate) fn timer_host(&self) -> io::Result<&Arc<TimerHost>> {
        match self {
            Selector::Uring(s) => s.timer_host(),
            Selector::Epoll(s) => s.timer_host(),
        }
    }

    #[inline]
    pub(crate) fn select(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Selector::Uring(s) => s.select(events, timeout),
            Selector::Epoll(s) => s.select(events, timeout),
        }
    }

    pub(crate) fn register(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        match self {
            Selector::Uring(s) => s.register(fd, token, interests, trigger),
            Selector::Epoll(s) => s.register(fd, token, interests, trigger),
        }
    }

    pub(crate) fn reregister(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        match self {
            Selector::Uring(s) => s.reregister(fd, token, interests, trigger),
            Selector::Epoll(s) => s.reregister(fd, token, interests, trigger),
        }
    }

    pub(crate) fn deregister(&self, fd: RawSource<'_>) -> io::Result<()> {
        match self {
            Selector::Uring(s) => s.deregister(fd),
            Selector::Epoll(s) => s.deregister(fd),
        }
    }
}

impl AsFd for Selector {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Selector::Uring(s) => s.as_fd(),
            Selector::Epoll(s) => s.as_fd(),
        }
    }
}

impl AsRawFd for Selector {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

/// Per-source state: the ring a source's poll request is on, to remove it
/// when the source is dropped registered. Weak: a source does not keep a
/// dropped `Poll`'s ring (and the files it holds) alive.
#[derive(Debug, Default)]
pub(crate) struct IoSourceState {
    /// Registered: the ring and the descriptor.
    ring: Option<(Weak<uring::Shared>, RawFd)>,
    /// Deregistered: the ring and where the removal was queued.
    removal: Option<(Weak<uring::Shared>, u32)>,
}

impl IoSourceState {
    pub(crate) fn new() -> IoSourceState {
        IoSourceState::default()
    }

    /// Runs one I/O operation; the kernel re-arms by itself.
    pub(crate) fn do_io<T, F, R>(&self, f: F, io: &T, _waits_for: Interest) -> io::Result<R>
    where
        F: FnOnce(&T) -> io::Result<R>,
    {
        f(io)
    }

    pub(crate) fn register(
        &mut self,
        selector: &Selector,
        source: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        selector.register(source, token, interests, trigger)?;
        if let Selector::Uring(uring) = selector {
            self.ring = Some((Arc::downgrade(uring.shared()), source.as_raw_fd()));
            self.removal = None;
        }
        Ok(())
    }

    pub(crate) fn reregister(
        &mut self,
        selector: &Selector,
        source: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        selector.reregister(source, token, interests, trigger)
    }

    pub(crate) fn deregister(
        &mut self,
        selector: &Selector,
        source: RawSource<'_>,
    ) -> io::Result<()> {
        match selector {
            Selector::Uring(uring) => {
                let position = uring.shared().deregister_at(source.as_raw_fd())?;
                self.removal = Some((Arc::downgrade(uring.shared()), position));
                self.ring = None;
                Ok(())
            }
            Selector::Epoll(_) => selector.deregister(source),
        }
    }
}

impl Drop for IoSourceState {
    fn drop(&mut self) {
        if let Some((ring, fd)) = self.ring.take() {
            if let Some(shared) = ring.upgrade() {
                shared.forget(fd);
            }
        } else if let Some((ring, position)) = self.removal.take() {
            if let Some(shared) = ring.upgrade() {
                shared.release(position);
            }
        }
    }
}
