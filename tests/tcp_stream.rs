// WASI preview 1 cannot create sockets, and these tests bind and connect on loopback
// (tests/wasi.rs covers what it can do).
#![cfg(all(feature = "os-ext", feature = "net", not(wasip1)))]
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{Shutdown, TcpListener as StdListener};
#[cfg(unix)]
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};

use evmux::net::{TcpListener, TcpStream};
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::{
    any_local_v4, any_local_v6, expect_events, expect_no_events, read_available, transfer,
    Readiness, READABLE, WRITABLE,
};

/// A connected pair: (client, server side), both evmux streams.
fn connected_pair() -> (TcpStream, TcpStream) {
    let listener = StdListener::bind(any_local_v4()).unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    server.set_nonblocking(true).unwrap();
    // The connection is usable once writable, as mio documents: on WASI
    // preview 2, wasi-libc completes it only when poll(2) sees it so.
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(&mut client, Token(0), Interest::WRITABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), WRITABLE)]);
    poll.registry().deregister(&mut client).unwrap();
    (client, TcpStream::from_std(server))
}

#[test]
fn connect_returns_at_once_and_completes_with_a_writable_event() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let listener = StdListener::bind(any_local_v4()).unwrap();
    let mut stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    poll.registry()
        .register(&mut stream, Token(0), Interest::WRITABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), WRITABLE)]);
    assert!(stream.take_error().unwrap().is_none());
    assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
}

#[test]
fn a_refused_connection_is_reported_through_an_event_and_take_error() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let port = StdListener::bind(any_local_v4())
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let connected = TcpStream::connect(format!("127.0.0.1:{port}").parse().unwrap());
    // wasi-libc (WASI preview 2) may learn of the refusal on the loopback
    // before `connect` returns, and report it there.
    #[cfg(wasip2)]
    if let Err(error) = &connected {
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
        return;
    }
    let mut stream = connected.unwrap();
    poll.registry()
        .register(
            &mut stream,
            Token(0),
            Interest::WRITABLE | Interest::READABLE,
        )
        .unwrap();
    // wasi-libc's poll(2) reports a failed connection as ready for what
    // was asked, without POLLHUP or POLLERR.
    let failed = Readiness {
        write_closed: !cfg!(wasip2),
        writable: cfg!(wasip2),
        ..Readiness::default()
    };
    expect_events(&mut poll, &mut events, &[(Token(0), failed)]);
    let error = stream.take_error().unwrap().expect("a pending error");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    assert!(stream.peer_addr().is_err());
}

#[test]
fn sixty_four_mebibytes_with_small_buffers() {
    let (mut client, mut server) = connected_pair();
    transfer(&mut client, &mut server, 64 << 20, 1000, 777);
}

#[test]
fn sixty_four_mebibytes_with_large_buffers() {
    let (mut client, mut server) = connected_pair();
    transfer(&mut server, &mut client, 64 << 20, 1 << 20, 1 << 20);
}

/// Whether a hangup is reported as `is_read_closed`: wasi-libc's poll(2)
/// (WASI preview 2) has no `POLLHUP`, and reports the end of the stream as
/// readable only (the read returns 0).
const READ_HANGUP_REPORTED: bool = !cfg!(wasip2);

#[test]
fn peer_close_reads_zero_and_is_read_closed() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut client, server) = connected_pair();
    poll.registry()
        .register(&mut client, Token(1), Interest::READABLE)
        .unwrap();
    drop(server);
    let closed = Readiness {
        read_closed: READ_HANGUP_REPORTED,
        ..READABLE
    };
    expect_events(&mut poll, &mut events, &[(Token(1), closed)]);
    assert_eq!(read_available(&mut client), (Vec::new(), true));
}

#[test]
#[cfg_attr(
    windows,
    ignore = "Wine 8 reports AFD_POLL_DISCONNECT only once the unread data is drained"
)]
fn shutdown_of_the_write_half_shows_on_the_peer() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (client, mut server) = connected_pair();
    poll.registry()
        .register(&mut server, Token(2), Interest::READABLE)
        .unwrap();
    (&client).write_all(b"last words").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let closed = Readiness {
        read_closed: READ_HANGUP_REPORTED,
        ..READABLE
    };
    expect_events(&mut poll, &mut events, &[(Token(2), closed)]);
    assert_eq!(read_available(&mut server), (b"last words".to_vec(), true));
    // The other direction still works.
    (&server).write_all(b"reply").unwrap();
}

