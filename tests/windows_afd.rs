//! Windows' AFD-based selector at its edges: refused and reset
//! connections, half-close, a deep listen backlog, many registered sockets,
//! registration changes from other threads while `poll` waits, and drops
//! while poll requests are in flight.

#![cfg(windows)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener as StdListener, TcpStream as StdStream};
use std::sync::Arc;
use std::thread;

use evmux::net::{TcpListener, TcpStream, UdpSocket};
use evmux::{Events, Interest, Poll, Token, Waker};

mod util;
use util::{
    accept_every, any_local_v4, expect_events, expect_no_events, within_deadline, Readiness,
    DEADLINE, READABLE, WRITABLE,
};

#[test]
fn a_refused_connect_is_writable_and_error() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let closed = StdListener::bind(any_local_v4())
        .unwrap()
        .local_addr()
        .unwrap();
    let mut stream = TcpStream::connect(closed).unwrap();
    poll.registry()
        .register(&mut stream, Token(0), Interest::WRITABLE)
        .unwrap();
    let failed = Readiness {
        error: true,
        ..WRITABLE
    };
    expect_events(&mut poll, &mut events, &[(Token(0), failed)]);
    let error = stream.take_error().unwrap().expect("the connect failed");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
}

#[test]
fn a_reset_by_the_peer_is_read_and_write_closed() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut stream, peer) = util::tcp_pair();
    poll.registry()
        .register(&mut stream, Token(0), Interest::READABLE)
        .unwrap();
    abort(peer);
    let reset = Readiness {
        read_closed: true,
        ..READABLE
    };
    expect_events(&mut poll, &mut events, &[(Token(0), reset)]);
    // Windows reports the reset to the read; Wine 8's AFD poll reads the
    // host socket's pending error (clearing it), so the read then sees
    // only the end of the stream.
    match stream.read(&mut [0; 8]) {
        Ok(0) => {}
        Ok(n) => panic!("read {n} bytes from a reset connection"),
        Err(error) => assert!(
            matches!(
                error.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
            ),
            "{error}"
        ),
    }
}

/// Closes a connection with a reset (linger on, timeout zero).
fn abort(stream: TcpStream) {
    use std::os::windows::io::AsRawSocket;
    use windows_sys::Win32::Networking::WinSock::{setsockopt, LINGER, SOL_SOCKET, SO_LINGER};
    let linger = LINGER {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `linger` is a live local of the size passed.
    let result = unsafe {
        setsockopt(
            stream.as_raw_socket() as usize,
            SOL_SOCKET,
            SO_LINGER,
            (&linger as *const LINGER).cast(),
            std::mem::size_of::<LINGER>() as i32,
        )
    };
    assert_eq!(result, 0, "SO_LINGER: {}", io::Error::last_os_error());
}

#[test]
fn half_close_keeps_the_other_direction() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut stream, peer) = util::tcp_pair();
    poll.registry()
        .register(&mut stream, Token(0), Interest::READABLE)
        .unwrap();
    peer.shutdown(Shutdown::Write).unwrap();
    let closed = Readiness {
        read_closed: true,
        ..READABLE
    };
    expect_events(&mut poll, &mut events, &[(Token(0), closed)]);
    assert_eq!(stream.read(&mut [0; 8]).unwrap(), 0);
    stream.write_all(b"still open").unwrap();
    let mut peer = peer;
    let mut got = [0; 10];
    let mut read = 0;
    let start = std::time::Instant::now();
    while read < got.len() {
        assert!(start.elapsed() < DEADLINE, "the reply never arrived");
        match peer.read(&mut got[read..]) {
            Ok(n) => read += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::yield_now(),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(&got, b"still open");
}

#[test]
fn a_listener_takes_a_thousand_connects() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(64);
    let mut listener = TcpListener::bind(any_local_v4()).unwrap();
    let addr = listener.local_addr().unwrap();
    poll.registry()
        .register(&mut listener, Token(0), Interest::READABLE)
        .unwrap();
    let clients: Vec<StdStream> = (0..1000)
        .map(|_| StdStream::connect(addr).unwrap())
        .collect();
    accept_every(&mut poll, &mut events, &listener, clients.len());
}

