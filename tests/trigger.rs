//! Trigger modes (`evmux::trigger`): level, one-shot and exclusive
//! registrations, on evmux's own types and on raw descriptors, next to
//! mio's edge-triggered `register`, which must not change.
#![cfg(all(feature = "os-poll", feature = "net", not(wasip1)))]

mod util;

use std::io::{self, Read, Write};

use evmux::net::TcpStream;
use evmux::trigger::Trigger;
use evmux::{Events, Interest, Poll, Token};

use util::{
    expect_events, expect_no_events, read_available, tcp_pair, write_all_within_deadline, READABLE,
    WRITABLE,
};

const STREAM: Token = Token(1);

/// A poll, a connected pair, and the reader registered with `trigger`.
fn setup(trigger: Trigger) -> io::Result<(Poll, Events, TcpStream, TcpStream)> {
    let poll = Poll::new()?;
    let (mut reader, writer) = tcp_pair();
    poll.registry()
        .register_with(&mut reader, STREAM, Interest::READABLE, trigger)?;
    Ok((poll, Events::with_capacity(16), reader, writer))
}

#[test]
fn level_reports_at_every_poll_until_drained() {
    let (mut poll, mut events, mut reader, mut writer) = setup(Trigger::LEVEL).unwrap();
    write_all_within_deadline(&mut writer, b"level");
    for _ in 0..3 {
        expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    }
    // A partial read leaves the rest, which is still reported.
    let mut one = [0; 1];
    assert_eq!(reader.read(&mut one).unwrap(), 1);
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    assert_eq!(read_available(&mut reader).0.len(), 4);
    expect_no_events(&mut poll, &mut events);
}

#[test]
fn oneshot_reports_once_until_reregistered() {
    let (mut poll, mut events, mut reader, mut writer) = setup(Trigger::ONESHOT).unwrap();
    write_all_within_deadline(&mut writer, b"one");
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    // Neither unread data nor I/O on the source (which re-arms an edge
    // registration on the emulating backends) arms it again.
    expect_no_events(&mut poll, &mut events);
    assert_eq!(read_available(&mut reader).0.len(), 3);
    write_all_within_deadline(&mut writer, b"two");
    expect_no_events(&mut poll, &mut events);
    poll.registry()
        .reregister_with(&mut reader, STREAM, Interest::READABLE, Trigger::ONESHOT)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    expect_no_events(&mut poll, &mut events);
    // A plain `reregister` makes it edge-triggered again.
    assert_eq!(read_available(&mut reader).0.len(), 3);
    poll.registry()
        .reregister(&mut reader, STREAM, Interest::READABLE)
        .unwrap();
    write_all_within_deadline(&mut writer, b"three");
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    assert_eq!(read_available(&mut reader).0.len(), 5);
    write_all_within_deadline(&mut writer, b"four");
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
}

#[test]
fn edge_through_register_with_is_register() {
    let (mut poll, mut events, mut reader, mut writer) = setup(Trigger::EDGE).unwrap();
    write_all_within_deadline(&mut writer, b"edge");
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
    expect_no_events(&mut poll, &mut events);
    assert_eq!(read_available(&mut reader).0.len(), 4);
    write_all_within_deadline(&mut writer, b"again");
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
}

#[test]
fn level_then_plain_register_of_another_source_is_edge() {
    // The mode applies to one call only: a later `register` is mio's.
    let (mut poll, mut events, _level_reader, _level_writer) = setup(Trigger::LEVEL).unwrap();
    let (mut reader, mut writer) = tcp_pair();
    poll.registry()
        .register(&mut reader, Token(2), Interest::READABLE)
        .unwrap();
    write_all_within_deadline(&mut writer, b"x");
    expect_events(&mut poll, &mut events, &[(Token(2), READABLE)]);
    expect_no_events(&mut poll, &mut events);
}

#[test]
fn exclusive_is_epoll_only_and_never_on_reregister() {
    let result = setup(Trigger::EDGE.exclusive());
    if !cfg!(evmux_selector = "epoll") {
        let error = result.expect_err("exclusive outside epoll");
        assert_eq!(error.kind(), io::ErrorKind::Unsupported);
        return;
    }
    let (poll, _events, mut reader, _writer) = result.unwrap();
    let again = poll.registry().reregister_with(
        &mut reader,
        STREAM,
        Interest::READABLE,
        Trigger::EDGE.exclusive(),
    );
    assert_eq!(again.unwrap_err().kind(), io::ErrorKind::InvalidInput);
    let oneshot = Trigger::ONESHOT.exclusive();
    let (mut other, _peer) = tcp_pair();
    let refused = poll
        .registry()
        .register_with(&mut other, Token(2), Interest::READABLE, oneshot);
    assert_eq!(refused.unwrap_err().kind(), io::ErrorKind::InvalidInput);
}