#[test]
fn writing_to_a_closed_peer_is_an_error_not_a_signal() {
    let (client, server) = connected_pair();
    drop(server);
    let mut failure = None;
    // The first writes may succeed; the reset makes a later one fail.
    for _ in 0..1000 {
        let result = if failure.is_none() {
            (&client).write(b"into the void")
        } else {
            (&client).write_vectored(&[IoSlice::new(b"again")])
        };
        match result {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => {
                if failure.is_some() {
                    return;
                }
                failure = Some(e);
            }
        }
        std::thread::yield_now();
    }
    panic!("writes to a closed peer kept succeeding: {failure:?}");
}

#[test]
fn vectored_reads_and_writes() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut client, mut server) = connected_pair();
    poll.registry()
        .register(&mut server, Token(0), Interest::READABLE)
        .unwrap();
    let written = client
        .write_vectored(&[IoSlice::new(b"hello "), IoSlice::new(b"world")])
        .unwrap();
    let (mut first, mut second) = ([0; 6], [0; 5]);
    if cfg!(wasip2) {
        // wasi-libc has no vectored socket I/O: the first buffer moves.
        assert_eq!(written, 6);
        expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
        let read = server
            .read_vectored(&mut [IoSliceMut::new(&mut []), IoSliceMut::new(&mut first)])
            .unwrap();
        assert_eq!((read, &first), (6, b"hello "));
        return;
    }
    assert_eq!(written, 11);
    expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
    let read = server
        .read_vectored(&mut [IoSliceMut::new(&mut first), IoSliceMut::new(&mut second)])
        .unwrap();
    assert_eq!(read, 11);
    assert_eq!((&first, &second), (b"hello ", b"world"));
    client.flush().unwrap();
}

#[test]
#[cfg_attr(
    wasip2,
    ignore = "wasi-libc has no MSG_PEEK for TCP: peek returns Unsupported"
)]
fn peek_leaves_the_data() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (client, mut server) = connected_pair();
    poll.registry()
        .register(&mut server, Token(0), Interest::READABLE)
        .unwrap();
    assert_eq!(
        server.peek(&mut [0; 4]).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    (&client).write_all(b"peek").unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
    let mut buf = [0; 4];
    assert_eq!(server.peek(&mut buf).unwrap(), 4);
    assert_eq!(read_available(&mut server).0, b"peek");
}

#[test]
fn socket_options() {
    let (client, _server) = connected_pair();
    client.set_nodelay(true).unwrap();
    assert!(client.nodelay().unwrap());
    client.set_nodelay(false).unwrap();
    assert!(!client.nodelay().unwrap());
    client.set_ttl(17).unwrap();
    assert_eq!(client.ttl().unwrap(), 17);
    assert!(client.take_error().unwrap().is_none());
}

#[test]
fn deregister_register_again_and_move_to_another_token() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (client, mut server) = connected_pair();
    poll.registry()
        .register(&mut server, Token(1), Interest::READABLE)
        .unwrap();
    poll.registry().deregister(&mut server).unwrap();
    (&client).write_all(b"a").unwrap();
    expect_no_events(&mut poll, &mut events);

    poll.registry()
        .register(&mut server, Token(2), Interest::READABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(Token(2), READABLE)]);
    read_available(&mut server);

    poll.registry()
        .reregister(&mut server, Token(3), Interest::READABLE)
        .unwrap();
    (&client).write_all(b"b").unwrap();
    let seen = expect_events(&mut poll, &mut events, &[(Token(3), READABLE)]);
    assert!(!seen.contains_key(&Token(2)));
}

