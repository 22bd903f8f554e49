//! The shell: a selector for builds without an OS backend (the `os-poll`
//! feature is off, or the target has none). It compiles on every target and
//! every operation returns an `Unsupported` error; it never panics.

use std::io;
use std::time::Duration;

use crate::sys::RawSource;
use crate::trigger::Trigger;
use crate::{Interest, Token};

pub(crate) use crate::sys::stateless_io_source::IoSourceState;

/// No event can exist without a backend.
pub(crate) type Event = std::convert::Infallible;

/// An always-empty event buffer that remembers its capacity (a `Vec` of an
/// empty type would report an unlimited one).
#[derive(Debug)]
pub(crate) struct Events {
    capacity: usize,
}

impl Events {
    pub(crate) fn with_capacity(capacity: usize) -> Events {
        Events { capacity }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn is_empty(&self) -> bool {
        true
    }

    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Event> {
        [].iter()
    }

    pub(crate) fn clear(&mut self) {}
}

/// The error every operation of the shell returns.
pub(crate) fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "evmux has no readiness backend in this build: enable the `os-poll` feature \
         on a supported target",
    )
}

#[derive(Debug)]
pub(crate) struct Selector {
    // A selector cannot be created, so this is never constructed.
    never: Event,
}

impl Selector {
    // Without `os-poll` there is no `Poll::new` to call this.
    #[cfg_attr(not(feature = "os-poll"), allow(dead_code))]
    pub(crate) fn new() -> io::Result<Selector> {
        Err(unsupported())
    }

    pub(crate) fn try_clone(&self) -> io::Result<Selector> {
        match self.never {}
    }

    pub(crate) fn id(&self) -> usize {
        match self.never {}
    }

    pub(crate) fn select(&self, _: &mut Events, _: Option<Duration>) -> io::Result<()> {
        match self.never {}
    }

    pub(crate) fn register(
        &self,
        _: RawSource<'_>,
        _: Token,
        _: Interest,
        _: Trigger,
    ) -> io::Result<()> {
        match self.never {}
    }

    pub(crate) fn reregister(
        &self,
        _: RawSource<'_>,
        _: Token,
        _: Interest,
        _: Trigger,
    ) -> io::Result<()> {
        match self.never {}
    }

    pub(crate) fn deregister(&self, _: RawSource<'_>) -> io::Result<()> {
        match self.never {}
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for Selector {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        match self.never {}
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for Selector {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        match self.never {}
    }
}

pub(crate) mod event {
    use super::Event;
    use crate::flag_names::FlagNames;
    use crate::Token;

    pub(crate) fn token(event: &Event) -> Token {
        match *event {}
    }

    pub(crate) fn is_readable(event: &Event) -> bool {
        match *event {}
    }

    pub(crate) fn is_writable(event: &Event) -> bool {
        match *event {}
    }

    pub(crate) fn is_error(event: &Event) -> bool {
        match *event {}
    }

    pub(crate) fn is_read_closed(event: &Event) -> bool {
        match *event {}
    }

    pub(crate) fn is_write_closed(event: &Event) -> bool {
        match *event {}
    }

    pub(crate) fn is_priority(event: &Event) -> bool {
        match *event {}
    }

    pub(crate) fn is_aio(event: &Event) -> bool {
        match *event {}
    }

    pub(crate) fn is_lio(event: &Event) -> bool {
        match *event {}
    }

    pub(crate) fn os_flags(event: &Event) -> FlagNames {
        match *event {}
    }
}
