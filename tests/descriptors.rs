//! Every descriptor evmux creates is close-on-exec and closed on drop, and
//! failures leak none. The tests in this file change the process's
//! descriptor limit and count its descriptors, so they run one at a time.
// Unix only: descriptors, close-on-exec and rlimits.
#![cfg(all(unix, feature = "os-ext", feature = "net"))]

use std::collections::BTreeSet;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Mutex;

use evmux::{Events, Interest, Poll, Token, Waker};

mod util;
use util::{expect_events, is_cloexec, open_fds, with_free_descriptors, READABLE};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn fd_set() -> BTreeSet<RawFd> {
    open_fds().into_iter().collect()
}

/// The descriptors `f` opened, and its result.
fn new_fds<T>(f: impl FnOnce() -> T) -> (T, Vec<RawFd>) {
    let before = fd_set();
    let value = f();
    let after = fd_set();
    (value, after.difference(&before).copied().collect())
}

/// Every descriptor in `fds` is close-on-exec.
fn assert_cloexec(what: &str, fds: &[RawFd]) {
    for fd in fds {
        assert!(is_cloexec(fd), "{what} opened {fd} without close-on-exec");
    }
}

#[test]
#[cfg_attr(
    evmux_libkqueue,
    ignore = "libkqueue's kqueue is several descriptors (an epoll, a pipe) plus process-wide ones made \
              on first use, and is freed by its monitoring thread some time after close; a BSD \
              or macOS kqueue is one descriptor (kqueue(2))"
)]
fn poll_registry_and_waker_descriptors_are_cloexec_and_closed_on_drop() {
    let _serial = serial();
    let before = fd_set();

    // How many descriptors each needs depends on the backend: epoll has
    // one per Poll, per clone and per waker; poll(2) one or two per Poll
    // (its wake-up eventfd or pipe) and none for clones and wakers.
    let (poll, created) = new_fds(|| Poll::new().unwrap());
    assert!(
        !created.is_empty() && created.len() <= 2,
        "Poll::new opened {created:?}"
    );
    assert_cloexec("Poll::new", &created);

    let (registry, created) = new_fds(|| poll.registry().try_clone().unwrap());
    assert!(created.len() <= 1, "try_clone opened {created:?}");
    assert_cloexec("Registry::try_clone", &created);

    let (waker, created) = new_fds(|| Waker::new(poll.registry(), Token(0)).unwrap());
    assert!(created.len() <= 2, "Waker::new opened {created:?}");
    assert_cloexec("Waker::new", &created);

    drop(waker);
    drop(registry);
    drop(poll);
    assert_eq!(fd_set(), before, "descriptors leaked");
}

#[test]
#[cfg_attr(
    evmux_libkqueue,
    ignore = "libkqueue's kqueue is several descriptors (an epoll, a pipe) plus process-wide ones made \
              on first use, and is freed by its monitoring thread some time after close; a BSD \
              or macOS kqueue is one descriptor (kqueue(2))"
)]
fn failures_are_errors_and_leak_nothing() {
    let _serial = serial();
    let poll = Poll::new().unwrap();
    let before = fd_set();

    let (poll_result, clone_result, waker_result) = with_free_descriptors(0, || {
        (
            Poll::new().map(drop),
            poll.registry().try_clone().map(drop),
            Waker::new(poll.registry(), Token(0)).map(drop),
        )
    });
    assert!(
        poll_result.is_err(),
        "Poll::new needs a descriptor on every backend"
    );
    // Clones and wakers need none on some backends; where they do, the
    // failure is EMFILE.
    for error in [poll_result, clone_result, waker_result]
        .into_iter()
        .filter_map(Result::err)
    {
        assert_eq!(error.raw_os_error(), Some(libc::EMFILE), "{error}");
        assert_ne!(error.kind(), io::ErrorKind::Other);
    }
    assert_eq!(fd_set(), before, "descriptors leaked");
}

