//! `NamedPipe`: a Windows named pipe driven by overlapped I/O whose
//! completions arrive through the selector's port.
//!
//! The operations in flight and their completions are in `overlapped.rs`,
//! with the rule that keeps the memory the kernel writes alive.
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
//! - never panics on an unexpected state;
//! - finishes a write still in flight when its `Poll` is dropped (the
//!   drop returns at once, as mio's), and then closes the handle, so that
//!   a client that reads gets the data and the end of stream, however
//!   slowly it reads; the write fails when the client leaves
//!   (`reclaim.rs`). mio's is never taken back, so its
//!   handle stays open for good.
//!
//! As mio's, it reports nothing for a server end until a client connects
//! (then writable), lets a pending write finish when the pipe is dropped
//! (only the read and the connect are cancelled), returns the OS's own
//! errors (`ERROR_NO_DATA` for a write once the client has gone), and
//! takes a client that connected and left before `connect` as connected.
//!
//! References: `CreateNamedPipeW`, `DisconnectNamedPipe` (Microsoft Learn).

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::windows::ffi::OsStrExt;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};
use std::sync::{Arc, Mutex};
use std::{fmt, mem};

use windows_sys::Win32::Foundation::{ERROR_NO_DATA, ERROR_PIPE_CONNECTED, INVALID_HANDLE_VALUE};
use windows_sys::Win32::Storage::FileSystem::{FILE_FLAG_OVERLAPPED, PIPE_ACCESS_DUPLEX};
use windows_sys::Win32::System::Pipes::{
    CreateNamedPipeW, DisconnectNamedPipe, PIPE_READMODE_BYTE, PIPE_TYPE_BYTE,
    PIPE_UNLIMITED_INSTANCES, PIPE_WAIT,
};

use super::overlapped::{
    io_before_registration, is, last_error, lock, write_len, Kind, ReadState, Shared, State,
    WriteState, BUFFER_SIZE,
};
use super::selector::KEY_PIPE;
use crate::trigger::Trigger;
use crate::{event, Interest, Registry, Token};

/// A non-blocking Windows named pipe (either end).
///
/// The server end is created with [`new`](NamedPipe::new) and waits for a
/// client with [`connect`](NamedPipe::connect); a client end is opened
/// with `std::fs::OpenOptions` (with `FILE_FLAG_OVERLAPPED` among its custom
/// flags) and wrapped with `from_raw_handle`. Register the pipe before
/// connecting, reading or writing: as with mio, until then an operation
/// that has to start I/O returns a `NotFound` error (data already read is
/// still returned).
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

