//! `NamedPipe`: a Windows named pipe driven by overlapped I/O whose
//! completions arrive through the selector's port.
//!
//! A pipe keeps at most one read, one write and one connect in flight, each
//! an `Op` that owns its `OVERLAPPED` and buffer. Following the selector's
//! ownership rule, issuing an operation leaks one reference to its `Op`
//! (the `OVERLAPPED` is its first field, so the pointer the completion
//! carries is the `Op`'s); only dequeuing the completion takes it back.
//! Cancelled operations still complete, so nothing the kernel writes is
//! freed early.
//!
//! Readiness is edge-triggered by construction: a read that finds no data
//! starts one in the background and returns `WouldBlock`; its completion
//! is the readable event. A write copies the data, starts writing it and
//! returns; `WouldBlock` while one is in flight, whose completion is the
//! writable event.
//!
//! Unlike mio's, this pipe
//!
//! - reports nothing after `deregister` (mio #1760): every completion and
//!   every event waiting for delivery checks the registration;
//! - discards what a read in flight at `disconnect` brings back and
//!   everything buffered (mio #1983): reads carry the generation of the
//!   connection that issued them;
//! - treats `ERROR_MORE_DATA` (a message longer than the buffer, on
//!   message-mode handles) as data, the rest following in the next read
//!   (mio #1921);
//! - never panics on an unexpected state.
//!
//! References: `CreateNamedPipeW`, `ConnectNamedPipe`,
//! `DisconnectNamedPipe`, `ReadFile`, `WriteFile`, `CancelIoEx`,
//! `GetOverlappedResult` (Microsoft Learn).

use std::cell::UnsafeCell;
use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::windows::ffi::OsStrExt;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};
use std::sync::{Arc, Mutex, MutexGuard};
use std::{fmt, mem};

use windows_sys::Win32::Foundation::{
    ERROR_BROKEN_PIPE, ERROR_IO_PENDING, ERROR_MORE_DATA, ERROR_NO_DATA, ERROR_PIPE_CONNECTED,
    ERROR_PIPE_LISTENING, HANDLE, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::Storage::FileSystem::{
    ReadFile, WriteFile, FILE_FLAG_OVERLAPPED, PIPE_ACCESS_DUPLEX,
};
use windows_sys::Win32::System::Pipes::{
    ConnectNamedPipe, CreateNamedPipeW, DisconnectNamedPipe, PIPE_READMODE_BYTE, PIPE_TYPE_BYTE,
    PIPE_UNLIMITED_INSTANCES, PIPE_WAIT,
};
use windows_sys::Win32::System::IO::{CancelIoEx, GetOverlappedResult, OVERLAPPED};

use super::afd::{POLL_CONNECT_FAIL, POLL_DISCONNECT, POLL_RECEIVE, POLL_SEND};
use super::iocp::Completion;
use super::selector::{Event, Inner, KEY_PIPE};
use crate::{event, Interest, Registry, Token};

/// The size of the pipe's kernel buffers and of each read.
const BUFFER_SIZE: usize = 64 * 1024;

/// A non-blocking Windows named pipe (either end).
///
/// The server end is created with [`new`](NamedPipe::new) and waits for a
/// client with [`connect`](NamedPipe::connect); a client end is opened
/// with `std::fs::OpenOptions` (with `FILE_FLAG_OVERLAPPED` among its custom
/// flags) and wrapped with `from_raw_handle`. Register the pipe before
/// connecting, reading or writing: until then reads and writes return
/// `WouldBlock`.
///
/// # Examples
///
/// ```
/// # #[cfg(windows)]
/// # fn main() -> std::io::Result<()> {
/// use evmux::windows::NamedPipe;
/// use evmux::{Interest, Poll, Token};
///
/// let poll = Poll::new()?;
/// let mut server = NamedPipe::new(r"\\.\pipe\evmux-doc-example")?;
/// poll.registry()
///     .register(&mut server, Token(0), Interest::READABLE | Interest::WRITABLE)?;
/// // No client yet: the connect goes on in the background.
/// assert_eq!(server.connect().unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
/// # Ok(())
/// # }
/// # #[cfg(not(windows))]
/// # fn main() {}
/// ```
pub struct NamedPipe {
    shared: Arc<Shared>,
}

struct Shared {
    handle: OwnedHandle,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The selector the handle is associated with (once, for good).
    port: Option<Arc<Inner>>,
    /// Token and interest while registered.
    registration: Option<(Token, Interest)>,
    read: ReadState,
    write: WriteState,
    connecting: bool,
    connect_error: Option<io::Error>,
    /// Bumped by `disconnect`: reads of an earlier connection are stale.
    generation: u64,
}

#[derive(Default)]
enum ReadState {
    #[default]
    Idle,
    Pending,
    Data(Vec<u8>, usize),
    Eof,
    Failed(io::Error),
}

#[derive(Default)]
enum WriteState {
    #[default]
    Idle,
    Pending,
    Failed(io::Error),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
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

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn last_error() -> io::Error {
    io::Error::last_os_error()
}

fn is(error: &io::Error, code: u32) -> bool {
    error.raw_os_error() == Some(code as i32)
}

fn not_registered() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "register the named pipe with a Poll first",
    )
}

