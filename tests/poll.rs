#![cfg(feature = "os-ext")]
// The tests that need a `Waker`, which WASI does not have, are left out.
#![cfg_attr(wasi, allow(unused_imports))]
#[cfg(not(wasi))]
use std::thread;
use std::time::{Duration, Instant};

#[cfg(not(evmux_no_waker))]
use evmux::Waker;
use evmux::{Events, Poll, Registry, Token};

mod util;
use util::within_deadline;

// Needs a second thread to wake it: WASI has none.
#[cfg(not(wasi))]
#[test]
fn poll_without_timeout_blocks_until_woken() {
    let poll = Poll::new().unwrap();
    let waker = Waker::new(poll.registry(), Token(0)).unwrap();
    let waiter = thread::spawn(move || {
        let mut poll = poll;
        let mut events = Events::with_capacity(8);
        loop {
            poll.poll(&mut events, None).unwrap();
            if events.iter().any(|event| event.token() == Token(0)) {
                return;
            }
        }
    });
    waker.wake().unwrap();
    within_deadline(move || waiter.join().unwrap());
}

#[test]
fn zero_timeout_returns_at_once() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    within_deadline(move || {
        for _ in 0..1000 {
            poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
            assert!(events.is_empty());
        }
    });
}

#[test]
fn a_timeout_is_waited_out() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let timeout = Duration::from_millis(30);
    let start = Instant::now();
    poll.poll(&mut events, Some(timeout)).unwrap();
    assert!(events.is_empty());
    assert!(
        start.elapsed() >= timeout,
        "returned after {:?}",
        start.elapsed()
    );
}

#[test]
fn sub_millisecond_timeouts_are_never_rounded_to_zero() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    for micros in [1, 250, 999, 1500] {
        let timeout = Duration::from_micros(micros);
        let start = Instant::now();
        poll.poll(&mut events, Some(timeout)).unwrap();
        assert!(events.is_empty());
        assert!(
            start.elapsed() >= timeout,
            "{timeout:?} returned after {:?}",
            start.elapsed()
        );
    }
    // 1 ns: no error, no event. That it is not rounded down to zero cannot
    // be told from outside; `sys::timeout`'s unit tests check the rounding.
    poll.poll(&mut events, Some(Duration::from_nanos(1)))
        .unwrap();
    assert!(events.is_empty());
}

// WASI has no `Waker` (as in mio), nor threads to wake from.
#[cfg(not(evmux_no_waker))]
#[test]
fn huge_timeouts_neither_overflow_nor_panic() {
    let mut poll = Poll::new().unwrap();
    let waker = Waker::new(poll.registry(), Token(1)).unwrap();
    let mut events = Events::with_capacity(8);
    let weeks = Duration::from_secs(60 * 60 * 24 * 7 * 6);
    let timeouts = [
        weeks,
        weeks + Duration::from_nanos(1),
        Duration::from_secs(u64::MAX),
        Duration::MAX,
        Duration::from_millis(i32::MAX as u64 + 1),
    ];
    for timeout in timeouts {
        waker.wake().unwrap();
        poll.poll(&mut events, Some(timeout)).unwrap();
        let tokens: Vec<Token> = events.iter().map(|e| e.token()).collect();
        assert_eq!(tokens, [Token(1)], "timeout {timeout:?}");
    }
}

// Needs a second thread to wake it: WASI has none.
#[cfg(not(wasi))]
#[test]
fn huge_timeout_still_blocks_until_an_event() {
    let poll = Poll::new().unwrap();
    let waker = Waker::new(poll.registry(), Token(1)).unwrap();
    let waiter = thread::spawn(move || {
        let mut poll = poll;
        let mut events = Events::with_capacity(8);
        while events.is_empty() {
            poll.poll(&mut events, Some(Duration::MAX)).unwrap();
        }
    });
    waker.wake().unwrap();
    within_deadline(move || waiter.join().unwrap());
}

#[test]
fn poll_registry_and_waker_are_send_and_sync() {
    util::assert_send::<Poll>();
    util::assert_sync::<Poll>();
    util::assert_send::<Registry>();
    util::assert_sync::<Registry>();
    #[cfg(not(evmux_no_waker))]
    util::assert_send::<Waker>();
    #[cfg(not(evmux_no_waker))]
    util::assert_sync::<Waker>();
}

#[test]
fn debug_output() {
    let poll = Poll::new().unwrap();
    // The backend by name (with `--cfg evmux_io_uring`, chosen per `Poll`).
    let expected = format!("Poll {{ backend: {:?}, .. }}", util::backend(&poll));
    assert_eq!(format!("{poll:?}"), expected);
    assert!(!util::backend(&poll).is_empty());
    let registry = format!("{:?}", poll.registry());
    assert!(registry.starts_with("Registry { poll_id: "), "{registry}");
    let clone = poll.registry().try_clone().unwrap();
    assert_eq!(format!("{clone:?}"), registry);
    assert_ne!(format!("{:?}", Poll::new().unwrap().registry()), registry);
}

#[test]
fn many_polls_at_once() {
    let polls: Vec<Poll> = (0..64).map(|_| Poll::new().unwrap()).collect();
    let mut events = Events::with_capacity(1);
    for mut poll in polls {
        poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
    }
}

/// `Poll` as a descriptor, which the poll(2) backend does not have.
#[cfg(all(unix, not(evmux_force_poll)))]
mod as_descriptor {
    use std::os::fd::{AsFd, AsRawFd};

