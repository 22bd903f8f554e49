//! The shell's waker: it can only be created from a `Selector`, which the
//! shell never produces.

use std::io;

use crate::sys::Selector;
use crate::Token;

#[derive(Debug)]
pub(crate) struct Waker {
    never: std::convert::Infallible,
}

impl Waker {
    pub(crate) fn new(_: &Selector, _: Token) -> io::Result<Waker> {
        Err(super::selector::unsupported())
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        match self.never {}
    }
}
