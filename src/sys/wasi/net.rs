//! Sockets on WASI preview 1: only those the host hands over (wasmtime's
//! `--tcplisten` pre-opens a listener), and the connections they accept.
//! Preview 1 has no call to create, bind or connect a socket, so evmux, like
//! mio, has no `TcpListener::bind`, `TcpStream::connect` or `UdpSocket`
//! there. std does the rest: reads, writes, `shutdown`; what the host
//! cannot answer (addresses, socket options) fails as std fails.

use std::io::{self, IoSlice, Write};
use std::net::{self, SocketAddr};

/// Accepts a connection and makes it non-blocking. Preview 1's
/// `sock_accept` does not say who the peer is: std returns an unspecified
/// address.
pub(crate) fn tcp_accept(listener: &net::TcpListener) -> io::Result<(net::TcpStream, SocketAddr)> {
    let (stream, addr) = listener.accept()?;
    stream.set_nonblocking(true)?;
    Ok((stream, addr))
}

/// Writes: preview 1 has no signals, so nothing to suppress.
pub(crate) fn send(stream: &net::TcpStream, buf: &[u8]) -> io::Result<usize> {
    (&*stream).write(buf)
}

pub(crate) fn send_vectored(stream: &net::TcpStream, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    (&*stream).write_vectored(bufs)
}