#[test]
fn a_thousand_registered_sockets_and_a_few_ready() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(1024);
    let mut sockets: Vec<UdpSocket> = (0..1000)
        .map(|_| UdpSocket::bind(any_local_v4()).unwrap())
        .collect();
    for (index, socket) in sockets.iter_mut().enumerate() {
        poll.registry()
            .register(socket, Token(index), Interest::READABLE)
            .unwrap();
    }
    expect_no_events(&mut poll, &mut events);
    let sender = std::net::UdpSocket::bind(any_local_v4()).unwrap();
    let ready = [3, 500, 999];
    for &index in &ready {
        sender
            .send_to(b"!", sockets[index].local_addr().unwrap())
            .unwrap();
    }
    let expected: Vec<(Token, Readiness)> = ready
        .iter()
        .map(|&index| (Token(index), READABLE))
        .collect();
    let seen = expect_events(&mut poll, &mut events, &expected);
    assert_eq!(
        seen.len(),
        ready.len(),
        "only the ready sockets report: {seen:?}"
    );
    expect_no_events(&mut poll, &mut events);
}

#[test]
fn reregister_from_another_thread_while_polling() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut socket = UdpSocket::bind(any_local_v4()).unwrap();
    poll.registry()
        .register(&mut socket, Token(0), Interest::READABLE)
        .unwrap();
    let sender = std::net::UdpSocket::bind(any_local_v4()).unwrap();
    sender.send_to(b"!", socket.local_addr().unwrap()).unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
    // Not read: the edge is spent. Another thread re-registers while this
    // one waits without a timeout; the wait must see the new registration.
    let registry = poll.registry().try_clone().unwrap();
    let changer = thread::spawn(move || {
        registry
            .reregister(&mut socket, Token(1), Interest::READABLE)
            .unwrap();
        socket
    });
    let (poll, tokens) = within_deadline(move || {
        let mut events = Events::with_capacity(8);
        loop {
            poll.poll(&mut events, None).unwrap();
            let tokens: Vec<Token> = events.iter().map(|event| event.token()).collect();
            if !tokens.is_empty() {
                return (poll, tokens);
            }
        }
    });
    assert_eq!(tokens, [Token(1)]);
    drop((poll, changer.join().unwrap()));
}

#[test]
fn deregister_from_another_thread_while_polling() {
    let mut poll = Poll::new().unwrap();
    let mut socket = UdpSocket::bind(any_local_v4()).unwrap();
    poll.registry()
        .register(&mut socket, Token(0), Interest::READABLE)
        .unwrap();
    let waker = Arc::new(Waker::new(poll.registry(), Token(9)).unwrap());
    let registry = poll.registry().try_clone().unwrap();
    let remote = Arc::clone(&waker);
    let changer = thread::spawn(move || {
        registry.deregister(&mut socket).unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        sender.send_to(b"!", socket.local_addr().unwrap()).unwrap();
        remote.wake().unwrap();
        socket
    });
    let tokens = within_deadline(move || {
        let mut events = Events::with_capacity(8);
        let mut tokens = Vec::new();
        while !tokens.contains(&Token(9)) {
            poll.poll(&mut events, None).unwrap();
            tokens.extend(events.iter().map(|event| event.token()));
        }
        tokens
    });
    assert_eq!(tokens, [Token(9)], "nothing from the deregistered socket");
    drop(changer.join().unwrap());
}

#[test]
fn dropping_sources_with_polls_in_flight() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(64);
    let mut sockets: Vec<UdpSocket> = (0..100)
        .map(|_| UdpSocket::bind(any_local_v4()).unwrap())
        .collect();
    for (index, socket) in sockets.iter_mut().enumerate() {
        poll.registry()
            .register(socket, Token(index), Interest::READABLE)
            .unwrap();
    }
    // Let every request reach the kernel, then drop the sockets.
    expect_no_events(&mut poll, &mut events);
    drop(sockets);
    expect_no_events(&mut poll, &mut events);
    // New sockets reuse the handles' numbers without stale events.
    let mut socket = UdpSocket::bind(any_local_v4()).unwrap();
    poll.registry()
        .register(&mut socket, Token(1000), Interest::WRITABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(Token(1000), WRITABLE)]);
}

#[test]
fn dropping_poll_with_polls_and_wakes_in_flight() {
    for _ in 0..20 {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let mut sockets: Vec<UdpSocket> = (0..40)
            .map(|_| UdpSocket::bind(any_local_v4()).unwrap())
            .collect();
        for (index, socket) in sockets.iter_mut().enumerate() {
            poll.registry()
                .register(socket, Token(index), Interest::READABLE)
                .unwrap();
        }
        poll.poll(&mut events, Some(std::time::Duration::ZERO))
            .unwrap();
        let waker = Waker::new(poll.registry(), Token(99)).unwrap();
        waker.wake().unwrap();
        // The Poll goes first, its sources and waker after: the port is
        // drained only once the last of them is gone.
        drop(poll);
        drop(waker);
        drop(sockets);
    }
}

