//! The Windows `Waker`: a completion posted to the selector's port with
//! `PostQueuedCompletionStatus`.
//!
//! The post lends the port one reference to the waker's state (the
//! selector's ownership rule); the selector takes it back when it dequeues
//! the wake. A wake already on its way is not posted again, so wakes
//! coalesce; a waker that is dropped marks its state dead, and a wake
//! still queued then yields no event.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::selector::{wake_event, Event, Inner, Selector};
use crate::Token;

/// What a posted wake refers to.
#[derive(Debug)]
pub(crate) struct WakeState {
    token: Token,
    alive: AtomicBool,
    /// A wake is posted and not yet dequeued.
    queued: AtomicBool,
}

impl WakeState {
    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Called when the wake is dequeued: its event, unless the waker is
    /// gone.
    pub(crate) fn take(&self) -> Option<Event> {
        // Acquire: a wake that found the flag set and posted nothing
        // published its writes with its swap; they happen before this
        // event is returned, as the post would have made them.
        self.queued.swap(false, Ordering::AcqRel);
        self.is_alive().then(|| wake_event(self.token))
    }
}

#[derive(Debug)]
pub(crate) struct Waker {
    selector: Arc<Inner>,
    state: Arc<WakeState>,
}

impl Waker {
    pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
        Ok(Waker {
            selector: Arc::clone(selector.inner()),
            state: Arc::new(WakeState {
                token,
                alive: AtomicBool::new(true),
                queued: AtomicBool::new(false),
            }),
        })
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        if self.state.queued.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        self.selector.post_wake(&self.state).inspect_err(|_| {
            self.state.queued.store(false, Ordering::SeqCst);
        })
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        self.state.alive.store(false, Ordering::SeqCst);
    }
}
