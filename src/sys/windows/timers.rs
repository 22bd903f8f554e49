//! `time::Timer`s on Windows: one deadline queue per selector, folded into
//! the completion port's wait; no handle per timer.
//!
//! `select` waits on the port for at most the time left to the earliest
//! deadline (`GetQueuedCompletionStatusEx` takes milliseconds: rounded up,
//! so the wait ends at or after the deadline), then reports the timers
//! that are due. A timer set from another thread for earlier than the
//! running wait ends posts one completion (`KEY_TIMER`, no `OVERLAPPED`),
//! which ends the wait; `select` then waits again for the new earliest
//! deadline. One post per wait at most: later changes find it on its way.
//!
//! References: `GetQueuedCompletionStatusEx`, `PostQueuedCompletionStatus`
//! (Microsoft Learn).

use std::time::{Duration, Instant};

use crate::sys::timer_queue::TimerQueue;

/// The queue, and what a wait in progress waits for.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    pub(crate) queue: TimerQueue,
    waiting: Waiting,
}

/// Whether a `select` waits on the port, and until when.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    #[default]
    No,
    /// Until this instant; `None` without a time limit.
    Until(Option<Instant>),
    /// A completion is on its way to end the wait.
    Woken,
}

impl Timers {
    /// Starts a wait of at most `wait`: returns how long to wait (less, for
    /// the earliest deadline) and whether that was shortened for a timer.
    pub(crate) fn begin_wait(&mut self, wait: Option<Duration>) -> (Option<Duration>, bool) {
        let (wait, for_timer) = self.queue.bound(wait);
        let until = wait.and_then(|wait| Instant::now().checked_add(wait));
        self.waiting = Waiting::Until(until);
        (wait, for_timer)
    }

    pub(crate) fn end_wait(&mut self) {
        self.waiting = Waiting::No;
    }

    /// After a change: true if a wait in progress must be ended (once) for
    /// an earlier deadline; the caller posts the completion.
    pub(crate) fn must_wake(&mut self) -> bool {
        let Waiting::Until(until) = self.waiting else {
            return false;
        };
        let Some(next) = self.queue.next_deadline() else {
            return false;
        };
        if until.is_some_and(|until| until <= next) {
            return false;
        }
        self.waiting = Waiting::Woken;
        true
    }

    /// Undoes `must_wake` after a post failed.
    pub(crate) fn wake_failed(&mut self) {
        if self.waiting == Waiting::Woken {
            self.waiting = Waiting::Until(None);
        }
    }
}
