//! The poll(2) selector's wake-up "descriptor" on WASI preview 2: none.
//!
//! Preview 2 has no pipe or eventfd to make one of, and no threads: while
//! `poll` waits, no other code of the program runs that could register a
//! source or wake a `Waker`, so there is nothing to interrupt. A wake made
//! before `poll` (from the same thread) is queued in the selector's table,
//! which `poll` reads before it waits; so are registrations.

use std::io;

#[derive(Debug)]
pub(crate) struct WakeFd(());

impl WakeFd {
    pub(crate) fn new() -> io::Result<WakeFd> {
        Ok(WakeFd(()))
    }

    /// Nothing to interrupt (see the module docs).
    pub(crate) fn wake(&self) -> io::Result<()> {
        Ok(())
    }

    /// Nothing to empty.
    pub(crate) fn drain(&self) -> io::Result<()> {
        Ok(())
    }
}
