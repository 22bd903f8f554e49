//! Waits on any waitable handle (a process, a waitable timer, an event)
//! and reports it to a selector: each time the handle is signalled, an
//! event carrying a token, readable, arrives through the selector's
//! completion port.
//!
//! The wait is the thread pool's (`RegisterWaitForSingleObject`): a pool
//! thread waits on the handle and runs a callback that posts a completion
//! to the port the way a `Waker` does (it is one: wakes coalesce, and a
//! dropped `HandleWait` takes a wake still queued with it). Where the handle stays
//! signalled once signalled (a process, a manual-reset event), wait
//! `Repeat::Once`, or the callback would run without end; an auto-reset
//! object (a synchronization timer, an auto-reset event) can be waited on
//! `Repeat::EachSignal`, each wait consuming one signal.
//!
//! Dropping a `HandleWait` unregisters the wait and blocks until a
//! callback that is running has returned (`UnregisterWaitEx` with
//! `INVALID_HANDLE_VALUE`), so the handle may be closed right after.
//!
//! The `NtAssociateWaitCompletionPacket` family would post without a pool
//! thread, but it is undocumented ntdll API of Windows 8 and later, and
//! was not tried under Wine 8, which runs evmux's Windows tests; the
//! thread-pool wait is documented everywhere and runs under Wine 8
//! (`tests/child_exit_windows.rs`).
//!
//! References: `RegisterWaitForSingleObject`, `UnregisterWaitEx`
//! (Microsoft Learn).

use std::ffi::c_void;
use std::io;

use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::System::Threading::{
    RegisterWaitForSingleObject, UnregisterWaitEx, WT_EXECUTEDEFAULT, WT_EXECUTEONLYONCE,
};

use super::selector::Selector;
use super::waker::Waker;
use crate::Token;

/// `INFINITE`: the wait has no timeout.
const INFINITE: u32 = u32::MAX;

/// How often a wait reports its handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
// Processes (`ChildExit`) wait once, and exist only with `os-ext`.
pub(crate) enum Repeat {
    /// Once, then never again (a process, a manual-reset object).
    Once,
    /// At every signal (an auto-reset object).
    // No user since timers moved to the selector's queue; kept for the
    // next auto-reset object.
    #[allow(dead_code)]
    EachSignal,
}

/// A registered wait on a handle; see the module docs.
#[derive(Debug)]
pub(crate) struct HandleWait {
    wait: HANDLE,
    /// The callback's context: a `Box<Waker>`, freed once the wait is gone.
    waker: *mut Waker,
}

// SAFETY: the wait handle may be unregistered from any thread, and the
// context is a `Waker`, which is `Send` and `Sync`; nothing else is held.
unsafe impl Send for HandleWait {}
// SAFETY: as for `Send`; `&HandleWait` gives access to nothing.
unsafe impl Sync for HandleWait {}

impl HandleWait {
    /// Starts waiting on `handle`; its signals arrive at `selector` as
    /// readable events with `token`.
    ///
    /// # Safety
    ///
    /// `handle` must be a waitable handle that stays open until the
    /// returned `HandleWait` is dropped.
    pub(crate) unsafe fn new(
        selector: &Selector,
        handle: HANDLE,
        token: Token,
        repeat: Repeat,
    ) -> io::Result<HandleWait> {
        let waker = Box::into_raw(Box::new(Waker::new(selector, token)?));
        let flags = match repeat {
            Repeat::Once => WT_EXECUTEDEFAULT | WT_EXECUTEONLYONCE,
            Repeat::EachSignal => WT_EXECUTEDEFAULT,
        };
        let mut wait: HANDLE = std::ptr::null_mut();
        // SAFETY: `wait` is a live local the call writes; the caller
        // guarantees `handle`; the context stays valid until `Drop` has
        // unregistered the wait and every callback has returned.
        let ok = unsafe {
            RegisterWaitForSingleObject(
                &mut wait,
                handle,
                Some(signalled),
                waker as *const c_void,
                INFINITE,
                flags,
            )
        };
        if ok == 0 {
            let error = io::Error::last_os_error();
            // SAFETY: the registration failed, so no callback holds the
            // pointer made above.
            drop(unsafe { Box::from_raw(waker) });
            return Err(error);
        }
        Ok(HandleWait { wait, waker })
    }
}

/// The pool thread's callback: posts the wake.
unsafe extern "system" fn signalled(context: *mut c_void, _timed_out: bool) {
    // SAFETY: the context is the `Box<Waker>` of a `HandleWait`, which
    // frees it only after `UnregisterWaitEx` has waited for this callback.
    let waker = unsafe { &*(context as *const Waker) };
    if let Err(error) = waker.wake() {
        warn!("failed to post a handle's signal: {}", error);
    }
}

impl Drop for HandleWait {
    fn drop(&mut self) {
        // The source is deregistered (or registered anew): a signal still
        // queued, or posted by a callback running now, is not reported.
        // SAFETY: the box made in `new` is freed only at the end of this
        // function, if at all.
        unsafe { &*self.waker }.discard_queued();
        // SAFETY: `wait` came from `RegisterWaitForSingleObject` and is
        // unregistered once; `INVALID_HANDLE_VALUE` makes the call wait for
        // a running callback.
        if unsafe { UnregisterWaitEx(self.wait, INVALID_HANDLE_VALUE) } == 0 {
            let error = io::Error::last_os_error();
            warn!("failed to unregister a handle wait: {}", error);
            // The callback may still run: leak the context rather than
            // free it under it.
            return;
        }
        // SAFETY: the wait is gone and no callback runs any more, so this
        // is the only owner of the box made in `new`.
        drop(unsafe { Box::from_raw(self.waker) });
    }
}
