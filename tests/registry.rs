// Unix only: raw descriptors through SourceFd.
#![cfg(all(unix, feature = "os-ext", feature = "net"))]

use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::thread;

use evmux::unix::SourceFd;
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::{expect_events, expect_no_events, within_deadline, READABLE, WRITABLE};

fn stream_pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

/// Whether the backend can tell that a raw descriptor is (not) registered.
/// kqueue cannot: `EV_ADD` adds or updates a filter, and deleting a
/// missing one is not an error there (see the kqueue selector's docs; mio
/// is the same). evmux's own types keep track themselves.
const TELLS_RAW_REGISTRATIONS: bool = !cfg!(evmux_selector = "kqueue");

/// `result` is `kind` where the backend tells, success where it cannot.
fn refused_where_told(result: std::io::Result<()>, kind: std::io::ErrorKind) {
    if TELLS_RAW_REGISTRATIONS {
        assert_eq!(result.unwrap_err().kind(), kind);
    } else {
        result.unwrap();
    }
}

#[test]
fn registering_twice_is_already_exists() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (a, mut b) = stream_pair();
    let fd = a.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
        .unwrap();
    let again = poll
        .registry()
        .register(&mut SourceFd(&fd), Token(1), Interest::READABLE);
    refused_where_told(again, std::io::ErrorKind::AlreadyExists);
    // Either way one registration is left, reporting one token.
    b.write_all(b"x").unwrap();
    let token = if TELLS_RAW_REGISTRATIONS { 0 } else { 1 };
    expect_events(&mut poll, &mut events, &[(Token(token), READABLE)]);
}

#[test]
fn reregistering_an_unregistered_source_is_not_found() {
    let poll = Poll::new().unwrap();
    let (a, _b) = stream_pair();
    let fd = a.as_raw_fd();
    let result = poll
        .registry()
        .reregister(&mut SourceFd(&fd), Token(0), Interest::READABLE);
    refused_where_told(result, std::io::ErrorKind::NotFound);
}

#[test]
fn deregistering_an_unregistered_source_is_not_found() {
    let poll = Poll::new().unwrap();
    let (a, _b) = stream_pair();
    let fd = a.as_raw_fd();
    let result = poll.registry().deregister(&mut SourceFd(&fd));
    refused_where_told(result, std::io::ErrorKind::NotFound);

    poll.registry()
        .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
        .unwrap();
    poll.registry().deregister(&mut SourceFd(&fd)).unwrap();
    let result = poll.registry().deregister(&mut SourceFd(&fd));
    refused_where_told(result, std::io::ErrorKind::NotFound);
}

#[test]
fn invalid_descriptors_are_errors_not_panics() {
    let poll = Poll::new().unwrap();
    let registry = poll.registry();
    let ebadf = Some(libc::EBADF);
    // io_uring refuses negative numbers at once; a number that is not open
    // is only seen by the kernel when the request is submitted, with the
    // next wait, and forgotten then: checking it here would cost the
    // system call the backend exists to save.
    let numbers: &[i32] = if util::backend(&poll) == "io_uring" {
        &[-1, -42, i32::MIN]
    } else {
        &[-1, -42, i32::MIN, 1_000_000]
    };
    for &fd in numbers {
        let error = registry
            .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
            .unwrap_err();
        assert_eq!(error.raw_os_error(), ebadf, "fd {fd}");
        let error = registry
            .reregister(&mut SourceFd(&fd), Token(0), Interest::READABLE)
            .unwrap_err();
        assert_eq!(error.raw_os_error(), ebadf, "fd {fd}");
        // libkqueue looks for the filters to delete before it checks the
        // descriptor, and reports `ENOENT`, which is no error when deleting
        // (see the kqueue selector's docs); a BSD or macOS kernel checks
        // the descriptor first (kevent(2): `EBADF`).
        if !cfg!(evmux_libkqueue) {
            let error = registry.deregister(&mut SourceFd(&fd)).unwrap_err();
            assert_eq!(error.raw_os_error(), ebadf, "fd {fd}");
        }
    }
}

/// epoll refuses regular files (they are always ready), with a clear
/// error; kqueue accepts them and reports them readable (`EVFILT_READ` on a
/// file: the bytes left to read). poll(2) accepts them too, and is tested
/// in its own suite.
#[cfg(any(evmux_selector = "epoll", evmux_selector = "kqueue"))]
#[test]
fn a_regular_file_is_refused_with_a_clear_error() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    // A poll request on a regular file reports it ready, as poll(2) does:
    // io_uring has no `EPERM` to give at registration.
    if util::backend(&poll) == "io_uring" {
        return;
    }
    let file = std::fs::File::open("Cargo.toml").unwrap();
    let fd = file.as_raw_fd();
    let result = poll
        .registry()
        .register(&mut SourceFd(&fd), Token(0), Interest::READABLE);
    if cfg!(evmux_selector = "kqueue") {
        result.unwrap();
        expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
        poll.registry().deregister(&mut SourceFd(&fd)).unwrap();
        return;
    }
    let error = result.unwrap_err();
    assert_eq!(
        error.kind(),
        std::io::ErrorKind::PermissionDenied,
        "{error}"
    );
}

#[test]
fn a_deregistered_source_gets_no_events_and_can_register_again() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (a, mut b) = stream_pair();
    let fd = a.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
        .unwrap();
    poll.registry().deregister(&mut SourceFd(&fd)).unwrap();

    b.write_all(b"x").unwrap();
    expect_no_events(&mut poll, &mut events);

    poll.registry()
        .register(&mut SourceFd(&fd), Token(1), Interest::READABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(Token(1), READABLE)]);
}

