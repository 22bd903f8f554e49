//! One event per readiness change; after `WouldBlock`, the next change
//! produces a new event. With evmux's own I/O types, so that the backends
//! that emulate edge triggering see the `WouldBlock`.
// The tests need a connected pair: Unix sockets, or TCP on Windows (WASI
// preview 1 cannot create sockets; tests/wasi.rs covers what it can do).
#![cfg(all(feature = "os-ext", feature = "net", any(unix, windows)))]

use std::io::{self, Read, Write};

#[cfg(windows)]
use evmux::net::TcpStream as UnixStream;
#[cfg(unix)]
use evmux::net::UnixStream;
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::{expect_events, expect_no_events, READABLE, WRITABLE};

/// A connected pair: Unix-domain sockets, or TCP on Windows.
fn pair() -> (UnixStream, UnixStream) {
    #[cfg(unix)]
    let pair = UnixStream::pair().unwrap();
    #[cfg(windows)]
    let pair = util::tcp_pair();
    pair
}

fn setup(interests: Interest) -> (Poll, Events, UnixStream, UnixStream) {
    let poll = Poll::new().unwrap();
    let (mut a, b) = pair();
    poll.registry()
        .register(&mut a, Token(0), interests)
        .unwrap();
    (poll, Events::with_capacity(8), a, b)
}

fn read_until_would_block(stream: &mut UnixStream) -> usize {
    let mut total = 0;
    let mut buf = [0; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return total,
            Err(e) => panic!("read: {e}"),
        }
    }
}

#[test]
fn readiness_that_does_not_change_is_reported_once() {
    let (mut poll, mut events, _a, mut b) = setup(Interest::READABLE);
    b.write_all(b"one").unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
    // The data is still there, but nothing changed: no new event.
    expect_no_events(&mut poll, &mut events);
}

#[test]
fn after_would_block_the_next_change_is_reported() {
    let (mut poll, mut events, mut a, mut b) = setup(Interest::READABLE);
    for round in 0..10u8 {
        b.write_all(&[round; 100]).unwrap();
        expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
        assert_eq!(read_until_would_block(&mut a), 100);
        expect_no_events(&mut poll, &mut events);
    }
}

#[test]
fn writable_is_reported_again_after_the_buffer_drains() {
    let (mut poll, mut events, mut a, mut b) = setup(Interest::WRITABLE);
    expect_events(&mut poll, &mut events, &[(Token(0), WRITABLE)]);
    // Fill the socket until it would block.
    let chunk = [1u8; 4096];
    loop {
        match a.write(&chunk) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("write: {e}"),
        }
    }
    expect_no_events(&mut poll, &mut events);
    // The peer empties it: the socket becomes writable again.
    read_until_would_block(&mut b);
    expect_events(&mut poll, &mut events, &[(Token(0), WRITABLE)]);
}

/// A raw descriptor registered once and never re-registered (tokio's
/// `AsyncFd` pattern) keeps receiving events on every backend that does
/// not document otherwise (see `unix::SourceFd`).
#[cfg(all(unix, feature = "os-ext"))]
#[test]
#[cfg_attr(
    evmux_force_poll,
    ignore = "documented: the poll(2) backend needs reregister for raw descriptors"
)]
fn a_source_fd_never_reregistered_gets_a_second_and_third_event() {
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream as StdStream;

    use evmux::unix::SourceFd;

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut reader, mut writer) = StdStream::pair().unwrap();
    reader.set_nonblocking(true).unwrap();
    poll.registry()
        .register(
            &mut SourceFd(&reader.as_raw_fd()),
            Token(7),
            Interest::READABLE,
        )
        .unwrap();
    for round in 0..3u8 {
        writer.write_all(&[round]).unwrap();
        expect_events(&mut poll, &mut events, &[(Token(7), READABLE)]);
        let mut buf = [0; 16];
        assert_eq!(reader.read(&mut buf).unwrap(), 1, "round {round}");
        let again = reader.read(&mut buf).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::WouldBlock);
    }
}
