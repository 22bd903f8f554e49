//! The `Waker` of a build with `--cfg evmux_io_uring`: on a `Poll` that
//! runs on io_uring, a no-op request on its ring (`RingWaker`, in
//! `selector/uring_waker.rs`); on one that fell back to epoll, the eventfd
//! waker of every epoll build (`fd.rs`).

use std::io;

use crate::sys::selector::RingWaker;
use crate::sys::Selector;
use crate::Token;

#[path = "fd.rs"]
mod fd;

#[derive(Debug)]
pub(crate) enum Waker {
    Ring(RingWaker),
    Fd(fd::Waker),
}

impl Waker {
    pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
        match selector.ring_waker(token) {
            Some(waker) => waker.map(Waker::Ring),
            None => fd::Waker::new(selector, token).map(Waker::Fd),
        }
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        match self {
            Waker::Ring(waker) => waker.wake(),
            Waker::Fd(waker) => waker.wake(),
        }
    }
}
