//! The io_uring backend (`--cfg evmux_io_uring`): its fallback to epoll,
//! the switch that turns it off, what it promises beyond the shared suite
//! (stale completions never reported, full queues losing nothing), and the
//! file a poll request holds. Built for every Linux configuration: without
//! io_uring each test checks what the backend does instead (the fallback
//! and the switch only where io_uring wraps epoll).
#![cfg(all(target_os = "linux", feature = "os-poll", feature = "net"))]

mod util;

use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::time::{Duration, Instant};

use evmux::net::TcpStream;
use evmux::unix::SourceFd;
use evmux::{Events, Interest, Poll, Token};

use util::{expect_events, expect_no_events, tcp_pair, write_all_within_deadline, READABLE};

fn on_io_uring(poll: &Poll) -> bool {
    util::backend(poll) == "io_uring"
}

/// Installs, on the calling thread only, a seccomp filter that fails
/// `io_uring_setup` with `EPERM`, as a container's default profile does.
#[cfg(evmux_selector = "epoll")]
fn refuse_io_uring_setup() {
    const LOAD_NR: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JEQ: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const RET: u16 = 0x06; // BPF_RET | BPF_K
    let nr = libc::SYS_io_uring_setup as u32;
    // `seccomp_data.nr` is at offset 0. (The architecture is not checked:
    // this filter only lives as long as the test's thread.)
    let filter = [
        libc::sock_filter {
            code: LOAD_NR,
            jt: 0,
            jf: 0,
            k: 0,
        },
        libc::sock_filter {
            code: JEQ,
            jt: 0,
            jf: 1,
            k: nr,
        },
        libc::sock_filter {
            code: RET,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        },
        libc::sock_filter {
            code: RET,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ALLOW,
        },
    ];
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: prctl with integer arguments; no memory is passed.
    assert_eq!(
        unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) },
        0
    );
    // SAFETY: `program` points to `filter`, both alive for the call; the
    // kernel copies the program. Without SECCOMP_FILTER_FLAG_TSYNC the
    // filter applies to this thread alone.
    let result = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            &program as *const libc::sock_fprog,
        )
    };
    assert_eq!(result, 0, "{}", io::Error::last_os_error());
}

/// A `Poll` made where `io_uring_setup` is refused (`EPERM`) runs on
/// epoll, fully: events, and epoll's own modes.
#[cfg(evmux_selector = "epoll")]
#[test]
fn a_refused_io_uring_falls_back_to_epoll() {
    std::thread::spawn(|| {
        refuse_io_uring_setup();
        let mut poll = Poll::new().expect("no fallback");
        assert_eq!(util::backend(&poll), "epoll");
        assert!(poll.registry().supports_exclusive());
        let mut events = Events::with_capacity(8);
        let (mut reader, mut writer) = tcp_pair();
        poll.registry()
            .register(&mut reader, Token(1), Interest::READABLE)
            .unwrap();
        write_all_within_deadline(&mut writer, b"fallback");
        expect_events(&mut poll, &mut events, &[(Token(1), READABLE)]);
    })
    .join()
    .unwrap();
}

/// `EVMUX_IO_URING=0` turns io_uring off for an installed binary: this
/// test runs itself again in a child process with the variable set.
#[cfg(evmux_selector = "epoll")]
#[test]
fn the_environment_switch_selects_epoll() {
    if std::env::var_os("EVMUX_IO_URING").is_some_and(|value| value == "0") {
        assert_eq!(util::backend(&Poll::new().unwrap()), "epoll");
        return;
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["the_environment_switch_selects_epoll", "--exact", "--quiet"])
        .env("EVMUX_IO_URING", "0")
        .status()
        .unwrap();
    assert!(status.success());
    let expected = if cfg!(evmux_io_uring) {
        "io_uring"
    } else {
        "epoll"
    };
    assert_eq!(util::backend(&Poll::new().unwrap()), expected);
}

/// Reads from `peer` until the end of the stream, within the deadline.
fn expect_end_of_stream(peer: &mut TcpStream) {
    let start = Instant::now();
    let mut buf = [0; 64];
    loop {
        assert!(start.elapsed() < util::DEADLINE, "no end of stream");
        match peer.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1))
            }
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// Whether `peer` stays without an end of stream for `QUIET`.
fn no_end_of_stream(peer: &mut TcpStream) -> bool {
    let start = Instant::now();
    let mut buf = [0; 64];
    while start.elapsed() < util::QUIET {
        match peer.read(&mut buf) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1))
            }
            Err(e) => panic!("read: {e}"),
        }
    }
    true
}

