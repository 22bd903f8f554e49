//! What the selectors that emulate edge triggering share: poll(2) itself
//! (on Unix, and wasi-libc's on WASI preview 2), event ports (whose
//! `port_associate` takes the same flags) and WASI preview 1's
//! `poll_oneoff` (whose events the WASI selector translates into these
//! flags).
//! poll(2)-style readiness flags and the events made of them, and the
//! per-source state that re-arms a registration kept in evmux's own table.
//!
//! # Close and error mapping
//!
//! | `Event` query      | true when the OS reported                            |
//! |--------------------|------------------------------------------------------|
//! | `is_readable`      | `POLLIN` or `POLLPRI` (and every `Waker` event)       |
//! | `is_writable`      | `POLLOUT`                                            |
//! | `is_error`         | `POLLERR` or `POLLNVAL`                              |
//! | `is_read_closed`   | `POLLHUP`, or `POLLIN` with `POLLRDHUP` (Linux)      |
//! | `is_write_closed`  | `POLLHUP`, `POLLERR` or `POLLNVAL`                   |
//! | `is_priority`      | `POLLPRI`                                            |
//! | `is_aio`, `is_lio` | never                                                |

use std::io;
use std::sync::Arc;

use crate::flag_names::FlagNames;
use crate::sys::RawSource;
use crate::trigger::{Kind, Trigger};
use crate::{Interest, Token};

/// poll(2)'s flags, as `pollfd.events` holds them.
pub(crate) type Flags = std::ffi::c_short;

#[cfg(unix)]
pub(crate) use libc::POLLPRI;
#[cfg(any(unix, wasip2))]
pub(crate) use libc::{POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT};
/// wasi-libc's poll(2) has no priority band: nothing is ever reported
/// with it.
#[cfg(wasip2)]
pub(crate) const POLLPRI: Flags = 0;

// WASI's `poll_oneoff` has no flags; its selector reports its events with
// these, which mean what poll(2)'s do.
#[cfg(wasip1)]
pub(crate) const POLLIN: Flags = 0x1;
#[cfg(wasip1)]
pub(crate) const POLLPRI: Flags = 0x2;
#[cfg(wasip1)]
pub(crate) const POLLOUT: Flags = 0x4;
#[cfg(wasip1)]
pub(crate) const POLLERR: Flags = 0x8;
#[cfg(wasip1)]
pub(crate) const POLLHUP: Flags = 0x10;
#[cfg(wasip1)]
pub(crate) const POLLNVAL: Flags = 0x20;

/// `POLLRDHUP`, where the OS has it; on WASI, the hang-up that
/// `poll_oneoff` reports with a readable event.
#[cfg(linux_like)]
pub(crate) const RDHUP: Flags = libc::POLLRDHUP;
#[cfg(wasip1)]
pub(crate) const RDHUP: Flags = 0x2000;
#[cfg(not(any(linux_like, wasip1)))]
pub(crate) const RDHUP: Flags = 0;

/// Flags the kernel reports without being asked; they disarm everything.
pub(crate) const FAILURE: Flags = POLLHUP | POLLERR | POLLNVAL;

/// The flags a read re-arms, and a readable report disarms.
const READ_SIDE: Flags = POLLIN | RDHUP | POLLPRI;

/// One readiness report.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Event {
    pub(crate) token: Token,
    pub(crate) flags: Flags,
}

pub(crate) type Events = Vec<Event>;

/// The flags a registration for `interests` is armed with.
pub(crate) fn interest_flags(interests: Interest) -> Flags {
    let mut flags = 0;
    if interests.is_readable() {
        flags |= POLLIN | RDHUP;
    }
    if interests.is_writable() {
        flags |= POLLOUT;
    }
    if interests.is_priority() {
        flags |= POLLPRI;
    }
    flags
}

/// The flags a `WouldBlock` re-arms, for an operation that waits for
/// `waits_for`: reading re-arms the read side, writing `POLLOUT`.
pub(crate) fn rearm_flags(waits_for: Interest) -> Flags {
    let mut flags = 0;
    if waits_for.is_readable() {
        flags |= READ_SIDE;
    }
    if waits_for.is_writable() {
        flags |= POLLOUT;
    }
    flags
}

/// The armed flags left after `fired` was reported: exactly the flags that
/// fired are disarmed (a readable report leaves read-hangup armed, so that
/// a later shutdown of the read side is still reported, as epoll does), and
/// a failure disarms everything.
pub(crate) fn disarmed(armed: Flags, fired: Flags) -> Flags {
    if fired & FAILURE != 0 {
        return 0;
    }
    armed & !fired
}

