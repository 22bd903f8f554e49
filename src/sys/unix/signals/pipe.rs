//! A self-pipe that receives signals from evmux's handler (`slots`): the
//! receiver behind `unix::Signals` where there is no `EVFILT_SIGNAL`, and
//! behind `process::ChildExit`'s SIGCHLD fallback.

use std::io;
use std::os::fd::OwnedFd;
use std::os::raw::c_int;

use super::handler::{self, Listening};
use super::slots::Slot;
use super::SignalSet;
use crate::io_source::IoSource;

/// The read end of a pipe that evmux's signal handler writes to.
#[derive(Debug)]
pub(crate) struct SignalPipe {
    // Drop order: the slot first, which takes the write end away from the
    // handler (waiting for a handler that is using it) and closes it; only
    // then the read end. The other way round, a signal arriving in between
    // made the handler write to a pipe without a reader: SIGPIPE, fatal
    // where it has its default action. Then the handler's listener count.
    slot: Slot,
    inner: IoSource<OwnedFd>,
    _listening: Listening,
}

impl SignalPipe {
    pub(crate) fn new(signals: SignalSet) -> io::Result<SignalPipe> {
        let listening = handler::listen(signals)?;
        let (reader, writer) = crate::sys::unix::new_pipe()?;
        Ok(SignalPipe {
            slot: Slot::claim(writer, signals),
            inner: IoSource::new(reader),
            _listening: listening,
        })
    }

    /// The signals received since the last call, each once. Nothing in a
    /// child that inherited this receiver across fork(2): the pipe is
    /// shared with the parent, whose wake-ups it would take (see `slots`).
    pub(crate) fn take(&self) -> io::Result<SignalSet> {
        if !self.slot.is_own() {
            return Ok(SignalSet::EMPTY);
        }
        self.inner.do_read(|reader| {
            drain(reader)?;
            Ok(self.slot.take_pending())
        })
    }

    /// Makes the pipe readable with `signal` pending, as if it had arrived.
    pub(crate) fn notify(&self, signal: c_int) {
        self.slot.notify(signal);
    }
}

/// Reads the pipe until it is empty.
fn drain(reader: &OwnedFd) -> io::Result<()> {
    let mut buf = [0; 64];
    loop {
        match rustix::io::read(reader, &mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(rustix::io::Errno::AGAIN) => return Ok(()),
            Err(rustix::io::Errno::INTR) => {}
            Err(error) => return Err(error.into()),
        }
    }
}

impl_source!(SignalPipe);