    use evmux::unix::SourceFd;
    use evmux::{Events, Interest, Poll, Token, Waker};

    use super::util::{self, expect_events, expect_no_events, READABLE};

    #[test]
    #[cfg_attr(
        evmux_libkqueue,
        ignore = "libkqueue's kqueue descriptor is the write end of a pipe, never readable; a BSD or \
                  macOS kqueue is readable while it has events (kqueue(2))"
    )]
    fn a_poll_can_be_nested_in_another() {
        let mut outer = Poll::new().unwrap();
        let inner = Poll::new().unwrap();
        let fd = inner.as_raw_fd();
        outer
            .registry()
            .register(&mut SourceFd(&fd), Token(9), Interest::READABLE)
            .unwrap();

        let mut events = Events::with_capacity(8);
        expect_no_events(&mut outer, &mut events);

        let waker = Waker::new(inner.registry(), Token(0)).unwrap();
        waker.wake().unwrap();
        expect_events(&mut outer, &mut events, &[(Token(9), READABLE)]);
    }

    #[test]
    fn poll_and_registry_expose_the_same_queue() {
        let poll = Poll::new().unwrap();
        assert_eq!(poll.as_raw_fd(), poll.registry().as_raw_fd());
        assert_eq!(
            poll.as_fd().as_raw_fd(),
            poll.registry().as_fd().as_raw_fd()
        );
        assert!(util::is_cloexec(&poll));
    }
}

/// WASI has no threads: a `poll` that nothing could ever end fails at once,
/// on either preview.
#[cfg(wasi)]
#[test]
fn waiting_forever_for_nothing_is_an_error_not_a_hang() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let error = poll.poll(&mut events, None).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    // With a timeout, the clock alone is waited for.
    let start = Instant::now();
    poll.poll(&mut events, Some(Duration::from_millis(20)))
        .unwrap();
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert!(events.is_empty());
}

/// WASI preview 2's `Waker` works without threads: a wake made before
/// `poll` is queued, and ends even a `poll` without a timeout at once.
#[cfg(wasip2)]
#[test]
fn a_wake_before_poll_ends_a_wait_without_timeout() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let waker = Waker::new(poll.registry(), Token(3)).unwrap();
    waker.wake().unwrap();
    waker.wake().unwrap();
    poll.poll(&mut events, None).unwrap();
    let tokens: Vec<Token> = events.iter().map(|event| event.token()).collect();
    assert_eq!(tokens, [Token(3)]);
    assert!(events.iter().all(|event| event.is_readable()));
    // Taken: nothing is left to wait for.
    let error = poll.poll(&mut events, None).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

/// Readiness changes of registered sources do not interrupt the polling
/// thread's own blocking calls between two polls, as on epoll: a receive
/// with a timeout returns its datagram, an `epoll_wait` its timeout.
/// On io_uring the kernel completes a poll request in task work of the
/// thread that submitted it, which interrupts that thread's sleep: calls
/// that are not restarted (a socket call with `SO_RCVTIMEO`, `epoll_wait`)
/// fail with `EINTR` though no signal was sent.
#[cfg(all(target_os = "linux", feature = "net"))]
#[test]
#[cfg_attr(
    evmux_io_uring,
    ignore = "defect: on io_uring a readiness change interrupts the polling thread's blocking recv (SO_RCVTIMEO) and epoll_wait with EINTR (task work)"
)]
fn readiness_does_not_interrupt_the_polling_threads_blocking_calls() {
    use std::io::{self, Write};
    use std::os::fd::AsRawFd;

    use evmux::Interest;

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut reader, mut writer) = util::tcp_pair();
    poll.registry()
        .register(&mut reader, Token(1), Interest::READABLE)
        .unwrap();
    poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
    let udp = std::net::UdpSocket::bind(util::any_local_v4()).unwrap();
    udp.set_read_timeout(Some(util::DEADLINE)).unwrap();
    let address = udp.local_addr().unwrap();
    let epoll = rustix::event::epoll::create(rustix::event::epoll::CreateFlags::CLOEXEC).unwrap();
    let me = util::gettid();
    let helper = thread::spawn(move || {
        util::wait_in_syscall(me, libc::SYS_recvfrom);
        util::write_all_within_deadline(&mut writer, b"1");
        // The receive stays in its call unless interrupted (`QUIET` to
        // conclude it was not); then the datagram it waits for is sent.
        let start = Instant::now();
        while util::in_syscall(me, libc::SYS_recvfrom) && start.elapsed() < util::QUIET {
            thread::sleep(Duration::from_millis(1));
        }
        let sender = std::net::UdpSocket::bind(util::any_local_v4()).unwrap();
        sender.send_to(b"datagram", address).unwrap();
        util::wait_in_syscall(me, libc::SYS_epoll_wait);
        writer.write_all(b"2").unwrap();
        writer
    });
    let mut buf = [0; 16];
    let received = udp.recv(&mut buf).map_err(|e| e.kind());
    let mut ready = [libc::epoll_event { events: 0, u64: 0 }];
    // SAFETY: `ready` has room for the one event the call may write.
    let waited = unsafe { libc::epoll_wait(epoll.as_raw_fd(), ready.as_mut_ptr(), 1, 200) };
    let waited = match waited {
        -1 => Err(io::Error::last_os_error().kind()),
        n => Ok(n),
    };
    let _writer = helper.join().unwrap();
    assert_eq!(received, Ok(8), "recv with a timeout");
    assert_eq!(waited, Ok(0), "epoll_wait");
}
