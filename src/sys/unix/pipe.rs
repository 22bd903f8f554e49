//! Unix pipes for use with evmux: [`new`] creates a non-blocking pair, and
//! the pipes of a child process convert with `From`.
//!
//! A pipe carries bytes one way, from a [`Sender`] to a [`Receiver`]. Both
//! ends are sources: register the receiver for readable readiness and the
//! sender for writable readiness.
//!
//! When the sender is dropped, the receiver reads what is left and then 0
//! (end of file), and is reported read-closed. When the receiver is
//! dropped, a write fails with `BrokenPipe`. Unlike sockets, pipes have no
//! per-write way to suppress `SIGPIPE`: Rust programs ignore that signal by
//! default, but a program that restores its default action is killed by it.
//!
//! # Examples
//!
//! A child process's output, read without blocking:
//!
//! ```
//! use std::io::Read;
//! use std::process::{Command, Stdio};
//! use std::time::Duration;
//!
//! use evmux::unix::pipe;
//! use evmux::{Events, Interest, Poll, Token};
//!
//! # fn main() -> std::io::Result<()> {
//! let mut child = Command::new("echo").arg("hello").stdout(Stdio::piped()).spawn()?;
//! let mut output = pipe::Receiver::from(child.stdout.take().unwrap());
//! output.set_nonblocking(true)?;
//!
//! let mut poll = Poll::new()?;
//! poll.registry().register(&mut output, Token(0), Interest::READABLE)?;
//! let mut events = Events::with_capacity(8);
//! let mut text = Vec::new();
//! loop {
//!     poll.poll(&mut events, Some(Duration::from_secs(10)))?;
//!     let mut buf = [0; 64];
//!     match output.read(&mut buf) {
//!         Ok(0) => break,
//!         Ok(n) => text.extend_from_slice(&buf[..n]),
//!         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
//!         Err(e) => return Err(e),
//!     }
//! }
//! child.wait()?;
//! assert_eq!(text, b"hello\n");
//! # Ok(())
//! # }
//! ```
//!
//! Man pages: pipe(2) (`pipe2`), pipe(7), ioctl(2) (`FIONBIO`).

use std::fs::File;
use std::io::{self, IoSlice, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::process::{ChildStderr, ChildStdin, ChildStdout};

use crate::io_source::IoSource;

/// Creates a pipe whose two ends are non-blocking and close-on-exec.
///
/// # Errors
///
/// The OS's errors, e.g. `EMFILE` when out of descriptors.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
///
/// use evmux::unix::pipe;
///
/// # fn main() -> std::io::Result<()> {
/// let (mut sender, mut receiver) = pipe::new()?;
/// sender.write_all(b"through the pipe")?;
/// let mut buf = [0; 16];
/// receiver.read_exact(&mut buf)?;
/// assert_eq!(&buf, b"through the pipe");
/// # Ok(())
/// # }
/// ```
pub fn new() -> io::Result<(Sender, Receiver)> {
    let (reader, writer) = crate::sys::unix::new_pipe()?;
    Ok((Sender::from(writer), Receiver::from(reader)))
}

/// Sets or clears `O_NONBLOCK` on one end of a pipe.
fn set_nonblocking(fd: &impl AsFd, nonblocking: bool) -> io::Result<()> {
    Ok(rustix::io::ioctl_fionbio(fd, nonblocking)?)
}

/// The writing end of a pipe.
#[derive(Debug)]
pub struct Sender {
    inner: IoSource<File>,
}

impl Sender {
    /// Sets or clears non-blocking mode. Ends made by [`new`] are already
    /// non-blocking; ends converted from a child's pipes are not.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::process::{Command, Stdio};
    ///
    /// use evmux::unix::pipe::Sender;
    ///
    /// // A child's stdin is a blocking pipe: make evmux's end non-blocking.
    /// let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::null()).spawn()?;
    /// let sender = Sender::from(child.stdin.take().expect("piped"));
    /// sender.set_nonblocking(true)?;
    /// drop(sender); // closes the pipe: `cat` sees the end of its input
    /// child.wait()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        set_nonblocking(&*self.inner, nonblocking)
    }

    /// Runs `f`, an I/O operation of your own on this pipe, within evmux's
    /// readiness bookkeeping; see
    /// [`TcpStream::try_io`](crate::net::TcpStream::try_io) for the rules.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::os::fd::AsFd;
    ///
    /// use evmux::unix::pipe;
    ///
    /// let (sender, _receiver) = pipe::new()?;
    /// // A write of your own on the pipe's descriptor (here through the `rustix`
    /// // crate), within evmux's readiness bookkeeping.
    /// let written = sender.try_io(|| Ok(rustix::io::write(sender.as_fd(), b"hello")?))?;
    /// assert_eq!(written, 5);
    /// # Ok(())
    /// # }
    /// ```
    pub fn try_io<F, T>(&self, f: F) -> io::Result<T>
    where
        F: FnOnce() -> io::Result<T>,
    {
        self.inner.do_io(|_| f())
    }
}

