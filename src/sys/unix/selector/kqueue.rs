//! The kqueue selector: macOS, iOS, tvOS, watchOS, visionOS, FreeBSD,
//! NetBSD, OpenBSD and DragonFly.
//!
//! # Trigger model
//!
//! Native edge triggering: every filter is added with `EV_CLEAR`, which
//! resets its state once the kernel reports it. A source registered for
//! both readable and writable readiness has two filters, `EVFILT_READ`
//! and `EVFILT_WRITE`, and its readiness arrives as separate events with
//! the same token. `IoSourceState` is stateless here.
//!
//! `Registry::register_with` adds the filters without `EV_CLEAR` (level)
//! or with `EV_DISPATCH` instead (one-shot: each filter is disabled after
//! its event); see `crate::trigger`. `reregister` deletes the filters and
//! adds new ones in the same `kevent` call: FreeBSD's and XNU's kernels
//! keep the mode flags a filter was added with, and a disabled filter
//! disabled, when `EV_ADD` updates it, so an update could neither re-arm a
//! one-shot registration nor change its mode (libkqueue, over which the
//! backend runs on Linux, refuses such an update of a socket's filter).
//!
//! Changes are submitted in one `kevent` call with `EV_RECEIPT`, so that
//! each reports its own result instead of the first failure hiding the
//! rest (every kqueue evmux targets implements `EV_RECEIPT`, as mio relies
//! on too; a kernel without it would hand back pending events in place of
//! receipts). Two results are not failures: `ENOENT` when deleting a filter that
//! was never added (`reregister` drops an interest that was not there),
//! and `EPIPE`, which macOS reports when adding `EVFILT_WRITE` for a pipe
//! whose reader has closed (the filter is added anyway, and fires).
//!
//! `Interest::AIO` and `Interest::LIO` add no filter: POSIX AIO requests
//! name the kqueue in their `sigevent` (`SIGEV_KEVENT`), and their
//! completions arrive as `EVFILT_AIO` / `EVFILT_LIO` events.
//!
//! # Close and error mapping
//!
//! | `Event` query      | true when kevent reported                            |
//! |--------------------|------------------------------------------------------|
//! | `is_readable`      | `EVFILT_READ`, `EVFILT_USER` (a `Waker`) or `EVFILT_TIMER` (a `time::Timer`) |
//! | `is_writable`      | `EVFILT_WRITE`                                       |
//! | `is_error`         | `EV_ERROR`, or `EV_EOF` with a socket error in `fflags` |
//! | `is_read_closed`   | `EVFILT_READ` with `EV_EOF`                          |
//! | `is_write_closed`  | `EVFILT_WRITE` with `EV_EOF`                         |
//! | `is_priority`      | never                                                |
//! | `is_aio`           | `EVFILT_AIO` (Apple, FreeBSD, DragonFly)             |
//! | `is_lio`           | `EVFILT_LIO` (FreeBSD)                               |
//!
//! # Portability notes
//!
//! Registering a raw descriptor twice, or re-registering one that was never
//! registered, cannot be detected: `EV_ADD` adds or updates. evmux's own
//! types catch both (`AlreadyExists`, `NotFound`) above this layer in debug
//! builds. A `deregister` that finds no filter succeeds, as mio's does: a
//! descriptor registered only for interests without a filter here
//! (priority) has none.
//!
//! # Timeouts
//!
//! A `timespec` with nanosecond precision, clamped to 10^8 seconds (about
//! three years), which every kqueue accepts; a longer wait may end early.
//!
//! # Clones
//!
//! `Registry::try_clone` and wakers share the selector's kqueue
//! descriptor (reference-counted) instead of duplicating it: no descriptor
//! per clone, and the kqueue stays open while any of them lives.
//!
//! # Timers
//!
//! `time::Timer`s keep their deadlines in one queue per selector, with one
//! `EVFILT_TIMER` filter of a reserved ident set to the earliest
//! (`kqueue_timers.rs`). While a timer is registered, a wait that ends
//! with only that filter's event and no timer due goes on for what is
//! left of its timeout.
//!
//! # Man pages
//!
//! kqueue(2), kevent(2) (`EV_CLEAR`, `EV_RECEIPT`, `EV_DISPATCH`,
//! `EV_ENABLE`, `EVFILT_USER`), poll(2) for the zero-capacity wait.
//!
//! The C library's `kevent` is used (`sys::unix::kevent`, which is
//! libkqueue's on Linux): rustix's `kqueue::Event` does not expose
//! `fflags`, where a socket's error comes with `EV_EOF`.

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;
use std::{fmt, io, ptr};

