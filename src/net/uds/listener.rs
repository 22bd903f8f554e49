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
    pub fn bind_addr(address: &SocketAddr) -> io::Result<UnixListener> {
        uds::listener_bind(address).map(UnixListener::from_std)
    }

    /// Wraps a std listener. It should be non-blocking
    /// (`set_nonblocking(true)`); evmux does not change it.
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
    pub fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = self.inner.do_read(uds::listener_accept)?;
        Ok((UnixStream::from_std(stream), addr))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Takes the pending error (`SO_ERROR`), if any, clearing it.
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
