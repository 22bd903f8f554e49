//! `time::Timer` where the backend has no timer yet: every operation
//! returns `Unsupported`, naming the backend (event ports and
//! targets without a backend).

use std::io;

use crate::sys::Selector;
use crate::time::Schedule;
use crate::{Interest, Token};

/// No timer: never constructed, since `new` fails.
#[derive(Debug)]
pub(crate) struct Timer(());

fn unsupported() -> io::Error {
    let backend = if cfg!(evmux_selector = "event_ports") {
        "event ports (Solaris)"
    } else {
        "this target (no backend)"
    };
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("time::Timer is not available on {backend} yet"),
    )
}

impl Timer {
    pub(crate) fn new() -> io::Result<Timer> {
        Err(unsupported())
    }

    pub(crate) fn arm(&mut self, _: Schedule) -> io::Result<()> {
        Err(unsupported())
    }

    pub(crate) fn disarm(&mut self) -> io::Result<()> {
        Err(unsupported())
    }

    pub(crate) fn after_read(&mut self, _: Option<Schedule>) -> io::Result<()> {
        Err(unsupported())
    }

    pub(crate) fn register(&mut self, _: &Selector, _: Token, _: Interest) -> io::Result<()> {
        Err(unsupported())
    }

    pub(crate) fn reregister(&mut self, _: &Selector, _: Token, _: Interest) -> io::Result<()> {
        Err(unsupported())
    }

    pub(crate) fn deregister(&mut self, _: &Selector) -> io::Result<()> {
        Err(unsupported())
    }
}