impl NamedPipe {
    /// Creates the server end of a new pipe instance named `addr` (e.g.
    /// `\\.\pipe\name`), in byte mode, overlapped.
    ///
    /// # Errors
    ///
    /// The OS's errors, e.g. `ERROR_ACCESS_DENIED` for a name in use by
    /// another process's pipe with incompatible settings.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(windows)]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use evmux::windows::NamedPipe;
    ///
    /// let server = NamedPipe::new(r"\\.\pipe\evmux-example-new")?;
    /// # drop(server);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(windows))]
    /// # fn main() {}
    /// ```
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
    /// `NotFound` if the pipe is not registered; the OS's errors.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(windows)]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io;
    /// use std::time::Duration;
    ///
    /// use evmux::windows::NamedPipe;
    /// use evmux::{Events, Interest, Poll, Token};
    ///
    /// let name = r"\\.\pipe\evmux-example-connect";
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let mut server = NamedPipe::new(name)?;
    /// poll.registry().register(&mut server, Token(0), Interest::WRITABLE)?;
    ///
    /// // No client yet: the connect goes on in the background.
    /// assert_eq!(server.connect().unwrap_err().kind(), io::ErrorKind::WouldBlock);
    /// let _client = std::fs::OpenOptions::new().read(true).write(true).open(name)?;
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// // Writable: connected, unless `take_error` says otherwise.
    /// assert!(server.take_error()?.is_none());
    /// # Ok(())
    /// # }
    /// # #[cfg(not(windows))]
    /// # fn main() {}
    /// ```
    pub fn connect(&self) -> io::Result<()> {
        let mut state = lock(&self.shared.state);
        if state.connecting {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match self.shared.start(&state, Kind::Connect, Vec::new()) {
            Ok(op) => {
                state.connecting = true;
                state.connect_op = op;
                Err(io::ErrorKind::WouldBlock.into())
            }
            // Connected already; with ERROR_NO_DATA the client has gone
            // again, which the next read or write reports (as with mio).
            Err(error) if is(&error, ERROR_PIPE_CONNECTED) || is(&error, ERROR_NO_DATA) => {
                let was_listening = std::mem::replace(&mut state.listening, false);
                self.shared.start_read(&mut state);
                if was_listening {
                    // Registered while it waited for its client, so nothing
                    // was reported yet: report the readiness now, as a
                    // connect that completes later does.
                    self.shared.start(&state, Kind::Notify, Vec::new())?;
                }
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
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(windows)]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io;
    ///
    /// use evmux::windows::NamedPipe;
    /// use evmux::{Interest, Poll, Token};
    ///
    /// let name = r"\\.\pipe\evmux-example-disconnect";
    /// let poll = Poll::new()?;
    /// let mut server = NamedPipe::new(name)?;
    /// poll.registry().register(&mut server, Token(0), Interest::READABLE)?;
    /// let client = std::fs::OpenOptions::new().read(true).write(true).open(name)?;
    /// // The client is there already: connected at once.
    /// server.connect()?;
    ///
    /// // Done with this client; wait for the next one.
    /// server.disconnect()?;
    /// drop(client);
    /// assert_eq!(server.connect().unwrap_err().kind(), io::ErrorKind::WouldBlock);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(windows))]
    /// # fn main() {}
    /// ```
    pub fn disconnect(&self) -> io::Result<()> {
        let mut state = lock(&self.shared.state);
        // SAFETY: the handle is open.
        if unsafe { DisconnectNamedPipe(self.shared.raw()) } == 0 {
            return Err(last_error());
        }
        state.generation += 1;
        state.listening = true;
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
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(windows)]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use evmux::windows::NamedPipe;
    ///
    /// let server = NamedPipe::new(r"\\.\pipe\evmux-example-take-error")?;
    /// // No background connect has failed.
    /// assert!(server.take_error()?.is_none());
    /// # Ok(())
    /// # }
    /// # #[cfg(not(windows))]
    /// # fn main() {}
    /// ```
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
            ReadState::Idle if state.port.is_none() => Err(io_before_registration()),
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
            WriteState::Idle if state.port.is_none() => Err(io_before_registration()),
            WriteState::Idle => {
                // The OS's error as it is (ERROR_NO_DATA once the client
                // has gone, as mio returns it).
                let buf = &buf[..write_len(buf.len())];
                self.shared.start(&state, Kind::Write, buf.to_vec())?;
                state.write = WriteState::Pending;
                Ok(buf.len())
            }
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

/// What mio checks first when a pipe is re- or deregistered: the port it is
/// bound to. Another `Poll`'s is `AlreadyExists` (registered or not), none
/// (never registered) `NotFound`.
fn check_port(state: &State, registry: &Registry) -> io::Result<()> {
    match &state.port {
        Some(port) if Arc::ptr_eq(port, registry.selector().inner()) => Ok(()),
        Some(_) => Err(super::sock::registered_elsewhere()),
        None => Err(crate::sys::not_registered()),
    }
}

/// Named pipes are edge-triggered only (`crate::trigger`).
fn edge_only(trigger: Trigger) -> io::Result<()> {
    if trigger == Trigger::EDGE {
        return Ok(());
    }
    let message = "named pipes support only edge-triggered registration on Windows";
    Err(io::Error::new(io::ErrorKind::Unsupported, message))
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
            return Err(crate::sys::already_registered());
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
        self.shared.start(&state, Kind::Notify, Vec::new())?;
        Ok(())
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        let mut state = lock(&self.shared.state);
        check_port(&state, registry)?;
        if state.registration.is_none() {
            return Err(crate::sys::not_registered());
        }
        state.registration = Some((token, interests));
        self.shared.start(&state, Kind::Notify, Vec::new())?;
        Ok(())
    }

    fn register_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        edge_only(trigger)?;
        event::Source::register(self, registry, token, interests)
    }

    fn reregister_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        edge_only(trigger)?;
        event::Source::reregister(self, registry, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        let mut state = lock(&self.shared.state);
        check_port(&state, registry)?;
        if state.registration.is_none() {
            return Err(crate::sys::not_registered());
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
        // their completions are dequeued; cancel the read and the connect
        // so that this happens soon, and let go of the selector so that it
        // can drain them. A write goes on: `write` reported its data as
        // written (as mio, which lets writes finish while the `Poll` runs,
        // and unlike mio also once the `Poll` is gone: the selector's
        // drain takes it back when it ends).
        self.shared.cancel_read_and_connect(&mut state);
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