use crate::flag_names::FlagNames;
use crate::sys::timeout::{timespec, Deadline, MAX_TIMEOUT};
use crate::sys::unix::kevent as sys;
use crate::sys::RawSource;
use crate::trigger::{Kind, Trigger};
use crate::{Interest, Token};

pub(crate) use crate::sys::stateless_io_source::IoSourceState;

#[path = "kqueue_timers.rs"]
mod timers;

/// What `time::Timer`s registered here hold on to: the deadline queue.
pub(crate) type TimerHost = timers::Timers;

/// `kevent`'s integer fields differ in type between systems (NetBSD's
/// `filter` and `flags` are wider, `udata` is an integer there and a
/// pointer elsewhere). evmux carries filters as `i64` and flags as `u64`,
/// widened from libc's constants with `From` (lossless), and narrows them
/// back only here, checked: every value comes from a constant of the
/// field's own type, so the conversion cannot fail.
fn narrow<T: TryFrom<W>, W: Copy + fmt::Debug>(value: W) -> T {
    T::try_from(value).unwrap_or_else(|_| unreachable!("{value:?} does not fit its kevent field"))
}

/// A filter, widened.
pub(crate) fn filter(filter: impl Into<i64>) -> i64 {
    filter.into()
}

/// Flags, widened.
pub(crate) fn flags(flags: impl Into<u64>) -> u64 {
    flags.into()
}

/// Adds a filter, or updates one and enables it (a one-shot filter that
/// fired is disabled, and `EV_ADD` alone would leave it so), with a
/// receipt, in the trigger mode `trigger` (see `crate::trigger`):
/// `EV_CLEAR` for edge, nothing for level, `EV_DISPATCH` for one-shot.
pub(crate) fn add_with(trigger: Trigger) -> u64 {
    let mode = match trigger.kind() {
        Kind::Edge => flags(sys::EV_CLEAR),
        Kind::Level => 0,
        Kind::OneShot => flags(sys::EV_DISPATCH),
    };
    flags(sys::EV_ADD | sys::EV_ENABLE | sys::EV_RECEIPT) | mode
}

/// Deletes a filter, with a receipt.
pub(crate) fn delete() -> u64 {
    flags(sys::EV_DELETE | sys::EV_RECEIPT)
}

/// The kernel's `struct kevent`.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct Event(sys::kevent);

// SAFETY: `kevent` is neither `Send` nor `Sync` only because `udata` is a
// pointer. evmux only ever stores a token, a plain integer, there, so
// sharing or moving events between threads shares nothing else.
unsafe impl Send for Event {}
// SAFETY: as for `Send`.
unsafe impl Sync for Event {}

pub(crate) type Events = Vec<Event>;

/// A kqueue, shared by the selector's clones (see "Clones" above).
#[derive(Debug)]
pub(crate) struct Selector {
    id: usize,
    kq: Arc<OwnedFd>,
    /// Shared with the clones.
    timers: Arc<TimerHost>,
}

impl Selector {
    pub(crate) fn new() -> io::Result<Selector> {
        Ok(Selector {
            id: crate::sys::next_selector_id(),
            kq: Arc::new(new_kqueue()?),
            timers: Arc::default(),
        })
    }

    pub(crate) fn try_clone(&self) -> io::Result<Selector> {
        Ok(Selector {
            id: self.id,
            kq: Arc::clone(&self.kq),
            timers: Arc::clone(&self.timers),
        })
    }

    /// Where `time::Timer`s registered here keep their deadlines.
    pub(crate) fn timer_host(&self) -> io::Result<&Arc<TimerHost>> {
        self.timers.start(self.kq.as_fd())?;
        Ok(&self.timers)
    }

    pub(crate) fn id(&self) -> usize {
        self.id
    }

    pub(crate) fn select(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        if !self.timers.is_active() {
            self.select_once(events, timeout)?;
            // The first timer was registered from another thread during
            // the wait: its filter's event may be among these.
            if self.timers.is_active() && events.capacity() != 0 {
                self.timers.after_wait(events)?;
            }
            return Ok(());
        }
        // Once a timer was registered: each wait is followed by the timers
        // that are due, and a wait that ended for the timer filter with
        // nothing due goes on.
        let mut deadline = Deadline::new(timeout);
        while let Some(wait) = deadline.next_wait() {
            self.select_once(events, wait)?;
            if events.capacity() == 0 {
                break;
            }
            let fired = self.timers.after_wait(events)?;
            if !fired || !events.is_empty() {
                break;
            }
        }
        Ok(())
    }

