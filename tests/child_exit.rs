//! `process::ChildExit` with the platform's mechanism (a pidfd on Linux,
//! `EVFILT_PROC` on the kqueue systems). The tests themselves are in
//! `util/child_exit.rs`, shared with `child_exit_sigchld.rs`.
// Unix: the Windows tests are in child_exit_windows.rs (other commands).
#![cfg(all(unix, feature = "os-ext"))]

mod util;

#[path = "util/child_exit.rs"]
mod shared;

#[test]
fn an_exit_is_reported_and_the_status_left_to_collect() {
    shared::an_exit_is_reported_and_the_status_left_to_collect();
}

#[test]
fn a_running_child_is_not_reported_until_it_exits() {
    shared::a_running_child_is_not_reported_until_it_exits();
}

#[test]
fn a_child_that_exited_before_its_watch_is_ready_at_once() {
    shared::a_child_that_exited_before_its_watch_is_ready_at_once();
}

#[test]
fn a_reaped_child_or_a_bad_pid_is_refused() {
    shared::a_reaped_child_or_a_bad_pid_is_refused();
}

#[test]
fn a_thousand_children_are_each_reported_once() {
    shared::a_thousand_children_are_each_reported_once("native");
}

#[test]
fn the_exit_status_is_read_without_reaping() {
    shared::the_exit_status_is_read_without_reaping();
}

#[test]
#[cfg_attr(
    evmux_libkqueue,
    ignore = "libkqueue reads the status with waitid(WNOWAIT) when it hands out the exit \
              event (src/linux/proc.c), so a child reaped before then is never reported; a \
              BSD or macOS kernel records the exit when it happens (kevent(2), EVFILT_PROC)"
)]
fn a_child_reaped_elsewhere_has_exited_with_its_status_gone() {
    shared::a_child_reaped_elsewhere_has_exited_with_its_status_gone();
}
