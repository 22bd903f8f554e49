//! A `Waker` made of a wake-up descriptor (an eventfd, or a pipe where
//! there is none), registered edge-triggered and readable like any source.
//! Nobody reads it: wakes that happen before the next `poll` land in the
//! same readiness edge and coalesce into one event.

use std::io;
use std::os::fd::AsFd;

use crate::sys::{Selector, WakeFd};
use crate::trigger::Trigger;
use crate::{Interest, Token};

#[derive(Debug)]
pub(crate) struct Waker {
    fd: WakeFd,
}

impl Waker {
    pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
        let fd = WakeFd::new()?;
        // On error `fd` is dropped, and closed, here.
        selector.register(fd.as_fd(), token, Interest::READABLE, Trigger::EDGE)?;
        Ok(Waker { fd })
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        self.fd.wake()
    }
}
