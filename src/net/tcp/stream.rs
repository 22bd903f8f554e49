use std::net::{self, Shutdown, SocketAddr};
use std::{fmt, io};

use crate::io_source::IoSource;
use crate::sys;

/// A non-blocking TCP connection.
///
/// Reads and writes return `WouldBlock` instead of waiting: register the
/// stream for the readiness you need and retry on the next event.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use std::net::TcpListener as StdListener;
/// use std::time::Duration;
///
/// use evmux::net::TcpStream;
/// use evmux::{Events, Interest, Poll, Token};
///
/// # fn main() -> std::io::Result<()> {
/// let server = StdListener::bind("127.0.0.1:0")?;
/// let mut poll = Poll::new()?;
/// let mut stream = TcpStream::connect(server.local_addr()?)?;
/// poll.registry().register(&mut stream, Token(0), Interest::WRITABLE)?;
///
/// // Writable means the connect finished; check how.
/// let mut events = Events::with_capacity(8);
/// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
/// if let Some(error) = stream.take_error()? {
///     return Err(error);
/// }
/// stream.write_all(b"hello")?;
///
/// let (mut accepted, _) = server.accept()?;
/// let mut buf = [0; 5];
/// accepted.read_exact(&mut buf)?;
/// assert_eq!(&buf, b"hello");
/// # Ok(())
/// # }
/// ```
pub struct TcpStream {
    inner: IoSource<net::TcpStream>,
}

