use std::net::Shutdown;
use std::os::unix::net::{self as unix_net, SocketAddr};
use std::path::Path;
use std::{fmt, io};

use crate::io_source::IoSource;
use crate::sys;
use crate::sys::unix::uds;

/// A non-blocking Unix-domain stream connection.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use std::time::Duration;
///
/// use evmux::net::UnixStream;
/// use evmux::{Events, Interest, Poll, Token};
///
/// # fn main() -> std::io::Result<()> {
/// let mut poll = Poll::new()?;
/// let (mut left, mut right) = UnixStream::pair()?;
/// poll.registry().register(&mut right, Token(1), Interest::READABLE)?;
///
/// left.write_all(b"ping")?;
/// let mut events = Events::with_capacity(8);
/// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
/// let mut buf = [0; 4];
/// right.read_exact(&mut buf)?;
/// assert_eq!(&buf, b"ping");
/// # Ok(())
/// # }
/// ```
pub struct UnixStream {
    inner: IoSource<unix_net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at the filesystem path `path`.
    ///
    /// # Errors
    ///
    /// `NotFound` if nothing is bound there, `ConnectionRefused` if nobody
    /// listens, `WouldBlock` if the listener's backlog is full (Linux
    /// completes Unix-socket connects at once or not at all).
    pub fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        UnixStream::connect_addr(&SocketAddr::from_pathname(path)?)
    }

    /// Connects to `address`: a path, or on Linux and Android an abstract
    /// name.
    ///
    /// # Errors
    ///
    /// As [`connect`](UnixStream::connect); `InvalidInput` for an unnamed
    /// address.
    pub fn connect_addr(address: &SocketAddr) -> io::Result<UnixStream> {
        uds::stream_connect(address).map(UnixStream::from_std)
    }

    /// Wraps a std stream. It should be non-blocking
    /// (`set_nonblocking(true)`); evmux does not change it.
    pub fn from_std(stream: unix_net::UnixStream) -> UnixStream {
        UnixStream {
            inner: IoSource::new(stream),
        }
    }

    /// Creates a connected pair of unnamed streams.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = uds::stream_pair()?;
        Ok((UnixStream::from_std(a), UnixStream::from_std(b)))
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Takes the pending error (`SO_ERROR`), if any, clearing it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Shuts down the reading half, the writing half or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }

    /// Runs `f`, an I/O operation of your own on this socket, within evmux's
    /// readiness bookkeeping; see [`TcpStream::try_io`] for the rules.
    ///
    /// [`TcpStream::try_io`]: crate::net::TcpStream::try_io
    pub fn try_io<F, T>(&self, f: F) -> io::Result<T>
    where
        F: FnOnce() -> io::Result<T>,
    {
        self.inner.do_io(|_| f())
    }
}

impl_read!(UnixStream);
impl_write!(UnixStream, sys::net::send, sys::net::send_vectored);
impl_source!(UnixStream);
impl_fd_traits!(UnixStream, unix_net::UnixStream);
impl_into_std!(UnixStream, unix_net::UnixStream);

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
