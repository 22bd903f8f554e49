//! `process::ChildExit` on its SIGCHLD fallback (evmux's signal handler
//! and `waitid(WNOWAIT)`), forced on Linux by `EVMUX_CHILD_EXIT=sigchld`:
//! the mechanism of Linux kernels without pidfds, Android, illumos and
//! Solaris. The tests are those of `child_exit.rs` (`util/child_exit.rs`).
// Linux only: elsewhere the variable changes nothing (the fallback is
// already the mechanism, or kqueue is).
// On the kqueue backend (`--cfg evmux_force_kqueue`) the variable changes
// nothing either: there is no fallback, and these run the kqueue watch.
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

// The fallback's own limit: kqueue watches any process.
#[cfg(not(evmux_selector = "kqueue"))]
#[test]
fn a_process_that_is_not_a_child_is_refused() {
    force_fallback();
    // The parent of the test process is not its child.
    let parent = std::os::unix::process::parent_id();
    let error = evmux::process::ChildExit::from_pid(parent).expect_err("not a child");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
}

#[test]
fn the_exit_status_is_read_without_reaping() {
    force_fallback();
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
    force_fallback();
    shared::a_child_reaped_elsewhere_has_exited_with_its_status_gone();
}

/// Makes the next process id this pid namespace hands out `pid`, through
/// `/proc/sys/kernel/ns_last_pid` (which needs `CAP_SYS_ADMIN`): `false`
/// where that cannot be done.
#[cfg(not(evmux_selector = "kqueue"))]
fn next_pid_is(pid: u32) -> bool {
    std::fs::write("/proc/sys/kernel/ns_last_pid", format!("{}", pid - 1)).is_ok()
}

/// Issue 21: the fallback followed the id. A child reaped by the program
/// before its watch looked, whose id a new child then took, was watched
/// in its place: `has_exited` said false while the new child ran. The
/// watch now compares start times (in clock ticks). Needs `ns_last_pid`
/// (root) to hand the id out again at once; skipped without it, or if
/// other processes keep taking the id first. The kernel itself hands an
/// id out again only after cycling through all others, far later than
/// the next clock tick, which the test waits for so that the two start
/// times differ as they would.
// The fallback's own defect. (On the kqueue backend libkqueue would fail
// it: it reads the exit status by id when it hands out the event,
// src/linux/proc.c; a kernel's filter is bound to the process.)
#[cfg(not(evmux_selector = "kqueue"))]
#[test]
fn a_reaped_childs_id_taken_by_a_new_child_is_not_followed() {
    force_fallback();
    let mut first = std::process::Command::new("true").spawn().unwrap();
    let exit = evmux::process::ChildExit::new(&first).unwrap();
    let spawned = std::time::Instant::now();
    let pid = first.id();
    first.wait().unwrap();
    // SAFETY: sysconf has no memory effects.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let two_ticks = std::time::Duration::from_millis(2_000 / ticks_per_second + 1);
    if let Some(left) = two_ticks.checked_sub(spawned.elapsed()) {
        std::thread::sleep(left);
    }
    let mut second = None;
    for _ in 0..50 {
        if !next_pid_is(pid) {
            eprintln!("skipped: cannot write ns_last_pid");
            return;
        }
        let child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        if child.id() == pid {
            second = Some(child);
            break;
        }
        let mut child = child;
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let Some(mut second) = second else {
        eprintln!("skipped: other processes kept taking pid {pid}");
        return;
    };
    let followed = !exit.has_exited().unwrap();
    let status = exit.exit_status();
    second.kill().unwrap();
    second.wait().unwrap();
    assert!(!followed, "the watch followed the new child with pid {pid}");
    let error = status.expect_err("the watched child's status is gone");
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound, "{error}");
}
