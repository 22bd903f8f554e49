//! An I/O completion port: the queue every Windows event arrives through,
//! and the count of references lent to the kernel through it (the
//! selector's ownership rule), which whoever owns the port takes back.
//!
//! References: `CreateIoCompletionPort`, `GetQueuedCompletionStatusEx`,
//! `PostQueuedCompletionStatus` (Microsoft Learn).

use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE, WAIT_TIMEOUT};
use windows_sys::Win32::System::IO::{
    CreateIoCompletionPort, GetQueuedCompletionStatusEx, PostQueuedCompletionStatus, OVERLAPPED,
    OVERLAPPED_ENTRY,
};

use crate::sys::timeout::millis_rounded_up;

/// `INFINITE`: wait without a timeout.
const INFINITE: u32 = u32::MAX;

/// An owned completion port.
#[derive(Debug)]
pub(crate) struct CompletionPort {
    handle: OwnedHandle,
    /// References lent to the kernel or to the port (requests, wakes, pipe
    /// operations) whose completions are not yet dequeued.
    in_flight: AtomicUsize,
}

/// One dequeued completion.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct Completion(OVERLAPPED_ENTRY);

// SAFETY: a completion is plain data; its pointer is only a value here,
// dereferenced by whoever owns what it points to.
unsafe impl Send for Completion {}

impl Completion {
    pub(crate) fn empty() -> Completion {
        Completion(OVERLAPPED_ENTRY {
            lpCompletionKey: 0,
            lpOverlapped: std::ptr::null_mut(),
            Internal: 0,
            dwNumberOfBytesTransferred: 0,
        })
    }

    /// The key of the handle (or of the post) that produced it.
    pub(crate) fn key(&self) -> usize {
        self.0.lpCompletionKey
    }

    /// The `OVERLAPPED` pointer, or the poll request's `ApcContext`.
    pub(crate) fn overlapped(&self) -> *mut OVERLAPPED {
        self.0.lpOverlapped
    }
}

impl CompletionPort {
    pub(crate) fn new() -> io::Result<CompletionPort> {
        // SAFETY: creating a new port takes no pointers.
        let handle =
            unsafe { CreateIoCompletionPort(INVALID_HANDLE_VALUE, std::ptr::null_mut(), 0, 0) };
        if handle.is_null() {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the port was just created and nothing else owns it.
        let handle = unsafe { OwnedHandle::from_raw_handle(handle as RawHandle) };
        Ok(CompletionPort {
            handle,
            in_flight: AtomicUsize::new(0),
        })
    }

    /// Counts a reference lent to the kernel or the port, which the
    /// completion it comes back with will take back (`reclaimed`).
    pub(crate) fn leaked(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts a lent reference taken back.
    pub(crate) fn reclaimed(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    /// How many lent references are not yet back.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn raw(&self) -> HANDLE {
        self.handle.as_raw_handle() as HANDLE
    }

    /// Associates `handle` with the port: completions of its overlapped
    /// operations arrive here with `key`.
    pub(crate) fn associate(&self, handle: HANDLE, key: usize) -> io::Result<()> {
        // SAFETY: both handles are open for the duration of the call; an
        // invalid `handle` is reported as an error.
        let port = unsafe { CreateIoCompletionPort(handle, self.raw(), key, 0) };
        if port.is_null() {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Queues a completion of our own.
    pub(crate) fn post(&self, key: usize, overlapped: *const OVERLAPPED) -> io::Result<()> {
        // SAFETY: the port is open; the pointer is handed back untouched
        // by `wait`, never dereferenced by the OS.
        let ok = unsafe { PostQueuedCompletionStatus(self.raw(), 0, key, overlapped) };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Dequeues up to `into.len()` completions, waiting up to `timeout` for
    /// the first; returns how many were dequeued (0 on timeout).
    pub(crate) fn wait(
        &self,
        into: &mut [Completion],
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let millis = timeout.map_or(INFINITE, |timeout| millis_rounded_up(timeout, INFINITE - 1));
        let mut removed = 0;
        let count = u32::try_from(into.len()).unwrap_or(u32::MAX);
        // SAFETY: `Completion` is `repr(transparent)` over `OVERLAPPED_ENTRY`,
        // and `into` has room for `count` of them; `removed` is a live local.
        let ok = unsafe {
            GetQueuedCompletionStatusEx(
                self.raw(),
                into.as_mut_ptr().cast::<OVERLAPPED_ENTRY>(),
                count,
                &mut removed,
                millis,
                0,
            )
        };
        if ok == 0 {
            let error = io::Error::last_os_error();
            if error.raw_os_error() == Some(WAIT_TIMEOUT as i32) {
                return Ok(0);
            }
            return Err(error);
        }
        Ok(removed as usize)
    }
}