/// Whether `flags` hold a read hangup; never where the OS has none
/// (`RDHUP` is 0 there, which clippy would call a mask with zero).
#[allow(clippy::bad_bit_mask)]
fn read_hangup(flags: Flags) -> bool {
    flags & RDHUP != 0
}

/// What a registration reports for the `revents` the kernel returned:
/// read-hangup alone (its `POLLIN` was disarmed by an earlier report) is
/// reported with `POLLIN`, as epoll reports a read shutdown.
pub(crate) fn reported(revents: Flags) -> Flags {
    if read_hangup(revents) {
        revents | POLLIN
    } else {
        revents
    }
}

/// The sides of a registration that a report closes for good: the read
/// side after a read hangup, both after a failure. A closed side is not
/// re-armed by an I/O call that succeeds (reading 0 at the end of a stream
/// must not bring the hangup back, or `poll` would spin), only by one that
/// returns `WouldBlock` or fails, and by `reregister`.
pub(crate) fn closed_by(reported: Flags) -> Flags {
    if reported & FAILURE != 0 {
        READ_SIDE | POLLOUT
    } else if read_hangup(reported) {
        READ_SIDE
    } else {
        0
    }
}

/// The flags an I/O call re-arms: those of the side it waits for
/// (`rearm_flags`), except sides already closed when the call succeeded.
pub(crate) fn rearmed(flags: Flags, closed: Flags, succeeded: bool) -> Flags {
    if succeeded {
        flags & !closed
    } else {
        flags
    }
}

/// The registrations of a selector that keeps them itself, shared by the
/// selector's clones and by the sources registered with it.
pub(crate) trait RegistrationTable {
    /// Where one registration lives.
    type Handle: Copy;

    /// Registers `fd` in the mode `trigger`; `AlreadyExists` if it already
    /// is.
    fn add(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Kind,
    ) -> io::Result<Self::Handle>;

    /// Changes a registration, its mode included, and re-arms it; `NotFound`
    /// if there is none.
    fn modify(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Kind,
    ) -> io::Result<()>;

    /// Removes a registration; `NotFound` if there is none.
    fn remove(&self, fd: RawSource<'_>) -> io::Result<()>;

    /// Re-arms the sides among `flags` of a registration that still exists,
    /// after an I/O call that `succeeded` or not (see `rearmed`).
    fn rearm(&self, handle: Self::Handle, flags: Flags, succeeded: bool);

    /// Removes the registration of a source being dropped, if it still
    /// exists: closing its descriptor ends nothing in the kernel.
    fn forget(&self, handle: Self::Handle);
}

/// A selector built on a `RegistrationTable`.
pub(crate) trait TableSelector {
    type Table: RegistrationTable;

    fn table(&self) -> &Arc<Self::Table>;
}

/// The per-source state of those selectors: where the registration lives,
/// to re-arm it when an I/O call returns `WouldBlock` or fails, and to
/// remove it when the source is dropped.
pub(crate) struct TableIoSourceState<T: RegistrationTable> {
    registration: Option<(Arc<T>, T::Handle)>,
}

impl<T: RegistrationTable> TableIoSourceState<T> {
    pub(crate) fn new() -> TableIoSourceState<T> {
        TableIoSourceState { registration: None }
    }

    /// Runs an I/O call, then re-arms the readiness it waits for, whatever
    /// its result. The emulation cannot tell whether a call that succeeded
    /// drained the source, and programs stop early: tokio takes a short
    /// read or write as proof that the socket buffer is drained or full
    /// and waits for the next event. Re-arming costs at most one event per
    /// call where epoll would give none. A failure re-arms too, since the
    /// call may have consumed the error (a UDP socket's ICMP error) that
    /// would otherwise silence the source.
    pub(crate) fn do_io<I, F, R>(&self, f: F, io: &I, waits_for: Interest) -> io::Result<R>
    where
        F: FnOnce(&I) -> io::Result<R>,
    {
        let result = f(io);
        if let Some((table, handle)) = &self.registration {
            table.rearm(*handle, rearm_flags(waits_for), result.is_ok());
        }
        result
    }

