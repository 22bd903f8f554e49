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
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::{UnixListener, UnixStream};
    ///
    /// // A socket file in the temporary directory, named after this process.
    /// let path = std::env::temp_dir().join(format!("evmux-example-{}.sock", std::process::id()));
    /// let listener = UnixListener::bind(&path)?;
    /// // Returns at once; on Unix sockets the connection is usually made already.
    /// let stream = UnixStream::connect(&path)?;
    /// # drop((stream, listener));
    /// std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::{UnixListener, UnixStream};
    ///
    /// // A socket file in the temporary directory, named after this process.
    /// let path = std::env::temp_dir().join(format!("evmux-example-{}.sock", std::process::id()));
    /// let listener = UnixListener::bind(&path)?;
    /// let address = listener.local_addr()?;
    /// let stream = UnixStream::connect_addr(&address)?;
    /// # drop(stream);
    /// std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn connect_addr(address: &SocketAddr) -> io::Result<UnixStream> {
        uds::stream_connect(address).map(UnixStream::from_std)
    }

    /// Wraps a std stream. It should be non-blocking
    /// (`set_nonblocking(true)`); evmux does not change it.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixStream;
    ///
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// a.set_nonblocking(true)?;
    /// let stream = UnixStream::from_std(a);
    /// # let _ = stream;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_std(stream: unix_net::UnixStream) -> UnixStream {
        UnixStream {
            inner: IoSource::new(stream),
        }
    }

    /// Creates a connected pair of unnamed streams.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::{Read, Write};
    ///
    /// use evmux::net::UnixStream;
    ///
    /// let (mut a, mut b) = UnixStream::pair()?;
    /// a.write_all(b"ping")?;
    /// let mut buf = [0; 4];
    /// // Small writes on a socket pair arrive at once.
    /// b.read_exact(&mut buf)?;
    /// assert_eq!(&buf, b"ping");
    /// # Ok(())
    /// # }
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = uds::stream_pair()?;
        Ok((UnixStream::from_std(a), UnixStream::from_std(b)))
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixStream;
    ///
    /// let (a, _b) = UnixStream::pair()?;
    /// // A socket pair has no names.
    /// assert!(a.local_addr()?.is_unnamed());
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The peer's address.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::{UnixListener, UnixStream};
    ///
    /// // A socket file in the temporary directory, named after this process.
    /// let path = std::env::temp_dir().join(format!("evmux-example-{}.sock", std::process::id()));
    /// let _listener = UnixListener::bind(&path)?;
    /// let stream = UnixStream::connect(&path)?;
    /// assert_eq!(stream.peer_addr()?.as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Takes the pending error (`SO_ERROR`), if any, clearing it.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixStream;
    ///
    /// let (a, _b) = UnixStream::pair()?;
    /// assert!(a.take_error()?.is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Shuts down the reading half, the writing half or both.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::Read;
    /// use std::net::Shutdown;
    ///
    /// use evmux::net::UnixStream;
    ///
    /// let (a, mut b) = UnixStream::pair()?;
    /// a.shutdown(Shutdown::Write)?;
    /// // The other end reads the end of the stream.
    /// assert_eq!(b.read(&mut [0; 8])?, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }

    /// Runs `f`, an I/O operation of your own on this socket, within evmux's
    /// readiness bookkeeping; see [`TcpStream::try_io`] for the rules.
    ///
    /// [`TcpStream::try_io`]: crate::net::TcpStream::try_io
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::os::fd::AsFd;
    ///
    /// use evmux::net::UnixStream;
    ///
    /// let (a, b) = UnixStream::pair()?;
    /// // A call evmux does not wrap, on the socket itself (here through the
    /// // `rustix` crate): a send with MSG_DONTWAIT.
    /// let flags = rustix::net::SendFlags::DONTWAIT;
    /// let sent = a.try_io(|| Ok(rustix::net::send(a.as_fd(), b"hello", flags)?))?;
    /// assert_eq!(sent, 5);
    /// # drop(b);
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
