//! The Windows `Waker`: a completion posted to the selector's port with
//! `PostQueuedCompletionStatus`.
//!
//! The post lends the port one reference to the waker's state (the
//! selector's ownership rule); the selector takes it back when it dequeues
//! the wake. Every post queues a completion of its own, so every waker
//! coalesces its wakes with the protocol of `crate::wake_dedup`: a storm
//! makes two posts per `poll`, and the selector drops the second one's
//! event, whose wakes the first carried.
//!
//! A wake posted before the waker is dropped is still delivered, as mio's
//! is (a thread may wake the poller and exit). A `HandleWait`, which is
//! dropped when its source is deregistered, discards its queued wake with
//! `discard_queued`.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::selector::{wake_event, Event, Inner, Selector};
use crate::{wake_dedup, Token};

/// What a posted wake refers to.
#[derive(Debug)]
pub(crate) struct WakeState {
    token: Token,
    alive: AtomicBool,
    /// Which posts may be skipped, and which dequeued ones are stale.
    dedup: wake_dedup::WakeState,
}

impl WakeState {
    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Called when a wake is dequeued (only by `select`, which `poll`
    /// runs): its event, unless it is stale or the waker is gone. Acquires
    /// what every wake it stands for published, skipped ones included.
    pub(crate) fn take(&self) -> Option<Event> {
        let fresh = self.dedup.event_returned();
        (fresh && self.is_alive()).then(|| wake_event(self.token))
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
                dedup: wake_dedup::WakeState::new(),
            }),
        })
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        self.state
            .dedup
            .wake_with(|| self.selector.post_wake(&self.state))
    }
}

impl Waker {
    /// Makes a wake still queued yield no event (used once the waker is no
    /// longer wanted). Only `handle_wait` (feature `os-ext`) calls it.
    #[cfg_attr(not(feature = "os-ext"), allow(dead_code))]
    pub(crate) fn discard_queued(&self) {
        self.state.alive.store(false, Ordering::SeqCst);
    }
}