    /// One wait.
    fn select_once(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.clear();
        let timeout = timeout.map(|timeout| timeout.min(MAX_TIMEOUT));
        if events.capacity() == 0 {
            return crate::sys::unix::wait_readable(self.kq.as_fd(), timeout);
        }
        let ts = timeout.map(kernel_timespec);
        let ts_ptr = ts
            .as_ref()
            .map_or(ptr::null(), |ts| ts as *const sys::timespec);
        let capacity = events.capacity().min(libc::c_int::MAX as usize);
        // SAFETY: no changes are passed; the event list is the Vec's
        // allocation, which the kernel fills with at most `capacity`
        // `kevent`s (`Event` is `repr(transparent)` over `kevent`); `ts`
        // outlives the call.
        let n = unsafe {
            sys::kevent(
                self.kq.as_raw_fd(),
                ptr::null(),
                0,
                events.as_mut_ptr().cast::<sys::kevent>(),
                capacity as _,
                ts_ptr,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel initialised the first `n` entries, `n <= capacity`.
        unsafe { events.set_len(n as usize) };
        Ok(())
    }

    pub(crate) fn register(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        let flags = add_with(trigger);
        let ident = ident(fd);
        let mut changes = Vec::with_capacity(MAX_CHANGES);
        if interests.is_readable() {
            changes.push(change(ident, filter(sys::EVFILT_READ), flags, 0, token));
        }
        if interests.is_writable() {
            changes.push(change(ident, filter(sys::EVFILT_WRITE), flags, 0, token));
        }
        apply(self.kq.as_fd(), &changes).map(drop)
    }

    /// Deletes both filters and adds the wanted ones anew, in one call: a
    /// kernel keeps the mode flags (`EV_CLEAR`, `EV_DISPATCH`) a filter was
    /// first added with when `EV_ADD` updates it, so only a new filter takes
    /// a new trigger mode. A new filter reports the readiness there is at
    /// once, as an updated one does.
    pub(crate) fn reregister(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        let ident = ident(fd);
        let mut changes = Vec::with_capacity(MAX_CHANGES);
        for filter in [filter(sys::EVFILT_READ), filter(sys::EVFILT_WRITE)] {
            changes.push(change(ident, filter, delete(), 0, token));
        }
        if interests.is_readable() {
            changes.push(change(
                ident,
                filter(sys::EVFILT_READ),
                add_with(trigger),
                0,
                token,
            ));
        }
        if interests.is_writable() {
            let flags = add_with(trigger);
            changes.push(change(ident, filter(sys::EVFILT_WRITE), flags, 0, token));
        }
        apply(self.kq.as_fd(), &changes).map(drop)
    }

    pub(crate) fn deregister(&self, fd: RawSource<'_>) -> io::Result<()> {
        let ident = ident(fd);
        let changes = [
            change(ident, filter(sys::EVFILT_READ), delete(), 0, Token(0)),
            change(ident, filter(sys::EVFILT_WRITE), delete(), 0, Token(0)),
        ];
        // A descriptor registered only for interests that have no filter
        // here (priority, AIO, LIO) has nothing to delete; as with mio, that
        // is a success, so kqueue cannot report an unregistered descriptor.
        apply(self.kq.as_fd(), &changes).map(drop)
    }
}

/// A new kqueue, close-on-exec.
pub(crate) fn new_kqueue() -> io::Result<OwnedFd> {
    // SAFETY: `kqueue` takes no arguments.
    let kq = unsafe { sys::kqueue() };
    if kq < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `kqueue` returned a new descriptor, which nothing else owns.
    let kq = unsafe { OwnedFd::from_raw_fd(kq) };
    // Not atomic: there is no `kqueue1` everywhere; kqueues are not
    // inherited across fork(2) anyway.
    rustix::io::fcntl_setfd(&kq, rustix::io::FdFlags::CLOEXEC)?;
    Ok(kq)
}

impl AsFd for Selector {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.kq.as_fd()
    }
}

impl AsRawFd for Selector {
    fn as_raw_fd(&self) -> RawFd {
        self.kq.as_raw_fd()
    }
}

/// The `ident` of a descriptor's filters.
fn ident(fd: RawSource<'_>) -> usize {
    narrow(fd.as_raw_fd())
}

/// A change for `kevent`, carrying `token` in `udata`; `ident` is a
/// descriptor's (`ident`) or a user event's number.
pub(crate) fn change(
    ident: usize,
    filter: i64,
    flags: u64,
    fflags: u32,
    token: Token,
) -> sys::kevent {
    // SAFETY: `kevent` is plain data for which all zeroes is valid (null
    // `udata`, zero counts).
    let mut event: sys::kevent = unsafe { MaybeUninit::zeroed().assume_init() };
    event.ident = narrow(ident);
    event.filter = narrow(filter);
    event.flags = narrow(flags);
    event.fflags = narrow(fflags);
    // A pointer on most systems, an integer on NetBSD: the one cast left.
    event.udata = token.0 as _;
    event
}

/// The most changes `apply` submits at once: deleting a read and a write
/// filter and adding them again (`reregister`).
const MAX_CHANGES: usize = 4;

/// Submits `changes` (all with `EV_RECEIPT`) to `kq` and checks each
/// result. Returns how many took effect, not counting deletions of filters
/// that did not exist.
///
/// The receipts land in a buffer of their own: the BSDs overwrite a
/// receipt's flags with `EV_ERROR`, so whether a change was a deletion is
/// read from the change itself. Receipts come back one per change, in
/// order. After `EINTR` the unchanged list is submitted again, which is
/// harmless: adding is idempotent and a repeated deletion reports the
/// `ENOENT` that is ignored anyway.
pub(crate) fn apply(kq: BorrowedFd<'_>, changes: &[sys::kevent]) -> io::Result<usize> {
    assert!(
        changes.len() <= MAX_CHANGES,
        "evmux submits at most {MAX_CHANGES} changes"
    );
    // SAFETY: `kevent` is plain data for which all zeroes is valid.
    let mut receipts: [sys::kevent; MAX_CHANGES] = unsafe { MaybeUninit::zeroed().assume_init() };
    let zero = sys::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    loop {
        // SAFETY: the change list is read-only and the receipt list has
        // room for one receipt per change, which is all EV_RECEIPT makes
        // the kernel write; a zero timeout keeps the call from waiting.
        let n = unsafe {
            sys::kevent(
                kq.as_raw_fd(),
                changes.as_ptr(),
                changes.len() as _,
                receipts.as_mut_ptr(),
                changes.len() as _,
                &zero,
            )
        };
        if n >= 0 {
            return check_receipts(changes, &receipts[..n as usize]);
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Checks `EV_RECEIPT` results against their changes; see the module docs
/// for the two errors that are ignored.
fn check_receipts(changes: &[sys::kevent], receipts: &[sys::kevent]) -> io::Result<usize> {
    let mut applied = 0;
    for (change, receipt) in changes.iter().zip(receipts) {
        let errno = if receipt.flags & sys::EV_ERROR != 0 {
            narrow(receipt.data)
        } else {
            0
        };
        let deleting = change.flags & sys::EV_DELETE != 0;
        match errno {
            0 | libc::EPIPE => applied += 1,
            libc::ENOENT if deleting => {}
            errno => return Err(io::Error::from_raw_os_error(errno)),
        }
    }
    Ok(applied)
}

fn kernel_timespec(timeout: Duration) -> sys::timespec {
    let ts = timespec(timeout);
    sys::timespec {
        tv_sec: ts.tv_sec as _,
        tv_nsec: ts.tv_nsec as _,
    }
}

pub(crate) mod event {
    use super::*;

    static FLAG_NAMES: [(u64, &str); 7] = [
        (sys::EV_EOF as u64, "EV_EOF"), // `From` is not usable in a static.
        (sys::EV_ERROR as u64, "EV_ERROR"),
        (sys::EV_CLEAR as u64, "EV_CLEAR"),
        (sys::EV_DISPATCH as u64, "EV_DISPATCH"),
        (sys::EV_ONESHOT as u64, "EV_ONESHOT"),
        (sys::EV_RECEIPT as u64, "EV_RECEIPT"),
        (sys::EV_ADD as u64, "EV_ADD"),
    ];

    /// The filter, flags and filter flags of an event, by name.
    pub(crate) struct Details<'a>(&'a sys::kevent);

    impl fmt::Debug for Details<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let filter = match self.0.filter {
                sys::EVFILT_READ => "EVFILT_READ",
                sys::EVFILT_WRITE => "EVFILT_WRITE",
                sys::EVFILT_USER => "EVFILT_USER",
                sys::EVFILT_TIMER => "EVFILT_TIMER",
                sys::EVFILT_PROC => "EVFILT_PROC",
                _ => "other filter",
            };
            f.debug_struct("kevent")
                .field("filter", &format_args!("{filter}"))
                .field("flags", &FlagNames::new(flags(self.0.flags), &FLAG_NAMES))
                .field("fflags", &format_args!("{:#x}", self.0.fflags))
                .field("data", &{ self.0.data })
                .finish()
        }
    }

    fn has_flag(event: &Event, flag: impl Into<u64>) -> bool {
        flags(event.0.flags) & flag.into() != 0
    }

    pub(crate) fn token(event: &Event) -> Token {
        Token(event.0.udata as usize)
    }

    pub(crate) fn is_readable(event: &Event) -> bool {
        // `EVFILT_TIMER`: a `time::Timer` that expired; `EVFILT_PROC`: a
        // `process::ChildExit` whose process exited.
        let readable = [
            sys::EVFILT_READ,
            sys::EVFILT_USER,
            sys::EVFILT_TIMER,
            sys::EVFILT_PROC,
        ];
        readable.contains(&event.0.filter)
    }

    /// A descriptor's filter: `EV_EOF` and `fflags` mean a close and a
    /// socket error there (a process's exit has both too).
    fn is_io(event: &Event) -> bool {
        [sys::EVFILT_READ, sys::EVFILT_WRITE].contains(&event.0.filter)
    }

    pub(crate) fn is_writable(event: &Event) -> bool {
        event.0.filter == sys::EVFILT_WRITE
    }

    pub(crate) fn is_error(event: &Event) -> bool {
        let socket_error = is_io(event) && has_flag(event, sys::EV_EOF) && event.0.fflags != 0;
        has_flag(event, sys::EV_ERROR) || socket_error
    }

    pub(crate) fn is_read_closed(event: &Event) -> bool {
        event.0.filter == sys::EVFILT_READ && has_flag(event, sys::EV_EOF)
    }

    pub(crate) fn is_write_closed(event: &Event) -> bool {
        event.0.filter == sys::EVFILT_WRITE && has_flag(event, sys::EV_EOF)
    }

    pub(crate) fn is_priority(_: &Event) -> bool {
        false
    }

    pub(crate) fn is_aio(event: &Event) -> bool {
        #[cfg(any(apple, freebsdlike))]
        let aio = event.0.filter == sys::EVFILT_AIO;
        #[cfg(not(any(apple, freebsdlike)))]
        let aio = {
            let _ = event;
            false
        };
        aio
    }

    pub(crate) fn is_lio(event: &Event) -> bool {
        #[cfg(target_os = "freebsd")]
        let lio = event.0.filter == sys::EVFILT_LIO;
        #[cfg(not(target_os = "freebsd"))]
        let lio = {
            let _ = event;
            false
        };
        lio
    }

    pub(crate) fn os_flags(event: &Event) -> Details<'_> {
        Details(&event.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A receipt as the kernel writes it for `change`: `EV_ERROR` with the
    /// errno in `data` (0 for success).
    fn receipt(change: &sys::kevent, errno: i32) -> sys::kevent {
        let mut receipt = *change;
        receipt.flags |= sys::EV_ERROR;
        receipt.data = narrow(errno);
        receipt
    }

    #[test]
    fn deleting_filters_that_do_not_exist_is_not_an_error() {
        // What `deregister` submits for a descriptor registered only for
        // priority, which has no filter here.
        let changes = [
            change(3, filter(sys::EVFILT_READ), delete(), 0, Token(0)),
            change(3, filter(sys::EVFILT_WRITE), delete(), 0, Token(0)),
        ];
        let receipts = changes.map(|change| receipt(&change, libc::ENOENT));
        assert_eq!(check_receipts(&changes, &receipts).unwrap(), 0);
        let added = [change(
            3,
            filter(sys::EVFILT_READ),
            add_with(Trigger::EDGE),
            0,
            Token(0),
        )];
        let failed = added.map(|change| receipt(&change, libc::ENOENT));
        assert!(check_receipts(&added, &failed).is_err());
    }
}
