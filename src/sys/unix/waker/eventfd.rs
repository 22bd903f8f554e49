//! The eventfd waker (Linux, Android).
//!
//! An eventfd registered edge-triggered and readable: every `wake` adds one
//! to its counter, which the kernel reports as a new readiness edge. Nobody
//! reads the counter, so wakes that happen before the next `poll` land in
//! the same edge and coalesce into one event. The counter saturates only
//! after 2^64 - 2 wakes; `wake` then drains it and writes again.
//!
//! Man pages: eventfd(2).

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use rustix::event::{eventfd, EventfdFlags};

use crate::sys::Selector;
use crate::{Interest, Token};

#[derive(Debug)]
pub(crate) struct Waker {
    fd: OwnedFd,
}

impl Waker {
    pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
        let fd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        // On error `fd` is dropped, and closed, here.
        selector.register(fd.as_fd(), token, Interest::READABLE)?;
        Ok(Waker { fd })
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        match rustix::io::write(&self.fd, &1u64.to_ne_bytes()) {
            Ok(_) => Ok(()),
            Err(rustix::io::Errno::AGAIN) => {
                // The counter is full: empty it, then wake again. The read
                // may race with another waker's reset; either way the
                // counter ends up non-full.
                let mut buf = [0u8; 8];
                match rustix::io::read(&self.fd, &mut buf) {
                    Ok(_) | Err(rustix::io::Errno::AGAIN) => self.wake(),
                    Err(error) => Err(error.into()),
                }
            }
            Err(error) => Err(error.into()),
        }
    }
}
