//! Unix-domain socket creation: non-blocking and close-on-exec like every
//! socket evmux makes (see `net.rs`), addressed with std's
//! `std::os::unix::net::SocketAddr` (filesystem paths, and on Linux and
//! Android abstract names).
//!
//! Man pages: unix(7), socket(2), bind(2), listen(2), connect(2),
//! socketpair(2), accept(2).

use std::io;
use std::os::fd::AsFd;
use std::os::unix::net::{self as unix_net, SocketAddr};

use rustix::net::{AddressFamily, SocketAddrUnix, SocketType};

use crate::sys::unix::net::{
    accept, connect_in_progress, new_socket, new_socket_pair, LISTEN_BACKLOG,
};

#[cfg(target_os = "android")]
use std::os::android::net::SocketAddrExt;
#[cfg(target_os = "linux")]
use std::os::linux::net::SocketAddrExt;

/// Converts std's address to the kernel's.
fn kernel_addr(addr: &SocketAddr) -> io::Result<SocketAddrUnix> {
    if let Some(path) = addr.as_pathname() {
        return Ok(SocketAddrUnix::new(path)?);
    }
    #[cfg(linux_like)]
    if let Some(name) = addr.as_abstract_name() {
        return Ok(SocketAddrUnix::new_abstract_name(name)?);
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        "an unnamed Unix socket address cannot be bound or connected to",
    ))
}

pub(crate) fn listener_bind(addr: &SocketAddr) -> io::Result<unix_net::UnixListener> {
    let addr = kernel_addr(addr)?;
    let socket = new_socket(AddressFamily::UNIX, SocketType::STREAM)?;
    rustix::net::bind(&socket, &addr)?;
    rustix::net::listen(&socket, LISTEN_BACKLOG)?;
    Ok(unix_net::UnixListener::from(socket))
}

pub(crate) fn listener_accept(
    listener: &unix_net::UnixListener,
) -> io::Result<(unix_net::UnixStream, SocketAddr)> {
    let (socket, _) = accept(listener.as_fd())?;
    let stream = unix_net::UnixStream::from(socket);
    // std's address type can only be built by std; the peer's address is
    // what accept(2) reports.
    let addr = stream.peer_addr()?;
    Ok((stream, addr))
}

/// Connects without waiting. On Linux a Unix-socket connect completes at
/// once or fails (with `WouldBlock` when the listener's backlog is full).
pub(crate) fn stream_connect(addr: &SocketAddr) -> io::Result<unix_net::UnixStream> {
    let addr = kernel_addr(addr)?;
    let socket = new_socket(AddressFamily::UNIX, SocketType::STREAM)?;
    match rustix::net::connect(&socket, &addr) {
        Ok(()) => {}
        Err(error) if connect_in_progress(error) => {}
        Err(error) => return Err(error.into()),
    }
    Ok(unix_net::UnixStream::from(socket))
}

pub(crate) fn stream_pair() -> io::Result<(unix_net::UnixStream, unix_net::UnixStream)> {
    let (a, b) = new_socket_pair(AddressFamily::UNIX, SocketType::STREAM)?;
    Ok((a.into(), b.into()))
}

pub(crate) fn datagram_bind(addr: &SocketAddr) -> io::Result<unix_net::UnixDatagram> {
    let addr = kernel_addr(addr)?;
    let socket = new_socket(AddressFamily::UNIX, SocketType::DGRAM)?;
    rustix::net::bind(&socket, &addr)?;
    Ok(unix_net::UnixDatagram::from(socket))
}

pub(crate) fn datagram_unbound() -> io::Result<unix_net::UnixDatagram> {
    Ok(new_socket(AddressFamily::UNIX, SocketType::DGRAM)?.into())
}

pub(crate) fn datagram_pair() -> io::Result<(unix_net::UnixDatagram, unix_net::UnixDatagram)> {
    let (a, b) = new_socket_pair(AddressFamily::UNIX, SocketType::DGRAM)?;
    Ok((a.into(), b.into()))
}
