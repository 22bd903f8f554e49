//! `time::Timer` on Windows: a waitable timer, reported through
//! `handle_wait`.
//!
//! The timer is a synchronization (auto-reset) timer, high-resolution
//! where the system has them (`CREATE_WAITABLE_TIMER_HIGH_RESOLUTION`,
//! Windows 10 1803; elsewhere, Wine included, a plain one, whose
//! resolution is the system's timer tick). It is set one-shot, relative to
//! now, in units of 100 ns rounded up; a periodic timer's next expiration
//! is set when the timer is read, from evmux's own schedule (the system's
//! period is in whole milliseconds). Registering starts a `HandleWait` on
//! it, which posts the timer's token to the selector's port at each
//! expiration.
//!
//! The wait consumes the timer's signal, and a new wait (`reregister`, or
//! `deregister` then `register`) drops the old one with its queued post:
//! so (re)registering sets the timer again to its pending expiration,
//! which, if it has passed and was not read, signals the new wait at once.
//! The timer thus stays readable across re-registration, as a `timerfd`
//! does.
//!
//! References: `CreateWaitableTimerExW`, `SetWaitableTimer`,
//! `CancelWaitableTimer` (Microsoft Learn).

use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::time::Instant;

use windows_sys::Win32::System::Threading::{
    CancelWaitableTimer, CreateWaitableTimerExW, SetWaitableTimer,
    CREATE_WAITABLE_TIMER_HIGH_RESOLUTION, TIMER_ALL_ACCESS,
};

use super::handle_wait::{HandleWait, Repeat};
use super::selector::Selector;
use crate::time::Schedule;
use crate::trigger::Trigger;
use crate::{Interest, Token};

/// A waitable timer, and its wait once registered.
#[derive(Debug)]
pub(crate) struct Timer {
    /// Declared first: dropped (the wait unregistered) before the handle
    /// closes.
    wait: Option<HandleWait>,
    /// The expiration set and not yet read (`None`: disarmed, or read).
    pending: Option<Schedule>,
    handle: OwnedHandle,
}

impl Timer {
    pub(crate) fn new() -> io::Result<Timer> {
        let handle = create(CREATE_WAITABLE_TIMER_HIGH_RESOLUTION).or_else(|_| create(0))?;
        Ok(Timer {
            wait: None,
            pending: None,
            handle,
        })
    }

    pub(crate) fn arm(&mut self, schedule: Schedule) -> io::Result<()> {
        self.set_waitable(schedule)?;
        self.pending = Some(schedule);
        Ok(())
    }

    fn set_waitable(&self, schedule: Schedule) -> io::Result<()> {
        let delay = schedule.next.saturating_duration_since(Instant::now());
        // Negative: relative, in 100 ns units; at least one.
        let units = delay.as_nanos().div_ceil(100).max(1);
        let due = -i64::try_from(units).unwrap_or(i64::MAX);
        // SAFETY: the handle is an open timer; `due` outlives the call; no
        // completion routine.
        let ok = unsafe { SetWaitableTimer(self.raw(), &due, 0, None, std::ptr::null(), 0) };
        check(ok)
    }

    pub(crate) fn disarm(&mut self) -> io::Result<()> {
        self.pending = None;
        // SAFETY: the handle is an open timer.
        check(unsafe { CancelWaitableTimer(self.raw()) })
    }

    /// Sets the next expiration of a periodic timer.
    pub(crate) fn after_read(&mut self, left: Option<Schedule>) -> io::Result<()> {
        self.pending = None;
        match left {
            Some(schedule) => self.arm(schedule),
            None => Ok(()),
        }
    }

    fn raw(&self) -> windows_sys::Win32::Foundation::HANDLE {
        self.handle.as_raw_handle()
    }

    pub(crate) fn register(
        &mut self,
        selector: &Selector,
        token: Token,
        _: Interest,
        _: Trigger,
    ) -> io::Result<()> {
        // The old wait goes first, so that it cannot take a signal meant
        // for the new one; then the pending expiration is set again (see
        // the module docs).
        self.wait = None;
        self.wait = Some(self.wait_on(selector, token)?);
        match self.pending {
            Some(schedule) => self.set_waitable(schedule),
            None => Ok(()),
        }
    }

    /// A new wait with the new token replaces the old one.
    pub(crate) fn reregister(
        &mut self,
        selector: &Selector,
        token: Token,
        _: Interest,
        _: Trigger,
    ) -> io::Result<()> {
        self.register(selector, token, Interest::READABLE, Trigger::EDGE)
    }

    pub(crate) fn deregister(&mut self, _: &Selector) -> io::Result<()> {
        self.wait = None;
        Ok(())
    }

    fn wait_on(&self, selector: &Selector, token: Token) -> io::Result<HandleWait> {
        // SAFETY: the handle is a waitable timer, and the wait is dropped
        // before it closes (field order, and every replacement happens
        // while `self` holds the handle).
        unsafe { HandleWait::new(selector, self.raw(), token, Repeat::EachSignal) }
    }
}

/// A new synchronization timer with `flags`.
fn create(flags: u32) -> io::Result<OwnedHandle> {
    // SAFETY: no attributes and no name; the call returns a new handle or
    // null.
    let handle = unsafe {
        CreateWaitableTimerExW(std::ptr::null(), std::ptr::null(), flags, TIMER_ALL_ACCESS)
    };
    if handle.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the handle is new and owned by nobody else.
    Ok(unsafe { OwnedHandle::from_raw_handle(handle) })
}

fn check(ok: windows_sys::core::BOOL) -> io::Result<()> {
    if ok == 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}
