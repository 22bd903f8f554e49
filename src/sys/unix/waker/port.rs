//! The event ports selector's waker: `port_send` queues a user event that
//! carries the waker's id, which the selector reports, readable, with the
//! waker's token. Every `port_send` queues one more event (they do not
//! coalesce as an eventfd's writes do), so this waker always uses the
//! de-duplication of `crate::wake_dedup`, cleared by the selector when it
//! returns the event: a storm of wakes queues two events, not one each,
//! and the selector drops the second as stale.
//! Dropping the waker drops a wake not yet delivered.

use std::sync::Arc;
use std::{fmt, io};

use crate::sys::selector::{Selector, Shared};
use crate::wake_dedup::WakeState;
use crate::Token;

pub(crate) struct Waker {
    shared: Arc<Shared>,
    id: usize,
    token: Token,
    state: Arc<WakeState>,
}

impl Waker {
    pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
        let shared = Arc::clone(selector.shared());
        let (id, state) = shared.add_waker(token);
        Ok(Waker {
            shared,
            id,
            token,
            state,
        })
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        self.state.wake_with(|| self.shared.send(self.id))
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
