//! `time::Timer` on the poll(2) selector: no descriptor, a deadline in the
//! selector's timer queue (`selector/timer_queue.rs`), which the selector
//! folds into its wait and reports readable when due.
//!
//! The timer keeps its schedule so that it can be set before it is
//! registered; registering hands it to the selector. Trigger modes do not
//! apply: a timer reports one event per due deadline.

use std::io;
use std::sync::Arc;

use crate::sys::selector::Shared;
use crate::time::Schedule;
use crate::{Interest, Registry, Token};

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
        registry: &Registry,
        token: Token,
        _: Interest,
    ) -> io::Result<()> {
        if self.registration.is_some() {
            return Err(crate::sys::already_registered());
        }
        let shared = registry.selector().shared();
        let id = shared.add_timer(token, self.schedule);
        self.registration = Some((Arc::clone(shared), id));
        Ok(())
    }

    pub(crate) fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        _: Interest,
    ) -> io::Result<()> {
        match self.registered_with(registry) {
            Some(id) if registry.selector().shared().set_timer_token(id, token) => {
                // Re-registering re-arms, as for a descriptor.
                registry.selector().shared().set_timer(id, self.schedule);
                Ok(())
            }
            _ => Err(crate::sys::not_registered()),
        }
    }

    pub(crate) fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        let Some(id) = self.registered_with(registry) else {
            return Err(crate::sys::not_registered());
        };
        registry.selector().shared().remove_timer(id);
        self.registration = None;
        Ok(())
    }

    /// The timer's id if it is registered with `registry`'s selector.
    fn registered_with(&self, registry: &Registry) -> Option<u64> {
        let (shared, id) = self.registration.as_ref()?;
        Arc::ptr_eq(shared, registry.selector().shared()).then_some(*id)
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