/// The reading end of a pipe.
#[derive(Debug)]
pub struct Receiver {
    inner: IoSource<File>,
}

impl Receiver {
    /// Sets or clears non-blocking mode. Ends made by [`new`] are already
    /// non-blocking; ends converted from a child's pipes are not.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::process::{Command, Stdio};
    ///
    /// use evmux::unix::pipe::Receiver;
    ///
    /// // A child's stdout is a blocking pipe: make evmux's end non-blocking.
    /// let mut child = Command::new("echo").arg("hello").stdout(Stdio::piped()).spawn()?;
    /// let receiver = Receiver::from(child.stdout.take().expect("piped"));
    /// receiver.set_nonblocking(true)?;
    /// child.wait()?;
    /// # drop(receiver);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        set_nonblocking(&*self.inner, nonblocking)
    }

    /// Runs `f`, an I/O operation of your own on this pipe, within evmux's
    /// readiness bookkeeping; see
    /// [`TcpStream::try_io`](crate::net::TcpStream::try_io) for the rules.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::{self, Write};
    /// use std::os::fd::AsFd;
    ///
    /// use evmux::unix::pipe;
    ///
    /// let (mut sender, receiver) = pipe::new()?;
    /// sender.write_all(b"hello")?;
    /// // A read of your own on the pipe's descriptor (here through the `rustix`
    /// // crate): a WouldBlock from it re-arms the readiness, as evmux's reads do.
    /// let mut buf = [0; 16];
    /// let read = receiver.try_io(|| Ok(rustix::io::read(receiver.as_fd(), &mut buf)?))?;
    /// assert_eq!(&buf[..read], b"hello");
    /// let again = receiver.try_io(|| Ok(rustix::io::read(receiver.as_fd(), &mut buf)?));
    /// assert_eq!(again.unwrap_err().kind(), io::ErrorKind::WouldBlock);
    /// # Ok(())
    /// # }
    /// ```
    pub fn try_io<F, T>(&self, f: F) -> io::Result<T>
    where
        F: FnOnce() -> io::Result<T>,
    {
        self.inner.do_io(|_| f())
    }
}

/// A write to a pipe.
fn write(mut pipe: &File, buf: &[u8]) -> io::Result<usize> {
    pipe.write(buf)
}

/// A vectored write to a pipe.
fn write_vectored(mut pipe: &File, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    pipe.write_vectored(bufs)
}

impl_write!(Sender, write, write_vectored);
impl_source!(Sender);
impl_fd_traits!(Sender, File);
impl_read!(Receiver);
impl_source!(Receiver);
impl_fd_traits!(Receiver, File);

/// The child's standard input, as a pipe sender. It stays blocking until
/// [`Sender::set_nonblocking`] is called.
impl From<ChildStdin> for Sender {
    fn from(stdin: ChildStdin) -> Sender {
        Sender::from(OwnedFd::from(stdin))
    }
}

/// The child's standard output, as a pipe receiver. It stays blocking until
/// [`Receiver::set_nonblocking`] is called.
impl From<ChildStdout> for Receiver {
    fn from(stdout: ChildStdout) -> Receiver {
        Receiver::from(OwnedFd::from(stdout))
    }
}

/// The child's standard error, as a pipe receiver. It stays blocking until
/// [`Receiver::set_nonblocking`] is called.
impl From<ChildStderr> for Receiver {
    fn from(stderr: ChildStderr) -> Receiver {
        Receiver::from(OwnedFd::from(stderr))
    }
}