#[test]
fn deregistering_drops_events_already_queued() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (a, mut b) = stream_pair();
    let fd = a.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
        .unwrap();
    b.write_all(b"x").unwrap();
    poll.registry().deregister(&mut SourceFd(&fd)).unwrap();
    expect_no_events(&mut poll, &mut events);
}

#[test]
fn reregister_moves_a_source_to_another_token_and_interest() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (a, mut b) = stream_pair();
    let fd = a.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
        .unwrap();

    // Writable only: a fresh socket is writable at once.
    poll.registry()
        .reregister(&mut SourceFd(&fd), Token(1), Interest::WRITABLE)
        .unwrap();
    let seen = expect_events(&mut poll, &mut events, &[(Token(1), WRITABLE)]);
    assert!(!seen.contains_key(&Token(0)));
    assert!(!seen[&Token(1)].readable);

    // Back to readable under a third token.
    poll.registry()
        .reregister(&mut SourceFd(&fd), Token(2), Interest::READABLE)
        .unwrap();
    b.write_all(b"x").unwrap();
    let seen = expect_events(&mut poll, &mut events, &[(Token(2), READABLE)]);
    assert!(!seen.contains_key(&Token(1)));
}

#[test]
fn another_thread_registers_while_poll_blocks() {
    let poll = Poll::new().unwrap();
    let registry = poll.registry().try_clone().unwrap();
    let (a, mut b) = stream_pair();
    b.write_all(b"ready before registration").unwrap();

    let (started, wait_started) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let mut poll = poll;
        let mut events = Events::with_capacity(8);
        started.send(()).unwrap();
        loop {
            poll.poll(&mut events, None).unwrap();
            if events
                .iter()
                .any(|event| event.token() == Token(5) && event.is_readable())
            {
                return;
            }
        }
    });
    wait_started.recv().unwrap();
    let fd = a.as_raw_fd();
    registry
        .register(&mut SourceFd(&fd), Token(5), Interest::READABLE)
        .unwrap();
    within_deadline(move || waiter.join().unwrap());
}

#[test]
fn boxed_and_dyn_sources_register() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (a, mut b) = stream_pair();
    let fd = a.as_raw_fd();
    let mut source: Box<dyn evmux::event::Source + '_> = Box::new(SourceFd(&fd));
    poll.registry()
        .register(&mut source, Token(3), Interest::READABLE)
        .unwrap();
    b.write_all(b"x").unwrap();
    expect_events(&mut poll, &mut events, &[(Token(3), READABLE)]);
    poll.registry().deregister(&mut *source).unwrap();
}

#[test]
fn one_descriptor_in_two_polls() {
    let mut first = Poll::new().unwrap();
    let mut second = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (a, mut b) = stream_pair();
    let fd = a.as_raw_fd();
    first
        .registry()
        .register(&mut SourceFd(&fd), Token(1), Interest::READABLE)
        .unwrap();
    second
        .registry()
        .register(&mut SourceFd(&fd), Token(2), Interest::READABLE)
        .unwrap();
    b.write_all(b"x").unwrap();
    expect_events(&mut first, &mut events, &[(Token(1), READABLE)]);
    expect_events(&mut second, &mut events, &[(Token(2), READABLE)]);
}

#[test]
#[cfg_attr(
    evmux_libkqueue,
    ignore = "libkqueue keeps the filters of a descriptor closed while registered (its BUGS.md); \
              a BSD or macOS kernel removes them on close (kqueue(2))"
)]
fn a_dropped_source_leaves_nothing_behind() {
    use evmux::net::UdpSocket;
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    for round in 0..20 {
        // The new socket usually reuses the number of the one dropped.
        let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        poll.registry()
            .register(&mut socket, Token(round), Interest::READABLE)
            .unwrap();
        socket.send_to(b"x", socket.local_addr().unwrap()).unwrap();
        let seen = expect_events(&mut poll, &mut events, &[(Token(round), READABLE)]);
        assert!(
            seen.keys().all(|token| *token == Token(round)),
            "stale events: {seen:?}"
        );
    }
}

/// A raw descriptor closed without `deregister` whose number is then reused
/// (here with dup2, which does both at once): the number can be registered
/// again, and the old registration reports nothing, as on epoll.
#[test]
#[cfg_attr(
    evmux_libkqueue,
    ignore = "libkqueue keeps the filters of a descriptor closed while registered (its BUGS.md); \
              a BSD or macOS kernel removes them on close (kqueue(2))"
)]
fn close_without_deregister_then_number_reuse() {
    let mut poll = Poll::new().unwrap();
    // Not on io_uring: a registered descriptor must be deregistered before
    // it is closed there (the poll request holds the file open; the
    // selector cannot tell a reused number from a second registration
    // without a system call). tests/io_uring.rs tests that rule.
    if util::backend(&poll) == "io_uring" {
        return;
    }
    let mut events = Events::with_capacity(8);
    let (old, _old_peer) = stream_pair();
    let mut number = std::os::fd::OwnedFd::from(old);
    poll.registry()
        .register(
            &mut SourceFd(&number.as_raw_fd()),
            Token(1),
            Interest::READABLE,
        )
        .unwrap();
    let (new, mut new_peer) = stream_pair();
    rustix::io::dup2(&new, &mut number).unwrap();
    drop(new);
    poll.registry()
        .register(
            &mut SourceFd(&number.as_raw_fd()),
            Token(2),
            Interest::READABLE,
        )
        .expect("registering a reused number");
    new_peer.write_all(b"x").unwrap();
    let seen = expect_events(&mut poll, &mut events, &[(Token(2), READABLE)]);
    assert!(
        !seen.contains_key(&Token(1)),
        "the closed registration reported: {seen:?}"
    );
    poll.registry()
        .deregister(&mut SourceFd(&number.as_raw_fd()))
        .unwrap();
}
