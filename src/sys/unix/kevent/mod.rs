//! The binding of kqueue(2) that the kqueue backend uses: `struct kevent`,
//! `kqueue`, `kevent` and the `EV_*`, `EVFILT_*` and `NOTE_*` constants.
//!
//! On macOS, iOS and the BSDs they are the C library's, through `libc`. On
//! Linux with `--cfg evmux_force_kqueue` they are libkqueue's (module
//! `libkqueue`), a user-space kqueue(2) over epoll, so that the same
//! selector, waker, timer and process-exit code runs, and is tested, on
//! Linux. Nothing else differs between the two: this is the only module
//! that looks at `evmux_libkqueue`.

#[cfg(not(evmux_libkqueue))]
pub(crate) use libc::{
    kevent, kqueue, timespec, EVFILT_PROC, EVFILT_READ, EVFILT_TIMER, EVFILT_USER, EVFILT_WRITE,
    EV_ADD, EV_CLEAR, EV_DELETE, EV_DISPATCH, EV_ENABLE, EV_EOF, EV_ERROR, EV_ONESHOT, EV_RECEIPT,
    NOTE_EXIT,
};
// The `EVFILT_USER` waker's (NetBSD and OpenBSD wake through a pipe).
#[cfg(all(not(evmux_libkqueue), evmux_waker = "kqueue"))]
pub(crate) use libc::NOTE_TRIGGER;
// Only where the system has them (see their users).
#[cfg(all(not(evmux_libkqueue), any(apple, freebsdlike)))]
pub(crate) use libc::EVFILT_AIO;
#[cfg(all(not(evmux_libkqueue), target_os = "freebsd"))]
pub(crate) use libc::EVFILT_LIO;

/// The `EVFILT_PROC` flags that ask for a process's exit with its wait(2)
/// status in `data`: `NOTE_EXIT` gives it on the BSDs; Apple's kernels
/// need `NOTE_EXITSTATUS` too, and refuse it for a process that is not a
/// child (then `NOTE_EXIT` alone gives no status).
#[cfg(all(not(evmux_libkqueue), apple))]
pub(crate) const NOTE_EXIT_STATUS: u32 = libc::NOTE_EXIT | libc::NOTE_EXITSTATUS;
#[cfg(all(not(evmux_libkqueue), not(apple)))]
pub(crate) const NOTE_EXIT_STATUS: u32 = libc::NOTE_EXIT;

/// `NOTE_NSECONDS`, where `EVFILT_TIMER` takes nanoseconds (elsewhere it
/// takes milliseconds).
#[cfg(all(
    not(evmux_libkqueue),
    any(apple, target_os = "freebsd", target_os = "netbsd")
))]
pub(crate) const TIMER_NANOSECONDS: Option<u32> = Some(libc::NOTE_NSECONDS);
#[cfg(all(
    not(evmux_libkqueue),
    not(any(apple, target_os = "freebsd", target_os = "netbsd"))
))]
pub(crate) const TIMER_NANOSECONDS: Option<u32> = None;

#[cfg(evmux_libkqueue)]
mod libkqueue;
#[cfg(evmux_libkqueue)]
pub(crate) use self::libkqueue::*;
