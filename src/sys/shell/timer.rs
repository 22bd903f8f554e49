//! `time::Timer` on a target without a backend (the shell): every
//! operation returns `Unsupported`.

use std::io;

use crate::sys::Selector;
use crate::time::Schedule;
use crate::Token;

/// No timer: never constructed, since `new` fails.
#[derive(Debug)]
pub(crate) struct Timer(());

fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "time::Timer is not available on this target (no backend, or no `os-poll` feature)",
    )
}

impl Timer {
    pub(crate) fn new() -> io::Result<Timer> {
        Err(unsupported())
    }

    pub(crate) fn set(&mut self, _: Option<Schedule>) -> io::Result<()> {
        Err(unsupported())
    }

    pub(crate) fn register(
        &mut self,
        _: &Selector,
        _: Token,
        _: Option<Schedule>,
    ) -> io::Result<()> {
        Err(unsupported())
    }

    pub(crate) fn reregister(&mut self, _: Token, _: Option<Schedule>) -> io::Result<()> {
        Err(unsupported())
    }

    pub(crate) fn deregister(&mut self) {}
}
