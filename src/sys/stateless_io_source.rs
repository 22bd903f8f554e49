//! `IoSourceState` for backends whose kernel keeps the registration (epoll,
//! kqueue): nothing to remember, nothing to re-arm after `WouldBlock`.

use std::io;

use crate::sys::{RawSource, Selector};
use crate::trigger::Trigger;
use crate::{Interest, Token};

/// Per-source state of a stateless backend: none.
#[derive(Debug, Default)]
pub(crate) struct IoSourceState;

impl IoSourceState {
    pub(crate) fn new() -> IoSourceState {
        IoSourceState
    }

    /// Runs one I/O operation; the kernel re-arms the edge by itself.
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
        selector.register(source, token, interests, trigger)
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
        selector.deregister(source)
    }
}
