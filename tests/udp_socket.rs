// WASI preview 1 cannot create sockets, and these tests make UDP sockets
// (tests/wasi.rs covers what it can do).
#![cfg(all(feature = "os-ext", feature = "net", not(wasip1)))]
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
#[cfg(unix)]
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};

use evmux::net::UdpSocket;
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::{any_local_v4, any_local_v6, expect_events, expect_no_events, READABLE, WRITABLE};

/// Receives until `WouldBlock`, returning every datagram with its source.
fn receive_all(socket: &UdpSocket) -> Vec<(Vec<u8>, SocketAddr)> {
    let mut datagrams = Vec::new();
    let mut buf = [0; 2048];
    loop {
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => datagrams.push((buf[..n].to_vec(), from)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return datagrams,
            Err(e) => panic!("recv_from: {e}"),
        }
    }
}

fn boundaries_preserved(bind: SocketAddr) {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let sender = UdpSocket::bind(bind).unwrap();
    let mut receiver = UdpSocket::bind(bind).unwrap();
    poll.registry()
        .register(&mut receiver, Token(1), Interest::READABLE)
        .unwrap();
    let target = receiver.local_addr().unwrap();

    let sizes = [1, 0, 100, 1472, 7];
    for (i, &size) in sizes.iter().enumerate() {
        assert_eq!(sender.send_to(&vec![i as u8; size], target).unwrap(), size);
    }
    let mut received = Vec::new();
    while received.len() < sizes.len() {
        expect_events(&mut poll, &mut events, &[(Token(1), READABLE)]);
        received.extend(receive_all(&receiver));
    }
    for (i, (data, from)) in received.iter().enumerate() {
        assert_eq!(*data, vec![i as u8; sizes[i]], "datagram {i}");
        assert_eq!(*from, sender.local_addr().unwrap());
    }
    expect_no_events(&mut poll, &mut events);
}

#[test]
fn datagram_boundaries_are_preserved_over_ipv4() {
    boundaries_preserved(any_local_v4());
}

#[test]
fn datagram_boundaries_are_preserved_over_ipv6() {
    let Some(addr) = any_local_v6() else { return };
    boundaries_preserved(addr);
}

#[test]
fn connected_mode() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut a = UdpSocket::bind(any_local_v4()).unwrap();
    let b = UdpSocket::bind(any_local_v4()).unwrap();
    let stranger = UdpSocket::bind(any_local_v4()).unwrap();
    assert_eq!(
        a.peer_addr().unwrap_err().kind(),
        io::ErrorKind::NotConnected
    );
    a.connect(b.local_addr().unwrap()).unwrap();
    b.connect(a.local_addr().unwrap()).unwrap();
    assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
    poll.registry()
        .register(&mut a, Token(0), Interest::READABLE | Interest::WRITABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), WRITABLE)]);

    // Datagrams from other addresses are filtered out.
    stranger.send_to(b"noise", a.local_addr().unwrap()).unwrap();
    b.send(b"signal").unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
    let mut buf = [0; 16];
    // wasi-libc has no MSG_PEEK (see `peek_from_leaves_the_datagram`).
    #[cfg(not(wasip2))]
    assert_eq!(a.peek(&mut buf).unwrap(), 6);
    assert_eq!(a.recv(&mut buf).unwrap(), 6);
    assert_eq!(&buf[..6], b"signal");
    assert_eq!(
        a.recv(&mut buf).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
}

#[test]
#[cfg_attr(
    windows,
    ignore = "Windows reports ICMP port unreachable as a failing recv (WSAECONNRESET), \
              not as a socket error; Wine 8 does not report it at all"
)]
#[cfg_attr(
    wasip2,
    ignore = "wasi-libc reports an ICMP error only as a failing recv (no POLLERR, no SO_ERROR \
              for UDP): after_an_error_is_read_the_next_datagram_is_reported covers it"
)]
fn an_unreachable_connected_peer_is_reported() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let closed_port = UdpSocket::bind(any_local_v4())
        .unwrap()
        .local_addr()
        .unwrap();
    let mut socket = UdpSocket::bind(any_local_v4()).unwrap();
    socket.connect(closed_port).unwrap();
    poll.registry()
        .register(&mut socket, Token(0), Interest::READABLE)
        .unwrap();
    socket.send(b"hello?").unwrap();
    let error = util::Readiness {
        error: true,
        ..util::Readiness::default()
    };
    expect_events(&mut poll, &mut events, &[(Token(0), error)]);
    if util::SOCKET_ERROR_OUTLIVES_ITS_EVENT {
        let error = socket.take_error().unwrap().expect("ICMP port unreachable");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    }
}