#[test]
fn a_zero_capacity_poll_consumes_nothing() {
    let mut poll = Poll::new().unwrap();
    let mut socket = UdpSocket::bind(any_local_v4()).unwrap();
    poll.registry()
        .register(&mut socket, Token(0), Interest::WRITABLE)
        .unwrap();
    let mut none = Events::with_capacity(0);
    poll.poll(&mut none, Some(DEADLINE)).unwrap();
    let mut events = Events::with_capacity(8);
    expect_events(&mut poll, &mut events, &[(Token(0), WRITABLE)]);
}

#[test]
fn a_closed_peer_is_reported_once_and_does_not_spin() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut stream, peer) = util::tcp_pair();
    poll.registry()
        .register(
            &mut stream,
            Token(0),
            Interest::READABLE | Interest::WRITABLE,
        )
        .unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), WRITABLE)]);
    drop(peer);
    let closed = Readiness {
        read_closed: true,
        ..READABLE
    };
    expect_events(&mut poll, &mut events, &[(Token(0), closed)]);
    // Nothing read, nothing re-armed: the closed socket stays quiet.
    expect_no_events(&mut poll, &mut events);
    expect_no_events(&mut poll, &mut events);
}

#[test]
fn debug_names_the_afd_flags() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut socket = UdpSocket::bind(any_local_v4()).unwrap();
    poll.registry()
        .register(&mut socket, Token(0), Interest::WRITABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), WRITABLE)]);
    let event = events.iter().next().expect("one event");
    let debug = format!("{event:?}");
    assert!(debug.contains("AFD_POLL_SEND"), "{debug}");
}

/// A socket whose poll request AFD refuses (its handle was closed behind
/// evmux's back) reports its failure at once, not after the timeout (or
/// never, with none): the failure is found right before the wait, which
/// must not then sleep on it.
#[test]
fn a_refused_poll_request_is_reported_without_waiting_out_the_timeout() {
    use std::os::windows::io::AsRawSocket;
    use windows_sys::Win32::Networking::WinSock::closesocket;
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut stream, _peer) = util::tcp_pair();
    poll.registry()
        .register(&mut stream, Token(0), Interest::READABLE)
        .unwrap();
    // SAFETY: the socket is open; `stream` is forgotten below, so nothing
    // uses or closes the handle again.
    assert_eq!(unsafe { closesocket(stream.as_raw_socket() as usize) }, 0);
    std::mem::forget(stream);
    poll.poll(&mut events, Some(DEADLINE)).unwrap();
    let event = events
        .iter()
        .next()
        .expect("the failure, before the timeout");
    assert_eq!(event.token(), Token(0));
    assert!(event.is_error(), "{event:?}");
}

/// An event put aside (an `Events` without room) and delivered after a
/// `reregister` that no longer asks for it is dropped.
#[test]
fn an_event_put_aside_keeps_only_what_the_interest_asks_for() {
    let mut poll = Poll::new().unwrap();
    let mut socket = UdpSocket::bind(any_local_v4()).unwrap();
    poll.registry()
        .register(&mut socket, Token(0), Interest::WRITABLE)
        .unwrap();
    poll.poll(&mut Events::with_capacity(0), Some(DEADLINE))
        .unwrap();
    poll.registry()
        .reregister(&mut socket, Token(1), Interest::READABLE)
        .unwrap();
    let mut events = Events::with_capacity(8);
    expect_no_events(&mut poll, &mut events);
}

/// The socket types are `UnwindSafe` and `RefUnwindSafe`, as mio's are:
/// code that captures them in `catch_unwind` compiles.
#[test]
fn sockets_are_unwind_safe() {
    use std::panic::{RefUnwindSafe, UnwindSafe};
    fn assert_unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}
    assert_unwind_safe::<TcpListener>();
    assert_unwind_safe::<TcpStream>();
    assert_unwind_safe::<UdpSocket>();
    let socket = UdpSocket::bind(any_local_v4()).unwrap();
    let addr = std::panic::catch_unwind(|| socket.local_addr().unwrap()).unwrap();
    assert_eq!(addr, socket.local_addr().unwrap());
}
