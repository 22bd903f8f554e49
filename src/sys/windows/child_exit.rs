//! `process::ChildExit` on Windows: the process handle, opened from the
//! process id with `SYNCHRONIZE` access, is signalled when the process
//! exits and stays signalled. Registering starts a `HandleWait` on it
//! (`Repeat::Once`), which posts the token to the selector's port once the
//! process has exited.
//!
//! Nothing is reaped: the handle only waits, and the exit code stays for
//! `Child::try_wait`/`Child::wait` (or `GetExitCodeProcess`) to collect.
//!
//! References: `OpenProcess`, `WaitForSingleObject`, process security and
//! access rights (Microsoft Learn).

use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};

use windows_sys::Win32::Foundation::{ERROR_INVALID_PARAMETER, WAIT_OBJECT_0, WAIT_TIMEOUT};
use windows_sys::Win32::System::Threading::{
    OpenProcess, WaitForSingleObject, PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SYNCHRONIZE,
};

use super::handle_wait::{HandleWait, Repeat};
use super::selector::Selector;
use crate::{sys, Interest, Token};

#[derive(Debug)]
pub(crate) struct ChildExit {
    pid: u32,
    registered: sys::RegisteredWith,
    /// Before `process`: the wait ends before the handle closes.
    wait: Option<HandleWait>,
    process: OwnedHandle,
}

impl ChildExit {
    pub(crate) fn new(pid: u32) -> io::Result<ChildExit> {
        // As on Unix: 0 (the idle process here) and ids beyond `i32::MAX`
        // are no process's id, and not worth asking the system about.
        if pid == 0 || pid > i32::MAX as u32 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{pid} is not a process id"),
            ));
        }
        // SAFETY: no pointer arguments; the call returns a new handle or
        // null.
        let raw = unsafe {
            OpenProcess(
                PROCESS_SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION,
                0,
                pid,
            )
        };
        if raw.is_null() {
            let error = io::Error::last_os_error();
            return Err(
                if error.raw_os_error() == Some(ERROR_INVALID_PARAMETER as i32) {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("no process with id {pid} to watch for its exit"),
                    )
                } else {
                    error
                },
            );
        }
        Ok(ChildExit {
            pid,
            registered: sys::RegisteredWith::default(),
            wait: None,
            // SAFETY: the handle was just opened and nothing else owns it.
            process: unsafe { OwnedHandle::from_raw_handle(raw) },
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    pub(crate) fn has_exited(&self) -> io::Result<bool> {
        // SAFETY: a process handle this value owns; a zero timeout only
        // looks at its state.
        match unsafe { WaitForSingleObject(self.process.as_raw_handle(), 0) } {
            WAIT_OBJECT_0 => Ok(true),
            WAIT_TIMEOUT => Ok(false),
            _ => Err(io::Error::last_os_error()),
        }
    }

    pub(crate) fn register(
        &mut self,
        selector: &Selector,
        token: Token,
        _: Interest,
    ) -> io::Result<()> {
        self.registered.check_unregistered()?;
        self.wait = Some(self.wait_on(selector, token)?);
        self.registered.set(Some(selector.id()));
        Ok(())
    }

    /// A new wait with the new token replaces the old one; a process that
    /// has exited is reported again.
    pub(crate) fn reregister(
        &mut self,
        selector: &Selector,
        token: Token,
        _: Interest,
    ) -> io::Result<()> {
        self.registered.check(selector.id())?;
        self.wait = Some(self.wait_on(selector, token)?);
        Ok(())
    }

    pub(crate) fn deregister(&mut self, selector: &Selector) -> io::Result<()> {
        self.registered.check(selector.id())?;
        self.wait = None;
        self.registered.set(None);
        Ok(())
    }

    fn wait_on(&self, selector: &Selector, token: Token) -> io::Result<HandleWait> {
        // SAFETY: a process handle, which stays open until the wait is
        // dropped (field order, and every replacement happens while `self`
        // holds the handle). It stays signalled once the process exits, so
        // the wait is made once.
        unsafe { HandleWait::new(selector, self.process.as_raw_handle(), token, Repeat::Once) }
    }
}
