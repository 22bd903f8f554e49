//! `process::ChildExit` on its SIGCHLD fallback in a program that ignores
//! `SIGCHLD` (the kernel then reaps children as they exit). In its own
//! test binary because it changes `SIGCHLD`'s disposition.
// Linux only: elsewhere the fallback cannot be forced; and not on the
// kqueue backend (`--cfg evmux_force_kqueue`), which has no fallback.
#![cfg(all(
    target_os = "linux",
    feature = "os-ext",
    not(evmux_selector = "kqueue")
))]

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

/// Watches a child that exits with code 3 through the fallback, checks
/// the status is kept while watched, drops the watch, and says whether
/// the child was left a zombie.
// Never waited for: with SIGCHLD ignored, `wait` reports no children;
// the kernel, or evmux on restoring the disposition, reaps them.
#[allow(clippy::zombie_processes)]
fn watch_one_exit() -> bool {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut child = Command::new("sh")
        .args(["-c", "read line; exit 3"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut exit = ChildExit::new(&child).unwrap();
    poll.registry()
        .register(&mut exit, Token(1), Interest::READABLE)
        .unwrap();
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    wait_for_exit(&mut poll, &mut events, &exit, Token(1));
    // Kept while watched: the status is there.
    assert_eq!(exit.exit_status().unwrap().unwrap().code(), Some(3));
    assert!(is_zombie(child.id()));
    drop(exit);
    is_zombie(child.id())
}

extern "C" fn ignore(_: libc::c_int) {}

/// Issue 21: with `SIGCHLD` ignored (`SIG_IGN`, or a handler with
/// `SA_NOCLDWAIT`), the kernel reaps children as they exit. The fallback's
/// handler must not (it needs the status), so exited children stay
/// zombies while watched; when the last watch went and the disposition
/// was back, those zombies were left for good (nobody reaps them: the
/// program relies on the kernel, which only reaps children that exit from
/// then on). They are reaped now, and the disposition is restored. (Before,
/// evmux's handler also kept `SA_NOCLDWAIT`, so the kernel reaped the
/// watched child under the watch's feet.)
#[test]
fn with_sigchld_ignored_no_zombie_is_left_behind() {
    std::env::set_var("EVMUX_CHILD_EXIT", "sigchld");
    // SAFETY: sets a standard disposition; this binary's only test.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_IGN) };
    assert!(!watch_one_exit(), "a zombie was left behind (SIG_IGN)");
    assert_eq!(disposition(libc::SIGCHLD).sa_sigaction, libc::SIG_IGN);

    // SAFETY: a zeroed sigaction is valid; the handler does nothing.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = ignore as extern "C" fn(libc::c_int) as usize;
        action.sa_flags = libc::SA_NOCLDWAIT;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGCHLD, &action, std::ptr::null_mut()),
            0
        );
    }
    assert!(!watch_one_exit(), "a zombie was left behind (SA_NOCLDWAIT)");
    assert_ne!(disposition(libc::SIGCHLD).sa_flags & libc::SA_NOCLDWAIT, 0);
}
