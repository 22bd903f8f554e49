//! Sockets on WASI.
//!
//! Preview 1: only those the host hands over (wasmtime's `--tcplisten`
//! pre-opens a listener), and the connections they accept. Preview 1 has no
//! call to create, bind or connect a socket, so evmux, like mio, has no
//! `TcpListener::bind`, `TcpStream::connect` or `UdpSocket` there.
//!
//! Preview 2: wasi-libc creates, binds and connects TCP and UDP sockets
//! (over `wasi:sockets`), and std's socket types work on top of it. std
//! binds and accepts; evmux makes the result non-blocking, and starts a
//! connection itself (`socket` with `SOCK_NONBLOCK`, then `connect`, which
//! answers `EINPROGRESS`), since std's `connect` waits for it. libc is used
//! for those two calls and for `IPV6_V6ONLY`: rustix has no socket calls
//! for WASI.
//!
//! wasi-libc's readv(2) and writev(2) do not reach preview 2's sockets:
//! vectored I/O there moves the first non-empty buffer.
//!
//! On both, std does the rest: reads, writes, `shutdown`; what the host
//! cannot answer (a peer address on preview 1, some socket options) fails
//! as std fails. WASI has no signals, so writes need no `SIGPIPE`
//! suppression.
//!
//! Man pages (wasi-libc follows POSIX): socket(2), connect(2),
//! getsockopt(2).

use std::io::{self, IoSlice, Write};
use std::net::{self, SocketAddr};

/// Accepts a connection and makes it non-blocking. Preview 1's
/// `sock_accept` does not say who the peer is: std returns an unspecified
/// address there.
pub(crate) fn tcp_accept(listener: &net::TcpListener) -> io::Result<(net::TcpStream, SocketAddr)> {
    let (stream, addr) = listener.accept()?;
    stream.set_nonblocking(true)?;
    Ok((stream, addr))
}

/// Writes: WASI has no signals, so nothing to suppress.
pub(crate) fn send(stream: &net::TcpStream, buf: &[u8]) -> io::Result<usize> {
    (&*stream).write(buf)
}

#[cfg(wasip1)]
pub(crate) fn send_vectored(stream: &net::TcpStream, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    (&*stream).write_vectored(bufs)
}

/// wasi-libc's writev(2) does not reach preview 2's sockets (it fails with
/// `EBADF`): writes the first non-empty buffer, as `Write`'s default
/// `write_vectored` does.
#[cfg(wasip2)]
pub(crate) fn send_vectored(stream: &net::TcpStream, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let buf = bufs
        .iter()
        .find(|buf| !buf.is_empty())
        .map_or(&[][..], |buf| &**buf);
    send(stream, buf)
}

/// wasi-libc's readv(2) does not reach preview 2's sockets either: reads
/// into the first non-empty buffer, as `Read`'s default `read_vectored`
/// does.
#[cfg(wasip2)]
pub(crate) fn recv_vectored(
    mut stream: &net::TcpStream,
    bufs: &mut [std::io::IoSliceMut<'_>],
) -> io::Result<usize> {
    let buf = bufs
        .iter_mut()
        .find(|buf| !buf.is_empty())
        .map_or(&mut [][..], |buf| &mut **buf);
    io::Read::read(&mut stream, buf)
}

#[cfg(wasip2)]
pub(crate) use self::preview2::{only_v6, tcp_bind, tcp_connect, udp_bind};

#[cfg(wasip2)]
#[path = "net_p2.rs"]
mod preview2;