#[test]
#[cfg_attr(
    wasip2,
    ignore = "wasi-libc has no MSG_PEEK: peek and peek_from return Unsupported"
)]
fn peek_from_leaves_the_datagram() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut socket = UdpSocket::bind(any_local_v4()).unwrap();
    poll.registry()
        .register(&mut socket, Token(0), Interest::READABLE)
        .unwrap();
    socket
        .send_to(b"self", socket.local_addr().unwrap())
        .unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
    let mut buf = [0; 8];
    let (n, from) = socket.peek_from(&mut buf).unwrap();
    assert_eq!((n, from), (4, socket.local_addr().unwrap()));
    assert_eq!(receive_all(&socket).len(), 1);
}

#[test]
fn a_port_in_use_is_addr_in_use() {
    let socket = UdpSocket::bind(any_local_v4()).unwrap();
    let error = UdpSocket::bind(socket.local_addr().unwrap()).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
}

#[test]
fn sending_to_an_invalid_address_is_a_clear_error() {
    let socket = UdpSocket::bind(any_local_v4()).unwrap();
    let error = socket
        .send_to(b"x", "0.0.0.0:0".parse().unwrap())
        .unwrap_err();
    assert_ne!(error.kind(), io::ErrorKind::WouldBlock, "{error}");
    // An IPv6 destination from an IPv4 socket.
    let error = socket
        .send_to(b"x", "[::1]:9".parse().unwrap())
        .unwrap_err();
    assert_ne!(error.kind(), io::ErrorKind::WouldBlock, "{error}");
}

#[test]
fn socket_options() {
    // WASI preview 2 (wasi-libc) has no broadcast, no multicast, and no
    // SO_ERROR or IPV6_V6ONLY for UDP: those fail with ENOPROTOOPT there.
    let full = !cfg!(wasip2);
    let socket = UdpSocket::bind(any_local_v4()).unwrap();
    if full {
        socket.set_broadcast(true).unwrap();
        assert!(socket.broadcast().unwrap());
        socket.set_multicast_loop_v4(false).unwrap();
        assert!(!socket.multicast_loop_v4().unwrap());
        socket.set_multicast_ttl_v4(3).unwrap();
        assert_eq!(socket.multicast_ttl_v4().unwrap(), 3);
    }
    socket.set_ttl(9).unwrap();
    assert_eq!(socket.ttl().unwrap(), 9);
    // IPV6_V6ONLY means nothing on an IPv4 socket; the OS decides whether
    // asking is an error, but it must not panic.
    let _ = socket.only_v6();
    if full {
        assert!(socket.take_error().unwrap().is_none());
    }

    if let Some(addr) = any_local_v6() {
        let socket = UdpSocket::bind(addr).unwrap();
        if full {
            // Its value depends on the OS and the bound address; reading it
            // works.
            socket.only_v6().unwrap();
            socket.set_multicast_loop_v6(false).unwrap();
            assert!(!socket.multicast_loop_v6().unwrap());
        }
    }
}

