//! Socket creation on Windows: overlapped, non-inheritable, non-blocking
//! sockets (as mio makes them), and the base handle AFD polls.
//!
//! References: `WSASocketW`, `ioctlsocket` (`FIONBIO`), `bind`, `listen`,
//! `connect`, `WSAIoctl` (`SIO_BASE_HANDLE`, `SIO_BSP_HANDLE*`) on
//! Microsoft Learn.

use std::io::{self, IoSlice, Write};
use std::mem::size_of;
use std::net::{self, SocketAddr};
use std::os::windows::io::{AsRawSocket, FromRawSocket, OwnedSocket, RawSocket};

use windows_sys::Win32::Networking::WinSock::{
    self as ws, AF_INET, AF_INET6, FIONBIO, IN6_ADDR, IN6_ADDR_0, INVALID_SOCKET, IN_ADDR,
    IN_ADDR_0, IPPROTO_IPV6, IPV6_V6ONLY, SOCKADDR, SOCKADDR_IN, SOCKADDR_IN6, SOCKADDR_IN6_0,
    SOCKADDR_INET, SOCKET, SOCKET_ERROR, SOCK_DGRAM, SOCK_STREAM, WSAEWOULDBLOCK,
    WSA_FLAG_NO_HANDLE_INHERIT, WSA_FLAG_OVERLAPPED,
};

/// The listen backlog: above std's (and mio's) 128, so that a burst of
/// connects (1,000 in the tests) waits for `accept` instead of being
/// refused; Windows caps it at its own maximum.
const LISTEN_BACKLOG: i32 = 1024;

