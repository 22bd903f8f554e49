//! The overlapped I/O behind `NamedPipe`: the pipe's shared state, the
//! operations it lends the kernel, and what their completions do.
//!
//! A pipe keeps at most one read, one write and one connect in flight, each
//! an `Op` that owns its `OVERLAPPED` and buffer. Following the selector's
//! ownership rule, issuing an operation leaks one reference to its `Op`
//! (the `OVERLAPPED` is its first field, so the pointer the completion
//! carries is the `Op`'s); only dequeuing the completion takes it back.
//! Cancelled operations still complete, so nothing the kernel writes is
//! freed early. An `Op` holds its pipe's `Shared`, so the handle stays
//! open until the last operation on it completed.
//!
//! References: `ConnectNamedPipe`, `ReadFile`, `WriteFile`, `CancelIoEx`,
//! `GetOverlappedResult` (Microsoft Learn).

use std::cell::UnsafeCell;
use std::io;
use std::mem;
use std::os::windows::io::{AsRawHandle, OwnedHandle};
use std::sync::{Arc, Mutex, MutexGuard};

use windows_sys::Win32::Foundation::{
    ERROR_BROKEN_PIPE, ERROR_IO_PENDING, ERROR_MORE_DATA, ERROR_NO_DATA, ERROR_PIPE_LISTENING,
    HANDLE,
};
use windows_sys::Win32::Storage::FileSystem::{ReadFile, WriteFile};
use windows_sys::Win32::System::Pipes::ConnectNamedPipe;
use windows_sys::Win32::System::IO::{CancelIoEx, GetOverlappedResult, OVERLAPPED};

use super::afd::{POLL_CONNECT_FAIL, POLL_DISCONNECT, POLL_RECEIVE, POLL_SEND};
use super::iocp::{Completion, CompletionPort};
use super::selector::{Event, Inner, KEY_PIPE};
use crate::{Interest, Token};

/// The size of the pipe's kernel buffers and of each read.
pub(crate) const BUFFER_SIZE: usize = 64 * 1024;

/// The most one write takes: `WriteFile` counts in `u32`.
pub(crate) const MAX_WRITE: usize = u32::MAX as usize;

pub(crate) struct Shared {
    pub(crate) handle: OwnedHandle,
    pub(crate) state: Mutex<State>,
}

#[derive(Default)]
pub(crate) struct State {
    /// The selector the handle is associated with (once, for good).
    pub(crate) port: Option<Arc<Inner>>,
    /// Token and interest while registered.
    pub(crate) registration: Option<(Token, Interest)>,
    pub(crate) read: ReadState,
    pub(crate) write: WriteState,
    pub(crate) connecting: bool,
    pub(crate) connect_error: Option<io::Error>,
    /// A server end waiting for its client (a read found
    /// `ERROR_PIPE_LISTENING`, or `disconnect`): nothing is reported until
    /// a connect completes.
    pub(crate) listening: bool,
    /// The addresses of the read and the connect in flight (0: none), to
    /// cancel one of them alone. Set when one starts, cleared when its
    /// completion is dequeued, both under this lock.
    pub(crate) read_op: usize,
    pub(crate) connect_op: usize,
    /// Bumped by `disconnect`: reads of an earlier connection are stale.
    pub(crate) generation: u64,
}

#[derive(Default)]
pub(crate) enum ReadState {
    #[default]
    Idle,
    Pending,
    Data(Vec<u8>, usize),
    Eof,
    Failed(io::Error),
}

#[derive(Default)]
pub(crate) enum WriteState {
    #[default]
    Idle,
    Pending,
    Failed(io::Error),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Connect,
    Read,
    Write,
    /// No I/O: reports the pipe's readiness after (re)registration.
    Notify,
}

/// One operation lent to the kernel.
#[repr(C)]
struct Op {
    /// First, so that the completion's pointer is the `Op`'s.
    overlapped: UnsafeCell<OVERLAPPED>,
    buf: UnsafeCell<Vec<u8>>,
    kind: Kind,
    generation: u64,
    pipe: Arc<Shared>,
}

