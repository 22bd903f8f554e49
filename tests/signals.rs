//! `unix::Signals`: signals received as readiness. Each test uses signals
//! of its own, since a disposition belongs to the whole process and the
//! tests of this binary run in parallel.
// Unix only: POSIX signals.
#![cfg(all(unix, feature = "os-ext"))]

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use evmux::unix::Signals;
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::{
    assert_send, assert_sync, expect_no_events_despite_signals, poll_until, record_figure, scaled,
};

/// Sends `signal` to this thread: its handler (evmux's, then any chained
/// one) has run when this returns, so a test can tell what one signal
/// caused. (A signal sent to the process may be handled on another thread
/// after the event it caused was seen.)
fn send(signal: i32) {
    // SAFETY: raise with a valid signal number has no memory effects; the
    // test installed a handler for the signal.
    assert_eq!(unsafe { libc::raise(signal) }, 0);
}

/// Sends `signal` to the whole process: the OS picks a thread that does
/// not block it.
fn send_to_process(signal: i32) {
    // SAFETY: kill with this process's id and a valid signal number has no
    // memory effects; the test installed a handler for the signal.
    assert_eq!(unsafe { libc::kill(libc::getpid(), signal) }, 0);
}

/// The signal's disposition now: its handler address (or SIG_DFL/SIG_IGN).
fn disposition(signal: i32) -> usize {
    // SAFETY: a null new action only reads the disposition into `current`.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(signal, std::ptr::null(), &mut current), 0);
        current.sa_sigaction
    }
}

/// Polls until each `Signals` (registered with its token) has reported
/// every signal expected of it; returns everything each reported.
fn receive_all(
    poll: &mut Poll,
    events: &mut Events,
    sources: &[(Token, &Signals, &[i32])],
) -> Vec<BTreeSet<i32>> {
    let mut received = vec![BTreeSet::new(); sources.len()];
    poll_until(poll, events, "the signals", |events| {
        for event in events.iter() {
            assert!(event.is_readable(), "{event:?}");
            let index = sources
                .iter()
                .position(|(token, _, _)| *token == event.token())
                .expect("an event for a registered token");
            received[index].extend(sources[index].1.pending().unwrap());
        }
        sources
            .iter()
            .zip(&received)
            .all(|((_, _, expected), got)| expected.iter().all(|s| got.contains(s)))
    });
    received
}

/// `receive_all` for one `Signals`.
fn receive(
    poll: &mut Poll,
    events: &mut Events,
    signals: &Signals,
    token: Token,
    expected: &[i32],
) -> BTreeSet<i32> {
    receive_all(poll, events, &[(token, signals, expected)]).remove(0)
}

#[test]
fn signals_can_move_between_threads_and_be_shared() {
    assert_send::<Signals>();
    assert_sync::<Signals>();
    assert_send::<evmux::unix::Pending>();
}

#[test]
fn a_signal_is_reported_once_and_then_the_source_is_quiet() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut signals = Signals::new(&[libc::SIGUSR1]).unwrap();
    poll.registry()
        .register(&mut signals, Token(1), Interest::READABLE)
        .unwrap();

    send(libc::SIGUSR1);
    send(libc::SIGUSR1);
    let received = receive(&mut poll, &mut events, &signals, Token(1), &[libc::SIGUSR1]);
    assert_eq!(received, BTreeSet::from([libc::SIGUSR1]));
    assert!(signals.pending().unwrap().is_empty());
    expect_no_events_despite_signals(&mut poll, &mut events);

    // And again, after a deregister and a register.
    poll.registry().deregister(&mut signals).unwrap();
    poll.registry()
        .register(&mut signals, Token(2), Interest::READABLE)
        .unwrap();
    send(libc::SIGUSR1);
    receive(&mut poll, &mut events, &signals, Token(2), &[libc::SIGUSR1]);
}

#[test]
fn two_signals_for_one_signal_both_see_it() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut first = Signals::new(&[libc::SIGUSR2]).unwrap();
    let mut second = Signals::new(&[libc::SIGUSR2, libc::SIGWINCH]).unwrap();
    poll.registry()
        .register(&mut first, Token(1), Interest::READABLE)
        .unwrap();
    poll.registry()
        .register(&mut second, Token(2), Interest::READABLE)
        .unwrap();

    send(libc::SIGUSR2);
    let expected: &[i32] = &[libc::SIGUSR2];
    receive_all(
        &mut poll,
        &mut events,
        &[(Token(1), &first, expected), (Token(2), &second, expected)],
    );

    // Only the second listens for SIGWINCH.
    send(libc::SIGWINCH);
    receive(&mut poll, &mut events, &second, Token(2), &[libc::SIGWINCH]);
    assert!(first.pending().unwrap().is_empty());
}

#[test]
fn a_signal_blocked_in_the_polling_thread_is_received_through_another() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut signals = Signals::new(&[libc::SIGALRM]).unwrap();
    poll.registry()
        .register(&mut signals, Token(1), Interest::READABLE)
        .unwrap();
    // Block SIGALRM here; a second thread unblocks it and sends it to
    // itself, so the handler runs there.
    let previous = mask(libc::SIG_BLOCK, libc::SIGALRM);
    thread::spawn(|| {
        mask(libc::SIG_UNBLOCK, libc::SIGALRM);
        // SAFETY: raise sends the signal to the calling thread.
        assert_eq!(unsafe { libc::raise(libc::SIGALRM) }, 0);
    })
    .join()
    .unwrap();
    receive(&mut poll, &mut events, &signals, Token(1), &[libc::SIGALRM]);
    // SAFETY: restores this thread's mask.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &previous, std::ptr::null_mut()) };
}

