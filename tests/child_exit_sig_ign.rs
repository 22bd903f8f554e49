//! `process::ChildExit` on its SIGCHLD fallback in a program that ignores
//! `SIGCHLD` (the kernel then reaps children as they exit). In its own
//! test binary because it changes `SIGCHLD`'s disposition.
// Linux only: elsewhere the fallback cannot be forced.
#![cfg(all(target_os = "linux", feature = "os-ext"))]

use std::io::Write;
use std::process::{Command, Stdio};

use evmux::process::ChildExit;
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::wait_for_exit;

fn disposition(signal: i32) -> libc::sigaction {
    // SAFETY: a null new action only reads the disposition into `current`.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(signal, std::ptr::null(), &mut current), 0);
        current
    }
}

/// Whether `pid` is an exited child not yet reaped (a zombie).
fn is_zombie(pid: u32) -> bool {
    let pid = rustix::process::Pid::from_raw(pid as i32).unwrap();
    let options = rustix::process::WaitIdOptions::EXITED
        | rustix::process::WaitIdOptions::NOHANG
        | rustix::process::WaitIdOptions::NOWAIT;
    matches!(
        rustix::process::waitid(rustix::process::WaitId::Pid(pid), options),
        Ok(Some(_))
    )
}

/// Issue 21: with `SIGCHLD` ignored, the fallback's handler keeps exited
/// children as zombies while it watches (it needs their status). When the
/// last watch goes and `SIG_IGN` is back, those zombies were left for
/// good: nobody reaps them (the program relies on the kernel, which only
/// reaps children that exit from then on). They are reaped now, and the
/// disposition is `SIG_IGN` again.
#[test]
fn with_sigchld_ignored_no_zombie_is_left_behind() {
    std::env::set_var("EVMUX_CHILD_EXIT", "sigchld");
    // SAFETY: sets a standard disposition; this binary's only test.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_IGN) };
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut child = Command::new("sh")
        .args(["-c", "read line; exit 3"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut exit = ChildExit::new(&child).unwrap();
    assert_ne!(disposition(libc::SIGCHLD).sa_sigaction, libc::SIG_IGN);
    poll.registry()
        .register(&mut exit, Token(1), Interest::READABLE)
        .unwrap();
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    wait_for_exit(&mut poll, &mut events, &exit, Token(1));
    // Kept while watched: the status is there.
    assert_eq!(exit.exit_status().unwrap().unwrap().code(), Some(3));
    assert!(is_zombie(child.id()));

    drop(exit);
    assert_eq!(disposition(libc::SIGCHLD).sa_sigaction, libc::SIG_IGN);
    assert!(!is_zombie(child.id()), "a zombie was left behind");
}
