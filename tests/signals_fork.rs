//! `unix::Signals` across fork(2) without exec: a child's signals never
//! reach the parent's listeners, a child never takes the parent's
//! wake-ups, and a child forked while another thread was creating or
//! dropping a listener can still create its own. Also a `Poll`'s sources:
//! a child that drops the ones it inherited leaves the parent's
//! registrations as they were. In its own test binary:
//! it forks, and each child runs only the few steps a test gives it, then
//! `_exit`s.
// Unix only: fork(2) and POSIX signals. Not on the kqueue systems, whose
// `Signals` is a kqueue, which a child does not inherit.
// (`apple` and `bsd` are evmux's OS groups, from build.rs.)
#![cfg(all(unix, feature = "os-ext", not(any(apple, bsd))))]

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use evmux::process::ChildExit;
use evmux::unix::Signals;
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::{expect_no_events, poll_until, scaled, DEADLINE};

/// Forks; the child runs `child` and exits with the code it returns
/// (without unwinding or running the parent's destructors). Returns the
/// child's id in the parent.
fn fork(child: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child runs only `child` and then `_exit`s; the tests'
    // `child` closures allocate and take evmux's locks, which is what
    // they test (glibc's malloc is reset for the child by fork itself).
    match unsafe { libc::fork() } {
        -1 => panic!("fork: {}", io::Error::last_os_error()),
        0 => {
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(99);
            // SAFETY: ends the child at once, as intended.
            unsafe { libc::_exit(code) }
        }
        pid => pid,
    }
}

/// Waits (bounded) for the child `pid` to exit and reaps it; returns its
/// exit code. A child still running at the deadline is killed, and the
/// test fails.
fn exit_code(pid: libc::pid_t) -> i32 {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(4);
    let mut exit = ChildExit::from_pid(pid as u32).unwrap();
    poll.registry()
        .register(&mut exit, Token(9), Interest::READABLE)
        .unwrap();
    let start = Instant::now();
    while !exit.has_exited().unwrap() {
        if start.elapsed() > DEADLINE {
            // SAFETY: kill has no memory effects; the child is ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            reap(pid);
            panic!("child {pid} did not exit (deadlocked?)");
        }
        match poll.poll(&mut events, Some(DEADLINE / 10)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("poll: {e}"),
        }
    }
    let status = reap(pid);
    assert!(libc::WIFEXITED(status), "child ended by status {status:#x}");
    libc::WEXITSTATUS(status)
}

fn reap(pid: libc::pid_t) -> libc::c_int {
    let mut status = 0;
    // SAFETY: `status` is valid for writes; the child is ours.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    status
}

/// Sends `signal` to the calling thread: handled when this returns.
fn raise(signal: i32) {
    // SAFETY: raise has no memory effects; a handler is installed.
    assert_eq!(unsafe { libc::raise(signal) }, 0);
}

/// Issue 21: a child's own listener made the handler deliver to every slot
/// again, the inherited ones included, whose pipes are the parent's: the
/// parent's `Signals` woke up for a signal the child received.
#[test]
fn a_childs_signals_do_not_reach_the_parents_listener() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut signals = Signals::new(&[libc::SIGUSR1]).unwrap();
    poll.registry()
        .register(&mut signals, Token(1), Interest::READABLE)
        .unwrap();

    let child = fork(|| {
        let Ok(own) = Signals::new(&[libc::SIGUSR1]) else {
            return 1;
        };
        raise(libc::SIGUSR1);
        // The child's own listener works.
        match own.pending() {
            Ok(pending) if pending.contains(libc::SIGUSR1) => 0,
            _ => 2,
        }
    });
    assert_eq!(exit_code(child), 0);
    expect_no_events(&mut poll, &mut events);
    assert!(signals.pending().unwrap().is_empty());
}

/// Issue 21: a child calling `pending()` on a `Signals` it inherited read
/// the pipe it shares with the parent, taking the parent's wake-up: the
/// parent's edge-triggered registration then never reported the signal.
#[test]
fn a_child_does_not_take_the_parents_wake_up() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut signals = Signals::new(&[libc::SIGUSR2]).unwrap();
    poll.registry()
        .register(&mut signals, Token(1), Interest::READABLE)
        .unwrap();
    raise(libc::SIGUSR2);

    let child = fork(|| match signals.pending() {
        Ok(pending) if pending.is_empty() => 0,
        _ => 1,
    });
    assert_eq!(exit_code(child), 0, "the inherited listener reported");
    let mut received = Vec::new();
    poll_until(&mut poll, &mut events, "SIGUSR2", |events| {
        if events.iter().any(|event| event.token() == Token(1)) {
            received.extend(signals.pending().unwrap());
        }
        !received.is_empty()
    });
    assert_eq!(received, [libc::SIGUSR2]);
}

/// Issue 21: evmux's locks were `std::sync::Mutex`es; a child forked while
/// another thread held one (creating or dropping a listener) deadlocked in
/// its first `Signals::new`. Here a thread creates and drops listeners
/// (each the first and last for its signal: the locks are held across
/// sigaction(2) calls) while this one forks children that do the same.
#[test]
fn a_child_forked_while_a_listener_is_created_can_create_one() {
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                drop(Signals::new(&[libc::SIGURG]).unwrap());
            }
        })
    };
    for _ in 0..scaled(200, 5_000) {
        let child = fork(|| match Signals::new(&[libc::SIGURG]) {
            Ok(signals) => {
                drop(signals);
                0
            }
            Err(_) => 1,
        });
        assert_eq!(exit_code(child), 0);
    }
    stop.store(true, Ordering::Relaxed);
    churn.join().unwrap();
}

/// A child that drops sources it inherited registered (as a forking
/// server's child drops the listener) leaves the parent's `Poll` as it
/// was, as on epoll, where the child only closes its own descriptors. (On
/// io_uring the child removed the parent's poll requests through the ring
/// they share, and its queue positions broke the parent's `Poll`: "the
/// io_uring submission queue stays full".)
#[test]
fn a_child_dropping_inherited_sources_leaves_the_parents_poll_alone() {
    use std::io::Write;

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, receiver) = evmux::unix::pipe::new().unwrap();
    let mut receiver = Some(receiver);
    for receiver in receiver.iter_mut() {
        poll.registry()
            .register(receiver, Token(1), Interest::READABLE)
            .unwrap();
    }
    // The registration reaches the kernel.
    expect_no_events(&mut poll, &mut events);

    let child = fork(|| {
        drop(receiver.take());
        0
    });
    assert_eq!(exit_code(child), 0);
    sender.write_all(b"after the child").unwrap();
    poll_until(&mut poll, &mut events, "the inherited source", |events| {
        events.iter().any(|event| event.token() == Token(1))
    });
    // The parent's registrations still change as they should.
    let (mut sender, mut other) = evmux::unix::pipe::new().unwrap();
    poll.registry()
        .register(&mut other, Token(2), Interest::READABLE)
        .unwrap();
    sender.write_all(b"new").unwrap();
    poll_until(&mut poll, &mut events, "a new source", |events| {
        events.iter().any(|event| event.token() == Token(2))
    });
    assert!(receiver.is_some());
}
