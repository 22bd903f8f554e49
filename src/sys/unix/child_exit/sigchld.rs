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
//! A process id outlives its process only until the process is reaped. A
//! child reaped by someone else (the program's own `wait`, or the kernel,
//! where `SIGCHLD` was ignored before evmux's handler came) before its
//! watch looked leaves an id that a new process may take. The watch must
//! not follow it:
//!
//! - once it has seen its child exit, it answers "exited" for good;
//! - on Linux and Android it also compares the process's start time
//!   (`/proc/<pid>/stat`, field 22) with the one it read at creation: a
//!   different start time, or none, means its child is gone.
//!
//! Elsewhere (illumos, Solaris) a child reaped elsewhere before its watch
//! saw it exit, whose id a new child of this process then takes, is
//! followed: reap a watched child only after `has_exited` said so.
//!
//! Man pages: waitid(2), sigaction(2), proc(5).

use std::io;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::process::{Pid, WaitId};

use super::status::{look, Found};
use crate::sys::unix::signals::pipe::SignalPipe;
use crate::sys::unix::signals::SignalSet;

#[derive(Debug)]
pub(super) struct SigchldWatch {
    inner: SignalPipe,
    /// The child's start time, where the system tells it.
    started: Option<u64>,
    /// The child was seen to exit (or to be gone).
    exited: AtomicBool,
}

impl SigchldWatch {
    pub(super) fn new(pid: Pid) -> io::Result<SigchldWatch> {
        let mut signals = SignalSet::EMPTY;
        signals.insert(libc::SIGCHLD);
        let inner = SignalPipe::new(signals)?;
        let watch = SigchldWatch {
            inner,
            started: start_time(pid),
            exited: AtomicBool::new(false),
        };
        match watch.observe(pid)? {
            Found::Exited(_) => watch.inner.notify(libc::SIGCHLD),
            Found::Running => {}
            Found::Gone => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "process {} is not a child of this process, or was already reaped \
                         (without pidfds, only unreaped children can be watched)",
                        pid.as_raw_nonzero()
                    ),
                ))
            }
        }
        Ok(watch)
    }

    pub(super) fn has_exited(&self, pid: Pid) -> io::Result<bool> {
        // Empty the pipe first: a SIGCHLD after this makes it readable again.
        self.inner.take()?;
        Ok(self.observe(pid)? != Found::Running)
    }

    pub(super) fn exit_status(&self, pid: Pid) -> io::Result<Option<ExitStatus>> {
        match self.observe(pid)? {
            Found::Running => Ok(None),
            Found::Exited(status) => Ok(Some(status)),
            Found::Gone => Err(super::status_gone(pid)),
        }
    }

    /// What `waitid` says of the child, checked against what this watch
    /// knows (see the module docs).
    fn observe(&self, pid: Pid) -> io::Result<Found> {
        let found = look(WaitId::Pid(pid))?;
        let same = self.started.is_none() || start_time(pid) == self.started;
        let found = match found {
            Found::Running | Found::Exited(_) if !same => Found::Gone,
            Found::Running if self.exited.load(Ordering::SeqCst) => Found::Gone,
            found => found,
        };
        if found != Found::Running {
            self.exited.store(true, Ordering::SeqCst);
        }
        Ok(found)
    }
}

/// When process `pid` started, in clock ticks since boot: field 22 of
/// `/proc/<pid>/stat` (after the command name, which is in parentheses
/// and may hold anything, so the fields are counted from its last `)`).
/// `None` if there is no such process (or no `/proc`).
#[cfg(linux_like)]
fn start_time(pid: Pid) -> Option<u64> {
    let stat = std::fs::read(format!("/proc/{}/stat", pid.as_raw_nonzero())).ok()?;
    let after_name = stat.iter().rposition(|&byte| byte == b')')? + 1;
    let fields = std::str::from_utf8(&stat[after_name..]).ok()?;
    // Field 3 (the state) comes first: field 22 is the 20th from here.
    fields.split_ascii_whitespace().nth(19)?.parse().ok()
}

#[cfg(not(linux_like))]
fn start_time(_: Pid) -> Option<u64> {
    None
}

impl_source!(SigchldWatch);
