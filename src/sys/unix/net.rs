//! Socket creation and the few I/O calls std does not make the way evmux
//! needs: every descriptor is non-blocking and close-on-exec from its first
//! system call where the OS allows (`evmux_atomic_flags`), and no send
//! raises `SIGPIPE`.
//!
//! Man pages: socket(2), bind(2), listen(2), accept(2) (`accept4`),
//! connect(2), socketpair(2), sendmsg(2), fcntl(2), ioctl(2) (`FIONBIO`).

use std::io::{self, IoSlice};
use std::net::{self, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::net::{AddressFamily, SocketAddrAny, SocketFlags, SocketType};

/// The listen backlog, the one std's `TcpListener::bind` uses.
pub(crate) const LISTEN_BACKLOG: i32 = 128;

/// The flags every socket evmux creates gets from its first system call.
#[cfg(evmux_atomic_flags)]
const ATOMIC_FLAGS: SocketFlags = SocketFlags::NONBLOCK.union(SocketFlags::CLOEXEC);

/// Creates a non-blocking, close-on-exec socket.
pub(crate) fn new_socket(family: AddressFamily, kind: SocketType) -> io::Result<OwnedFd> {
    #[cfg(evmux_atomic_flags)]
    let socket = rustix::net::socket_with(family, kind, ATOMIC_FLAGS, None)?;
    #[cfg(not(evmux_atomic_flags))]
    let socket = prepare_socket(rustix::net::socket(family, kind, None)?)?;
    Ok(socket)
}

/// Creates a connected pair of non-blocking, close-on-exec sockets.
pub(crate) fn new_socket_pair(
    family: AddressFamily,
    kind: SocketType,
) -> io::Result<(OwnedFd, OwnedFd)> {
    #[cfg(evmux_atomic_flags)]
    let pair = rustix::net::socketpair(family, kind, ATOMIC_FLAGS, None)?;
    #[cfg(not(evmux_atomic_flags))]
    let pair = {
        let (a, b) = rustix::net::socketpair(family, kind, SocketFlags::empty(), None)?;
        (prepare_socket(a)?, prepare_socket(b)?)
    };
    Ok(pair)
}

/// Accepts a connection as a non-blocking, close-on-exec socket, with the
/// peer's address if the OS gives one.
pub(crate) fn accept(listener: BorrowedFd<'_>) -> io::Result<(OwnedFd, Option<SocketAddrAny>)> {
    #[cfg(evmux_atomic_flags)]
    let accepted = rustix::net::acceptfrom_with(listener, ATOMIC_FLAGS)?;
    #[cfg(not(evmux_atomic_flags))]
    let accepted = {
        let (socket, addr) = rustix::net::acceptfrom(listener)?;
        (prepare_socket(socket)?, addr)
    };
    Ok(accepted)
}

/// Sets a new socket's flags after creation, and on Apple systems, where
/// sends have no `MSG_NOSIGNAL`, `SO_NOSIGPIPE`.
#[cfg(not(evmux_atomic_flags))]
fn prepare_socket(socket: OwnedFd) -> io::Result<OwnedFd> {
    let socket = crate::sys::unix::set_cloexec_nonblocking(socket)?;
    #[cfg(apple)]
    rustix::net::sockopt::set_socket_nosigpipe(&socket, true)?;
    Ok(socket)
}

/// The flags that keep a send from raising `SIGPIPE`.
fn no_sigpipe() -> rustix::net::SendFlags {
    #[cfg(evmux_msg_nosignal)]
    let flags = rustix::net::SendFlags::NOSIGNAL;
    #[cfg(not(evmux_msg_nosignal))]
    let flags = rustix::net::SendFlags::empty();
    flags
}

/// A write on a connected socket that never raises `SIGPIPE`: std's
/// `write` on a Unix-domain stream is write(2), which raises it with the
/// std of Rust 1.85 (the oldest evmux supports), and std's
/// `write_vectored` is writev(2), which always does.
pub(crate) fn send(socket: &impl AsFd, buf: &[u8]) -> io::Result<usize> {
    Ok(rustix::net::send(socket, buf, no_sigpipe())?)
}

/// A vectored write on a connected socket that never raises `SIGPIPE`.
pub(crate) fn send_vectored(socket: &impl AsFd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let mut no_control = rustix::net::SendAncillaryBuffer::default();
    Ok(rustix::net::sendmsg(
        socket,
        bufs,
        &mut no_control,
        no_sigpipe(),
    )?)
}

fn family_of(addr: &SocketAddr) -> AddressFamily {
    match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    }
}

/// Returns true for the errors with which a non-blocking `connect` says
/// that it goes on in the background.
pub(crate) fn connect_in_progress(error: rustix::io::Errno) -> bool {
    // EINTR: the connection continues asynchronously (POSIX connect(2)).
    error == rustix::io::Errno::INPROGRESS || error == rustix::io::Errno::INTR
}

/// A listening TCP socket, with `SO_REUSEADDR` like std's.
pub(crate) fn tcp_bind(addr: SocketAddr) -> io::Result<net::TcpListener> {
    let socket = new_socket(family_of(&addr), SocketType::STREAM)?;
    rustix::net::sockopt::set_socket_reuseaddr(&socket, true)?;
    rustix::net::bind(&socket, &addr)?;
    rustix::net::listen(&socket, LISTEN_BACKLOG)?;
    Ok(net::TcpListener::from(socket))
}

/// Starts a TCP connection without waiting for it to complete.
pub(crate) fn tcp_connect(addr: SocketAddr) -> io::Result<net::TcpStream> {
    let socket = new_socket(family_of(&addr), SocketType::STREAM)?;
    match rustix::net::connect(&socket, &addr) {
        Ok(()) => {}
        Err(error) if connect_in_progress(error) => {}
        Err(error) => return Err(error.into()),
    }
    Ok(net::TcpStream::from(socket))
}

/// Accepts a TCP connection and returns it with the peer's address.
pub(crate) fn tcp_accept(listener: &net::TcpListener) -> io::Result<(net::TcpStream, SocketAddr)> {
    let (socket, addr) = accept(listener.as_fd())?;
    let stream = net::TcpStream::from(socket);
    let addr = match addr.map(SocketAddr::try_from) {
        Some(Ok(addr)) => addr,
        // The OS did not say; ask the socket.
        _ => stream.peer_addr()?,
    };
    Ok((stream, addr))
}

/// A bound UDP socket.
pub(crate) fn udp_bind(addr: SocketAddr) -> io::Result<net::UdpSocket> {
    let socket = new_socket(family_of(&addr), SocketType::DGRAM)?;
    rustix::net::bind(&socket, &addr)?;
    Ok(net::UdpSocket::from(socket))
}

/// `IPV6_V6ONLY` of a socket.
pub(crate) fn only_v6(socket: &impl AsFd) -> io::Result<bool> {
    Ok(rustix::net::sockopt::ipv6_v6only(socket)?)
}
