//! Fault injection: runs out of descriptors on purpose. Every operation
//! that opens descriptors is tried with 0, 1, 2, ... descriptors left
//! below a lowered `RLIMIT_NOFILE` until it succeeds: each failure is
//! `EMFILE`, nothing panics, nothing leaks (the descriptors are counted
//! before and after), and everything works again once descriptors are
//! freed. In its own test binary, since the limit is process-wide; the
//! tests here run one at a time and restore the limit.
// Unix only: descriptor limits.
#![cfg(all(unix, feature = "os-ext", feature = "net"))]

use std::any::Any;
use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::os::fd::RawFd;
use std::sync::Mutex;

use evmux::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream};
use evmux::unix::pipe;
use evmux::{Events, Interest, Poll, Token, Waker};

mod util;
use util::{
    any_local_v4, expect_events, open_fds, record_figure, with_free_descriptors, TempDir, READABLE,
};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn fd_set() -> BTreeSet<RawFd> {
    open_fds().into_iter().collect()
}

type Opened = io::Result<Box<dyn Any>>;

fn boxed<T: 'static>(result: io::Result<T>) -> Opened {
    result.map(|value| Box::new(value) as Box<dyn Any>)
}

/// What a sweep of one operation saw.
struct Sweep {
    /// Descriptor budgets tried (fault points).
    points: u64,
    /// Of which failed with `EMFILE`.
    failures: u64,
}

/// Tries `open` with 0, 1, 2, ... free descriptors until it succeeds;
/// then once more without a limit. Checks the errors and the descriptor
/// count after every try.
fn sweep(name: &str, mut open: impl FnMut() -> Opened) -> Sweep {
    let mut result = Sweep {
        points: 0,
        failures: 0,
    };
    for free in 0..16 {
        let before = fd_set();
        let outcome = with_free_descriptors(free, &mut open);
        result.points += 1;
        let done = match outcome {
            Ok(value) => {
                drop(value);
                true
            }
            Err(error) => {
                assert_eq!(
                    error.raw_os_error(),
                    Some(libc::EMFILE),
                    "{name} with {free} free descriptors: {error}"
                );
                result.failures += 1;
                false
            }
        };
        assert_eq!(
            fd_set(),
            before,
            "{name} with {free} free descriptors leaked"
        );
        if done {
            assert!(result.failures > 0, "{name} never needed a descriptor");
            drop(open().unwrap_or_else(|e| panic!("{name} after the faults: {e}")));
            return result;
        }
    }
    panic!("{name} did not succeed with 15 free descriptors");
}

#[test]
#[cfg_attr(
    evmux_libkqueue,
    ignore = "libkqueue's kqueue is several descriptors (an epoll, a pipe) plus process-wide ones made \
              on first use, and is freed by its monitoring thread some time after close; a BSD \
              or macOS kqueue is one descriptor (kqueue(2))"
)]
fn every_operation_that_opens_descriptors_fails_cleanly_and_recovers() {
    let _serial = serial();
    let before = fd_set();
    let poll = Poll::new().unwrap();
    let listener = TcpListener::bind(any_local_v4()).unwrap();
    let addr = listener.local_addr().unwrap();
    let dir = TempDir::new("fault");
    let mut bound = 0;

    let mut sweeps: Vec<(&str, Sweep)> = vec![
        ("Poll::new", sweep("Poll::new", || boxed(Poll::new()))),
        (
            "Poll::new + Waker::new",
            sweep("Poll::new + Waker::new", || {
                boxed(Poll::new().and_then(|poll| {
                    let waker = Waker::new(poll.registry(), Token(0))?;
                    Ok((poll, waker))
                }))
            }),
        ),
        ("pipe::new", sweep("pipe::new", || boxed(pipe::new()))),
        (
            "TcpListener::bind",
            sweep("TcpListener::bind", || {
                boxed(TcpListener::bind(any_local_v4()))
            }),
        ),
        (
            "TcpStream::connect",
            sweep("TcpStream::connect", || boxed(TcpStream::connect(addr))),
        ),
        (
            "UdpSocket::bind",
            sweep("UdpSocket::bind", || boxed(UdpSocket::bind(any_local_v4()))),
        ),
        (
            "UnixStream::pair",
            sweep("UnixStream::pair", || boxed(UnixStream::pair())),
        ),
        (
            "UnixDatagram::pair",
            sweep("UnixDatagram::pair", || boxed(UnixDatagram::pair())),
        ),
        (
            "UnixListener::bind",
            sweep("UnixListener::bind", || {
                bound += 1;
                boxed(UnixListener::bind(dir.path(&format!("l{bound}"))))
            }),
        ),
    ];
    // Wakers and registry clones need descriptors on some backends only.
    for (name, result) in [
        (
            "Waker::new",
            with_free_descriptors(0, || boxed(Waker::new(poll.registry(), Token(1)))),
        ),
        (
            "Registry::try_clone",
            with_free_descriptors(0, || boxed(poll.registry().try_clone())),
        ),
    ] {
        let failures = match result {
            Ok(_) => 0,
            Err(error) => {
                assert_eq!(error.raw_os_error(), Some(libc::EMFILE), "{name}: {error}");
                1
            }
        };
        sweeps.push((
            name,
            Sweep {
                points: 1,
                failures,
            },
        ));
    }

    drop((poll, listener));
    // The connections made above were never accepted; their descriptors
    // are gone with the listener.
    assert_eq!(fd_set(), before, "descriptors leaked");
    let points: u64 = sweeps.iter().map(|(_, s)| s.points).sum();
    let failures: u64 = sweeps.iter().map(|(_, s)| s.failures).sum();
    for (name, sweep) in &sweeps {
        eprintln!(
            "{name}: {} budgets tried, {} EMFILE",
            sweep.points, sweep.failures
        );
    }
    record_figure("faults", "descriptor_operations", sweeps.len());
    record_figure("faults", "descriptor_points", points);
    record_figure("faults", "descriptor_emfile", failures);
}

