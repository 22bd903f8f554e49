//! The SIGCHLD fallback: evmux's signal handler makes a self-pipe readable
//! on every `SIGCHLD` (module `signals::pipe`), and
//! `waitid(P_PID, pid, WEXITED | WNOHANG | WNOWAIT)` tells whether *this*
//! child is the one that exited, without reaping it.
//!
//! Only children can be watched this way. A `SIGCHLD` from another child
//! wakes every watch: `has_exited` then answers false, and the watch waits
//! for the next one. A child that exited before its watch was set up is
//! found by the `waitid` at creation, which makes the pipe readable.
//!
//! Man pages: waitid(2), sigaction(2).

use std::io;

use rustix::io::Errno;
use rustix::process::{Pid, WaitId, WaitIdOptions};

use crate::sys::unix::signals::pipe::SignalPipe;
use crate::sys::unix::signals::SignalSet;

#[derive(Debug)]
pub(super) struct SigchldWatch {
    inner: SignalPipe,
}

impl SigchldWatch {
    pub(super) fn new(pid: Pid) -> io::Result<SigchldWatch> {
        let mut signals = SignalSet::EMPTY;
        signals.insert(libc::SIGCHLD);
        let inner = SignalPipe::new(signals)?;
        match exited(pid) {
            Ok(true) => inner.notify(libc::SIGCHLD),
            Ok(false) => {}
            Err(Errno::CHILD) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "process {} is not a child of this process, or was already reaped \
                         (without pidfds, only unreaped children can be watched)",
                        pid.as_raw_nonzero()
                    ),
                ))
            }
            Err(error) => return Err(error.into()),
        }
        Ok(SigchldWatch { inner })
    }

    pub(super) fn has_exited(&self, pid: Pid) -> io::Result<bool> {
        // Empty the pipe first: a SIGCHLD after this makes it readable again.
        self.inner.take()?;
        match exited(pid) {
            Ok(exited) => Ok(exited),
            // Watched while it was a child, gone now: reaped by the program.
            Err(Errno::CHILD) => Ok(true),
            Err(error) => Err(error.into()),
        }
    }
}

/// `pid`, a child, has exited; it is left unreaped.
fn exited(pid: Pid) -> Result<bool, Errno> {
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    loop {
        match rustix::process::waitid(WaitId::Pid(pid), options) {
            Ok(status) => return Ok(status.is_some()),
            Err(Errno::INTR) => continue,
            Err(error) => return Err(error),
        }
    }
}

impl_source!(SigchldWatch);