#[test]
fn registration_errors_of_io_sources() {
    let first = Poll::new().unwrap();
    let second = Poll::new().unwrap();
    let (_client, mut server) = connected_pair();
    let not_found = first
        .registry()
        .reregister(&mut server, Token(0), Interest::READABLE)
        .unwrap_err();
    assert_eq!(not_found.kind(), io::ErrorKind::NotFound);
    assert_eq!(
        first.registry().deregister(&mut server).unwrap_err().kind(),
        io::ErrorKind::NotFound
    );

    first
        .registry()
        .register(&mut server, Token(0), Interest::READABLE)
        .unwrap();
    let twice = first
        .registry()
        .register(&mut server, Token(1), Interest::READABLE)
        .unwrap_err();
    assert_eq!(twice.kind(), io::ErrorKind::AlreadyExists);
    // A second Poll is caught in debug builds only, as in mio: release
    // builds carry no bookkeeping word per source. Kinds and messages are
    // mio's.
    #[cfg(debug_assertions)]
    {
        assert_eq!(
            twice.to_string(),
            "I/O source already registered with a `Registry`"
        );
        let elsewhere = second
            .registry()
            .register(&mut server, Token(1), Interest::READABLE)
            .unwrap_err();
        assert_eq!(elsewhere.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(elsewhere.to_string(), twice.to_string());
        let moved = second
            .registry()
            .reregister(&mut server, Token(1), Interest::READABLE)
            .unwrap_err();
        assert_eq!(moved.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(
            moved.to_string(),
            "I/O source already registered with a different `Registry`"
        );
        let gone = second.registry().deregister(&mut server).unwrap_err();
        assert_eq!(gone.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            gone.to_string(),
            "I/O source not registered with `Registry`"
        );
    }

    first.registry().deregister(&mut server).unwrap();
    second
        .registry()
        .register(&mut server, Token(1), Interest::READABLE)
        .unwrap();
}

#[cfg(unix)]
#[test]
fn try_io_keeps_the_readiness_contract() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (client, mut server) = connected_pair();
    poll.registry()
        .register(&mut server, Token(0), Interest::READABLE)
        .unwrap();
    for round in 0..3u8 {
        (&client).write_all(&[round; 10]).unwrap();
        expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
        let fd = server.as_raw_fd();
        let mut total = 0;
        loop {
            let result = server.try_io(|| {
                let mut buf = [0u8; 4];
                // SAFETY: a plain read(2) into a live buffer.
                let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match result {
                Ok(n) => total += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(total, 10);
    }
}

#[test]
fn ipv6_connection() {
    let Some(addr) = any_local_v6() else { return };
    let listener = TcpListener::bind(addr).unwrap();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    poll.registry()
        .register(&mut client, Token(0), Interest::WRITABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), WRITABLE)]);
    assert!(client.peer_addr().unwrap().is_ipv6());
}

#[test]
fn conversions_keep_the_socket() {
    let (client, _server) = connected_pair();
    let peer = client.peer_addr().unwrap();
    let std_stream: std::net::TcpStream = client.into();
    let client = TcpStream::from_std(std_stream);
    #[cfg(unix)]
    let client = {
        let fd: OwnedFd = client.into();
        let client = TcpStream::from(fd);
        let raw = client.into_raw_fd();
        // SAFETY: `raw` came from `into_raw_fd` above and is owned by nobody else.
        unsafe { TcpStream::from_raw_fd(raw) }
    };
    assert_eq!(client.peer_addr().unwrap(), peer);
    assert!(format!("{client:?}").contains("TcpStream"));
}

/// A readable event that was not read to `WouldBlock` must not hide a later
/// read shutdown: epoll reports it, and so must every backend.
#[test]
#[cfg_attr(
    windows,
    ignore = "Wine 8 reports AFD_POLL_DISCONNECT only once the unread data has been read"
)]
#[cfg_attr(
    wasip2,
    ignore = "wasi-libc's poll(2) reports no hangup: the end of the stream is only readable"
)]
fn read_shutdown_after_an_unread_readable_event_is_reported() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut client, server) = connected_pair();
    poll.registry()
        .register(&mut client, Token(3), Interest::READABLE)
        .unwrap();
    (&server).write_all(b"unread").unwrap();
    expect_events(&mut poll, &mut events, &[(Token(3), READABLE)]);
    server.shutdown(Shutdown::Write).unwrap();
    let closed = Readiness {
        read_closed: true,
        ..READABLE
    };
    expect_events(&mut poll, &mut events, &[(Token(3), closed)]);
    assert_eq!(read_available(&mut client), (b"unread".to_vec(), true));
}

