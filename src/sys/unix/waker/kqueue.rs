//! The `EVFILT_USER` waker (Apple systems, FreeBSD, DragonFly): a user
//! event in the selector's kqueue, added with `EV_CLEAR` and fired with
//! `NOTE_TRIGGER`. Triggers before the next `poll` coalesce into one event.
//! Each waker has an identifier of its own, so a `Poll` may have several.
//!
//! The waker keeps its own duplicate of the kqueue descriptor, so that it
//! stays usable whatever happens to the `Poll`; dropping it deletes the
//! user event.
//!
//! Man pages: kevent(2) (`EVFILT_USER`, `NOTE_TRIGGER`).

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::sys::selector::{apply, change, ADD, DELETE};
use crate::sys::Selector;
use crate::Token;

#[derive(Debug)]
pub(crate) struct Waker {
    kq: OwnedFd,
    ident: usize,
    token: Token,
}

impl Waker {
    pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
        static NEXT_IDENT: AtomicUsize = AtomicUsize::new(1);
        let kq = rustix::io::fcntl_dupfd_cloexec(selector, 0)?;
        let ident = NEXT_IDENT.fetch_add(1, Ordering::Relaxed);
        let waker = Waker { kq, ident, token };
        waker.submit(ADD, 0)?;
        Ok(waker)
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        self.submit(libc::EV_RECEIPT as u64, libc::NOTE_TRIGGER)
    }

    fn submit(&self, flags: u64, fflags: u32) -> io::Result<()> {
        let mut changes = [change(
            self.ident,
            libc::EVFILT_USER as i64,
            flags,
            fflags,
            self.token,
        )];
        apply(self.kq.as_fd(), &mut changes).map(drop)
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        if let Err(error) = self.submit(DELETE, 0) {
            warn!("failed to delete a waker's user event: {}", error);
        }
    }
}
