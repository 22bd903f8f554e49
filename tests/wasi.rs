//! WASI preview 1, where a program cannot create sockets: the selector on
//! descriptors the host hands over, and a TCP echo through a listener the
//! host pre-opens (`wasmtime run --tcplisten ADDRESS`, descriptor 3) with a
//! client outside the WebAssembly instance. `.ci/wasi.sh` runs the echo
//! (`--ignored`) with such a listener and a client in bash.
#![cfg(all(wasip1, feature = "os-poll", feature = "net"))]

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::time::Instant;

use evmux::event::Event;
use evmux::net::{TcpListener, TcpStream};
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::{expect_no_events, DEADLINE};

/// The descriptor of the listener `--tcplisten` pre-opens: the first after
/// standard input, output and error.
const PREOPENED_LISTENER: i32 = 3;
/// What the client sends; the test echoes it back.
const MESSAGE: &[u8] = b"hello from outside the instance\n";

/// Standard output as a `TcpStream`: a descriptor the host hands over that
/// is always writable, so that the selector can be tested without a
/// network. `into_raw_fd` gives it back without closing it.
fn stdout_as_stream() -> TcpStream {
    // SAFETY: descriptor 1 stays open for the whole test binary; the test
    // gives it back with `into_raw_fd` and never closes it.
    unsafe { TcpStream::from_raw_fd(1) }
}

/// Polls until an event arrives, failing after `DEADLINE`.
fn next_events(poll: &mut Poll, events: &mut Events) -> Vec<Event> {
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < DEADLINE, "no event before the deadline");
        poll.poll(events, Some(DEADLINE)).unwrap();
        if !events.is_empty() {
            return events.iter().cloned().collect();
        }
    }
}

#[test]
fn writable_fires_once_until_a_write_rearms_it() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut stdout = stdout_as_stream();
    poll.registry()
        .register(&mut stdout, Token(7), Interest::WRITABLE)
        .unwrap();
    let got = next_events(&mut poll, &mut events);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].token(), Token(7));
    assert!(got[0].is_writable() && !got[0].is_readable());
    // Edge-triggered: nothing more until evmux's next write.
    expect_no_events(&mut poll, &mut events);
    assert_eq!((&stdout).write(b"").unwrap(), 0);
    let got = next_events(&mut poll, &mut events);
    assert!(got[0].is_writable());
    // reregister re-arms too.
    poll.registry()
        .reregister(&mut stdout, Token(8), Interest::WRITABLE)
        .unwrap();
    assert_eq!(next_events(&mut poll, &mut events)[0].token(), Token(8));
    poll.registry().deregister(&mut stdout).unwrap();
    expect_no_events(&mut poll, &mut events);
    let _ = stdout.into_raw_fd();
}

#[test]
fn registration_errors() {
    let poll = Poll::new().unwrap();
    let mut stdout = stdout_as_stream();
    let not_registered = poll
        .registry()
        .reregister(&mut stdout, Token(0), Interest::WRITABLE)
        .unwrap_err();
    assert_eq!(not_registered.kind(), io::ErrorKind::NotFound);
    poll.registry()
        .register(&mut stdout, Token(0), Interest::WRITABLE)
        .unwrap();
    let twice = poll
        .registry()
        .register(&mut stdout, Token(0), Interest::WRITABLE)
        .unwrap_err();
    assert_eq!(twice.kind(), io::ErrorKind::AlreadyExists);
    poll.registry().deregister(&mut stdout).unwrap();
    let gone = poll.registry().deregister(&mut stdout).unwrap_err();
    assert_eq!(gone.kind(), io::ErrorKind::NotFound);
    let _ = stdout.into_raw_fd();
}

/// Reads what is available until `WouldBlock` or the end; returns whether
/// the end was reached.
fn drain(stream: &mut TcpStream, into: &mut Vec<u8>) -> bool {
    let mut buf = [0; 256];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => into.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            Err(e) => panic!("read failed: {e}"),
        }
    }
}

/// Accepts one connection from the pre-opened listener, waiting for
/// readable events.
fn accept_one(poll: &mut Poll, events: &mut Events, listener: &TcpListener) -> TcpStream {
    loop {
        match listener.accept() {
            Ok((stream, _)) => return stream,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let got = next_events(poll, events);
                let listener_readable = |e: &Event| e.token() == Token(0) && e.is_readable();
                assert!(got.iter().all(listener_readable), "{got:?}");
            }
            Err(e) => panic!("accept failed: {e}"),
        }
    }
}

#[test]
#[ignore = "needs a listener the host pre-opens as descriptor 3, and a client: run by .ci/wasi.sh"]
fn echo_through_a_preopened_listener() {
    // SAFETY: the host pre-opened descriptor 3 as a listener, and nothing
    // else in this test binary uses it.
    let listener = unsafe { std::net::TcpListener::from_raw_fd(PREOPENED_LISTENER) };
    listener.set_nonblocking(true).unwrap();
    let mut listener = TcpListener::from_std(listener);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(&mut listener, Token(0), Interest::READABLE)
        .unwrap();
    let mut stream = accept_one(&mut poll, &mut events, &listener);
    poll.registry()
        .register(&mut stream, Token(1), Interest::READABLE)
        .unwrap();

    // Read the whole message, waiting for readable events in between.
    let mut received = Vec::new();
    while !received.ends_with(b"\n") {
        assert!(!drain(&mut stream, &mut received), "closed early");
        if !received.ends_with(b"\n") {
            let got = next_events(&mut poll, &mut events);
            let stream_readable = |e: &Event| e.token() == Token(1) && e.is_readable();
            assert!(got.iter().all(stream_readable), "{got:?}");
        }
    }
    assert_eq!(received, MESSAGE);

    // Echo it, waiting for writable if the socket is full.
    poll.registry()
        .reregister(
            &mut stream,
            Token(1),
            Interest::READABLE | Interest::WRITABLE,
        )
        .unwrap();
    let mut sent = 0;
    while sent < received.len() {
        match stream.write(&received[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                next_events(&mut poll, &mut events);
            }
            Err(e) => panic!("write failed: {e}"),
        }
    }
    stream.shutdown(Shutdown::Write).unwrap();

    // The client closes after reading the echo: readable, then the end.
    let mut rest = Vec::new();
    let start = Instant::now();
    while !drain(&mut stream, &mut rest) {
        assert!(start.elapsed() < DEADLINE, "the client never closed");
        next_events(&mut poll, &mut events);
    }
    assert!(rest.is_empty(), "unexpected bytes {rest:?}");
}
