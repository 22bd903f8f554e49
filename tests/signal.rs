//! A signal that interrupts `poll` surfaces as `ErrorKind::Interrupted`
//! and loses nothing. In its own test binary because it installs a handler.
// Unix only: POSIX signals.
#![cfg(all(unix, feature = "os-ext"))]

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use evmux::{Events, Poll, Token, Waker};

mod util;
use util::{expect_events, DEADLINE, READABLE};

extern "C" fn ignore_signal(_: libc::c_int) {}

fn install_handler() {
    // SAFETY: a zeroed sigaction is valid; the handler is async-signal-safe
    // (it does nothing); no SA_RESTART, so blocking calls see EINTR.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = ignore_signal as *const () as usize;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
            0
        );
    }
}

#[test]
fn a_signal_interrupts_poll_and_no_event_is_lost() {
    install_handler();
    let mut poll = Poll::new().unwrap();
    let waker = Waker::new(poll.registry(), Token(3)).unwrap();

    // SAFETY: pthread_self has no preconditions.
    let target = unsafe { libc::pthread_self() } as usize;
    let done = Arc::new(AtomicBool::new(false));
    let killer = {
        let done = Arc::clone(&done);
        thread::spawn(move || {
            let start = Instant::now();
            while !done.load(Ordering::Acquire) && start.elapsed() < DEADLINE {
                // SAFETY: the target thread is the test thread, which joins
                // this thread before it exits, so it is alive here.
                unsafe { libc::pthread_kill(target as libc::pthread_t, libc::SIGUSR1) };
                thread::sleep(Duration::from_millis(5));
            }
        })
    };

    let mut events = Events::with_capacity(8);
    let result = poll.poll(&mut events, Some(DEADLINE));
    done.store(true, Ordering::Release);
    killer.join().unwrap();

    let error = result.expect_err("poll should have been interrupted");
    assert_eq!(error.kind(), io::ErrorKind::Interrupted);
    assert!(events.is_empty());

    waker.wake().unwrap();
    expect_events(&mut poll, &mut events, &[(Token(3), READABLE)]);
}
