use std::net::Shutdown;
use std::os::unix::net::{self as unix_net, SocketAddr};
use std::path::Path;
use std::{fmt, io};

use crate::io_source::IoSource;
use crate::sys::unix::uds;

/// A non-blocking Unix-domain datagram socket.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use evmux::net::UnixDatagram;
/// use evmux::{Events, Interest, Poll, Token};
///
/// # fn main() -> std::io::Result<()> {
/// let mut poll = Poll::new()?;
/// let (left, mut right) = UnixDatagram::pair()?;
/// poll.registry().register(&mut right, Token(0), Interest::READABLE)?;
///
/// left.send(b"one datagram")?;
/// let mut events = Events::with_capacity(8);
/// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
/// let mut buf = [0; 64];
/// let len = right.recv(&mut buf)?;
/// assert_eq!(&buf[..len], b"one datagram");
/// # Ok(())
/// # }
/// ```
pub struct UnixDatagram {
    inner: IoSource<unix_net::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates a socket bound to the filesystem path `path`.
    ///
    /// # Errors
    ///
    /// `AddrInUse` if the path exists, `InvalidInput` if it is too long.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixDatagram;
    ///
    /// // A socket file in the temporary directory, named after this process.
    /// let path = std::env::temp_dir().join(format!("evmux-example-{}.sock", std::process::id()));
    /// let socket = UnixDatagram::bind(&path)?;
    /// assert_eq!(socket.local_addr()?.as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        UnixDatagram::bind_addr(&SocketAddr::from_pathname(path)?)
    }

    /// Creates a socket bound to `address`: a path, or on Linux and Android
    /// an abstract name.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::os::unix::net::SocketAddr;
    ///
    /// use evmux::net::UnixDatagram;
    ///
    /// // A socket file in the temporary directory, named after this process.
    /// let path = std::env::temp_dir().join(format!("evmux-example-{}.sock", std::process::id()));
    /// let socket = UnixDatagram::bind_addr(&SocketAddr::from_pathname(&path)?)?;
    /// # drop(socket);
    /// std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind_addr(address: &SocketAddr) -> io::Result<UnixDatagram> {
        uds::datagram_bind(address).map(UnixDatagram::from_std)
    }

    /// Wraps a std socket. It should be non-blocking
    /// (`set_nonblocking(true)`); evmux does not change it.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixDatagram;
    ///
    /// let std_socket = std::os::unix::net::UnixDatagram::unbound()?;
    /// std_socket.set_nonblocking(true)?;
    /// let socket = UnixDatagram::from_std(std_socket);
    /// # let _ = socket;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_std(socket: unix_net::UnixDatagram) -> UnixDatagram {
        UnixDatagram {
            inner: IoSource::new(socket),
        }
    }

    /// Sets the default peer for `send` and `recv`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixDatagram;
    ///
    /// // A socket file in the temporary directory, named after this process.
    /// let path = std::env::temp_dir().join(format!("evmux-example-{}.sock", std::process::id()));
    /// let _receiver = UnixDatagram::bind(&path)?;
    /// let sender = UnixDatagram::unbound()?;
    /// sender.connect(&path)?;
    /// assert_eq!(sender.send(b"hello")?, 5);
    /// std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.inner.connect(path)
    }

    /// Creates a socket bound to no address: it can send, and receive
    /// replies only through `connect` or a pair.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixDatagram;
    ///
    /// // Nameless: it can send, but nobody can answer it.
    /// let socket = UnixDatagram::unbound()?;
    /// assert!(socket.local_addr()?.is_unnamed());
    /// # Ok(())
    /// # }
    /// ```
    pub fn unbound() -> io::Result<UnixDatagram> {
        uds::datagram_unbound().map(UnixDatagram::from_std)
    }

    /// Creates a connected pair of unnamed sockets.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixDatagram;
    ///
    /// let (a, b) = UnixDatagram::pair()?;
    /// a.send(b"ping")?;
    /// let mut buf = [0; 16];
    /// // A datagram on a socket pair is there as soon as it is sent.
    /// assert_eq!(b.recv(&mut buf)?, 4);
    /// # Ok(())
    /// # }
    /// ```
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = uds::datagram_pair()?;
        Ok((UnixDatagram::from_std(a), UnixDatagram::from_std(b)))
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixDatagram;
    ///
    /// let (a, _b) = UnixDatagram::pair()?;
    /// assert!(a.local_addr()?.is_unnamed());
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixDatagram;
    ///
    /// // A socket file in the temporary directory, named after this process.
    /// let path = std::env::temp_dir().join(format!("evmux-example-{}.sock", std::process::id()));
    /// let _receiver = UnixDatagram::bind(&path)?;
    /// let sender = UnixDatagram::unbound()?;
    /// sender.connect(&path)?;
    /// assert_eq!(sender.peer_addr()?.as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Receives one datagram and the address it came from.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when no datagram is waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixDatagram;
    ///
    /// // A socket file in the temporary directory, named after this process.
    /// let path = std::env::temp_dir().join(format!("evmux-example-{}.sock", std::process::id()));
    /// let receiver = UnixDatagram::bind(&path)?;
    /// let sender = UnixDatagram::unbound()?;
    /// sender.send_to(b"hello", &path)?;
    ///
    /// let mut buf = [0; 64];
    /// let (len, from) = receiver.recv_from(&mut buf)?;
    /// assert_eq!(&buf[..len], b"hello");
    /// // An unbound sender has no name to answer to.
    /// assert!(from.is_unnamed());
    /// std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.do_read(|socket| socket.recv_from(buf))
    }

    /// Receives one datagram.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io;
    ///
    /// use evmux::net::UnixDatagram;
    ///
    /// let (a, b) = UnixDatagram::pair()?;
    /// let mut buf = [0; 64];
    /// assert_eq!(b.recv(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    /// a.send(b"hello")?;
    /// assert_eq!(b.recv(&mut buf)?, 5);
    /// # Ok(())
    /// # }
    /// ```
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.do_read(|socket| socket.recv(buf))
    }

    /// Sends one datagram to the socket bound at `path`.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when the receiver's queue is full.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixDatagram;
    ///
    /// // A socket file in the temporary directory, named after this process.
    /// let path = std::env::temp_dir().join(format!("evmux-example-{}.sock", std::process::id()));
    /// let _receiver = UnixDatagram::bind(&path)?;
    /// let sender = UnixDatagram::unbound()?;
    /// assert_eq!(sender.send_to(b"hello", &path)?, 5);
    /// std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        self.inner.do_write(|socket| socket.send_to(buf, path))
    }

    /// Sends one datagram to the connected peer.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixDatagram;
    ///
    /// let (a, _b) = UnixDatagram::pair()?;
    /// assert_eq!(a.send(b"hello")?, 5);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.do_write(|socket| socket.send(buf))
    }

    /// Takes the pending error (`SO_ERROR`), if any, clearing it.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixDatagram;
    ///
    /// let (a, _b) = UnixDatagram::pair()?;
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
    /// use std::net::Shutdown;
    ///
    /// use evmux::net::UnixDatagram;
    ///
    /// let (a, _b) = UnixDatagram::pair()?;
    /// a.shutdown(Shutdown::Write)?;
    /// // Sending is over.
    /// assert!(a.send(b"late").is_err());
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
    /// use evmux::net::UnixDatagram;
    ///
    /// let (a, b) = UnixDatagram::pair()?;
    /// a.send(b"hello")?;
    /// // A call evmux does not wrap, on the socket itself (here through the
    /// // `rustix` crate): a WouldBlock from it re-arms the readiness, as evmux's
    /// // own calls do.
    /// let mut buf = [0; 64];
    /// let flags = rustix::net::RecvFlags::PEEK;
    /// let (peeked, _) = b.try_io(|| Ok(rustix::net::recv(b.as_fd(), &mut buf, flags)?))?;
    /// assert_eq!(peeked, 5);
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

impl_source!(UnixDatagram);
impl_fd_traits!(UnixDatagram, unix_net::UnixDatagram);
impl_into_std!(UnixDatagram, unix_net::UnixDatagram);

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
