//! A wake-up descriptor made of an eventfd (Linux, Android): one
//! descriptor, readable while its counter is non-zero.
//!
//! Man pages: eventfd(2).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::event::{eventfd, EventfdFlags};
use rustix::io::Errno;

#[derive(Debug)]
pub(crate) struct WakeFd {
    fd: OwnedFd,
}

impl WakeFd {
    pub(crate) fn new() -> io::Result<WakeFd> {
        let fd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        Ok(WakeFd { fd })
    }

    /// Makes the descriptor readable: a new readiness edge even if it
    /// already was. The counter saturates only after 2^64 - 2 wakes; it is
    /// then emptied and written again.
    pub(crate) fn wake(&self) -> io::Result<()> {
        crate::sys::unix::write_wake(&self.fd, &1u64.to_ne_bytes(), || self.drain())
    }

    /// Empties the counter, so that the descriptor is no longer readable.
    pub(crate) fn drain(&self) -> io::Result<()> {
        let mut buf = [0u8; 8];
        match rustix::io::read(&self.fd, &mut buf) {
            Ok(_) | Err(Errno::AGAIN) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

impl AsFd for WakeFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
