// WASI preview 1 has no `Waker` (as in mio); preview 2's, without threads,
// is woken from the polling thread itself, before `poll`.
#![cfg(all(feature = "os-ext", not(evmux_no_waker)))]
#[cfg(not(wasi))]
use std::sync::{Arc, Barrier};
#[cfg(not(wasi))]
use std::thread;

use evmux::{Events, Poll, Registry, Token, Waker};

mod util;
use util::{expect_events, expect_no_events, within_deadline, DEADLINE, READABLE};

/// Every test runs with both kinds of waker: mio's (a system call per
/// wake) and the coalescing one.
const WAKERS: [fn(&Registry, Token) -> std::io::Result<Waker>; 2] =
    [Waker::new, Waker::new_coalescing];

// Needs a second thread: WASI has none.
#[cfg(not(wasi))]
#[test]
fn a_wake_from_another_thread_carries_the_token_and_is_readable() {
    for make in WAKERS {
        let mut poll = Poll::new().unwrap();
        let waker = make(poll.registry(), Token(11)).unwrap();
        thread::scope(|scope| {
            scope.spawn(|| waker.wake().unwrap());
        });

        let mut events = Events::with_capacity(8);
        poll.poll(&mut events, Some(DEADLINE)).unwrap();
        let event = events.iter().next().expect("an event");
        assert_eq!(event.token(), Token(11));
        assert!(event.is_readable());
        assert!(!event.is_writable() && !event.is_error());
    }
}

#[test]
fn wakes_before_poll_are_not_lost_and_coalesce() {
    for make in WAKERS {
        let mut poll = Poll::new().unwrap();
        let waker = make(poll.registry(), Token(1)).unwrap();
        for _ in 0..100 {
            waker.wake().unwrap();
        }
        let mut events = Events::with_capacity(8);
        poll.poll(&mut events, Some(DEADLINE)).unwrap();
        assert_eq!(events.iter().count(), 1);
        expect_no_events(&mut poll, &mut events);

        // And the next wake produces the next event.
        waker.wake().unwrap();
        expect_events(&mut poll, &mut events, &[(Token(1), READABLE)]);
    }
}

