//! libkqueue's kqueue(2) for Linux (`--cfg evmux_force_kqueue`): its
//! `struct kevent`, which has the FreeBSD 11 and macOS layout, and its
//! constants, which have FreeBSD's values (include/kqueue/sys/event.h of
//! libkqueue 2.7). build.rs links the library.

use std::ffi::{c_int, c_short, c_uint, c_ushort, c_void};

pub(crate) use libc::timespec;

/// libkqueue's `struct kevent`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(non_camel_case_types)]
pub(crate) struct kevent {
    pub(crate) ident: usize,
    pub(crate) filter: c_short,
    pub(crate) flags: c_ushort,
    pub(crate) fflags: c_uint,
    pub(crate) data: isize,
    pub(crate) udata: *mut c_void,
}

pub(crate) const EVFILT_READ: c_short = -1;
pub(crate) const EVFILT_WRITE: c_short = -2;
pub(crate) const EVFILT_PROC: c_short = -5;
pub(crate) const EVFILT_TIMER: c_short = -7;
pub(crate) const EVFILT_USER: c_short = -11;

pub(crate) const EV_ADD: c_ushort = 0x0001;
pub(crate) const EV_DELETE: c_ushort = 0x0002;
pub(crate) const EV_ENABLE: c_ushort = 0x0004;
pub(crate) const EV_ONESHOT: c_ushort = 0x0010;
pub(crate) const EV_CLEAR: c_ushort = 0x0020;
pub(crate) const EV_RECEIPT: c_ushort = 0x0040;
pub(crate) const EV_DISPATCH: c_ushort = 0x0080;
pub(crate) const EV_ERROR: c_ushort = 0x4000;
pub(crate) const EV_EOF: c_ushort = 0x8000;

pub(crate) const NOTE_TRIGGER: c_uint = 0x0100_0000;
pub(crate) const NOTE_EXIT: c_uint = 0x8000_0000;
/// `NOTE_EXIT`, which gives the wait(2) status in `data` here.
pub(crate) const NOTE_EXIT_STATUS: c_uint = NOTE_EXIT;
/// `NOTE_NSECONDS`: libkqueue's timers take nanoseconds.
pub(crate) const TIMER_NANOSECONDS: Option<c_uint> = Some(0x0004);

#[link(name = "kqueue", kind = "static")]
extern "C" {
    pub(crate) fn kqueue() -> c_int;
    pub(crate) fn kevent(
        kq: c_int,
        changelist: *const kevent,
        nchanges: c_int,
        eventlist: *mut kevent,
        nevents: c_int,
        timeout: *const timespec,
    ) -> c_int;
}

#[cfg(test)]
mod tests {
    use std::mem::{align_of, offset_of, size_of};

    use super::kevent;

    /// The layout of libkqueue's header on a 64-bit system.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn kevent_has_libkqueues_layout() {
        assert_eq!(size_of::<kevent>(), 32);
        assert_eq!(align_of::<kevent>(), 8);
        assert_eq!(offset_of!(kevent, ident), 0);
        assert_eq!(offset_of!(kevent, filter), 8);
        assert_eq!(offset_of!(kevent, flags), 10);
        assert_eq!(offset_of!(kevent, fflags), 12);
        assert_eq!(offset_of!(kevent, data), 16);
        assert_eq!(offset_of!(kevent, udata), 24);
    }
}
