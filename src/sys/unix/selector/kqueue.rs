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
//! its event, and re-enabled by the `EV_ADD` of `reregister`); see
//! `crate::trigger`.
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
//! kqueue(2), kevent(2) (`EV_CLEAR`, `EV_RECEIPT`, `EVFILT_USER`),
//! poll(2) for the zero-capacity wait.
//!
//! libc is used for `kevent` itself: rustix's `kqueue::Event` does not
//! expose `fflags`, where a socket's error comes with `EV_EOF`.

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;
use std::{fmt, io, ptr};

use crate::flag_names::FlagNames;
use crate::sys::timeout::{timespec, Deadline, MAX_TIMEOUT};
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

/// Adds (or updates, which enables a disabled one) a filter, with a
/// receipt, in the trigger mode `trigger` (see `crate::trigger`):
/// `EV_CLEAR` for edge, nothing for level, `EV_DISPATCH` for one-shot.
pub(crate) fn add_with(trigger: Trigger) -> u64 {
    let mode = match trigger.kind() {
        Kind::Edge => flags(libc::EV_CLEAR),
        Kind::Level => 0,
        Kind::OneShot => flags(libc::EV_DISPATCH),
    };
    flags(libc::EV_ADD | libc::EV_RECEIPT) | mode
}

/// Deletes a filter, with a receipt.
pub(crate) fn delete() -> u64 {
    flags(libc::EV_DELETE | libc::EV_RECEIPT)
}

/// The kernel's `struct kevent`.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct Event(libc::kevent);

// SAFETY: `kevent` is neither `Send` nor `Sync` only because `udata` is a
// pointer. evmux only ever stores a token, a plain integer, there, so
// sharing or moving events between threads shares nothing else.
unsafe impl Send for Event {}
// SAFETY: as for `Send`.
unsafe impl Sync for Event {}

pub(crate) type Events = Vec<Event>;

/// A kqueue.
#[derive(Debug)]
pub(crate) struct Selector {
    id: usize,
    kq: OwnedFd,
    /// Shared with the clones.
    timers: Arc<TimerHost>,
}

impl Selector {
    pub(crate) fn new() -> io::Result<Selector> {
        let kq = rustix::event::kqueue::kqueue()?;
        // Not atomic: rustix has no `kqueue1`; kqueues are not inherited
        // across fork(2) anyway.
        rustix::io::fcntl_setfd(&kq, rustix::io::FdFlags::CLOEXEC)?;
        Ok(Selector {
            id: crate::sys::next_selector_id(),
            kq,
            timers: Arc::default(),
        })
    }