// Needs a second thread: WASI has none.
#[cfg(not(wasi))]
#[test]
fn concurrent_wakes_from_many_threads() {
    for make in WAKERS {
        let poll = Poll::new().unwrap();
        let waker = Arc::new(make(poll.registry(), Token(2)).unwrap());
        let threads = 8;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let waker = Arc::clone(&waker);
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    barrier.wait();
                    for _ in 0..1000 {
                        waker.wake().unwrap();
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        let mut poll = poll;
        let mut events = Events::with_capacity(8);
        expect_events(&mut poll, &mut events, &[(Token(2), READABLE)]);
    }
}

// Needs a second thread: WASI has none.
#[cfg(not(wasi))]
#[test]
fn a_blocked_poll_is_woken_repeatedly() {
    for make in WAKERS {
        let poll = Poll::new().unwrap();
        let waker = Arc::new(make(poll.registry(), Token(0)).unwrap());
        let rounds = 200;
        let (ack, acks) = std::sync::mpsc::channel();
        let waiter = thread::spawn(move || {
            let mut poll = poll;
            let mut events = Events::with_capacity(8);
            for _ in 0..rounds {
                loop {
                    poll.poll(&mut events, None).unwrap();
                    if events.iter().any(|event| event.token() == Token(0)) {
                        break;
                    }
                }
                ack.send(()).unwrap();
            }
        });
        for _ in 0..rounds {
            waker.wake().unwrap();
            acks.recv_timeout(DEADLINE)
                .expect("the waiter missed a wake");
        }
        within_deadline(move || waiter.join().unwrap());
    }
}

#[test]
fn several_wakers_on_one_poll() {
    for make in WAKERS {
        let mut poll = Poll::new().unwrap();
        let first = make(poll.registry(), Token(1)).unwrap();
        let second = make(poll.registry(), Token(2)).unwrap();
        let mut events = Events::with_capacity(8);
        second.wake().unwrap();
        let seen = expect_events(&mut poll, &mut events, &[(Token(2), READABLE)]);
        assert!(!seen.contains_key(&Token(1)));
        first.wake().unwrap();
        expect_events(&mut poll, &mut events, &[(Token(1), READABLE)]);
    }
}

#[test]
fn waking_after_the_poll_is_dropped_does_not_panic() {
    for make in WAKERS {
        let poll = Poll::new().unwrap();
        let waker = make(poll.registry(), Token(0)).unwrap();
        drop(poll);
        // The wake has nobody to wake; it must not panic or hang, and the
        // waker still owns what it signals, so it succeeds.
        within_deadline(move || waker.wake()).expect("a wake after the poll was dropped");
    }
}

// On Windows a wake posted before the waker is dropped is delivered (next
// test), as with mio.
#[cfg(not(windows))]
#[test]
fn dropping_a_waker_removes_it() {
    for make in WAKERS {
        let mut poll = Poll::new().unwrap();
        let waker = make(poll.registry(), Token(0)).unwrap();
        waker.wake().unwrap();
        drop(waker);
        let mut events = Events::with_capacity(8);
        expect_no_events(&mut poll, &mut events);
        assert!(format!("{:?}", make(poll.registry(), Token(0)).unwrap()).starts_with("Waker"));
    }
}

/// On Windows, as with mio, a wake posted before the waker is dropped is
/// still delivered: a thread may wake the poller and exit.
#[cfg(windows)]
#[test]
fn a_wake_outlives_its_waker() {
    for make in WAKERS {
        let mut poll = Poll::new().unwrap();
        let waker = make(poll.registry(), Token(3)).unwrap();
        thread::spawn(move || {
            waker.wake().unwrap();
            drop(waker);
        })
        .join()
        .unwrap();
        let mut events = Events::with_capacity(8);
        expect_events(&mut poll, &mut events, &[(Token(3), READABLE)]);
    }
}

/// Wakes skipped because one is already on its way must never leave the
/// poller without an event after the last wake, and must carry the
/// writes made before them: each thread publishes its progress with a plain
/// `Release` store (no read-modify-write that would hide a missing
/// happens-before edge) and wakes; the poller, reading with `Relaxed`,
/// must see every thread's last value after some event. A lost final
/// wake leaves it blocked until `DEADLINE`: a failure.
// Needs a second thread: WASI has none.
#[cfg(not(wasi))]
#[test]
fn no_wake_is_lost_while_the_poller_runs() {
    for make in WAKERS {
        use std::sync::atomic::{AtomicUsize, Ordering};
        const THREADS: usize = 4;
        const WAKES: usize = 2000;
        let mut poll = Poll::new().unwrap();
        let waker = Arc::new(make(poll.registry(), Token(0)).unwrap());
        let progress: Arc<Vec<AtomicUsize>> =
            Arc::new((0..THREADS).map(|_| AtomicUsize::new(0)).collect());
        let handles: Vec<_> = (0..THREADS)
            .map(|thread| {
                let (waker, progress) = (Arc::clone(&waker), Arc::clone(&progress));
                thread::spawn(move || {
                    for done in 1..=WAKES {
                        progress[thread].store(done, Ordering::Release);
                        waker.wake().unwrap();
                    }
                })
            })
            .collect();
        let mut events = Events::with_capacity(8);
        loop {
            poll.poll(&mut events, Some(DEADLINE)).unwrap();
            let seen: Vec<usize> = progress
                .iter()
                .map(|done| done.load(Ordering::Relaxed))
                .collect();
            assert!(!events.is_empty(), "a wake was lost: saw {seen:?}");
            if seen.iter().all(|&done| done == WAKES) {
                break;
            }
        }
        for handle in handles {
            handle.join().unwrap();
        }
    }
}

/// A child forked while another thread of the parent makes and drops
/// coalescing wakers (each taking the list of wakers' lock) drops its
/// copy of a coalescing waker without waiting for that lock, which no
/// thread of the child would ever release. Each child is given two
/// seconds; one that hangs is killed and fails the test. Run where the
/// backend's own waker takes no lock of the `Poll` when dropped (an
/// eventfd or pipe, the io_uring no-op); poll(2)'s and kqueue's do (a
/// known gap: the same hang is possible there).
#[cfg(any(evmux_waker = "fd", evmux_waker = "uring"))]
#[test]
fn a_forked_child_drops_an_inherited_coalescing_waker_without_hanging() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};
    let poll = Poll::new().unwrap();
    let registry = poll.registry().try_clone().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                drop(Waker::new_coalescing(&registry, Token(9)).unwrap());
            }
        })
    };
    let mut hung = None;
    for round in 0..300 {
        let waker = Waker::new_coalescing(poll.registry(), Token(2)).unwrap();
        // SAFETY: the child only drops the waker, then `_exit`s.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            drop(waker);
            // SAFETY: ends the child without running the parent's exit code.
            unsafe { libc::_exit(0) };
        }
        assert!(pid > 0, "fork: {}", std::io::Error::last_os_error());
        drop(waker);
        let start = Instant::now();
        let mut status = 0;
        // SAFETY: `status` is valid for writes; the child is this test's.
        while unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } != pid {
            if start.elapsed() > Duration::from_secs(2) {
                // SAFETY: the child is this test's, not yet reaped.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                }
                hung = Some(round);
                break;
            }
            thread::sleep(Duration::from_millis(1));
        }
        if hung.is_some() {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    churn.join().unwrap();
    assert_eq!(hung, None, "a child hung dropping its waker");
}
