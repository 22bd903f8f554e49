//! One regression test for every known defect of mio's (and of the
//! runtimes on top of it) that applies to this API. Each test's doc
//! comment names the mio issue or pull request where the defect was
//! reported or fixed. They run on every backend the suite runs on.
// Unix only: raw descriptors and Unix-domain sockets.
#![cfg(all(unix, feature = "os-ext", feature = "net"))]

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use evmux::net::{TcpStream, UdpSocket};
use evmux::{Events, Interest, Poll, Token, Waker};

mod util;
use util::{
    any_local_v4, expect_events, expect_no_events, read_available, within_deadline, Readiness,
    DEADLINE, QUIET, READABLE,
};

/// A connected pair of evmux TCP streams on loopback.
fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = std::net::TcpListener::bind(any_local_v4()).unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    client.set_nonblocking(true).unwrap();
    server.set_nonblocking(true).unwrap();
    (TcpStream::from_std(client), TcpStream::from_std(server))
}

/// mio #933 (tokio #449): a peer's half close (`EPOLLRDHUP`) was reported
/// as a hang-up that never clears, so a loop waiting to write to the
/// half-closed stream spun at 100% CPU. Here: after the read-closed event
/// and reading to end of stream, the stream is still writable, and `poll`
/// stays quiet instead of reporting it again and again.
#[test]
fn mio_933_half_close_does_not_make_poll_spin() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut local, mut peer) = tcp_pair();
    poll.registry()
        .register(
            &mut local,
            Token(1),
            Interest::READABLE | Interest::WRITABLE,
        )
        .unwrap();
    expect_events(&mut poll, &mut events, &[(Token(1), util::WRITABLE)]);
    peer.shutdown(Shutdown::Write).unwrap();
    let read_closed = Readiness {
        read_closed: true,
        ..Readiness::default()
    };
    let seen = expect_events(&mut poll, &mut events, &[(Token(1), read_closed)]);
    assert!(
        !seen[&Token(1)].write_closed,
        "a half close is not a hang-up"
    );
    let (data, ended) = read_available(&mut local);
    assert!(data.is_empty() && ended);
    // Writing still works: the peer only closed its sending side.
    local.write_all(b"still open").unwrap();
    let mut buf = [0; 16];
    let n = within_deadline(move || loop {
        match peer.read(&mut buf) {
            Ok(n) => return n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::yield_now(),
            Err(e) => panic!("{e}"),
        }
    });
    assert_eq!(n, 10);
    // Where edges are emulated (poll(2)), every evmux I/O call re-arms what
    // it waits for, so the write above may bring one writable event (see
    // `Poll`'s docs); take it, then nothing repeats.
    if cfg!(evmux_force_poll) {
        poll.poll(&mut events, Some(QUIET / 10)).unwrap();
        let extra: Vec<_> = events.iter().collect();
        assert!(
            extra.len() <= 1 && extra.iter().all(|e| e.is_writable() && !e.is_read_closed()),
            "more than the write's own event: {extra:?}"
        );
    }
    // No event repeats: ten quiet polls in a row.
    for _ in 0..10 {
        poll.poll(&mut events, Some(QUIET / 10)).unwrap();
        assert!(
            events.is_empty(),
            "poll spins on a half-closed stream: {events:?}"
        );
    }
}

/// Waits with `timeout` while another thread wakes the `Poll` after a
/// while; the wait must end with that wake, not earlier without it.
fn wait_ends_with_the_wake(timeout: Duration) {
    let mut poll = Poll::new().unwrap();
    // Kept alive here too: dropping a waker removes its pending wake.
    let waker = Arc::new(Waker::new(poll.registry(), Token(5)).unwrap());
    let remote = Arc::clone(&waker);
    let (go, wait) = mpsc::channel::<()>();
    let waking = thread::spawn(move || {
        // Time for a wrongly converted timeout to end the wait early; the
        // test does not depend on it otherwise.
        let _ = wait.recv_timeout(Duration::from_millis(300));
        remote.wake().unwrap();
    });
    let mut events = Events::with_capacity(8);
    let start = Instant::now();
    poll.poll(&mut events, Some(timeout)).unwrap();
    drop(go);
    waking.join().unwrap();
    assert!(
        events.iter().any(|event| event.token() == Token(5)),
        "poll({timeout:?}) returned after {:?} without the wake",
        start.elapsed()
    );
}