#[test]
#[cfg_attr(
    evmux_libkqueue,
    ignore = "libkqueue's kqueue is several descriptors (an epoll, a pipe) plus process-wide ones made \
              on first use, and is freed by its monitoring thread some time after close; a BSD \
              or macOS kqueue is one descriptor (kqueue(2))"
)]
fn sockets_and_their_failures_leak_nothing() {
    use evmux::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixStream};
    let _serial = serial();
    let before = fd_set();
    {
        let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let in_use = TcpListener::bind(addr).unwrap_err();
        assert_eq!(in_use.kind(), io::ErrorKind::AddrInUse);
        let not_local = TcpListener::bind("192.0.2.1:0".parse().unwrap()).unwrap_err();
        assert_eq!(not_local.kind(), io::ErrorKind::AddrNotAvailable);
        let udp = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        assert!(UdpSocket::bind(udp.local_addr().unwrap()).is_err());
        let client = TcpStream::connect(addr).unwrap();
        // Wait (bounded) for the connection instead of spinning on accept.
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(4);
        poll.registry()
            .register(&mut listener, Token(0), Interest::READABLE)
            .unwrap();
        expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
        let (server, _) = listener.accept().unwrap();
        drop(poll);
        for fd in [
            &client as &dyn std::os::fd::AsRawFd,
            &server,
            &listener,
            &udp,
        ] {
            assert!(is_cloexec(&fd.as_raw_fd()));
        }
        assert!(UnixStream::connect("/nonexistent/evmux.sock").is_err());
        let (a, b) = UnixDatagram::pair().unwrap();
        drop(b);
        assert!(a.send(b"to nobody").is_err());
        let (mut sender, receiver) = evmux::unix::pipe::new().unwrap();
        drop(receiver);
        assert!(std::io::Write::write(&mut sender, b"x").is_err());
    }
    assert_eq!(fd_set(), before, "descriptors leaked");
}

/// The poll(2) backend hands the kernel only the live registrations: after
/// many are removed, a descriptor limit below the peak count does not make
/// `poll` fail (poll(2) rejects more entries than `RLIMIT_NOFILE` allows).
#[test]
fn polling_costs_the_live_registrations_not_the_peak() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    use std::os::unix::net::UnixStream;

    use evmux::unix::SourceFd;

    const PEAK: usize = 400;
    let _serial = serial();
    util::allow_descriptors(4 * PEAK as u64);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    {
        let pairs: Vec<_> = (0..PEAK).map(|_| UnixStream::pair().unwrap()).collect();
        for (i, (a, _)) in pairs.iter().enumerate() {
            poll.registry()
                .register(&mut SourceFd(&a.as_raw_fd()), Token(i), Interest::READABLE)
                .unwrap();
        }
        poll.poll(&mut events, Some(std::time::Duration::ZERO))
            .unwrap();
        for (a, _) in &pairs {
            poll.registry()
                .deregister(&mut SourceFd(&a.as_raw_fd()))
                .unwrap();
        }
    }
    let saved = getrlimit(Resource::Nofile);
    let highest = open_fds().into_iter().max().unwrap_or(0) as u64;
    assert!(highest + 16 < PEAK as u64, "too many descriptors open");
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(highest + 16),
            maximum: saved.maximum,
        },
    )
    .unwrap();
    let result = poll.poll(&mut events, Some(std::time::Duration::ZERO));
    setrlimit(Resource::Nofile, saved).unwrap();
    result.expect("poll with the registrations that are left");
}

/// What a `unix::Signals` and a `process::ChildExit` on the SIGCHLD
/// fallback cost: on Linux and Android one eventfd each (issue 21: a pipe,
/// two descriptors, before), close-on-exec and closed on drop; a pidfd
/// watch one descriptor. With `--cfg evmux_force_pipe_waker` the listener
/// is the pipe that the other Unixes use, two.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(
    evmux_libkqueue,
    ignore = "libkqueue's kqueue (a ChildExit's private one) is several descriptors (an epoll, a \
              pipe) plus process-wide ones made on first use, and is freed by its monitoring \
              thread some time after close; a BSD or macOS kqueue is one descriptor (kqueue(2))"
)]
fn signals_and_child_exit_cost_one_descriptor_each() {
    let _serial = serial();
    let listener = if cfg!(evmux_force_pipe_waker) { 2 } else { 1 };
    let before = fd_set();
    let (signals, created) =
        new_fds(|| evmux::unix::Signals::new(&[libc::SIGUSR1, libc::SIGUSR2]).unwrap());
    assert_eq!(created.len(), listener, "Signals::new opened {created:?}");
    assert_cloexec("Signals::new", &created);
    drop(signals);
    assert_eq!(fd_set(), before, "descriptors leaked");

    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let before = fd_set();
    for fallback in [false, true] {
        if fallback {
            std::env::set_var("EVMUX_CHILD_EXIT", "sigchld");
        }
        let (exit, created) = new_fds(|| evmux::process::ChildExit::new(&child).unwrap());
        std::env::remove_var("EVMUX_CHILD_EXIT");
        let expected = if fallback { listener } else { 1 };
        assert_eq!(created.len(), expected, "ChildExit::new opened {created:?}");
        assert_cloexec("ChildExit::new", &created);
        drop(exit);
        assert_eq!(fd_set(), before, "descriptors leaked");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