/// A listener registered with a `Poll` meets `EMFILE` in `accept`: the
/// connection waits in the backlog, and once a descriptor is free it is
/// accepted and works.
#[test]
#[cfg_attr(
    evmux_libkqueue,
    ignore = "libkqueue's kqueue is several descriptors (an epoll, a pipe) plus process-wide ones made \
              on first use, and is freed by its monitoring thread some time after close; a BSD \
              or macOS kqueue is one descriptor (kqueue(2))"
)]
fn accept_without_descriptors_loses_no_connection() {
    let _serial = serial();
    let before = fd_set();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut tcp = TcpListener::bind(any_local_v4()).unwrap();
    let dir = TempDir::new("fault-accept");
    let mut unix = UnixListener::bind(dir.path("listener")).unwrap();
    poll.registry()
        .register(&mut tcp, Token(1), Interest::READABLE)
        .unwrap();
    poll.registry()
        .register(&mut unix, Token(2), Interest::READABLE)
        .unwrap();
    let mut tcp_client = std::net::TcpStream::connect(tcp.local_addr().unwrap()).unwrap();
    let mut unix_client = std::os::unix::net::UnixStream::connect(dir.path("listener")).unwrap();
    expect_events(
        &mut poll,
        &mut events,
        &[(Token(1), READABLE), (Token(2), READABLE)],
    );

    let (tcp_error, unix_error) = with_free_descriptors(0, || {
        (
            tcp.accept().map(drop).unwrap_err(),
            unix.accept().map(drop).unwrap_err(),
        )
    });
    assert_eq!(tcp_error.raw_os_error(), Some(libc::EMFILE), "{tcp_error}");
    assert_eq!(
        unix_error.raw_os_error(),
        Some(libc::EMFILE),
        "{unix_error}"
    );

    let (mut tcp_server, _) = tcp.accept().expect("the TCP connection is still there");
    let (mut unix_server, _) = unix.accept().expect("the Unix connection is still there");
    tcp_client.write_all(b"tcp").unwrap();
    unix_client.write_all(b"unix").unwrap();
    poll.registry()
        .register(&mut tcp_server, Token(3), Interest::READABLE)
        .unwrap();
    poll.registry()
        .register(&mut unix_server, Token(4), Interest::READABLE)
        .unwrap();
    expect_events(
        &mut poll,
        &mut events,
        &[(Token(3), READABLE), (Token(4), READABLE)],
    );
    let mut buf = [0; 8];
    assert_eq!(tcp_server.read(&mut buf).unwrap(), 3);
    assert_eq!(unix_server.read(&mut buf).unwrap(), 4);
    drop((
        tcp_server,
        unix_server,
        tcp_client,
        unix_client,
        tcp,
        unix,
        poll,
    ));
    assert_eq!(fd_set(), before, "descriptors leaked");
    record_figure("faults", "accept_points", 2);
}

/// A `Poll` made while descriptors were short works fully once they are
/// back: wakes and readiness are reported.
#[test]
fn a_poll_works_after_its_process_ran_out_of_descriptors() {
    let _serial = serial();
    let failed = with_free_descriptors(0, Poll::new);
    assert!(failed.is_err());
    let mut poll = Poll::new().unwrap();
    let waker = Waker::new(poll.registry(), Token(9)).unwrap();
    let (mut sender, mut receiver) = pipe::new().unwrap();
    poll.registry()
        .register(&mut receiver, Token(10), Interest::READABLE)
        .unwrap();
    waker.wake().unwrap();
    sender.write_all(b"x").unwrap();
    let mut events = Events::with_capacity(8);
    expect_events(
        &mut poll,
        &mut events,
        &[(Token(9), READABLE), (Token(10), READABLE)],
    );
}