// SAFETY: the cells are never touched by two parties at once. The thread
// that starts the operation fills them, then lends them to the kernel; the
// thread that takes the completion (any thread that polls) reads them only
// after the kernel has finished with them, and the completion port orders
// the two. The other fields are immutable.
unsafe impl Send for Op {}
// SAFETY: as above: shared references never touch the cells concurrently.
unsafe impl Sync for Op {}

pub(crate) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn last_error() -> io::Error {
    io::Error::last_os_error()
}

pub(crate) fn is(error: &io::Error, code: u32) -> bool {
    error.raw_os_error() == Some(code as i32)
}

pub(crate) fn io_before_registration() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        "the named pipe is not registered with a Poll",
    )
}

impl Shared {
    pub(crate) fn raw(&self) -> HANDLE {
        self.handle.as_raw_handle() as HANDLE
    }

    /// Starts `kind` with `buf` through the selector the pipe is
    /// registered with. `Ok` (the address of the operation's
    /// `OVERLAPPED`): a completion will follow (also when the operation
    /// finished at once); `Err`: none will.
    pub(crate) fn start(
        self: &Arc<Self>,
        state: &State,
        kind: Kind,
        buf: Vec<u8>,
    ) -> io::Result<usize> {
        let port = state.port.as_ref().ok_or_else(io_before_registration)?;
        self.start_on(port.port(), state, kind, buf)
    }

    /// As `start`, through `port` (the port of the selector the handle is
    /// associated with, which a dropped pipe no longer holds, and which
    /// outlives its selector while the drain runs).
    pub(crate) fn start_on(
        self: &Arc<Self>,
        port: &CompletionPort,
        state: &State,
        kind: Kind,
        buf: Vec<u8>,
    ) -> io::Result<usize> {
        let op = Arc::new(Op {
            // SAFETY: an all-zero OVERLAPPED is its documented initial value.
            overlapped: UnsafeCell::new(unsafe { mem::zeroed() }),
            buf: UnsafeCell::new(buf),
            kind,
            generation: state.generation,
            pipe: Arc::clone(self),
        });
        let overlapped = op.overlapped.get();
        // SAFETY: the buffer is not touched by us until the completion.
        // Writes are clamped to `MAX_WRITE` by their callers; the rest of a
        // longer buffer would follow as the rest of a short write does.
        let (data, len) = unsafe {
            let buf = &mut *op.buf.get();
            (
                buf.as_mut_ptr(),
                u32::try_from(buf.len()).unwrap_or(u32::MAX),
            )
        };
        let pointer = Arc::into_raw(op);
        port.leaked();
        // SAFETY: `pointer` keeps the `Op`, with its OVERLAPPED and buffer,
        // alive and unmoved until the completion is dequeued (the
        // ownership rule); the handle is open.
        let ok = unsafe {
            match kind {
                Kind::Connect => ConnectNamedPipe(self.raw(), overlapped),
                Kind::Read => ReadFile(self.raw(), data, len, std::ptr::null_mut(), overlapped),
                Kind::Write => WriteFile(self.raw(), data, len, std::ptr::null_mut(), overlapped),
                Kind::Notify => 0,
            }
        };
        let result = if kind == Kind::Notify {
            port.post(KEY_PIPE, overlapped)
        } else if ok != 0 {
            Ok(())
        } else {
            let error = last_error();
            // A read of part of a message (message mode) that finished at
            // once fails with ERROR_MORE_DATA, a warning: the read is done
            // and its completion is queued like any other.
            if is(&error, ERROR_IO_PENDING) || (kind == Kind::Read && is(&error, ERROR_MORE_DATA)) {
                Ok(())
            } else {
                Err(error)
            }
        };
        if result.is_err() {
            port.reclaimed();
            // SAFETY: no operation was started, so no completion will hand
            // the reference back: take it back now, once.
            drop(unsafe { Arc::from_raw(pointer) });
        }
        result.map(|()| overlapped as usize)
    }