impl TcpStream {
    /// Starts connecting to `addr` and returns at once.
    ///
    /// The connection completes in the background. Register the stream for
    /// [`Interest::WRITABLE`](crate::Interest::WRITABLE): the writable event
    /// means the attempt is over. Then [`take_error`](TcpStream::take_error)
    /// returns the failure, if any (e.g. `ConnectionRefused`), and
    /// [`peer_addr`](TcpStream::peer_addr) succeeds once connected.
    ///
    /// # Errors
    ///
    /// Errors the OS reports at once, e.g. `EMFILE`, or
    /// `AddrNotAvailable`/`NetworkUnreachable` for an address that cannot be
    /// reached.
    ///
    /// Absent on WASI preview 1, which cannot create sockets: a connection
    /// comes from an accepting listener or from the host (`FromRawFd`), as
    /// in mio.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use evmux::net::TcpStream;
    /// use evmux::{Events, Interest, Poll, Token};
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    ///
    /// // Returns at once; the stream is writable when the connection is made.
    /// let mut stream = TcpStream::connect(listener.local_addr()?)?;
    /// poll.registry().register(&mut stream, Token(0), Interest::WRITABLE)?;
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// // Writable: connected, or failed (then `take_error` has the reason).
    /// match stream.take_error()? {
    ///     None => assert_eq!(stream.peer_addr()?, listener.local_addr()?),
    ///     Some(error) => return Err(error.into()),
    /// }
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    #[cfg(not(wasip1))]
    pub fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        sys::net::tcp_connect(addr).map(TcpStream::from_std)
    }

    /// Wraps a std stream. It should be non-blocking
    /// (`set_nonblocking(true)`); evmux does not change it.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::TcpStream;
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let std_stream = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// std_stream.set_nonblocking(true)?;
    /// let stream = TcpStream::from_std(std_stream);
    /// assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_std(stream: net::TcpStream) -> TcpStream {
        TcpStream {
            inner: IoSource::new(stream),
        }
    }

    /// The remote address; `NotConnected` until the connection is
    /// established.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # fn connected() -> std::io::Result<(evmux::net::TcpStream, std::net::TcpStream)> {
    /// #     // An established connection: evmux's end and a std peer.
    /// #     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// #     let peer = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// #     let (stream, _) = listener.accept()?;
    /// #     stream.set_nonblocking(true)?;
    /// #     Ok((evmux::net::TcpStream::from_std(stream), peer))
    /// # }
    /// let (stream, peer) = connected()?;
    /// assert_eq!(stream.peer_addr()?, peer.local_addr()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # fn connected() -> std::io::Result<(evmux::net::TcpStream, std::net::TcpStream)> {
    /// #     // An established connection: evmux's end and a std peer.
    /// #     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// #     let peer = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// #     let (stream, _) = listener.accept()?;
    /// #     stream.set_nonblocking(true)?;
    /// #     Ok((evmux::net::TcpStream::from_std(stream), peer))
    /// # }
    /// let (stream, peer) = connected()?;
    /// assert_eq!(stream.local_addr()?, peer.peer_addr()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Shuts down the reading half, the writing half or both.
    ///
    /// After `Shutdown::Write` the peer reads end-of-stream; after
    /// `Shutdown::Read` reads here return 0.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::Read;
    /// use std::net::Shutdown;
    /// # fn connected() -> std::io::Result<(evmux::net::TcpStream, std::net::TcpStream)> {
    /// #     // An established connection: evmux's end and a std peer.
    /// #     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// #     let peer = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// #     let (stream, _) = listener.accept()?;
    /// #     stream.set_nonblocking(true)?;
    /// #     Ok((evmux::net::TcpStream::from_std(stream), peer))
    /// # }
    /// let (stream, mut peer) = connected()?;
    /// // No more writes: the peer reads the end of the stream.
    /// stream.shutdown(Shutdown::Write)?;
    /// assert_eq!(peer.read(&mut [0; 8])?, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }

    /// Sets `TCP_NODELAY`: when true, small writes go out at once instead of
    /// being coalesced (Nagle's algorithm off).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # fn connected() -> std::io::Result<(evmux::net::TcpStream, std::net::TcpStream)> {
    /// #     // An established connection: evmux's end and a std peer.
    /// #     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// #     let peer = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// #     let (stream, _) = listener.accept()?;
    /// #     stream.set_nonblocking(true)?;
    /// #     Ok((evmux::net::TcpStream::from_std(stream), peer))
    /// # }
    /// let (stream, _peer) = connected()?;
    /// // Send small writes at once instead of coalescing them (Nagle).
    /// stream.set_nodelay(true)?;
    /// assert!(stream.nodelay()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_nodelay(nodelay)
    }

    /// Reads `TCP_NODELAY`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # fn connected() -> std::io::Result<(evmux::net::TcpStream, std::net::TcpStream)> {
    /// #     // An established connection: evmux's end and a std peer.
    /// #     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// #     let peer = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// #     let (stream, _) = listener.accept()?;
    /// #     stream.set_nonblocking(true)?;
    /// #     Ok((evmux::net::TcpStream::from_std(stream), peer))
    /// # }
    /// let (stream, _peer) = connected()?;
    /// assert!(!stream.nodelay()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.nodelay()
    }

    /// Sets `IP_TTL`, the time-to-live of outgoing packets.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # fn connected() -> std::io::Result<(evmux::net::TcpStream, std::net::TcpStream)> {
    /// #     // An established connection: evmux's end and a std peer.
    /// #     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// #     let peer = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// #     let (stream, _) = listener.accept()?;
    /// #     stream.set_nonblocking(true)?;
    /// #     Ok((evmux::net::TcpStream::from_std(stream), peer))
    /// # }
    /// let (stream, _peer) = connected()?;
    /// stream.set_ttl(16)?;
    /// assert_eq!(stream.ttl()?, 16);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.set_ttl(ttl)
    }

    /// Reads `IP_TTL`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # fn connected() -> std::io::Result<(evmux::net::TcpStream, std::net::TcpStream)> {
    /// #     // An established connection: evmux's end and a std peer.
    /// #     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// #     let peer = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// #     let (stream, _) = listener.accept()?;
    /// #     stream.set_nonblocking(true)?;
    /// #     Ok((evmux::net::TcpStream::from_std(stream), peer))
    /// # }
    /// let (stream, _peer) = connected()?;
    /// println!("TTL: {}", stream.ttl()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.ttl()
    }

    /// Takes the pending error (`SO_ERROR`), if any, clearing it. After a
    /// non-blocking connect this is how a failure is reported.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # fn connected() -> std::io::Result<(evmux::net::TcpStream, std::net::TcpStream)> {
    /// #     // An established connection: evmux's end and a std peer.
    /// #     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// #     let peer = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// #     let (stream, _) = listener.accept()?;
    /// #     stream.set_nonblocking(true)?;
    /// #     Ok((evmux::net::TcpStream::from_std(stream), peer))
    /// # }
    /// let (stream, _peer) = connected()?;
    /// assert!(stream.take_error()?.is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Reads data without removing it from the receive queue.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when no data is waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io::{Read, Write};
    /// use std::time::Duration;
    ///
    /// use evmux::{Events, Interest, Poll, Token};
    /// # fn connected() -> std::io::Result<(evmux::net::TcpStream, std::net::TcpStream)> {
    /// #     // An established connection: evmux's end and a std peer.
    /// #     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// #     let peer = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// #     let (stream, _) = listener.accept()?;
    /// #     stream.set_nonblocking(true)?;
    /// #     Ok((evmux::net::TcpStream::from_std(stream), peer))
    /// # }
    /// let (mut stream, mut peer) = connected()?;
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// poll.registry().register(&mut stream, Token(0), Interest::READABLE)?;
    /// peer.write_all(b"hello")?;
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    ///
    /// let mut buf = [0; 5];
    /// // Peeked bytes stay queued for the next read.
    /// let n = stream.peek(&mut buf)?;
    /// assert_eq!(&buf[..n], &b"hello"[..n]);
    /// assert_eq!(stream.read(&mut buf)?, n);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.do_read(|stream| stream.peek(buf))
    }

    /// Runs `f`, an I/O operation of your own on this socket (for example
    /// through its raw descriptor), within evmux's readiness bookkeeping.
    ///
    /// `f` must perform the operation without blocking and return its
    /// result, passing `WouldBlock` through: on backends that emulate edge
    /// triggering, that is what re-arms the registration. Do not call
    /// `try_io` from within `f`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use std::os::fd::AsFd;
    ///
    /// use evmux::net::{TcpListener, TcpStream};
    ///
    /// # fn main() -> io::Result<()> {
    /// let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    /// let stream = TcpStream::connect(listener.local_addr()?)?;
    ///
    /// // Count the bytes waiting to be read, with a call evmux lacks.
    /// let result = stream.try_io(|| {
    ///     let mut buf = [0; 16];
    ///     let flags = rustix::net::RecvFlags::PEEK;
    ///     let (read, _) = rustix::net::recv(stream.as_fd(), &mut buf, flags)?;
    ///     Ok(read)
    /// });
    /// assert_eq!(result.unwrap_err().kind(), io::ErrorKind::WouldBlock);
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

#[cfg(not(wasip2))]
impl_read!(TcpStream);
// wasi-libc has no vectored reads of a socket (see `sys::wasi::net`).
#[cfg(wasip2)]
impl_read!(TcpStream, sys::net::recv_vectored);
impl_write!(TcpStream, sys::net::send, sys::net::send_vectored);
impl_source!(TcpStream);
#[cfg(evmux_fd)]
impl_fd_traits!(TcpStream, net::TcpStream);
#[cfg(windows)]
impl_socket_traits!(TcpStream, net::TcpStream);
impl_into_std!(TcpStream, net::TcpStream);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
