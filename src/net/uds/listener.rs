use std::os::unix::net::{self as unix_net, SocketAddr};
use std::path::Path;
use std::{fmt, io};

use crate::io_source::IoSource;
use crate::net::UnixStream;
use crate::sys::unix::uds;

/// A non-blocking Unix-domain socket that listens for connections.
///
/// The socket file a path-bound listener creates is not removed when the
/// listener is dropped, as with std.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use evmux::net::{UnixListener, UnixStream};
/// use evmux::{Events, Interest, Poll, Token};
///
/// # fn main() -> std::io::Result<()> {
/// let dir = std::env::temp_dir().join(format!("evmux-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("listener.sock");
/// # let _ = std::fs::remove_file(&path);
///
/// let mut poll = Poll::new()?;
/// let mut listener = UnixListener::bind(&path)?;
/// poll.registry().register(&mut listener, Token(0), Interest::READABLE)?;
/// let _client = UnixStream::connect(&path)?;
///
/// let mut events = Events::with_capacity(8);
/// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
/// let (_connection, _addr) = listener.accept()?;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
pub struct UnixListener {
    inner: IoSource<unix_net::UnixListener>,
}

impl UnixListener {
    /// Creates a listener bound to the filesystem path `path`.
    ///
    /// # Errors
    ///
    /// `AddrInUse` if the path exists, `InvalidInput` if it is too long for
    /// a socket address, and the OS's other errors.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixListener;
    ///
    /// // A socket file in the temporary directory, named after this process.
    /// let path = std::env::temp_dir().join(format!("evmux-example-{}.sock", std::process::id()));
    /// let listener = UnixListener::bind(&path)?;
    /// assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
    /// // The file stays after the listener is gone: remove it.
    /// drop(listener);
    /// std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        UnixListener::bind_addr(&SocketAddr::from_pathname(path)?)
    }

    /// Creates a listener bound to `address`: a path, or on Linux and
    /// Android an abstract name (`SocketAddrExt::from_abstract_name`).
    ///
    /// # Errors
    ///
    /// As [`bind`](UnixListener::bind); `InvalidInput` for an unnamed
    /// address.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::os::unix::net::SocketAddr;
    ///
    /// use evmux::net::UnixListener;
    ///
    /// // A socket file in the temporary directory, named after this process.
    /// let path = std::env::temp_dir().join(format!("evmux-example-{}.sock", std::process::id()));
    /// let address = SocketAddr::from_pathname(&path)?;
    /// let listener = UnixListener::bind_addr(&address)?;
    /// # drop(listener);
    /// std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind_addr(address: &SocketAddr) -> io::Result<UnixListener> {
        uds::listener_bind(address).map(UnixListener::from_std)
    }

    /// Wraps a std listener. It should be non-blocking
    /// (`set_nonblocking(true)`); evmux does not change it.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixListener;
    ///
    /// // A socket file in the temporary directory, named after this process.
    /// let path = std::env::temp_dir().join(format!("evmux-example-{}.sock", std::process::id()));
    /// let std_listener = std::os::unix::net::UnixListener::bind(&path)?;
    /// std_listener.set_nonblocking(true)?;
    /// let listener = UnixListener::from_std(std_listener);
    /// # drop(listener);
    /// std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_std(listener: unix_net::UnixListener) -> UnixListener {
        UnixListener {
            inner: IoSource::new(listener),
        }
    }

    /// Accepts a connection, returned non-blocking and close-on-exec with
    /// the peer's address (usually unnamed).
    ///
    /// # Errors
    ///
    /// `WouldBlock` when no connection is waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io;
    /// use std::time::Duration;
    ///
    /// use evmux::net::{UnixListener, UnixStream};
    /// use evmux::{Events, Interest, Poll, Token};
    ///
    /// // A socket file in the temporary directory, named after this process.
    /// let path = std::env::temp_dir().join(format!("evmux-example-{}.sock", std::process::id()));
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let mut listener = UnixListener::bind(&path)?;
    /// poll.registry().register(&mut listener, Token(0), Interest::READABLE)?;
    /// let _client = UnixStream::connect(&path)?;
    ///
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// // Accept until WouldBlock.
    /// let mut accepted = 0;
    /// loop {
    ///     match listener.accept() {
    ///         Ok((_stream, _address)) => accepted += 1,
    ///         Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
    ///         Err(e) => return Err(e.into()),
    ///     }
    /// }
    /// assert_eq!(accepted, 1);
    /// std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = self.inner.do_read(uds::listener_accept)?;
        Ok((UnixStream::from_std(stream), addr))
    }

    /// The address the listener is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixListener;
    ///
    /// // A socket file in the temporary directory, named after this process.
    /// let path = std::env::temp_dir().join(format!("evmux-example-{}.sock", std::process::id()));
    /// let listener = UnixListener::bind(&path)?;
    /// println!("listening on {:?}", listener.local_addr()?);
    /// std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Takes the pending error (`SO_ERROR`), if any, clearing it.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UnixListener;
    ///
    /// // A socket file in the temporary directory, named after this process.
    /// let path = std::env::temp_dir().join(format!("evmux-example-{}.sock", std::process::id()));
    /// let listener = UnixListener::bind(&path)?;
    /// assert!(listener.take_error()?.is_none());
    /// std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }
}

impl_source!(UnixListener);
impl_fd_traits!(UnixListener, unix_net::UnixListener);
impl_into_std!(UnixListener, unix_net::UnixListener);

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