/// Two `Poll`s watch one descriptor exclusively: a readiness wakes at
/// least one of them.
#[cfg(all(unix, feature = "os-ext"))]
#[test]
fn exclusive_wakes_at_least_one_of_two_polls() {
    use std::os::fd::AsRawFd;

    use evmux::unix::SourceFd;

    if !cfg!(evmux_selector = "epoll") {
        return;
    }
    let (reader, mut writer) = tcp_pair();
    let fd = reader.as_raw_fd();
    let mut polls = [Poll::new().unwrap(), Poll::new().unwrap()];
    for (i, poll) in polls.iter().enumerate() {
        poll.registry()
            .register_with(
                &mut SourceFd(&fd),
                Token(i),
                Interest::READABLE,
                Trigger::LEVEL.exclusive(),
            )
            .unwrap();
    }
    write_all_within_deadline(&mut writer, b"herd");
    let mut events = Events::with_capacity(4);
    let start = std::time::Instant::now();
    let mut woken = 0;
    while woken == 0 {
        assert!(start.elapsed() < util::DEADLINE, "no poll was woken");
        for poll in &mut polls {
            poll.poll(&mut events, Some(std::time::Duration::from_millis(10)))
                .unwrap();
            woken += events.iter().count();
        }
    }
}

/// A raw descriptor registered level-triggered needs no `reregister` on
/// any backend, poll(2) included.
#[cfg(all(unix, feature = "os-ext"))]
#[test]
fn level_raw_descriptor_needs_no_reregister() {
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    use evmux::unix::SourceFd;

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, mut receiver) = UnixStream::pair().unwrap();
    receiver.set_nonblocking(true).unwrap();
    let fd = receiver.as_raw_fd();
    poll.registry()
        .register_with(
            &mut SourceFd(&fd),
            STREAM,
            Interest::READABLE,
            Trigger::LEVEL,
        )
        .unwrap();
    for round in 0..3u8 {
        write_all_within_deadline(&mut sender, &[round]);
        expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
        let mut byte = [0; 1];
        receiver.read_exact(&mut byte).unwrap();
        assert_eq!(byte[0], round);
        expect_no_events(&mut poll, &mut events);
    }
    poll.registry().deregister(&mut SourceFd(&fd)).unwrap();
}

/// A one-shot registration widened by `reregister_with` while its request
/// is in flight (the emulating backends, Windows' AFD poll among them,
/// cancel that request) reports the new interest: the cancellation is not
/// an event that disarms it.
#[test]
fn oneshot_reregistered_while_waiting_reports_the_new_interest() {
    let (mut poll, mut events, mut reader, _writer) = setup(Trigger::ONESHOT).unwrap();
    // Nothing to read: the request for readable is now in flight.
    expect_no_events(&mut poll, &mut events);
    poll.registry()
        .reregister_with(
            &mut reader,
            STREAM,
            Interest::READABLE | Interest::WRITABLE,
            Trigger::ONESHOT,
        )
        .unwrap();
    expect_events(&mut poll, &mut events, &[(STREAM, WRITABLE)]);
}

/// A one-shot registration narrowed by `reregister_with` while a request
/// for more is in flight: that request ending with what is no longer asked
/// for (writable) reports nothing and does not disarm the registration.
#[test]
fn oneshot_narrowed_while_waiting_stays_armed() {
    let poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let (mut stream, mut peer) = tcp_pair();
    // Fill the connection until the stream is no longer writable.
    let chunk = [7u8; 16 * 1024];
    let mut written = 0;
    let start = std::time::Instant::now();
    loop {
        assert!(start.elapsed() < util::DEADLINE, "the stream never filled");
        match stream.write(&chunk) {
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("write: {e}"),
        }
    }
    let mut poll = poll;
    poll.registry()
        .register_with(
            &mut stream,
            STREAM,
            Interest::READABLE | Interest::WRITABLE,
            Trigger::ONESHOT,
        )
        .unwrap();
    expect_no_events(&mut poll, &mut events);
    poll.registry()
        .reregister_with(&mut stream, STREAM, Interest::READABLE, Trigger::ONESHOT)
        .unwrap();
    // The peer drains the connection (the stream becomes writable), then
    // sends: only readable is asked for, and it must come.
    let mut drained = 0;
    let mut buf = vec![0; 64 * 1024];
    while drained < written {
        assert!(start.elapsed() < util::DEADLINE, "the peer never drained");
        match peer.read(&mut buf) {
            Ok(0) => panic!("end of stream"),
            Ok(n) => drained += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
            Err(e) => panic!("read: {e}"),
        }
    }
    // Give the selector the chance to see writable (and, before the fix,
    // to disarm): nothing is reported for it.
    expect_no_events(&mut poll, &mut events);
    write_all_within_deadline(&mut peer, b"data");
    expect_events(&mut poll, &mut events, &[(STREAM, READABLE)]);
}
