//! The poll(2) selector's waker: it queues its token in the selector's
//! table and, if a `select` is waiting, interrupts it through the
//! selector's wake-up descriptor. A token already queued is not queued
//! twice, so wakes coalesce. Dropping the waker takes back a wake not yet
//! returned, as closing a waker's descriptor does on the other backends.

use std::sync::Arc;
use std::{fmt, io};

use crate::sys::selector::{Selector, Shared};
use crate::Token;

pub(crate) struct Waker {
    shared: Arc<Shared>,
    token: Token,
}

impl Waker {
    pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
        Ok(Waker {
            shared: Arc::clone(selector.shared()),
            token,
        })
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        self.shared.queue_wake(self.token)
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        self.shared.forget_wake(self.token);
    }
}

impl fmt::Debug for Waker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waker")
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}