/// Joining and leaving a group on the loopback interface, which needs no
/// multicast-capable network card: a failure is a failure, not a skip.
#[test]
#[cfg_attr(
    wasip2,
    ignore = "WASI preview 2 has no multicast: joining fails with ENOPROTOOPT"
)]
fn multicast_membership() {
    let socket = UdpSocket::bind("0.0.0.0:0".parse().unwrap()).unwrap();
    let group = Ipv4Addr::new(239, 255, 0, 1);
    socket
        .join_multicast_v4(&group, &Ipv4Addr::LOCALHOST)
        .expect("joining an IPv4 group on the loopback interface");
    socket
        .leave_multicast_v4(&group, &Ipv4Addr::LOCALHOST)
        .expect("leaving it");
    let twice = socket.leave_multicast_v4(&group, &Ipv4Addr::LOCALHOST);
    assert!(twice.is_err(), "left a group that was not joined");
    if any_local_v6().is_some() {
        let socket = UdpSocket::bind("[::]:0".parse().unwrap()).unwrap();
        let group: Ipv6Addr = "ff02::1:3".parse().unwrap();
        socket
            .join_multicast_v6(&group, 0)
            .expect("joining an IPv6 group");
        socket.leave_multicast_v6(&group, 0).expect("leaving it");
    }
}

#[test]
fn try_io_and_conversions() {
    let socket = UdpSocket::bind(any_local_v4()).unwrap();
    let addr = socket.local_addr().unwrap();
    let result: io::Result<()> = socket.try_io(|| Err(io::ErrorKind::WouldBlock.into()));
    assert_eq!(result.unwrap_err().kind(), io::ErrorKind::WouldBlock);

    let std_socket: std::net::UdpSocket = socket.into();
    let socket = UdpSocket::from_std(std_socket);
    #[cfg(unix)]
    let socket = {
        let fd: OwnedFd = socket.into();
        let socket = UdpSocket::from(fd);
        let raw = socket.into_raw_fd();
        // SAFETY: `raw` came from `into_raw_fd` above and is owned by nobody else.
        unsafe { UdpSocket::from_raw_fd(raw) }
    };
    assert_eq!(socket.local_addr().unwrap(), addr);
    assert!(format!("{socket:?}").contains("UdpSocket"));
}

#[test]
#[cfg_attr(
    windows,
    ignore = "Windows reports ICMP port unreachable as a failing recv (WSAECONNRESET), \
              not as a socket error; Wine 8 does not report it at all"
)]
#[cfg_attr(
    evmux_libkqueue,
    ignore = "libkqueue reads a socket's pending error to report it, which clears it \
              (tests/util: SOCKET_ERROR_OUTLIVES_ITS_EVENT)"
)]
fn after_an_error_is_read_the_next_datagram_is_reported() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let closed = UdpSocket::bind(any_local_v4()).unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    let mut socket = UdpSocket::bind(any_local_v4()).unwrap();
    socket.connect(closed_addr).unwrap();
    poll.registry()
        .register(&mut socket, Token(0), Interest::READABLE)
        .unwrap();

    socket.send(b"anyone?").unwrap();
    let error = util::Readiness {
        error: true,
        ..util::Readiness::default()
    };
    // wasi-libc's poll(2) has no POLLERR: the error makes the socket
    // readable, and the receive fails with it.
    let error = if cfg!(wasip2) { READABLE } else { error };
    expect_events(&mut poll, &mut events, &[(Token(0), error)]);
    let mut buf = [0; 16];
    assert_eq!(
        socket.recv(&mut buf).unwrap_err().kind(),
        io::ErrorKind::ConnectionRefused
    );

    // Someone binds the port after all and answers.
    let peer = UdpSocket::bind(closed_addr).unwrap();
    peer.send_to(b"here", socket.local_addr().unwrap()).unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
    assert_eq!(socket.recv(&mut buf).unwrap(), 4);
}

#[cfg(windows)]
#[test]
fn socket_conversions_keep_the_socket() {
    use std::os::windows::io::{AsRawSocket, AsSocket, FromRawSocket, IntoRawSocket, OwnedSocket};
    let socket = UdpSocket::bind(any_local_v4()).unwrap();
    let addr = socket.local_addr().unwrap();
    assert_eq!(socket.as_raw_socket(), socket.as_socket().as_raw_socket());
    let socket: OwnedSocket = socket.into();
    let socket = UdpSocket::from(socket);
    let raw = socket.into_raw_socket();
    // SAFETY: `raw` came from `into_raw_socket` above and is owned by nobody else.
    let socket = unsafe { UdpSocket::from_raw_socket(raw) };
    assert_eq!(socket.local_addr().unwrap(), addr);
}