impl Shared {
    fn raw(&self) -> HANDLE {
        self.handle.as_raw_handle() as HANDLE
    }

    /// Starts `kind` with `buf`. `Ok(())`: a completion will follow (also
    /// when the operation finished at once); `Err`: none will.
    fn start(self: &Arc<Self>, state: &State, kind: Kind, buf: Vec<u8>) -> io::Result<()> {
        let port = state.port.as_ref().ok_or_else(not_registered)?;
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
        let (data, len) = unsafe {
            let buf = &mut *op.buf.get();
            (buf.as_mut_ptr(), buf.len() as u32)
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
            port.port().post(KEY_PIPE, overlapped)
        } else if ok != 0 {
            Ok(())
        } else {
            let error = last_error();
            if is(&error, ERROR_IO_PENDING) {
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
        result
    }

    /// Starts a read if none is in flight and nothing is buffered.
    fn start_read(self: &Arc<Self>, state: &mut State) {
        if !matches!(state.read, ReadState::Idle) || state.port.is_none() {
            return;
        }
        state.read = match self.start(state, Kind::Read, vec![0; BUFFER_SIZE]) {
            Ok(()) => ReadState::Pending,
            Err(error) if is(&error, ERROR_BROKEN_PIPE) => ReadState::Eof,
            // Not connected yet: the connect starts the first read.
            Err(error) if is(&error, ERROR_PIPE_LISTENING) => ReadState::Idle,
            Err(error) => ReadState::Failed(error),
        };
    }

    /// Cancels what is in flight; the completions still arrive.
    fn cancel_all(&self) {
        // SAFETY: the handle is open; a NULL OVERLAPPED cancels all of the
        // handle's operations issued by any thread.
        unsafe { CancelIoEx(self.raw(), std::ptr::null()) };
    }
}

/// Handles a completion with key `KEY_PIPE`: updates the pipe and returns
/// its event, if it is registered and interested.
///
/// # Safety
///
/// The completion's pointer must be one leaked by `Shared::start`.
pub(crate) unsafe fn complete(completion: &Completion) -> Option<(Event, Arc<dyn Check>)> {
    // SAFETY: the caller guarantees that the pointer is a leaked `Op`,
    // whose reference is taken back once, here.
    let op = unsafe { Arc::from_raw(completion.overlapped() as *const Op) };
    let pipe = Arc::clone(&op.pipe);
    let mut state = lock(&pipe.state);
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
                Ok(_) => {
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
            state.write = match result {
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

/// The pipe's readiness now, for a new registration.
fn readiness(state: &State) -> u32 {
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

/// Asks whether an event waiting for delivery is still wanted.
pub(crate) trait Check: Send + Sync {
    fn is_registered(&self) -> bool;
}

impl Check for Shared {
    fn is_registered(&self) -> bool {
        lock(&self.state).registration.is_some()
    }
}

impl NamedPipe {
    /// Creates the server end of a new pipe instance named `addr` (e.g.
    /// `\\.\pipe\name`), in byte mode, overlapped.
    ///
    /// # Errors
    ///
    /// The OS's errors, e.g. `ERROR_ACCESS_DENIED` for a name in use by
    /// another process's pipe with incompatible settings.
    pub fn new<A: AsRef<OsStr>>(addr: A) -> io::Result<NamedPipe> {
        let name: Vec<u16> = addr.as_ref().encode_wide().chain(Some(0)).collect();
        // SAFETY: `name` is a NUL-terminated UTF-16 string that outlives the
        // call; the security attributes pointer may be NULL.
        let handle = unsafe {
            CreateNamedPipeW(
                name.as_ptr(),
                PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT,
                PIPE_UNLIMITED_INSTANCES,
                BUFFER_SIZE as u32,
                BUFFER_SIZE as u32,
                0,
                std::ptr::null(),
            )
        };
        if handle == INVALID_HANDLE_VALUE {
            return Err(last_error());
        }
        // SAFETY: the handle was just created and nothing else owns it.
        Ok(unsafe { NamedPipe::from_raw_handle(handle as RawHandle) })
    }

    /// Waits for a client to connect to this (server) end.
    ///
    /// `Ok(())` if a client is connected now. `WouldBlock` if the connect
    /// goes on in the background: a writable event follows when a client
    /// connects; [`take_error`](NamedPipe::take_error) then says whether it
    /// failed.
    ///
    /// # Errors
    ///
    /// `NotConnected` if the pipe is not registered; the OS's errors.
    pub fn connect(&self) -> io::Result<()> {
        let mut state = lock(&self.shared.state);
        if state.connecting {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match self.shared.start(&state, Kind::Connect, Vec::new()) {
            Ok(()) => {
                state.connecting = true;
                Err(io::ErrorKind::WouldBlock.into())
            }
            Err(error) if is(&error, ERROR_PIPE_CONNECTED) => {
                self.shared.start_read(&mut state);
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    /// Disconnects the server end from its client, dropping unread data
    /// and anything a read in flight brings back; the pipe can then
    /// [`connect`](NamedPipe::connect) to the next client.
    ///
    /// # Errors
    ///
    /// The OS's errors.
    pub fn disconnect(&self) -> io::Result<()> {
        let mut state = lock(&self.shared.state);
        // SAFETY: the handle is open.
        if unsafe { DisconnectNamedPipe(self.shared.raw()) } == 0 {
            return Err(last_error());
        }
        state.generation += 1;
        if matches!(state.read, ReadState::Pending) {
            self.shared.cancel_all();
        }
        state.read = ReadState::Idle;
        if let WriteState::Failed(_) = state.write {
            state.write = WriteState::Idle;
        }
        Ok(())
    }

    /// Takes the error of a failed background connect, if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        Ok(lock(&self.shared.state).connect_error.take())
    }

    fn do_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut state = lock(&self.shared.state);
        match mem::take(&mut state.read) {
            ReadState::Data(data, pos) => {
                let n = buf.len().min(data.len() - pos);
                buf[..n].copy_from_slice(&data[pos..pos + n]);
                if pos + n < data.len() {
                    state.read = ReadState::Data(data, pos + n);
                } else {
                    self.shared.start_read(&mut state);
                }
                Ok(n)
            }
            ReadState::Eof => {
                state.read = ReadState::Eof;
                Ok(0)
            }
            ReadState::Failed(error) => Err(error),
            ReadState::Pending => {
                state.read = ReadState::Pending;
                Err(io::ErrorKind::WouldBlock.into())
            }
            ReadState::Idle => {
                self.shared.start_read(&mut state);
                match mem::take(&mut state.read) {
                    ReadState::Eof => {
                        state.read = ReadState::Eof;
                        Ok(0)
                    }
                    ReadState::Failed(error) => Err(error),
                    other => {
                        state.read = other;
                        Err(io::ErrorKind::WouldBlock.into())
                    }
                }
            }
        }
    }

    fn do_write(&self, buf: &[u8]) -> io::Result<usize> {
        let mut state = lock(&self.shared.state);
        match mem::take(&mut state.write) {
            WriteState::Failed(error) => Err(error),
            WriteState::Pending => {
                state.write = WriteState::Pending;
                Err(io::ErrorKind::WouldBlock.into())
            }
            WriteState::Idle if state.port.is_none() => Err(io::ErrorKind::WouldBlock.into()),
            WriteState::Idle => match self.shared.start(&state, Kind::Write, buf.to_vec()) {
                Ok(()) => {
                    state.write = WriteState::Pending;
                    Ok(buf.len())
                }
                Err(error) if is(&error, ERROR_NO_DATA) => {
                    Err(io::Error::new(io::ErrorKind::BrokenPipe, error))
                }
                Err(error) => Err(error),
            },
        }
    }
}

impl Read for &NamedPipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.do_read(buf)
    }
}

impl Read for NamedPipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.do_read(buf)
    }
}

impl Write for &NamedPipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.do_write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for NamedPipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.do_write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl event::Source for NamedPipe {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        let mut state = lock(&self.shared.state);
        if state.registration.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the named pipe is already registered",
            ));
        }
        let selector = registry.selector().inner();
        match &state.port {
            Some(port) if !Arc::ptr_eq(port, selector) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "a named pipe cannot move to another Poll",
                ));
            }
            Some(_) => {}
            None => {
                selector.port().associate(self.shared.raw(), KEY_PIPE)?;
                state.port = Some(Arc::clone(selector));
            }
        }
        state.registration = Some((token, interests));
        self.shared.start_read(&mut state);
        self.shared.start(&state, Kind::Notify, Vec::new())
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        let mut state = lock(&self.shared.state);
        match &state.port {
            Some(port)
                if state.registration.is_some()
                    && Arc::ptr_eq(port, registry.selector().inner()) => {}
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "the named pipe is not registered",
                ))
            }
        }
        state.registration = Some((token, interests));
        self.shared.start(&state, Kind::Notify, Vec::new())
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        let mut state = lock(&self.shared.state);
        match &state.port {
            Some(port)
                if state.registration.is_some()
                    && Arc::ptr_eq(port, registry.selector().inner()) => {}
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "the named pipe is not registered",
                ))
            }
        }
        state.registration = None;
        Ok(())
    }
}

impl AsRawHandle for NamedPipe {
    fn as_raw_handle(&self) -> RawHandle {
        self.shared.handle.as_raw_handle()
    }
}

/// The handle must have been opened with `FILE_FLAG_OVERLAPPED`.
impl FromRawHandle for NamedPipe {
    unsafe fn from_raw_handle(handle: RawHandle) -> NamedPipe {
        NamedPipe {
            shared: Arc::new(Shared {
                // SAFETY: the caller passes an open handle that it owns, as
                // `FromRawHandle` requires; ownership moves here.
                handle: unsafe { OwnedHandle::from_raw_handle(handle) },
                state: Mutex::new(State::default()),
            }),
        }
    }
}

impl Drop for NamedPipe {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        state.registration = None;
        // Operations in flight keep `Shared` (and the handle) alive until
        // their completions are dequeued; cancel them so that this happens
        // soon, and let go of the selector so that it can drain them.
        self.shared.cancel_all();
        let port = state.port.take();
        // Drop the selector only after unlocking: if this was its last
        // handle, it drains its port, completing this pipe's operations.
        drop(state);
        drop(port);
    }
}

impl fmt::Debug for NamedPipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamedPipe")
            .field("handle", &self.shared.handle)
            .finish_non_exhaustive()
    }
}
