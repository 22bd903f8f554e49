//! `time::Timer` on every backend: no descriptor or handle, a deadline in
//! the selector's timer queue (`selector/timer_queue.rs`), which the
//! selector folds into its wait and reports readable when due.
//!
//! The timer's schedule is kept by `time::Timer`, so that it can be set
//! before it is registered; registering hands it to the selector, and
//! every change (a set, a disarm, a read that counted expirations) is
//! handed on, so that the selector's copy never reports what was already
//! counted. Trigger modes do not apply: a timer reports one event per due
//! deadline.

use std::io;
use std::sync::Arc;

use crate::sys::selector::TimerHost;
use crate::sys::timer_queue::TimerTable;
use crate::sys::Selector;
use crate::time::Schedule;
use crate::Token;

/// Where a timer is registered: the selector's queue, and its id there.
pub(crate) struct Timer {
    registration: Option<(Arc<TimerHost>, u64)>,
}

impl Timer {
    pub(crate) fn new() -> io::Result<Timer> {
        Ok(Timer { registration: None })
    }

    /// Arms (`Some`) or disarms the timer in the selector's queue, if it is
    /// registered.
    pub(crate) fn set(&mut self, schedule: Option<Schedule>) -> io::Result<()> {
        match &self.registration {
            Some((host, id)) => host.set_timer(*id, schedule),
            None => Ok(()),
        }
    }

    pub(crate) fn register(
        &mut self,
        selector: &Selector,
        token: Token,
        schedule: Option<Schedule>,
    ) -> io::Result<()> {
        let host = selector.timer_host()?;
        let id = host.add_timer(token, schedule)?;
        self.registration = Some((Arc::clone(host), id));
        Ok(())
    }

    /// Changes the token and re-arms, as for a descriptor.
    pub(crate) fn reregister(
        &mut self,
        token: Token,
        schedule: Option<Schedule>,
    ) -> io::Result<()> {
        match &self.registration {
            Some((host, id)) => {
                host.set_timer_token(*id, token);
                host.set_timer(*id, schedule)
            }
            None => Ok(()),
        }
    }

    pub(crate) fn deregister(&mut self) {
        if let Some((host, id)) = self.registration.take() {
            host.remove_timer(id);
        }
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
        self.deregister();
    }
}