/// One of evmux's own sockets dropped while registered is closed for real,
/// at once: its poll request is removed when it is dropped, and the peer
/// sees the end of the stream without another `poll`.
#[test]
fn a_dropped_registered_socket_is_closed() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut stream, mut peer) = tcp_pair();
    poll.registry()
        .register(&mut stream, Token(1), Interest::READABLE)
        .unwrap();
    // The registration reaches the kernel.
    poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
    drop(stream);
    expect_end_of_stream(&mut peer);
}

/// Deregistered, then dropped before the next `poll` (while the removal is
/// still queued): closed at once too.
#[test]
fn a_socket_dropped_right_after_deregister_is_closed() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut stream, mut peer) = tcp_pair();
    poll.registry()
        .register(&mut stream, Token(1), Interest::READABLE)
        .unwrap();
    poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
    poll.registry().deregister(&mut stream).unwrap();
    drop(stream);
    expect_end_of_stream(&mut peer);
}

/// The raw-descriptor path: deregistered before it is closed, a descriptor
/// is closed for real. Closed while registered, on io_uring it stays open
/// underneath (the request holds the file) until the `Poll` is dropped;
/// on epoll it closes at once.
#[test]
fn a_raw_descriptor_must_be_deregistered_before_close() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (stream, mut peer) = tcp_pair();
    let fd = owned(stream);
    let raw = fd.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&raw), Token(1), Interest::READABLE)
        .unwrap();
    poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
    poll.registry().deregister(&mut SourceFd(&raw)).unwrap();
    drop(fd);
    poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
    expect_end_of_stream(&mut peer);

    let (stream, mut peer) = tcp_pair();
    let fd = owned(stream);
    let raw = fd.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&raw), Token(2), Interest::READABLE)
        .unwrap();
    poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
    drop(fd);
    poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
    let held = no_end_of_stream(&mut peer);
    assert_eq!(held, on_io_uring(&poll));
    drop(poll);
    expect_end_of_stream(&mut peer);
}

/// The stream's descriptor, owned.
fn owned(stream: TcpStream) -> OwnedFd {
    // SAFETY: `into_raw_fd` gives up the unregistered stream's descriptor,
    // which is owned from here on.
    unsafe { OwnedFd::from_raw_fd(stream.into_raw_fd()) }
}

/// Completions posted for a registration that was then changed are never
/// reported under the old token, nor after `deregister`.
#[test]
fn stale_completions_are_dropped() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut reader, mut writer) = tcp_pair();
    poll.registry()
        .register(&mut reader, Token(1), Interest::READABLE)
        .unwrap();
    expect_no_events(&mut poll, &mut events);
    // A completion for token 1 is posted, then the token changes before
    // any poll takes it.
    write_all_within_deadline(&mut writer, b"one");
    std::thread::sleep(Duration::from_millis(20));
    poll.registry()
        .reregister(&mut reader, Token(2), Interest::READABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(Token(2), READABLE)]);
    assert!(events.iter().all(|event| event.token() == Token(2)));
    // Posted, then deregistered: nothing.
    write_all_within_deadline(&mut writer, b"two");
    std::thread::sleep(Duration::from_millis(20));
    poll.registry().deregister(&mut reader).unwrap();
    expect_no_events(&mut poll, &mut events);
}