    pub(crate) fn register<S: TableSelector<Table = T>>(
        &mut self,
        selector: &S,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        // In release builds nothing above catches a second registration,
        // with this selector or another one; the one handle kept here must
        // not be overwritten, or the first registration would outlive the
        // source.
        if self.registration.is_some() {
            return Err(crate::sys::already_registered());
        }
        let handle = selector.table().add(fd, token, interests, trigger.kind())?;
        self.registration = Some((Arc::clone(selector.table()), handle));
        Ok(())
    }

    pub(crate) fn reregister<S: TableSelector<Table = T>>(
        &mut self,
        selector: &S,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        selector
            .table()
            .modify(fd, token, interests, trigger.kind())
    }

    pub(crate) fn deregister<S: TableSelector<Table = T>>(
        &mut self,
        selector: &S,
        fd: RawSource<'_>,
    ) -> io::Result<()> {
        selector.table().remove(fd)?;
        self.registration = None;
        Ok(())
    }
}

impl<T: RegistrationTable> Drop for TableIoSourceState<T> {
    fn drop(&mut self) {
        if let Some((table, handle)) = self.registration.take() {
            table.forget(handle);
        }
    }
}

pub(crate) mod event {
    use super::*;

    static NAMES: [(u64, &str); 7] = [
        (POLLIN as u64, "POLLIN"),
        (POLLPRI as u64, "POLLPRI"),
        (POLLOUT as u64, "POLLOUT"),
        (POLLERR as u64, "POLLERR"),
        (POLLHUP as u64, "POLLHUP"),
        (POLLNVAL as u64, "POLLNVAL"),
        (RDHUP as u64, "POLLRDHUP"),
    ];

    fn has(event: &Event, flags: Flags) -> bool {
        event.flags & flags != 0
    }

    pub(crate) fn token(event: &Event) -> Token {
        event.token
    }

    pub(crate) fn is_readable(event: &Event) -> bool {
        has(event, POLLIN | POLLPRI)
    }

    pub(crate) fn is_writable(event: &Event) -> bool {
        has(event, POLLOUT)
    }

    pub(crate) fn is_error(event: &Event) -> bool {
        has(event, POLLERR | POLLNVAL)
    }

    pub(crate) fn is_read_closed(event: &Event) -> bool {
        has(event, POLLHUP) || (has(event, POLLIN) && has(event, RDHUP))
    }

    pub(crate) fn is_write_closed(event: &Event) -> bool {
        has(event, FAILURE)
    }

    pub(crate) fn is_priority(event: &Event) -> bool {
        has(event, POLLPRI)
    }

    pub(crate) fn is_aio(_: &Event) -> bool {
        false
    }

    pub(crate) fn is_lio(_: &Event) -> bool {
        false
    }

    pub(crate) fn os_flags(event: &Event) -> FlagNames {
        FlagNames::new(u64::from(event.flags as u16), &NAMES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firing_disarms_what_fired_and_failure_everything() {
        let both = interest_flags(Interest::READABLE | Interest::WRITABLE);
        assert_eq!(disarmed(both, POLLOUT), interest_flags(Interest::READABLE));
        assert_eq!(disarmed(both, POLLIN), RDHUP | POLLOUT);
        assert_eq!(disarmed(both, POLLIN | POLLHUP), 0);
        assert_eq!(rearm_flags(Interest::WRITABLE), POLLOUT);
    }

    #[cfg(linux_like)]
    #[test]
    fn read_hangup_after_readable_is_reported_as_epoll_does() {
        let read = interest_flags(Interest::READABLE);
        let left = disarmed(read, reported(POLLIN));
        assert_eq!(left, RDHUP);
        let event = Event {
            token: Token(0),
            flags: reported(RDHUP & left),
        };
        assert!(event::is_read_closed(&event));
        assert!(event::is_readable(&event));
        assert_eq!(disarmed(left, event.flags), 0);
    }

    #[test]
    fn a_successful_call_rearms_its_side_unless_it_was_closed() {
        let read = rearm_flags(Interest::READABLE);
        assert_eq!(rearmed(read, 0, true), read);
        assert_eq!(rearmed(read, closed_by(POLLHUP), false), read);
        let write = rearm_flags(Interest::WRITABLE);
        assert_eq!(rearmed(write, closed_by(POLLERR), true), 0);
        // Where the OS reports a read hangup of its own (not WASI preview
        // 2, nor most Unixes).
        if RDHUP != 0 {
            assert_eq!(rearmed(read, closed_by(RDHUP | POLLIN), true), 0);
            assert_eq!(rearmed(write, closed_by(RDHUP), true), write);
        }
    }
}
