//! Signals through tokio on evmux (tokio's signal driver is a mio
//! `UnixStream` pair registered with the I/O driver).
// Unix signals; tests/windows.rs has Windows' ctrl-c.
#![cfg(unix)]

mod util;

use tokio::signal::unix::{signal, SignalKind};
use util::within;

fn raise(signal: libc::c_int) {
    // SAFETY: kill with our own pid; tokio has installed a handler for
    // every signal raised here before it is raised.
    assert_eq!(unsafe { libc::kill(libc::getpid(), signal) }, 0);
}

#[tokio::test]
async fn each_raised_signal_is_received() {
    let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
    for _ in 0..50 {
        raise(libc::SIGUSR1);
        within("SIGUSR1", usr1.recv()).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listener_of_a_signal_hears_it() {
    let mut first = signal(SignalKind::user_defined2()).unwrap();
    let mut second = signal(SignalKind::user_defined2()).unwrap();
    for _ in 0..20 {
        raise(libc::SIGUSR2);
        within("SIGUSR2, first listener", first.recv())
            .await
            .unwrap();
        within("SIGUSR2, second listener", second.recv())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn different_signals_are_told_apart() {
    let mut hangup = signal(SignalKind::hangup()).unwrap();
    let mut interrupt = signal(SignalKind::interrupt()).unwrap();
    for _ in 0..10 {
        raise(libc::SIGHUP);
        within("SIGHUP", hangup.recv()).await.unwrap();
        raise(libc::SIGINT);
        within("SIGINT", interrupt.recv()).await.unwrap();
    }
}