    pub(crate) fn try_clone(&self) -> io::Result<Selector> {
        let kq = rustix::io::fcntl_dupfd_cloexec(&self.kq, 0)?;
        Ok(Selector {
            id: self.id,
            kq,
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
            .map_or(ptr::null(), |ts| ts as *const libc::timespec);
        let capacity = events.capacity().min(libc::c_int::MAX as usize);
        // SAFETY: no changes are passed; the event list is the Vec's
        // allocation, which the kernel fills with at most `capacity`
        // `kevent`s (`Event` is `repr(transparent)` over `kevent`); `ts`
        // outlives the call.
        let n = unsafe {
            libc::kevent(
                self.kq.as_raw_fd(),
                ptr::null(),
                0,
                events.as_mut_ptr().cast::<libc::kevent>(),
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
    ) -> io::Result<()> {
        let flags = add_with(crate::trigger::requested());
        let ident = ident(fd);
        let mut changes = Vec::with_capacity(MAX_CHANGES);
        if interests.is_readable() {
            changes.push(change(ident, filter(libc::EVFILT_READ), flags, 0, token));
        }
        if interests.is_writable() {
            changes.push(change(ident, filter(libc::EVFILT_WRITE), flags, 0, token));
        }
        apply(self.kq.as_fd(), &changes).map(drop)
    }

    pub(crate) fn reregister(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        let trigger = crate::trigger::requested();
        let pick = |wanted: bool| if wanted { add_with(trigger) } else { delete() };
        let ident = ident(fd);
        let changes = [
            change(
                ident,
                filter(libc::EVFILT_READ),
                pick(interests.is_readable()),
                0,
                token,
            ),
            change(
                ident,
                filter(libc::EVFILT_WRITE),
                pick(interests.is_writable()),
                0,
                token,
            ),
        ];
        apply(self.kq.as_fd(), &changes).map(drop)
    }

    pub(crate) fn deregister(&self, fd: RawSource<'_>) -> io::Result<()> {
        let ident = ident(fd);
        let changes = [
            change(ident, filter(libc::EVFILT_READ), delete(), 0, Token(0)),
            change(ident, filter(libc::EVFILT_WRITE), delete(), 0, Token(0)),
        ];
        // A descriptor registered only for interests that have no filter
        // here (priority, AIO, LIO) has nothing to delete; as with mio, that
        // is a success, so kqueue cannot report an unregistered descriptor.
        apply(self.kq.as_fd(), &changes).map(drop)
    }
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
) -> libc::kevent {
    // SAFETY: `kevent` is plain data for which all zeroes is valid (null
    // `udata`, zero counts).
    let mut event: libc::kevent = unsafe { MaybeUninit::zeroed().assume_init() };
    event.ident = narrow(ident);
    event.filter = narrow(filter);
    event.flags = narrow(flags);
    event.fflags = narrow(fflags);
    // A pointer on most systems, an integer on NetBSD: the one cast left.
    event.udata = token.0 as _;
    event
}

/// The most changes `apply` submits at once: a read and a write filter.
const MAX_CHANGES: usize = 2;

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
pub(crate) fn apply(kq: BorrowedFd<'_>, changes: &[libc::kevent]) -> io::Result<usize> {
    assert!(
        changes.len() <= MAX_CHANGES,
        "evmux submits at most {MAX_CHANGES} changes"
    );
    // SAFETY: `kevent` is plain data for which all zeroes is valid.
    let mut receipts: [libc::kevent; MAX_CHANGES] = unsafe { MaybeUninit::zeroed().assume_init() };
    let zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    loop {
        // SAFETY: the change list is read-only and the receipt list has
        // room for one receipt per change, which is all EV_RECEIPT makes
        // the kernel write; a zero timeout keeps the call from waiting.
        let n = unsafe {
            libc::kevent(
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
fn check_receipts(changes: &[libc::kevent], receipts: &[libc::kevent]) -> io::Result<usize> {
    let mut applied = 0;
    for (change, receipt) in changes.iter().zip(receipts) {
        let errno = if receipt.flags & libc::EV_ERROR != 0 {
            narrow(receipt.data)
        } else {
            0
        };
        let deleting = change.flags & libc::EV_DELETE != 0;
        match errno {
            0 | libc::EPIPE => applied += 1,
            libc::ENOENT if deleting => {}
            errno => return Err(io::Error::from_raw_os_error(errno)),
        }
    }
    Ok(applied)
}

fn kernel_timespec(timeout: Duration) -> libc::timespec {
    let ts = timespec(timeout);
    libc::timespec {
        tv_sec: ts.tv_sec as _,
        tv_nsec: ts.tv_nsec as _,
    }
}

pub(crate) mod event {
    use super::*;

    static FLAG_NAMES: [(u64, &str); 4] = [
        (libc::EV_EOF as u64, "EV_EOF"), // `From` is not usable in a static.
        (libc::EV_ERROR as u64, "EV_ERROR"),
        (libc::EV_CLEAR as u64, "EV_CLEAR"),
        (libc::EV_ADD as u64, "EV_ADD"),
    ];

    /// The filter, flags and filter flags of an event, by name.
    pub(crate) struct Details<'a>(&'a libc::kevent);

    impl fmt::Debug for Details<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let filter = match self.0.filter {
                libc::EVFILT_READ => "EVFILT_READ",
                libc::EVFILT_WRITE => "EVFILT_WRITE",
                libc::EVFILT_USER => "EVFILT_USER",
                libc::EVFILT_TIMER => "EVFILT_TIMER",
                libc::EVFILT_AIO => "EVFILT_AIO",
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
        // `EVFILT_TIMER`: a `time::Timer` that expired.
        let readable = [libc::EVFILT_READ, libc::EVFILT_USER, libc::EVFILT_TIMER];
        readable.contains(&event.0.filter)
    }

    pub(crate) fn is_writable(event: &Event) -> bool {
        event.0.filter == libc::EVFILT_WRITE
    }

    pub(crate) fn is_error(event: &Event) -> bool {
        has_flag(event, libc::EV_ERROR) || (has_flag(event, libc::EV_EOF) && event.0.fflags != 0)
    }

    pub(crate) fn is_read_closed(event: &Event) -> bool {
        event.0.filter == libc::EVFILT_READ && has_flag(event, libc::EV_EOF)
    }

    pub(crate) fn is_write_closed(event: &Event) -> bool {
        event.0.filter == libc::EVFILT_WRITE && has_flag(event, libc::EV_EOF)
    }

    pub(crate) fn is_priority(_: &Event) -> bool {
        false
    }

    pub(crate) fn is_aio(event: &Event) -> bool {
        #[cfg(any(apple, freebsdlike))]
        let aio = event.0.filter == libc::EVFILT_AIO;
        #[cfg(not(any(apple, freebsdlike)))]
        let aio = {
            let _ = event;
            false
        };
        aio
    }

    pub(crate) fn is_lio(event: &Event) -> bool {
        #[cfg(target_os = "freebsd")]
        let lio = event.0.filter == libc::EVFILT_LIO;
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
    fn receipt(change: &libc::kevent, errno: i32) -> libc::kevent {
        let mut receipt = *change;
        receipt.flags |= libc::EV_ERROR;
        receipt.data = narrow(errno);
        receipt
    }

    #[test]
    fn deleting_filters_that_do_not_exist_is_not_an_error() {
        // What `deregister` submits for a descriptor registered only for
        // priority, which has no filter here.
        let changes = [
            change(3, filter(libc::EVFILT_READ), delete(), 0, Token(0)),
            change(3, filter(libc::EVFILT_WRITE), delete(), 0, Token(0)),
        ];
        let receipts = changes.map(|change| receipt(&change, libc::ENOENT));
        assert_eq!(check_receipts(&changes, &receipts).unwrap(), 0);
        let added = [change(
            3,
            filter(libc::EVFILT_READ),
            add_with(Trigger::EDGE),
            0,
            Token(0),
        )];
        let failed = added.map(|change| receipt(&change, libc::ENOENT));
        assert!(check_receipts(&added, &failed).is_err());
    }
}