    /// Starts a read if none is in flight and nothing is buffered.
    pub(crate) fn start_read(self: &Arc<Self>, state: &mut State) {
        if !matches!(state.read, ReadState::Idle) || state.port.is_none() {
            return;
        }
        state.read = match self.start(state, Kind::Read, vec![0; BUFFER_SIZE]) {
            Ok(op) => {
                state.read_op = op;
                ReadState::Pending
            }
            Err(error) if is(&error, ERROR_BROKEN_PIPE) => ReadState::Eof,
            // Not connected yet: the connect starts the first read.
            Err(error) if is(&error, ERROR_PIPE_LISTENING) => {
                state.listening = true;
                ReadState::Idle
            }
            Err(error) => ReadState::Failed(error),
        };
    }

    /// Cancels what is in flight; the completions still arrive.
    pub(crate) fn cancel_all(&self) {
        // SAFETY: the handle is open; a NULL OVERLAPPED cancels all of the
        // handle's operations issued by any thread.
        unsafe { CancelIoEx(self.raw(), std::ptr::null()) };
    }

    /// Cancels the read and the connect in flight, not a write: data a
    /// write accepted still goes out (the completion of a cancelled
    /// operation still arrives).
    pub(crate) fn cancel_read_and_connect(&self, state: &mut State) {
        for op in [state.read_op, state.connect_op] {
            if op != 0 {
                // SAFETY: the handle is open. `op` is the address of an
                // OVERLAPPED in flight on it: it is cleared under the lock
                // we hold when its completion is dequeued, before the
                // memory goes. The call only compares the address with the
                // handle's pending operations.
                unsafe { CancelIoEx(self.raw(), op as *const OVERLAPPED) };
            }
        }
    }
}

/// How much of `len` bytes one write takes.
pub(crate) fn write_len(len: usize) -> usize {
    len.min(MAX_WRITE)
}

/// Handles a completion with key `KEY_PIPE`: updates the pipe and returns
/// its event, if it is registered and interested.
///
/// # Safety
///
/// The completion's pointer must be one leaked by `Shared::start`.
pub(crate) unsafe fn complete(
    completion: &Completion,
    port: &CompletionPort,
) -> Option<(Event, Arc<dyn Check>)> {
    // SAFETY: the caller guarantees that the pointer is a leaked `Op`,
    // whose reference is taken back once, here.
    let op = unsafe { Arc::from_raw(completion.overlapped() as *const Op) };
    let pipe = Arc::clone(&op.pipe);
    let mut state = lock(&pipe.state);
    let address = completion.overlapped() as usize;
    if state.read_op == address {
        state.read_op = 0;
    }
    if state.connect_op == address {
        state.connect_op = 0;
    }
    let mut bytes = 0;
    let result = if op.kind == Kind::Notify {
        Ok(0)
    } else {
        // SAFETY: the operation completed (its completion was dequeued), so
        // this does not wait and the OVERLAPPED is ours to read.
        let ok = unsafe { GetOverlappedResult(pipe.raw(), op.overlapped.get(), &mut bytes, 0) };
        if ok != 0 {
            Ok(bytes as usize)
        } else {
            Err(last_error())
        }
    };
    let flags = match op.kind {
        Kind::Notify => readiness(&state),
        Kind::Read | Kind::Write | Kind::Connect if op.generation != state.generation => {
            // Issued before `disconnect`, which cancelled it.
            match op.kind {
                Kind::Write => state.write = WriteState::Idle,
                Kind::Connect => state.connecting = false,
                _ => {}
            }
            return None;
        }
        Kind::Connect => {
            state.connecting = false;
            match result {
                // ERROR_NO_DATA: the client came and went already; it was
                // connected (its absence shows at the next read or write).
                Ok(_) => {
                    state.listening = false;
                    pipe.start_read(&mut state);
                    POLL_SEND
                }
                Err(error) if is(&error, ERROR_NO_DATA) => {
                    state.listening = false;
                    pipe.start_read(&mut state);
                    POLL_SEND
                }
                Err(error) => {
                    state.connect_error = Some(error);
                    POLL_CONNECT_FAIL
                }
            }
        }
        Kind::Read => {
            state.read = match result {
                // SAFETY: the kernel is done with the buffer.
                Ok(n) => ReadState::Data(mem::take(unsafe { &mut *op.buf.get() }), n),
                Err(error) if is(&error, ERROR_MORE_DATA) => {
                    let n = bytes as usize;
                    // SAFETY: as above.
                    ReadState::Data(mem::take(unsafe { &mut *op.buf.get() }), n)
                }
                Err(error) if is(&error, ERROR_BROKEN_PIPE) => ReadState::Eof,
                Err(error) => ReadState::Failed(error),
            };
            if let ReadState::Data(buf, n) = &mut state.read {
                buf.truncate(*n);
                *n = 0;
            }
            match state.read {
                ReadState::Eof => POLL_RECEIVE | POLL_DISCONNECT,
                _ => POLL_RECEIVE,
            }
        }
        Kind::Write => {
            // SAFETY: the kernel is done with the buffer.
            let buf = mem::take(unsafe { &mut *op.buf.get() });
            state.write = match result {
                // A short write: the rest goes out before the pipe is
                // writable again (`write` reported it all as written).
                Ok(n) if n > 0 && n < buf.len() => {
                    let rest = buf[n..].to_vec();
                    match pipe.start_on(port, &state, Kind::Write, rest) {
                        Ok(_) => {
                            state.write = WriteState::Pending;
                            return None;
                        }
                        Err(error) => WriteState::Failed(error),
                    }
                }
                Ok(0) if !buf.is_empty() => WriteState::Failed(io::ErrorKind::WriteZero.into()),
                Ok(_) => WriteState::Idle,
                Err(error) => WriteState::Failed(error),
            };
            POLL_SEND
        }
    };
    let (token, interest) = state.registration?;
    let flags = flags & mask(interest);
    drop(state);
    if flags == 0 {
        return None;
    }
    Some((Event { token, flags }, pipe))
}

