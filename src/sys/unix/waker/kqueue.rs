//! The `EVFILT_USER` waker (Apple systems, FreeBSD, DragonFly): a user
//! event in the selector's kqueue, added with `EV_CLEAR` and fired with
//! `NOTE_TRIGGER`. Triggers before the next `poll` coalesce into one event.
//! Each waker has an identifier of its own, so a `Poll` may have several.
//!
//! The waker shares the selector's kqueue (a clone of the selector), so
//! that it stays usable whatever happens to the `Poll`; dropping it deletes
//! the user event.
//!
//! Man pages: kevent(2) (`EVFILT_USER`, `NOTE_TRIGGER`).

use std::io;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::sys::selector::{add_with, apply, change, delete, filter, flags};
use crate::sys::unix::kevent as sys;
use crate::sys::Selector;
use crate::trigger::Trigger;
use crate::Token;

#[derive(Debug)]
pub(crate) struct Waker {
    kq: Selector,
    ident: usize,
    token: Token,
}

impl Waker {
    pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
        static NEXT_IDENT: AtomicUsize = AtomicUsize::new(1);
        let kq = selector.try_clone()?;
        let ident = NEXT_IDENT.fetch_add(1, Ordering::Relaxed);
        // Added before the waker exists, so that a failure leaves nothing
        // for `Drop` to delete.
        submit(&kq, ident, token, add_with(Trigger::EDGE), 0)?;
        Ok(Waker { kq, ident, token })
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        let trigger = flags(sys::EV_RECEIPT);
        submit(&self.kq, self.ident, self.token, trigger, sys::NOTE_TRIGGER)
    }
}

/// Submits one change to the user event `ident`.
fn submit(kq: &Selector, ident: usize, token: Token, flags: u64, fflags: u32) -> io::Result<()> {
    let changes = [change(
        ident,
        filter(sys::EVFILT_USER),
        flags,
        fflags,
        token,
    )];
    apply(kq.as_fd(), &changes).map(drop)
}

impl Drop for Waker {
    fn drop(&mut self) {
        if let Err(error) = submit(&self.kq, self.ident, self.token, delete(), 0) {
            warn!("failed to delete a waker's user event: {}", error);
        }
    }
}
