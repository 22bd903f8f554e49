//! The tests of `process::ChildExit`, run by `tests/child_exit.rs` (the
//! platform's mechanism: a pidfd on Linux) and by
//! `tests/child_exit_sigchld.rs` (the SIGCHLD fallback, forced), which
//! include this file by path.

use std::collections::HashSet;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command};
use std::time::Instant;

use evmux::process::ChildExit;
use evmux::{Events, Interest, Poll, Token};

use crate::util::{
    allow_descriptors, assert_send, assert_sync, expect_no_events_despite_signals, poll_until,
    record_figure, wait_for_exit,
};

fn spawn(program: &str, args: &[&str]) -> Child {
    Command::new(program)
        .args(args)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {program}: {e}"))
}

pub fn an_exit_is_reported_and_the_status_left_to_collect() {
    assert_send::<ChildExit>();
    assert_sync::<ChildExit>();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut child = spawn("sh", &["-c", "exit 7"]);
    let mut exit = ChildExit::new(&child).unwrap();
    assert_eq!(exit.pid(), child.id());
    poll.registry()
        .register(&mut exit, Token(1), Interest::READABLE)
        .unwrap();
    wait_for_exit(&mut poll, &mut events, &exit, Token(1));
    // Not reaped by evmux: the status is still there.
    let status = child.try_wait().unwrap().expect("exited");
    assert_eq!(status.code(), Some(7));
    poll.registry().deregister(&mut exit).unwrap();
}

pub fn a_running_child_is_not_reported_until_it_exits() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut child = spawn("sleep", &["30"]);
    let mut exit = ChildExit::new(&child).unwrap();
    poll.registry()
        .register(&mut exit, Token(2), Interest::READABLE)
        .unwrap();
    // On the SIGCHLD fallback another test's child can wake the watch:
    // such an event is spurious, and `has_exited` says so.
    poll.poll(&mut events, Some(crate::util::QUIET)).ok();
    assert!(!exit.has_exited().unwrap());
    assert!(child.try_wait().unwrap().is_none());

    child.kill().unwrap();
    wait_for_exit(&mut poll, &mut events, &exit, Token(2));
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
}

pub fn a_child_that_exited_before_its_watch_is_ready_at_once() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut child = spawn("true", &[]);
    // Wait for the exit without reaping, through a first watch.
    let first = ChildExit::new(&child).unwrap();
    let start = Instant::now();
    while !first.has_exited().unwrap() {
        assert!(start.elapsed() < crate::util::DEADLINE, "true never exited");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // A zombie now: a new watch is readable at once.
    let mut exit = ChildExit::new(&child).unwrap();
    assert!(exit.has_exited().unwrap());
    poll.registry()
        .register(&mut exit, Token(3), Interest::READABLE)
        .unwrap();
    wait_for_exit(&mut poll, &mut events, &exit, Token(3));
    assert!(child.try_wait().unwrap().expect("exited").success());
    // Reaped now: the watch still says exited.
    assert!(exit.has_exited().unwrap());
}

pub fn a_reaped_child_or_a_bad_pid_is_refused() {
    let mut child = spawn("true", &[]);
    child.wait().unwrap();
    let error = ChildExit::new(&child).expect_err("a reaped child");
    assert!(
        matches!(
            error.kind(),
            io::ErrorKind::NotFound | io::ErrorKind::InvalidInput
        ),
        "{error:?}"
    );
    for pid in [0, u32::MAX, i32::MAX as u32 + 1] {
        let error = ChildExit::from_pid(pid).expect_err("a bad pid");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{pid}: {error}");
    }
}

