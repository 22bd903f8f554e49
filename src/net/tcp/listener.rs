use std::net::{self, SocketAddr};
use std::{fmt, io};

use crate::io_source::IoSource;
use crate::net::TcpStream;
use crate::sys;

/// A non-blocking TCP socket that listens for connections.
///
/// Register it for [`Interest::READABLE`](crate::Interest::READABLE); on an
/// event, call [`accept`](TcpListener::accept) until it returns
/// `WouldBlock`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use evmux::net::{TcpListener, TcpStream};
/// use evmux::{Events, Interest, Poll, Token};
///
/// # fn main() -> std::io::Result<()> {
/// let mut poll = Poll::new()?;
/// let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
/// poll.registry().register(&mut listener, Token(0), Interest::READABLE)?;
///
/// let _client = TcpStream::connect(listener.local_addr()?)?;
///
/// let mut events = Events::with_capacity(8);
/// let (connection, peer) = loop {
///     poll.poll(&mut events, Some(Duration::from_secs(10)))?;
///     match listener.accept() {
///         Ok(accepted) => break accepted,
///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
///         Err(e) => return Err(e),
///     }
/// };
/// assert_eq!(connection.peer_addr()?, peer);
/// # Ok(())
/// # }
/// ```
pub struct TcpListener {
    inner: IoSource<net::TcpListener>,
}

impl TcpListener {
    /// Creates a listener bound to `addr`, with `SO_REUSEADDR` set and std's
    /// backlog.
    ///
    /// Bind to port 0 to let the OS pick a free port, then read it with
    /// [`local_addr`](TcpListener::local_addr).
    ///
    /// # Errors
    ///
    /// `AddrInUse` if another socket listens on the address,
    /// `AddrNotAvailable` if the address is not one of this host's, and the
    /// OS's other errors.
    ///
    /// Absent on WASI preview 1, which cannot create sockets: a listener
    /// comes from the host (`FromRawFd`), as in mio.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::TcpListener;
    ///
    /// // Port 0: the OS picks a free one.
    /// let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    /// println!("listening on {}", listener.local_addr()?);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(not(wasip1))]
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        sys::net::tcp_bind(addr).map(TcpListener::from_std)
    }

    /// Wraps a std listener. It should be non-blocking
    /// (`set_nonblocking(true)`); evmux does not change it.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::TcpListener;
    ///
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// std_listener.set_nonblocking(true)?;
    /// let listener = TcpListener::from_std(std_listener);
    /// # let _ = listener;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_std(listener: net::TcpListener) -> TcpListener {
        TcpListener {
            inner: IoSource::new(listener),
        }
    }

    /// Accepts a connection, returned non-blocking and close-on-exec with
    /// the peer's address.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when no connection is waiting: wait for the next
    /// readable event. Other errors (e.g. `ConnectionAborted`, or `EMFILE`
    /// when out of descriptors) concern one connection attempt; the listener
    /// stays usable.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io;
    /// use std::time::Duration;
    ///
    /// use evmux::net::TcpListener;
    /// use evmux::{Events, Interest, Poll, Token};
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    /// poll.registry().register(&mut listener, Token(0), Interest::READABLE)?;
    /// let _client = std::net::TcpStream::connect(listener.local_addr()?)?;
    ///
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// // Accept until WouldBlock: one event may stand for several connections.
    /// let mut accepted = Vec::new();
    /// loop {
    ///     match listener.accept() {
    ///         Ok((stream, peer)) => accepted.push((stream, peer)),
    ///         Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
    ///         Err(e) => return Err(e.into()),
    ///     }
    /// }
    /// assert_eq!(accepted.len(), 1);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = self.inner.do_read(sys::net::tcp_accept)?;
        Ok((TcpStream::from_std(stream), addr))
    }

    /// The address the listener is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::TcpListener;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    /// let address = listener.local_addr()?;
    /// assert!(address.ip().is_loopback() && address.port() != 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Sets `IP_TTL`, the time-to-live of packets sent by accepted sockets.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::TcpListener;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    /// listener.set_ttl(32)?;
    /// assert_eq!(listener.ttl()?, 32);
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
    /// use evmux::net::TcpListener;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    /// println!("accepted connections send with a TTL of {}", listener.ttl()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.ttl()
    }

    /// Takes the pending error (`SO_ERROR`), if any, clearing it.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::TcpListener;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    /// assert!(listener.take_error()?.is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }
}

impl_source!(TcpListener);
#[cfg(evmux_fd)]
impl_fd_traits!(TcpListener, net::TcpListener);
#[cfg(windows)]
impl_socket_traits!(TcpListener, net::TcpListener);
impl_into_std!(TcpListener, net::TcpListener);

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
