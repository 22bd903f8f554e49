//! A `Waker` made of a wake-up descriptor (an eventfd, or a pipe where
//! there is none), registered edge-triggered and readable like any source.
//! Nobody reads it: wakes that happen before the next `poll` land in the
//! same readiness edge and coalesce into one event.

use std::io;
use std::os::fd::AsFd;

use crate::sys::{IoSourceState, Selector, WakeFd};
use crate::trigger::Trigger;
use crate::{Interest, Token};

#[derive(Debug)]
pub(crate) struct Waker {
    // Before `fd`: a backend that keeps a registration alive past a close
    // (io_uring's poll request holds the file) removes it first; nothing
    // on epoll and kqueue.
    _state: IoSourceState,
    fd: WakeFd,
}

impl Waker {
    pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
        let fd = WakeFd::new()?;
        let mut state = IoSourceState::new();
        // On error `fd` is dropped, and closed, here.
        state.register(
            selector,
            fd.as_fd(),
            token,
            Interest::READABLE,
            Trigger::EDGE,
        )?;
        Ok(Waker { _state: state, fd })
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        self.fd.wake()
    }
}
