// WASI preview 1 cannot create sockets, and these tests bind and connect on loopback
// (tests/wasi.rs covers what it can do).
#![cfg(all(feature = "os-ext", feature = "net", not(wasip1)))]
use std::io;
use std::net::{SocketAddr, TcpStream as StdStream};
#[cfg(unix)]
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};

use evmux::net::{TcpListener, TcpStream};
use evmux::{Events, Interest, Poll, Token};

mod util;
#[cfg(unix)]
use util::is_cloexec;
use util::{accept_every, any_local_v4, any_local_v6, expect_events, READABLE};

#[cfg(unix)]
fn is_nonblocking(fd: &impl AsRawFd) -> bool {
    // SAFETY: the descriptor belongs to a live object for this call.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd.as_raw_fd()) };
    rustix::fs::fcntl_getfl(fd)
        .unwrap()
        .contains(rustix::fs::OFlags::NONBLOCK)
}

#[test]
fn bind_accept_and_addresses() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut listener = TcpListener::bind(any_local_v4()).unwrap();
    let addr = listener.local_addr().unwrap();
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    #[cfg(unix)]
    assert!(is_cloexec(&listener) && is_nonblocking(&listener));
    #[cfg(windows)]
    assert!(!util::is_inheritable(&listener));
    poll.registry()
        .register(&mut listener, Token(0), Interest::READABLE)
        .unwrap();

    assert_eq!(
        listener.accept().unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    let client = StdStream::connect(addr).unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
    let (stream, peer) = listener.accept().unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    assert_eq!(stream.peer_addr().unwrap(), peer);
    assert_eq!(stream.local_addr().unwrap(), addr);
    #[cfg(windows)]
    assert!(!util::is_inheritable(&stream));
    #[cfg(unix)]
    assert!(
        is_cloexec(&stream) && is_nonblocking(&stream),
        "accepted sockets are non-blocking and close-on-exec"
    );
    assert_eq!(
        listener.accept().unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
}

#[test]
fn every_waiting_connection_is_accepted_after_one_event() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut listener = TcpListener::bind(any_local_v4()).unwrap();
    poll.registry()
        .register(&mut listener, Token(0), Interest::READABLE)
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let clients: Vec<StdStream> = (0..20).map(|_| StdStream::connect(addr).unwrap()).collect();
    accept_every(&mut poll, &mut events, &listener, clients.len());
}

#[test]
fn a_port_in_use_is_addr_in_use() {
    let listener = TcpListener::bind(any_local_v4()).unwrap();
    let error = TcpListener::bind(listener.local_addr().unwrap()).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
}

#[test]
fn an_address_of_another_host_is_addr_not_available() {
    // 192.0.2.0/24 is reserved for documentation: never one of ours.
    let error = TcpListener::bind("192.0.2.1:0".parse().unwrap()).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::AddrNotAvailable);
}

#[test]
fn ipv6_listener() {
    let Some(addr) = any_local_v6() else { return };
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut listener = TcpListener::bind(addr).unwrap();
    poll.registry()
        .register(&mut listener, Token(6), Interest::READABLE)
        .unwrap();
    let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    expect_events(&mut poll, &mut events, &[(Token(6), READABLE)]);
    let (_, peer) = listener.accept().unwrap();
    assert!(peer.is_ipv6());
}

#[test]
fn ttl_and_take_error() {
    let listener = TcpListener::bind(any_local_v4()).unwrap();
    listener.set_ttl(42).unwrap();
    assert_eq!(listener.ttl().unwrap(), 42);
    assert!(listener.take_error().unwrap().is_none());
}

#[test]
fn conversions_keep_the_socket() {
    let listener = TcpListener::bind(any_local_v4()).unwrap();
    let addr = listener.local_addr().unwrap();

    let std_listener: std::net::TcpListener = listener.into();
    assert_eq!(std_listener.local_addr().unwrap(), addr);
    let listener = TcpListener::from_std(std_listener);

    #[cfg(unix)]
    let listener = {
        let fd: OwnedFd = listener.into();
        let listener = TcpListener::from(fd);
        let raw = listener.into_raw_fd();
        // SAFETY: `raw` came from `into_raw_fd` above and is owned by nobody else.
        unsafe { TcpListener::from_raw_fd(raw) }
    };
    assert_eq!(listener.local_addr().unwrap(), addr);
    assert!(format!("{listener:?}").contains("TcpListener"));
    let _: SocketAddr = addr;
}

#[cfg(windows)]
#[test]
fn socket_conversions_keep_the_socket() {
    use std::os::windows::io::{AsRawSocket, AsSocket, FromRawSocket, IntoRawSocket, OwnedSocket};
    let listener = TcpListener::bind(any_local_v4()).unwrap();
    let addr = listener.local_addr().unwrap();
    assert_eq!(
        listener.as_raw_socket(),
        listener.as_socket().as_raw_socket()
    );
    let socket: OwnedSocket = listener.into();
    let listener = TcpListener::from(socket);
    let raw = listener.into_raw_socket();
    // SAFETY: `raw` came from `into_raw_socket` above and is owned by nobody else.
    let listener = unsafe { TcpListener::from_raw_socket(raw) };
    assert_eq!(listener.local_addr().unwrap(), addr);
}