/// Turns a Winsock return value into a result.
fn check(result: i32) -> io::Result<()> {
    if result == SOCKET_ERROR {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Creates an overlapped, non-inheritable, non-blocking socket.
fn new_socket(addr: &SocketAddr, kind: i32) -> io::Result<OwnedSocket> {
    super::init_winsock();
    let family = match addr {
        SocketAddr::V4(_) => AF_INET,
        SocketAddr::V6(_) => AF_INET6,
    };
    let flags = WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT;
    // SAFETY: no pointers; a new socket is returned or INVALID_SOCKET.
    let socket = unsafe { ws::WSASocketW(family.into(), kind, 0, std::ptr::null(), 0, flags) };
    if socket == INVALID_SOCKET {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the socket was just created and nothing else owns it.
    let socket = unsafe { OwnedSocket::from_raw_socket(socket as RawSocket) };
    set_nonblocking(&socket)?;
    Ok(socket)
}

fn set_nonblocking(socket: &impl AsRawSocket) -> io::Result<()> {
    let mut on: u32 = 1;
    // SAFETY: `on` is a live local the call reads.
    check(unsafe { ws::ioctlsocket(socket.as_raw_socket() as SOCKET, FIONBIO, &mut on) })
}

/// `addr` as the `SOCKADDR_INET` union, with the length of its member.
fn sockaddr(addr: &SocketAddr) -> (SOCKADDR_INET, i32) {
    match addr {
        SocketAddr::V4(addr) => {
            let ipv4 = SOCKADDR_IN {
                sin_family: AF_INET,
                sin_port: addr.port().to_be(),
                sin_addr: IN_ADDR {
                    S_un: IN_ADDR_0 {
                        S_addr: u32::from_ne_bytes(addr.ip().octets()),
                    },
                },
                sin_zero: [0; 8],
            };
            (
                SOCKADDR_INET { Ipv4: ipv4 },
                size_of::<SOCKADDR_IN>() as i32,
            )
        }
        SocketAddr::V6(addr) => {
            let ipv6 = SOCKADDR_IN6 {
                sin6_family: AF_INET6,
                sin6_port: addr.port().to_be(),
                sin6_flowinfo: addr.flowinfo(),
                sin6_addr: IN6_ADDR {
                    u: IN6_ADDR_0 {
                        Byte: addr.ip().octets(),
                    },
                },
                Anonymous: SOCKADDR_IN6_0 {
                    sin6_scope_id: addr.scope_id(),
                },
            };
            (
                SOCKADDR_INET { Ipv6: ipv6 },
                size_of::<SOCKADDR_IN6>() as i32,
            )
        }
    }
}

fn bind(socket: &OwnedSocket, addr: &SocketAddr) -> io::Result<()> {
    let (raw, len) = sockaddr(addr);
    // SAFETY: `raw` is a live local holding an address of `len` bytes.
    check(unsafe {
        ws::bind(
            socket.as_raw_socket() as SOCKET,
            (&raw as *const SOCKADDR_INET).cast::<SOCKADDR>(),
            len,
        )
    })
}

/// A listening TCP socket. (No `SO_REUSEADDR`: on Windows it would let
/// another socket steal the port.)
pub(crate) fn tcp_bind(addr: SocketAddr) -> io::Result<net::TcpListener> {
    let socket = new_socket(&addr, SOCK_STREAM)?;
    bind(&socket, &addr)?;
    // SAFETY: no pointers.
    check(unsafe { ws::listen(socket.as_raw_socket() as SOCKET, LISTEN_BACKLOG) })?;
    Ok(net::TcpListener::from(socket))
}

/// Starts a TCP connection without waiting for it to complete.
pub(crate) fn tcp_connect(addr: SocketAddr) -> io::Result<net::TcpStream> {
    let socket = new_socket(&addr, SOCK_STREAM)?;
    let (raw, len) = sockaddr(&addr);
    // SAFETY: `raw` is a live local holding an address of `len` bytes.
    let result = unsafe {
        ws::connect(
            socket.as_raw_socket() as SOCKET,
            (&raw as *const SOCKADDR_INET).cast::<SOCKADDR>(),
            len,
        )
    };
    match check(result) {
        Ok(()) => {}
        Err(error) if error.raw_os_error() == Some(WSAEWOULDBLOCK) => {}
        Err(error) => return Err(error),
    }
    Ok(net::TcpStream::from(socket))
}

/// Accepts a connection as a non-blocking, non-inheritable socket with the
/// peer's address. (An accepted socket does not reliably take these from
/// the listener, so both are set.)
pub(crate) fn tcp_accept(listener: &net::TcpListener) -> io::Result<(net::TcpStream, SocketAddr)> {
    let (stream, addr) = listener.accept()?;
    set_nonblocking(&stream)?;
    set_no_inherit(&stream)?;
    Ok((stream, addr))
}

fn set_no_inherit(socket: &impl AsRawSocket) -> io::Result<()> {
    use windows_sys::Win32::Foundation::{SetHandleInformation, HANDLE_FLAG_INHERIT};
    // SAFETY: the socket is open for the duration of the call; no pointers.
    let ok = unsafe { SetHandleInformation(socket.as_raw_socket() as _, HANDLE_FLAG_INHERIT, 0) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A bound UDP socket.
pub(crate) fn udp_bind(addr: SocketAddr) -> io::Result<net::UdpSocket> {
    let socket = new_socket(&addr, SOCK_DGRAM)?;
    bind(&socket, &addr)?;
    Ok(net::UdpSocket::from(socket))
}

/// `IPV6_V6ONLY` of a socket.
pub(crate) fn only_v6(socket: &impl AsRawSocket) -> io::Result<bool> {
    let mut value: u32 = 0;
    let mut len = size_of::<u32>() as i32;
    // SAFETY: `value` and `len` are live locals; `len` is `value`'s size.
    check(unsafe {
        ws::getsockopt(
            socket.as_raw_socket() as SOCKET,
            IPPROTO_IPV6,
            IPV6_V6ONLY,
            (&mut value as *mut u32).cast(),
            &mut len,
        )
    })?;
    Ok(value != 0)
}

/// A write (Windows raises no signal on a closed peer).
pub(crate) fn send(mut socket: &net::TcpStream, buf: &[u8]) -> io::Result<usize> {
    socket.write(buf)
}

/// A vectored write (Windows raises no signal on a closed peer).
pub(crate) fn send_vectored(socket: &net::TcpStream, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let mut socket = socket;
    socket.write_vectored(bufs)
}

/// The base service provider's socket under `socket`: what AFD polls.
/// Layered service providers may hide it from `SIO_BASE_HANDLE`; then the
/// `SIO_BSP_HANDLE*` queries are tried, and only an answer different from
/// `socket` is taken.
pub(crate) fn base_socket(socket: RawSocket) -> io::Result<RawSocket> {
    if let Ok(base) = query_handle(socket, ws::SIO_BASE_HANDLE) {
        return Ok(base);
    }
    for ioctl in [
        ws::SIO_BSP_HANDLE_SELECT,
        ws::SIO_BSP_HANDLE_POLL,
        ws::SIO_BSP_HANDLE,
    ] {
        match query_handle(socket, ioctl) {
            Ok(base) if base != socket => return Ok(base),
            _ => {}
        }
    }
    query_handle(socket, ws::SIO_BASE_HANDLE)
}

fn query_handle(socket: RawSocket, ioctl: u32) -> io::Result<RawSocket> {
    let mut base: SOCKET = INVALID_SOCKET;
    let mut bytes = 0;
    // SAFETY: `base` and `bytes` are live locals; the output size is
    // `base`'s; no overlapped operation is started.
    check(unsafe {
        ws::WSAIoctl(
            socket as SOCKET,
            ioctl,
            std::ptr::null(),
            0,
            (&mut base as *mut SOCKET).cast(),
            size_of::<SOCKET>() as u32,
            &mut bytes,
            std::ptr::null_mut(),
            None,
        )
    })?;
    if base == INVALID_SOCKET {
        return Err(io::Error::other("no base socket"));
    }
    Ok(base as RawSocket)
}
