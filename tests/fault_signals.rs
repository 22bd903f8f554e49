//! Fault injection: signals interrupt `poll` over and over. Each
//! interruption surfaces as `ErrorKind::Interrupted`, and no event is
//! lost: every source made ready while the signals fly is reported exactly
//! once. In its own test binary, since it installs a signal handler (and
//! restores the previous one).
// Unix only: POSIX signals.
#![cfg(all(unix, feature = "os-ext", feature = "net"))]

use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use evmux::unix::SourceFd;
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::{record_figure, scaled, Signal, DEADLINE};

extern "C" fn count_signal(_: libc::c_int) {
    HANDLED.fetch_add(1, Ordering::Relaxed);
}

static HANDLED: AtomicU64 = AtomicU64::new(0);

/// Installs `count_signal` for SIGUSR2 without `SA_RESTART`; returns the
/// previous action.
fn install_handler() -> libc::sigaction {
    // SAFETY: zeroed sigactions are valid; the handler only touches an
    // atomic, which is async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = count_signal as *const () as usize;
        libc::sigemptyset(&mut action.sa_mask);
        let mut previous: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(libc::SIGUSR2, &action, &mut previous), 0);
        previous
    }
}

fn restore_handler(previous: &libc::sigaction) {
    // SAFETY: `previous` came from sigaction.
    unsafe {
        assert_eq!(
            libc::sigaction(libc::SIGUSR2, previous, std::ptr::null_mut()),
            0
        );
    }
}

#[test]
fn signals_in_a_loop_interrupt_poll_and_lose_no_event() {
    let rounds = scaled(200, 5_000) as usize;
    let previous = install_handler();
    let mut poll = Poll::new().unwrap();
    let sources: Vec<Signal> = (0..rounds).map(|_| Signal::new()).collect();
    for (i, source) in sources.iter().enumerate() {
        poll.registry()
            .register(
                &mut SourceFd(&source.as_raw_fd()),
                Token(i),
                Interest::READABLE,
            )
            .unwrap();
    }
    // SAFETY: pthread_self has no preconditions.
    let target = unsafe { libc::pthread_self() } as usize;
    // Round `r`: the killer signals the polling thread until it has seen
    // an interruption in that round, raises source `r`, and keeps
    // signalling until the poller has seen it.
    let interrupted_round = AtomicUsize::new(usize::MAX);
    let seen_round = AtomicUsize::new(usize::MAX);
    let stop = AtomicBool::new(false);
    let mut interruptions = 0u64;
    let mut seen = vec![0u32; rounds];
    let started = Instant::now();

    thread::scope(|scope| {
        scope.spawn(|| {
            for (round, source) in sources.iter().enumerate() {
                let mut raised = false;
                while seen_round.load(Ordering::Acquire) != round && !stop.load(Ordering::Acquire) {
                    assert!(
                        started.elapsed() < DEADLINE * 3,
                        "round {round} did not end"
                    );
                    if !raised && interrupted_round.load(Ordering::Acquire) == round {
                        source.raise();
                        raised = true;
                    }
                    // SAFETY: the target is the test thread, which ends
                    // this scope (and so outlives this thread).
                    unsafe { libc::pthread_kill(target as libc::pthread_t, libc::SIGUSR2) };
                    // Pacing, not synchronisation: a signal every 200 µs.
                    thread::sleep(Duration::from_micros(200));
                }
            }
        });

        let mut events = Events::with_capacity(16);
        let mut round = 0;
        while round < rounds {
            if started.elapsed() > DEADLINE * 3 {
                stop.store(true, Ordering::Release);
                panic!("stuck in round {round}");
            }
            match poll.poll(&mut events, Some(DEADLINE)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    assert!(events.is_empty(), "an interrupted poll returned events");
                    interruptions += 1;
                    interrupted_round.store(round, Ordering::Release);
                    continue;
                }
                Err(e) => panic!("poll: {e}"),
            }
            for event in events.iter() {
                let i = event.token().0;
                assert!(i <= round, "source {i} reported before it was raised");
                seen[i] += 1;
            }
            if seen[round] > 0 {
                seen_round.store(round, Ordering::Release);
                round += 1;
            }
        }
    });
    restore_handler(&previous);
    assert!(
        seen.iter().all(|&n| n == 1),
        "reported other than once: {seen:?}"
    );
    assert!(interruptions >= rounds as u64);
    eprintln!(
        "{rounds} rounds, {interruptions} polls interrupted, {} signals handled, every event seen once",
        HANDLED.load(Ordering::Relaxed)
    );
    record_figure("faults", "signal_rounds", rounds);
    record_figure("faults", "signal_interruptions", interruptions);
}
