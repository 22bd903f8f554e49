//! Linux: a pidfd, readable once its process has exited (and until it is
//! reaped, and after). It names its process, never a later one with the
//! same id. The exit status, for a child, comes from
//! `waitid(P_PIDFD, fd, WEXITED | WNOHANG | WNOWAIT)` (Linux 5.4; on 5.3
//! by id, once the pidfd says the process exited).
//! Man pages: pidfd_open(2), poll(2), waitid(2).

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitStatus;

use rustix::event::{PollFd, PollFlags};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, WaitId};

use super::status::{look, Found};

use crate::io_source::IoSource;

#[derive(Debug)]
pub(super) struct PidfdWatch {
    inner: IoSource<OwnedFd>,
}

impl PidfdWatch {
    /// A pidfd for `pid`, or `None` where the kernel has none (`ENOSYS`:
    /// before Linux 5.3; `EPERM`: a seccomp policy that refuses the call).
    pub(super) fn new(pid: Pid) -> io::Result<Option<PidfdWatch>> {
        match rustix::process::pidfd_open(pid, PidfdFlags::empty()) {
            // pidfds are always close-on-exec.
            Ok(fd) => Ok(Some(PidfdWatch {
                inner: IoSource::new(fd),
            })),
            Err(Errno::NOSYS | Errno::PERM) => Ok(None),
            Err(Errno::SRCH) => Err(super::no_such_process(pid)),
            Err(error) => Err(error.into()),
        }
    }

    /// The process has exited: its pidfd is readable.
    pub(super) fn has_exited(&self) -> io::Result<bool> {
        self.inner.do_read(|fd| {
            let mut fds = [PollFd::new(fd, PollFlags::IN)];
            let zero = rustix::event::Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            loop {
                match rustix::event::poll(&mut fds, Some(&zero)) {
                    Ok(_) => return Ok(fds[0].revents().contains(PollFlags::IN)),
                    Err(Errno::INTR) => continue,
                    Err(error) => return Err(error.into()),
                }
            }
        })
    }
}

impl PidfdWatch {
    /// The exit status, left to collect: `None` while the process runs.
    pub(super) fn exit_status(&self, pid: Pid) -> io::Result<Option<ExitStatus>> {
        let found = match look(WaitId::PidFd(self.inner.as_fd())) {
            Ok(found) => found,
            // Linux 5.3: pidfds, but no P_PIDFD. By id, once exited: the
            // id is the process's until it is reaped.
            Err(Errno::INVAL) if self.has_exited()? => look(WaitId::Pid(pid))?,
            Err(Errno::INVAL) => Found::Running,
            Err(error) => return Err(error.into()),
        };
        match found {
            Found::Running => Ok(None),
            Found::Exited(status) => Ok(Some(status)),
            Found::Gone => Err(super::status_gone(pid)),
        }
    }
}

impl_source!(PidfdWatch);
