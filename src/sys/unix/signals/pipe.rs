//! A self-pipe that receives signals from evmux's handler (`slots`): the
//! receiver behind `unix::Signals` and behind `process::ChildExit`'s
//! SIGCHLD fallback. On Linux and Android it is an eventfd (one
//! descriptor: the handler writes to it, `Poll` watches it); elsewhere,
//! and with `--cfg evmux_force_pipe_waker` (so that the suite runs it on
//! Linux), a pipe (two). Man pages: eventfd(2), pipe(2).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::raw::c_int;

use super::handler::{self, Listening};
use super::slots::Slot;
use super::SignalSet;
use crate::io_source::IoSource;

/// The read end of a pipe that evmux's signal handler writes to.
#[derive(Debug)]
pub(crate) struct SignalPipe {
    // Drop order: the slot first, which takes the descriptor away from the
    // handler (waiting for a handler that is using it); only then the read
    // end and the write end. With the read end closed first, a signal
    // arriving in between made the handler write to a pipe without a
    // reader: SIGPIPE, fatal where it has its default action. Then the
    // handler's listener count.
    slot: Slot,
    inner: IoSource<OwnedFd>,
    /// A pipe's write end (`None` for an eventfd, which is both ends).
    _writer: Option<OwnedFd>,
    _listening: Listening,
}

impl SignalPipe {
    pub(crate) fn new(signals: SignalSet) -> io::Result<SignalPipe> {
        let listening = handler::listen(signals)?;
        let (reader, writer) = new_receiver()?;
        let target = writer.as_ref().unwrap_or(&reader).as_raw_fd();
        // SAFETY: `target` is `reader` or `writer`, both kept in the
        // `SignalPipe` and dropped only after `slot` (field order).
        let slot = unsafe { Slot::claim(target, signals) };
        Ok(SignalPipe {
            slot,
            inner: IoSource::new(reader),
            _writer: writer,
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
    // Only the SIGCHLD fallback of `ChildExit` calls it.
    #[cfg_attr(evmux_selector = "kqueue", allow(dead_code))]
    pub(crate) fn notify(&self, signal: c_int) {
        self.slot.notify(signal);
    }
}

/// The descriptor to watch, and the one to write to if another.
#[cfg(all(linux_like, not(evmux_force_pipe_waker)))]
fn new_receiver() -> io::Result<(OwnedFd, Option<OwnedFd>)> {
    use rustix::event::{eventfd, EventfdFlags};
    let fd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
    Ok((fd, None))
}

#[cfg(not(all(linux_like, not(evmux_force_pipe_waker))))]
fn new_receiver() -> io::Result<(OwnedFd, Option<OwnedFd>)> {
    let (reader, writer) = crate::sys::unix::new_pipe()?;
    Ok((reader, Some(writer)))
}

/// Reads the pipe (or the eventfd) until it is empty.
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
