//! Linux: a pidfd, readable once its process has exited (and until it is
//! reaped, and after). Man pages: pidfd_open(2), poll(2).

use std::io;
use std::os::fd::OwnedFd;

use rustix::event::{PollFd, PollFlags};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags};

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

impl_source!(PidfdWatch);