/// mio #1948: a timeout above `i32::MAX` milliseconds (24.8 days) was cast
/// to `c_int` and wrapped: negative (wait forever) or a few milliseconds.
/// 2^32 + 50 ms wraps to 50 ms.
#[test]
#[cfg_attr(
    evmux_libkqueue,
    ignore = "libkqueue has this very defect: it converts kevent's timespec to epoll_wait's \
              int milliseconds (linux_kevent_wait, src/linux/platform.c); evmux passes the \
              timespec, which a BSD or macOS kernel takes as it is"
)]
fn mio_1948_timeout_above_24_8_days_is_not_truncated() {
    wait_ends_with_the_wake(Duration::from_millis((1 << 32) + 50));
    wait_ends_with_the_wake(Duration::from_secs(25 * 24 * 60 * 60));
}

/// mio #1657 (and #393): `poll` with `Duration::MAX` panicked on overflow
/// converting it to milliseconds.
#[test]
fn mio_1657_duration_max_timeout_neither_panics_nor_returns_early() {
    wait_ends_with_the_wake(Duration::MAX);
    wait_ends_with_the_wake(Duration::new(u64::MAX, 0));
}

/// mio #219 and #1376: a source deregistered while its readiness waits in
/// the OS queue still produced an event. Here both sources are ready
/// before the poll; only the one still registered is reported, and a new
/// source registered under the old token reports only its own readiness.
#[test]
fn mio_219_no_events_after_deregister() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut a = UdpSocket::bind(any_local_v4()).unwrap();
    let mut b = UdpSocket::bind(any_local_v4()).unwrap();
    poll.registry()
        .register(&mut a, Token(1), Interest::READABLE)
        .unwrap();
    poll.registry()
        .register(&mut b, Token(2), Interest::READABLE)
        .unwrap();
    a.send_to(b"a", a.local_addr().unwrap()).unwrap();
    b.send_to(b"b", b.local_addr().unwrap()).unwrap();
    poll.registry().deregister(&mut a).unwrap();
    let seen = expect_events(&mut poll, &mut events, &[(Token(2), READABLE)]);
    assert!(
        !seen.contains_key(&Token(1)),
        "event after deregister: {seen:?}"
    );
    expect_no_events(&mut poll, &mut events);

    let mut c = UdpSocket::bind(any_local_v4()).unwrap();
    poll.registry()
        .register(&mut c, Token(1), Interest::WRITABLE)
        .unwrap();
    let seen = expect_events(&mut poll, &mut events, &[(Token(1), util::WRITABLE)]);
    assert!(
        !seen[&Token(1)].readable,
        "the deregistered socket's readiness leaked"
    );
}

/// tokio-core #172 (mio's `dup` semantics, mio #361): a descriptor closed
/// while registered left a stale registration, so the next descriptor
/// with the same number could not be registered (`EEXIST`) or produced
/// events under the old token. evmux's own types may be dropped while
/// registered: the number is reused cleanly.
#[test]
#[cfg_attr(
    evmux_libkqueue,
    ignore = "libkqueue keeps the filters of a descriptor closed while registered (its BUGS.md); \
              a BSD or macOS kernel removes them on close (kqueue(2))"
)]
fn mio_361_descriptor_number_reused_after_close_without_deregister() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut old = UdpSocket::bind(any_local_v4()).unwrap();
    poll.registry()
        .register(&mut old, Token(1), Interest::READABLE)
        .unwrap();
    let number = old.as_raw_fd();
    drop(old);
    let mut new = UdpSocket::bind(any_local_v4()).unwrap();
    assert_eq!(
        new.as_raw_fd(),
        number,
        "the descriptor number was not reused"
    );
    poll.registry()
        .register(&mut new, Token(2), Interest::READABLE)
        .expect("registering the reused number");
    new.send_to(b"x", new.local_addr().unwrap()).unwrap();
    let seen = expect_events(&mut poll, &mut events, &[(Token(2), READABLE)]);
    assert!(
        !seen.contains_key(&Token(1)),
        "event under the closed source's token"
    );
    expect_no_events(&mut poll, &mut events);
}

/// mio #1824 and #1826 (oxidecomputer/helios #169): on illumos the waker
/// lost every wake after the first from another thread, because the
/// eventfd or pipe was never emptied. Here: a thousand wakes from other
/// threads, each reported by its own poll.
#[test]
fn mio_1824_every_wake_from_another_thread_is_reported() {
    let mut poll = Poll::new().unwrap();
    let waker = Arc::new(Waker::new(poll.registry(), Token(3)).unwrap());
    let mut events = Events::with_capacity(8);
    for i in 0..1_000 {
        let remote = Arc::clone(&waker);
        thread::spawn(move || remote.wake().unwrap())
            .join()
            .unwrap();
        poll.poll(&mut events, Some(DEADLINE)).unwrap();
        assert!(
            events.iter().any(|event| event.token() == Token(3)),
            "wake {i} was lost"
        );
    }
}