/// More registration changes than the submission queue holds (256), and
/// more completions than the completion queue holds (4096), between two
/// polls: every source is reported.
#[test]
fn full_queues_lose_nothing() {
    const SOURCES: usize = 5000;
    util::allow_descriptors(SOURCES as u64 + 256);
    let mut poll = Poll::new().unwrap();
    let mut fds = Vec::with_capacity(SOURCES);
    for i in 0..SOURCES {
        // SAFETY: eventfd takes integers; a new descriptor is owned here.
        let raw = unsafe { libc::eventfd(1, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        assert!(raw >= 0, "{}", io::Error::last_os_error());
        // SAFETY: `raw` is a new descriptor no one else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        poll.registry()
            .register(&mut SourceFd(&fd.as_raw_fd()), Token(i), Interest::READABLE)
            .unwrap();
        fds.push(fd);
    }
    let mut seen = vec![false; SOURCES];
    let mut left = SOURCES;
    let mut events = Events::with_capacity(1024);
    let start = Instant::now();
    while left > 0 {
        assert!(
            start.elapsed() < util::DEADLINE,
            "{left} sources never reported"
        );
        poll.poll(&mut events, Some(util::QUIET)).unwrap();
        for event in events.iter() {
            let seen = &mut seen[event.token().0];
            if !*seen {
                *seen = true;
                left -= 1;
            }
        }
    }
    for fd in &fds {
        poll.registry()
            .deregister(&mut SourceFd(&fd.as_raw_fd()))
            .unwrap();
    }
}

/// More level-triggered sources ready in one `poll` than the submission
/// queue holds (256): each event re-arms its source while the completions
/// are being read, so the queue fills in the middle of that reading. (It
/// once made room by reading the rest of the completion queue under the
/// reader's feet and then spun on entries the kernel never posted.)
#[test]
fn level_rearms_beyond_the_submission_queue_in_one_poll() {
    const SOURCES: usize = 600;
    util::allow_descriptors(SOURCES as u64 + 256);
    let mut fds = Vec::with_capacity(SOURCES);
    for _ in 0..SOURCES {
        // SAFETY: eventfd takes integers; a new descriptor is owned here.
        let raw = unsafe { libc::eventfd(1, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        assert!(raw >= 0, "{}", io::Error::last_os_error());
        // SAFETY: `raw` is a new descriptor no one else owns.
        fds.push(unsafe { OwnedFd::from_raw_fd(raw) });
    }
    // The polls run on a thread of their own, so that a spinning `poll`
    // fails the test at the deadline instead of hanging it.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut poll = Poll::new().unwrap();
        for (i, fd) in fds.iter().enumerate() {
            poll.registry()
                .register_with(
                    &mut SourceFd(&fd.as_raw_fd()),
                    Token(i),
                    Interest::READABLE,
                    evmux::trigger::Trigger::LEVEL,
                )
                .unwrap();
        }
        let mut events = Events::with_capacity(2 * SOURCES);
        // Every round reports every source again: they stay readable.
        for _round in 0..3 {
            let mut seen = vec![false; SOURCES];
            let mut left = SOURCES;
            while left > 0 {
                poll.poll(&mut events, Some(util::QUIET)).unwrap();
                for event in events.iter() {
                    let seen = &mut seen[event.token().0];
                    if !std::mem::replace(seen, true) {
                        left -= 1;
                    }
                }
            }
        }
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(util::DEADLINE)
        .expect("level-triggered sources were not all reported again");
}

/// Run by .ci/io_uring.sh first: a build with `--cfg evmux_io_uring` on a
/// kernel that allows io_uring really runs on it (not on the fallback).
#[cfg(evmux_io_uring)]
#[test]
fn backend_is_io_uring_here() {
    assert_eq!(util::backend(&Poll::new().unwrap()), "io_uring");
}

/// An eventfd of this test, with `initial` as its count.
fn eventfd(initial: u32) -> OwnedFd {
    // SAFETY: eventfd takes integers; a new descriptor is owned here.
    let raw = unsafe { libc::eventfd(initial, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    assert!(raw >= 0, "{}", io::Error::last_os_error());
    // SAFETY: `raw` is a new descriptor no one else owns.
    unsafe { OwnedFd::from_raw_fd(raw) }
}

/// Makes `fd` (an eventfd) readable.
fn bump(fd: &OwnedFd) {
    let one = 1u64.to_ne_bytes();
    // SAFETY: writes 8 bytes from a live buffer.
    let written = unsafe { libc::write(fd.as_raw_fd(), one.as_ptr().cast(), 8) };
    assert_eq!(written, 8, "{}", io::Error::last_os_error());
}

/// A wake made while no thread polls, into a submission queue that the
/// polling thread's registrations filled (256 between two polls), does
/// not make the waking thread submit those registrations: their poll
/// requests would complete in task work of that thread, interrupting its
/// blocking calls (here `epoll_wait`, with `EINTR`) and, were it in an
/// uninterruptible wait, holding their events back. A `Waker` promises
/// no task work (`uring_waker.rs`). Every source and the wake are still
/// reported once.
#[test]
fn a_wake_into_a_full_submission_queue_leaves_the_waking_thread_alone() {
    const SOURCES: usize = 256;
    util::allow_descriptors(SOURCES as u64 + 256);
    let poll = Poll::new().unwrap();
    let waker = evmux::Waker::new(poll.registry(), Token(usize::MAX)).unwrap();
    let fds: Vec<OwnedFd> = (0..SOURCES).map(|_| eventfd(0)).collect();
    for (i, fd) in fds.iter().enumerate() {
        poll.registry()
            .register(&mut SourceFd(&fd.as_raw_fd()), Token(i), Interest::READABLE)
            .unwrap();
    }
    let (started, waking_thread) = std::sync::mpsc::channel();
    let waking = std::thread::spawn(move || {
        waker.wake().unwrap();
        started.send(util::gettid()).unwrap();
        // SAFETY: creates a descriptor closed below.
        let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(epoll >= 0, "{}", io::Error::last_os_error());
        let mut out = [libc::epoll_event { events: 0, u64: 0 }];
        // Long enough for the test to make every source ready meanwhile.
        // SAFETY: `out` has room for the one event asked for.
        let ready = unsafe { libc::epoll_wait(epoll, out.as_mut_ptr(), 1, 500) };
        let result = match ready {
            -1 => Err(io::Error::last_os_error()),
            ready => Ok(ready),
        };
        // SAFETY: the descriptor made above, closed once.
        unsafe { libc::close(epoll) };
        (waker, result)
    });
    let tid = waking_thread.recv_timeout(util::DEADLINE).unwrap();
    util::wait_in_syscall(tid, libc::SYS_epoll_wait);
    for fd in &fds {
        bump(fd);
    }
    let (_waker, result) = waking.join().unwrap();
    let mut poll = poll;
    let mut events = Events::with_capacity(2 * SOURCES);
    let mut seen = std::collections::HashMap::new();
    let start = Instant::now();
    while seen.len() < SOURCES + 1 {
        assert!(start.elapsed() < util::DEADLINE, "saw only {}", seen.len());
        poll.poll(&mut events, Some(util::QUIET)).unwrap();
        for event in events.iter() {
            *seen.entry(event.token()).or_insert(0) += 1;
        }
    }
    expect_no_events(&mut poll, &mut events);
    assert!(seen.values().all(|&count| count == 1), "{seen:?}");
    for fd in &fds {
        poll.registry()
            .deregister(&mut SourceFd(&fd.as_raw_fd()))
            .unwrap();
    }
    assert!(
        result.is_ok(),
        "the waking thread's epoll_wait was interrupted: {result:?}"
    );
}

/// Two wakers woken before every `poll`, with room for one event: they
/// take turns, as on epoll (whose ready list is round-robin). A wake
/// made while no thread waits is noted on io_uring; the notes are
/// reported in the order made, not the wakers' order of creation.
#[test]
fn busy_wakers_take_turns_when_events_hold_one() {
    let mut poll = Poll::new().unwrap();
    let first = evmux::Waker::new(poll.registry(), Token(0)).unwrap();
    let second = evmux::Waker::new(poll.registry(), Token(1)).unwrap();
    let mut events = Events::with_capacity(1);
    let mut seen = [0; 2];
    for _ in 0..20 {
        first.wake().unwrap();
        second.wake().unwrap();
        poll.poll(&mut events, Some(util::DEADLINE)).unwrap();
        for event in events.iter() {
            seen[event.token().0] += 1;
        }
    }
    assert_eq!(seen, [10, 10]);
}

/// What a forked child may do with an inherited `Poll` whose lock another
/// thread of the parent held at the fork (it registers and deregisters in
/// a loop): drop an inherited `Waker`, ask for the `Poll`'s descriptor,
/// make a `Waker` (`Unsupported` on io_uring), all without waiting for a
/// lock no thread of the child will ever release. Each child is given
/// two seconds; one that hangs is killed and fails the test. On the
/// epoll selector (io_uring, its fallback, the default build) only: the
/// poll(2) and kqueue wakers take a lock when dropped.
#[cfg(evmux_selector = "epoll")]
#[test]
fn a_child_forked_while_the_lock_is_held_does_not_hang() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let poll = Poll::new().unwrap();
    let on_io_uring = on_io_uring(&poll);
    let registry = poll.registry().try_clone().unwrap();
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let churn = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            let fd = eventfd(0);
            while !stop.load(Ordering::Relaxed) {
                let raw = fd.as_raw_fd();
                let mut source = SourceFd(&raw);
                registry
                    .register(&mut source, Token(1), Interest::READABLE)
                    .unwrap();
                registry.deregister(&mut source).unwrap();
            }
        })
    };
    let mut failures = Vec::new();
    for round in 0..100 {
        let waker = evmux::Waker::new(poll.registry(), Token(2)).unwrap();
        // SAFETY: the child only drops, makes and asks for what this test
        // made, then `_exit`s.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            drop(waker);
            let _ = poll.as_raw_fd();
            let code = match evmux::Waker::new(poll.registry(), Token(3)) {
                Err(e) if e.kind() == io::ErrorKind::Unsupported => 10,
                Err(_) => 11,
                Ok(_) => 12,
            };
            // SAFETY: ends the child without running the parent's exit code.
            unsafe { libc::_exit(code) };
        }
        assert!(pid > 0, "fork: {}", io::Error::last_os_error());
        drop(waker);
        match wait_for_child(pid, Duration::from_secs(2)) {
            None => failures.push(format!("round {round}: the child hung")),
            Some(code) if on_io_uring && code != 10 => {
                failures.push(format!("round {round}: Waker::new in the child: {code}"))
            }
            Some(_) => {}
        }
        if !failures.is_empty() {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    churn.join().unwrap();
    assert!(failures.is_empty(), "{failures:?}");
}

/// The exit code of child `pid`, or `None` (and the child killed) if it
/// has not exited within `limit`.
#[cfg(evmux_selector = "epoll")]
fn wait_for_child(pid: libc::pid_t, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    let mut status = 0;
    loop {
        // SAFETY: `status` is valid for writes; the child is this test's.
        let waited = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if waited == pid {
            return Some(libc::WEXITSTATUS(status));
        }
        if start.elapsed() > limit {
            // SAFETY: the child is this test's, not yet reaped.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return None;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// With room for one event, a level-triggered source that stays ready
/// and a waker woken before every `poll` take turns, as on epoll (whose
/// ready list puts a reported level-triggered descriptor last): neither
/// keeps the other out. So do a source and a waker woken once. On the
/// epoll selector (io_uring, its fallback, the default build): poll(2)'s
/// waker is reported first in every `poll`, which keeps the source out
/// (`[0, 20]`), and kqueue's order is libkqueue's.
#[cfg(evmux_selector = "epoll")]
#[test]
fn a_wake_and_a_ready_level_source_take_turns_when_events_hold_one() {
    let mut poll = Poll::new().unwrap();
    let fd = eventfd(1);
    poll.registry()
        .register_with(
            &mut SourceFd(&fd.as_raw_fd()),
            Token(0),
            Interest::READABLE,
            evmux::trigger::Trigger::LEVEL,
        )
        .unwrap();
    let waker = evmux::Waker::new(poll.registry(), Token(1)).unwrap();
    let mut events = Events::with_capacity(1);
    // Woken once: reported within a few polls, never twice.
    waker.wake().unwrap();
    let mut seen = [0; 2];
    for _ in 0..10 {
        poll.poll(&mut events, Some(util::DEADLINE)).unwrap();
        for event in events.iter() {
            seen[event.token().0] += 1;
        }
    }
    assert_eq!(seen[1], 1, "the single wake: {seen:?}");
    // Woken before every poll.
    let mut seen = [0; 2];
    for _ in 0..20 {
        waker.wake().unwrap();
        poll.poll(&mut events, Some(util::DEADLINE)).unwrap();
        for event in events.iter() {
            seen[event.token().0] += 1;
        }
    }
    assert!(seen[0] >= 5 && seen[1] >= 5, "{seen:?}");
    poll.registry()
        .deregister(&mut SourceFd(&fd.as_raw_fd()))
        .unwrap();
}
