//! `process::ChildExit` on Windows (run under Wine by `.ci/windows.sh`):
//! the process handle's wait, posted to the completion port.
#![cfg(all(windows, feature = "os-ext"))]

mod util;

use std::io::{self, Write};
use std::process::{Child, Command, Stdio};

use evmux::process::ChildExit;
use evmux::{Events, Interest, Poll, Token};

use util::{assert_send, assert_sync, wait_for_exit, QUIET};

/// A child that runs `command` in `cmd`, with its stdin piped.
fn spawn(command: &str) -> Child {
    Command::new("cmd")
        .args(["/c", command])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn cmd /c {command}: {e}"))
}

#[test]
fn an_exit_is_reported_and_the_status_left_to_collect() {
    assert_send::<ChildExit>();
    assert_sync::<ChildExit>();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut child = spawn("exit 7");
    let mut exit = ChildExit::new(&child).unwrap();
    assert_eq!(exit.pid(), child.id());
    poll.registry()
        .register(&mut exit, Token(1), Interest::READABLE)
        .unwrap();
    wait_for_exit(&mut poll, &mut events, &exit, Token(1));
    let status = child.try_wait().unwrap().expect("exited");
    assert_eq!(status.code(), Some(7));
    poll.registry().deregister(&mut exit).unwrap();
}

#[test]
fn a_running_child_is_not_reported_until_it_exits() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    // `set /p` waits for a line on stdin: the child runs until it gets one.
    let mut child = spawn("set /p line=");
    let mut exit = ChildExit::new(&child).unwrap();
    poll.registry()
        .register(&mut exit, Token(2), Interest::READABLE)
        .unwrap();
    poll.poll(&mut events, Some(QUIET)).unwrap();
    assert!(events.is_empty(), "{events:?}");
    assert!(!exit.has_exited().unwrap());

    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"done\r\n").unwrap();
    drop(stdin);
    wait_for_exit(&mut poll, &mut events, &exit, Token(2));
    assert!(child.wait().unwrap().success());
}

#[test]
fn registration_mistakes_and_a_missing_process_are_clear_errors() {
    let mut poll = Poll::new().unwrap();
    let other = Poll::new().unwrap();
    let mut child = spawn("exit 0");
    let mut exit = ChildExit::new(&child).unwrap();
    let registry = poll.registry();
    registry
        .register(&mut exit, Token(3), Interest::READABLE)
        .unwrap();
    let again = registry.register(&mut exit, Token(3), Interest::READABLE);
    assert_eq!(again.unwrap_err().kind(), io::ErrorKind::AlreadyExists);
    let elsewhere = other.registry().deregister(&mut exit);
    assert_eq!(elsewhere.unwrap_err().kind(), io::ErrorKind::NotFound);
    // Re-registered after the exit: reported again, with the new token.
    let mut events = Events::with_capacity(8);
    wait_for_exit(&mut poll, &mut events, &exit, Token(3));
    poll.registry()
        .reregister(&mut exit, Token(4), Interest::READABLE)
        .unwrap();
    wait_for_exit(&mut poll, &mut events, &exit, Token(4));
    poll.registry().deregister(&mut exit).unwrap();
    child.wait().unwrap();

    // Process ids are multiples of four on Windows: this one never exists.
    let error = ChildExit::from_pid(i32::MAX as u32 - 2).expect_err("no such process");
    assert_eq!(error.kind(), io::ErrorKind::NotFound, "{error}");
}

/// Ids that are no process's (0, beyond `i32::MAX`) are `InvalidInput`,
/// as the docs say and as on Unix.
#[test]
fn ids_that_are_no_process_ids_are_invalid_input() {
    for pid in [0, u32::MAX, i32::MAX as u32 + 1] {
        let error = ChildExit::from_pid(pid).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{pid}: {error}");
    }
}

/// An exit is reported once per registration: edge and one-shot are
/// accepted (and the same), level is refused rather than ignored.
#[test]
fn level_is_refused_and_oneshot_reports_the_exit() {
    use evmux::trigger::Trigger;

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut child = spawn("exit 0");
    let mut exit = ChildExit::new(&child).unwrap();
    let refused = poll
        .registry()
        .register_with(&mut exit, Token(5), Interest::READABLE, Trigger::LEVEL)
        .unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::Unsupported, "{refused}");
    poll.registry()
        .register_with(&mut exit, Token(5), Interest::READABLE, Trigger::ONESHOT)
        .unwrap();
    wait_for_exit(&mut poll, &mut events, &exit, Token(5));
    let refused = poll
        .registry()
        .reregister_with(&mut exit, Token(5), Interest::READABLE, Trigger::LEVEL)
        .unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::Unsupported);
    poll.registry().deregister(&mut exit).unwrap();
    child.wait().unwrap();
}
