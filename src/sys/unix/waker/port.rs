//! The event ports selector's waker: `port_send` queues a user event that
//! carries the waker's id, which the selector reports, readable, with the
//! waker's token. Wakes coalesce through the portable de-duplication
//! (`crate::wake_dedup`); dropping the waker drops a wake not yet
//! delivered.

use std::sync::Arc;
use std::{fmt, io};

use crate::sys::selector::{Selector, Shared};
use crate::Token;

pub(crate) struct Waker {
    shared: Arc<Shared>,
    id: usize,
    token: Token,
}

impl Waker {
    pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
        let shared = Arc::clone(selector.shared());
        let id = shared.add_waker(token);
        Ok(Waker { shared, id, token })
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        self.shared.send(self.id)
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        self.shared.remove_waker(self.id);
    }
}

impl fmt::Debug for Waker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waker")
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}
