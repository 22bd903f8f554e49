//! `process::ChildExit` on its SIGCHLD fallback (evmux's signal handler
//! and `waitid(WNOWAIT)`), forced on Linux by `EVMUX_CHILD_EXIT=sigchld`:
//! the mechanism of Linux kernels without pidfds, Android, illumos and
//! Solaris. The tests are those of `child_exit.rs` (`util/child_exit.rs`).
// Linux only: elsewhere the variable changes nothing (the fallback is
// already the mechanism, or kqueue is).
#![cfg(all(target_os = "linux", feature = "os-ext"))]

mod util;

#[path = "util/child_exit.rs"]
mod shared;

/// Every test of this binary uses the fallback: each sets the variable
/// (to the same value) before it creates a watch.
fn force_fallback() {
    std::env::set_var("EVMUX_CHILD_EXIT", "sigchld");
}

#[test]
fn an_exit_is_reported_and_the_status_left_to_collect() {
    force_fallback();
    shared::an_exit_is_reported_and_the_status_left_to_collect();
}

#[test]
fn a_running_child_is_not_reported_until_it_exits() {
    force_fallback();
    shared::a_running_child_is_not_reported_until_it_exits();
}

#[test]
fn a_child_that_exited_before_its_watch_is_ready_at_once() {
    force_fallback();
    shared::a_child_that_exited_before_its_watch_is_ready_at_once();
}

#[test]
fn a_reaped_child_or_a_bad_pid_is_refused() {
    force_fallback();
    shared::a_reaped_child_or_a_bad_pid_is_refused();
}

#[test]
fn a_thousand_children_are_each_reported_once() {
    force_fallback();
    shared::a_thousand_children_are_each_reported_once("sigchld fallback");
}

#[test]
fn a_process_that_is_not_a_child_is_refused() {
    force_fallback();
    // The parent of the test process is not its child.
    let parent = std::os::unix::process::parent_id();
    let error = evmux::process::ChildExit::from_pid(parent).expect_err("not a child");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
}
