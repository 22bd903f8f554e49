//! A wake-up descriptor made of a pipe, for systems without eventfd or
//! `EVFILT_USER` (and forced on Linux with `--cfg evmux_force_pipe_waker`):
//! a wake writes one byte, which makes the read end readable.
//!
//! Man pages: pipe(2).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::io::Errno;

#[derive(Debug)]
pub(crate) struct WakeFd {
    reader: OwnedFd,
    writer: OwnedFd,
}

impl WakeFd {
    pub(crate) fn new() -> io::Result<WakeFd> {
        let (reader, writer) = crate::sys::unix::new_pipe()?;
        Ok(WakeFd { reader, writer })
    }

    /// Makes the read end readable: a new readiness edge even if it already
    /// was. A full pipe (after some 64 KiB of unread wakes) is emptied and
    /// written again.
    pub(crate) fn wake(&self) -> io::Result<()> {
        crate::sys::unix::write_wake(&self.writer, &[1], || self.drain())
    }

    /// Empties the pipe, so that the read end is no longer readable.
    pub(crate) fn drain(&self) -> io::Result<()> {
        let mut buf = [0u8; 256];
        loop {
            match rustix::io::read(&self.reader, &mut buf) {
                Ok(n) if n == buf.len() => continue,
                Ok(_) | Err(Errno::AGAIN) => return Ok(()),
                Err(Errno::INTR) => continue,
                Err(error) => return Err(error.into()),
            }
        }
    }
}

/// The read end: the descriptor to watch.
impl AsFd for WakeFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.reader.as_fd()
    }
}
