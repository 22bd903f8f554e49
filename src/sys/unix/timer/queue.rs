//! `time::Timer` on the poll(2), event ports and WASI preview 1 selectors: no descriptor, a deadline in the
//! selector's timer queue (`selector/timer_queue.rs`), which the selector
//! folds into its wait and reports readable when due.
//!
//! The timer keeps its schedule so that it can be set before it is
//! registered; registering hands it to the selector. Trigger modes do not
//! apply: a timer reports one event per due deadline.

use std::io;
use std::sync::Arc;

use crate::sys::selector::Shared;
use crate::sys::timer_queue::TimerTable;
use crate::sys::Selector;
use crate::time::Schedule;
use crate::trigger::Trigger;
use crate::{Interest, Token};

/// A timer, and where it is registered.
pub(crate) struct Timer {
    schedule: Option<Schedule>,
    registration: Option<(Arc<Shared>, u64)>,
}

impl Timer {
    pub(crate) fn new() -> io::Result<Timer> {
        Ok(Timer {
            schedule: None,
            registration: None,
        })
    }

    pub(crate) fn arm(&mut self, schedule: Schedule) -> io::Result<()> {
        self.set(Some(schedule));
        Ok(())
    }

    pub(crate) fn disarm(&mut self) -> io::Result<()> {
        self.set(None);
        Ok(())
    }

    /// The queue moved a periodic timer on by itself; nothing to do.
    pub(crate) fn after_read(&mut self, left: Option<Schedule>) -> io::Result<()> {
        self.schedule = left;
        Ok(())
    }

    fn set(&mut self, schedule: Option<Schedule>) {
        self.schedule = schedule;
        if let Some((shared, id)) = &self.registration {
            shared.set_timer(*id, schedule);
        }
    }

    pub(crate) fn register(
        &mut self,
        selector: &Selector,
        token: Token,
        _: Interest,
        _: Trigger,
    ) -> io::Result<()> {
        let shared = selector.shared();
        let id = shared.add_timer(token, self.schedule);
        self.registration = Some((Arc::clone(shared), id));
        Ok(())
    }

    /// Changes the token and re-arms, as for a descriptor.
    pub(crate) fn reregister(
        &mut self,
        _: &Selector,
        token: Token,
        _: Interest,
        _: Trigger,
    ) -> io::Result<()> {
        if let Some((shared, id)) = &self.registration {
            shared.set_timer_token(*id, token);
            shared.set_timer(*id, self.schedule);
        }
        Ok(())
    }

    pub(crate) fn deregister(&mut self, _: &Selector) -> io::Result<()> {
        if let Some((shared, id)) = self.registration.take() {
            shared.remove_timer(id);
        }
        Ok(())
    }
}

impl std::fmt::Debug for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let id = self.registration.as_ref().map(|(_, id)| *id);
        f.debug_struct("Timer").field("id", &id).finish()
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some((shared, id)) = self.registration.take() {
            shared.remove_timer(id);
        }
    }
}