/// 1,000 children exit (all at about the same time); each is reported
/// exited exactly once: after its first exited report its watch is
/// deregistered, and a token reported exited twice fails the test.
pub fn a_thousand_children_are_each_reported_once(figure: &str) {
    const CHILDREN: usize = 1_000;
    allow_descriptors(4 * CHILDREN as u64 + 100);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(256);
    let started = Instant::now();
    let mut watched: Vec<(Child, Option<ChildExit>)> = (0..CHILDREN)
        .map(|i| {
            let child = spawn("true", &[]);
            let mut exit = ChildExit::new(&child).unwrap();
            poll.registry()
                .register(&mut exit, Token(i), Interest::READABLE)
                .unwrap();
            (child, Some(exit))
        })
        .collect();
    let spawned = started.elapsed();
    let registry = poll.registry().try_clone().unwrap();
    let mut reported = HashSet::new();
    poll_until(&mut poll, &mut events, "1,000 exits", |events| {
        for event in events.iter() {
            let index = event.token().0;
            let exit = watched[index]
                .1
                .as_mut()
                .unwrap_or_else(|| panic!("child {index}: an event after its exit was reported"));
            if exit.has_exited().unwrap() {
                assert!(reported.insert(index), "child {index} reported twice");
                registry.deregister(exit).unwrap();
                watched[index].1 = None;
            }
        }
        reported.len() == CHILDREN
    });
    let all_reported = started.elapsed();
    expect_no_events_despite_signals(&mut poll, &mut events);
    for (child, _) in &mut watched {
        assert!(child.try_wait().unwrap().expect("exited").success());
    }
    let text = format!(
        "{CHILDREN} children spawned in {:.0} ms, all exits reported {:.0} ms after the first spawn",
        spawned.as_secs_f64() * 1e3,
        all_reported.as_secs_f64() * 1e3
    );
    eprintln!("{figure}: {text}");
    record_figure("child_exit", figure, text);
}

/// The exit status, read without reaping: `None` while the child runs,
/// then its status (an exit code, or the signal that killed it), as often
/// as asked, and still there for `Child::try_wait`; once that reaped it,
/// gone (`NotFound`), while `has_exited` stays true; on kqueue the status
/// the kernel recorded at the exit stays.
pub fn the_exit_status_is_read_without_reaping() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut child = Command::new("sh")
        .args(["-c", "read line; exit 7"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut exit = ChildExit::new(&child).unwrap();
    assert_eq!(exit.exit_status().unwrap(), None);
    poll.registry()
        .register(&mut exit, Token(4), Interest::READABLE)
        .unwrap();
    drop(child.stdin.take());
    wait_for_exit(&mut poll, &mut events, &exit, Token(4));
    for _ in 0..2 {
        let status = exit.exit_status().unwrap().expect("exited");
        assert_eq!(status.code(), Some(7));
    }
    assert_eq!(child.try_wait().unwrap().expect("exited").code(), Some(7));
    if cfg!(evmux_selector = "kqueue") {
        // The status the kernel recorded at the exit stays.
        assert_eq!(exit.exit_status().unwrap().expect("kept").code(), Some(7));
    } else {
        let error = exit.exit_status().expect_err("reaped");
        assert_eq!(error.kind(), io::ErrorKind::NotFound, "{error}");
    }
    assert!(exit.has_exited().unwrap());

    let mut killed = spawn("sleep", &["30"]);
    let mut exit = ChildExit::new(&killed).unwrap();
    poll.registry()
        .register(&mut exit, Token(5), Interest::READABLE)
        .unwrap();
    killed.kill().unwrap();
    wait_for_exit(&mut poll, &mut events, &exit, Token(5));
    let status = exit.exit_status().unwrap().expect("killed");
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert_eq!(killed.wait().unwrap().signal(), Some(libc::SIGKILL));
}

/// A child that the program reaps itself before its watch looked has
/// exited: `has_exited` says so (the status is gone, and says so too).
pub fn a_child_reaped_elsewhere_has_exited_with_its_status_gone() {
    let mut child = Command::new("sh")
        .args(["-c", "read line"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let exit = ChildExit::new(&child).unwrap();
    drop(child.stdin.take());
    child.wait().unwrap();
    assert!(exit.has_exited().unwrap());
    if cfg!(not(evmux_selector = "kqueue")) {
        let error = exit.exit_status().expect_err("reaped");
        assert_eq!(error.kind(), io::ErrorKind::NotFound, "{error}");
    }
}