/// The same with the stream registered for writing too, after a short read
/// (less than was there), as tokio reads: the shutdown that follows comes
/// with data still unread and must be reported as `read_closed`, as epoll
/// and a kernel's kqueue (`EV_EOF` on `EVFILT_READ`, kevent(2)) report it.
/// libkqueue once lost it when a descriptor had both filters.
#[test]
#[cfg_attr(
    windows,
    ignore = "Wine 8 reports AFD_POLL_DISCONNECT only once the unread data has been read"
)]
#[cfg_attr(
    wasip2,
    ignore = "wasi-libc's poll(2) reports no hangup: the end of the stream is only readable"
)]
fn read_shutdown_after_a_short_read_is_reported_with_both_interests() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut client, server) = connected_pair();
    poll.registry()
        .register(
            &mut client,
            Token(4),
            Interest::READABLE | Interest::WRITABLE,
        )
        .unwrap();
    expect_events(&mut poll, &mut events, &[(Token(4), WRITABLE)]);
    (&server).write_all(b"more than one byte").unwrap();
    expect_events(&mut poll, &mut events, &[(Token(4), READABLE)]);
    let mut first = [0; 1];
    assert_eq!(client.read(&mut first).unwrap(), 1);
    server.shutdown(Shutdown::Write).unwrap();
    let closed = Readiness {
        read_closed: true,
        ..READABLE
    };
    expect_events(&mut poll, &mut events, &[(Token(4), closed)]);
    let (rest, ended) = read_available(&mut client);
    assert_eq!(
        (&first[..], &rest[..], ended),
        (&b"m"[..], &b"ore than one byte"[..], true)
    );
}

#[cfg(windows)]
#[test]
fn socket_conversions_keep_the_socket() {
    use std::os::windows::io::{AsRawSocket, AsSocket, FromRawSocket, IntoRawSocket, OwnedSocket};
    let client = connected_pair().0;
    let addr = client.local_addr().unwrap();
    assert_eq!(client.as_raw_socket(), client.as_socket().as_raw_socket());
    let socket: OwnedSocket = client.into();
    let client = TcpStream::from(socket);
    let raw = client.into_raw_socket();
    // SAFETY: `raw` came from `into_raw_socket` above and is owned by nobody else.
    let client = unsafe { TcpStream::from_raw_socket(raw) };
    assert_eq!(client.local_addr().unwrap(), addr);
}

/// One of evmux's sources registered with two `Poll`s. Debug builds refuse
/// the second as mio does; release builds carry no bookkeeping, so the
/// backend answers: epoll and kqueue accept it (both `Poll`s report the
/// source), the table-based backends refuse it. Either way nothing is left
/// behind. `.ci/correctness.sh` runs this in a release build too.
#[test]
fn a_source_registered_with_two_polls() {
    let mut first = Poll::new().unwrap();
    let mut second = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (client, mut server) = connected_pair();
    first
        .registry()
        .register(&mut server, Token(0), Interest::READABLE)
        .unwrap();
    let again = second
        .registry()
        .register(&mut server, Token(1), Interest::READABLE);
    if let Err(error) = &again {
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(
            error.to_string(),
            "I/O source already registered with a `Registry`"
        );
    }
    if cfg!(debug_assertions) {
        assert!(again.is_err(), "debug builds refuse a second Poll");
    }
    (&client).write_all(b"to both").unwrap();
    expect_events(&mut first, &mut events, &[(Token(0), READABLE)]);
    if again.is_ok() {
        expect_events(&mut second, &mut events, &[(Token(1), READABLE)]);
    }
    first.registry().deregister(&mut server).unwrap();
    drop(server);
    expect_no_events(&mut first, &mut events);
    expect_no_events(&mut second, &mut events);
}