/// Blocks or unblocks `signal` in this thread; returns the previous mask.
fn mask(how: libc::c_int, signal: i32) -> libc::sigset_t {
    // SAFETY: sigset operations on local sets; pthread_sigmask changes this
    // thread's mask only.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        let mut previous: libc::sigset_t = std::mem::zeroed();
        assert_eq!(libc::pthread_sigmask(how, &set, &mut previous), 0);
        previous
    }
}

static CHAINED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn count_chained(_: libc::c_int) {
    CHAINED.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn a_previous_handler_is_chained_to_and_restored() {
    let handler = count_chained as extern "C" fn(libc::c_int) as usize;
    // SAFETY: the handler only touches an atomic (async-signal-safe).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGVTALRM, &action, std::ptr::null_mut()),
            0
        );
    }
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut signals = Signals::new(&[libc::SIGVTALRM]).unwrap();
    assert_ne!(disposition(libc::SIGVTALRM), handler);
    poll.registry()
        .register(&mut signals, Token(1), Interest::READABLE)
        .unwrap();

    send(libc::SIGVTALRM);
    assert_eq!(CHAINED.load(Ordering::SeqCst), 1);
    receive(
        &mut poll,
        &mut events,
        &signals,
        Token(1),
        &[libc::SIGVTALRM],
    );
    assert_eq!(CHAINED.load(Ordering::SeqCst), 1);

    drop(signals);
    assert_eq!(disposition(libc::SIGVTALRM), handler);
}

#[test]
fn the_default_disposition_is_restored_after_the_last_listener() {
    // A program started by `nohup` ignores SIGHUP: start from the default.
    // SAFETY: sets the default action of one signal no other test uses.
    unsafe { libc::signal(libc::SIGHUP, libc::SIG_DFL) };
    assert_eq!(disposition(libc::SIGHUP), libc::SIG_DFL);
    let first = Signals::new(&[libc::SIGHUP]).unwrap();
    let second = Signals::new(&[libc::SIGHUP]).unwrap();
    assert_ne!(disposition(libc::SIGHUP), libc::SIG_DFL);
    drop(first);
    assert_ne!(disposition(libc::SIGHUP), libc::SIG_DFL);
    drop(second);
    assert_eq!(disposition(libc::SIGHUP), libc::SIG_DFL);
}

#[test]
fn signals_that_cannot_be_received_are_refused_and_change_nothing() {
    for signal in [
        0,
        -1,
        128,
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
    ] {
        let error = Signals::new(&[libc::SIGPIPE, signal]).expect_err("refused");
        assert_eq!(
            error.kind(),
            io::ErrorKind::InvalidInput,
            "{signal}: {error}"
        );
        assert!(error.to_string().contains(&signal.to_string()), "{error}");
    }
    // Rust programs ignore SIGPIPE; refusing the set left it so.
    assert_eq!(disposition(libc::SIGPIPE), libc::SIG_IGN);
}

/// The signal kinds of the storm: standard ones whose default action is
/// not to stop the process, plus real-time ones where there are.
fn storm_kinds() -> Vec<i32> {
    #[allow(unused_mut)]
    let mut kinds = vec![libc::SIGURG, libc::SIGPROF, libc::SIGXFSZ, libc::SIGXCPU];
    #[cfg(any(target_os = "linux", target_os = "android"))]
    kinds.extend((4..8).map(|n| libc::SIGRTMIN() + n));
    kinds
}

/// Threads send many signals of several kinds as fast as they can; every
/// kind sent is reported (several arrivals of one kind may be reported
/// once). Then, with the storm over, each kind once more: all reported,
/// so nothing was left stuck.
#[test]
fn a_signal_storm_loses_no_kind() {
    const SENDERS: usize = 4;
    let per_sender = scaled(2_000, 50_000) as usize;
    let kinds = storm_kinds();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut signals = Signals::new(&kinds).unwrap();
    poll.registry()
        .register(&mut signals, Token(1), Interest::READABLE)
        .unwrap();

    let start = Arc::new(Barrier::new(SENDERS + 1));
    let finished = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = (0..SENDERS)
        .map(|n| {
            let (kinds, start) = (kinds.clone(), Arc::clone(&start));
            let finished = Arc::clone(&finished);
            thread::spawn(move || {
                start.wait();
                for i in 0..per_sender {
                    send_to_process(kinds[(i + n) % kinds.len()]);
                }
                finished.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    start.wait();
    // Until every kind was reported and every sender is done: how many
    // wake-ups, and how many reports of each kind.
    let (mut wakeups, mut reports) = (0, BTreeMap::<i32, usize>::new());
    poll_until(&mut poll, &mut events, "every kind", |events| {
        if !events.is_empty() {
            wakeups += 1;
            for signal in signals.pending().unwrap() {
                *reports.entry(signal).or_default() += 1;
            }
        }
        reports.len() == kinds.len() && finished.load(Ordering::SeqCst) == SENDERS
    });
    for sender in senders {
        sender.join().unwrap();
    }
    let received: BTreeSet<i32> = reports.keys().copied().collect();
    assert_eq!(received, kinds.iter().copied().collect());
    signals.pending().unwrap().for_each(drop);

    for &kind in &kinds {
        send(kind);
    }
    let after = receive(&mut poll, &mut events, &signals, Token(1), &kinds);
    assert_eq!(after, kinds.iter().copied().collect());
    let text = format!(
        "{} signals of {} kinds from {SENDERS} threads: every kind reported, \
         in {wakeups} wake-ups, each kind {} to {} times",
        SENDERS * per_sender,
        kinds.len(),
        reports.values().min().unwrap(),
        reports.values().max().unwrap(),
    );
    eprintln!("{text}");
    record_figure("signals", "storm", text);
}