/// The events a registration for `interest` reports.
fn mask(interest: Interest) -> u32 {
    let mut mask = POLL_CONNECT_FAIL;
    if interest.is_readable() {
        mask |= POLL_RECEIVE | POLL_DISCONNECT;
    }
    if interest.is_writable() {
        mask |= POLL_SEND;
    }
    mask
}

/// The pipe's readiness now, for a new registration: nothing for a server
/// end that waits for its client.
fn readiness(state: &State) -> u32 {
    if state.listening {
        return 0;
    }
    let mut flags = 0;
    match state.read {
        ReadState::Data(..) | ReadState::Failed(_) => flags |= POLL_RECEIVE,
        ReadState::Eof => flags |= POLL_RECEIVE | POLL_DISCONNECT,
        ReadState::Idle | ReadState::Pending => {}
    }
    if !state.connecting && !matches!(state.write, WriteState::Pending) {
        flags |= POLL_SEND;
    }
    flags
}

/// Brings an event waiting for delivery up to date with the pipe's
/// registration as it is now.
pub(crate) trait Check: Send + Sync {
    /// The event for `flags` under the current registration (its token,
    /// what its interest asks for), or `None` if it is no longer wanted.
    fn current(&self, flags: u32) -> Option<Event>;
}

impl Check for Shared {
    fn current(&self, flags: u32) -> Option<Event> {
        let (token, interest) = lock(&self.state).registration?;
        let flags = flags & mask(interest);
        (flags != 0).then_some(Event { token, flags })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Neither case can be made to happen under Wine: a write of more than
    // 4 GiB needs that much memory in the test, and byte-mode pipes (on
    // Windows and Wine alike) complete every overlapped write whole, so the
    // rest-of-a-short-write path in `complete` runs only on a system that
    // ends one early. This checks the clamp that keeps `WriteFile`'s `u32`
    // length from wrapping.
    #[test]
    fn one_write_takes_at_most_what_write_file_can_count() {
        assert_eq!(write_len(10), 10);
        assert_eq!(write_len(MAX_WRITE), MAX_WRITE);
        assert_eq!(write_len(usize::MAX), u32::MAX as usize);
        assert_eq!(u32::try_from(write_len(usize::MAX)).ok(), Some(u32::MAX));
    }
}
