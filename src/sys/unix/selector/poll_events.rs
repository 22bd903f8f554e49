//! poll(2)-style readiness flags and the events made of them, shared by the
//! two selectors that emulate edge triggering on top of them: poll(2)
//! itself and event ports (whose `port_associate` takes the same flags).
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

use crate::flag_names::FlagNames;
use crate::{Interest, Token};

/// poll(2)'s flags, as `pollfd.events` holds them.
pub(crate) type Flags = libc::c_short;

/// `POLLRDHUP`, where the OS has it.
#[cfg(linux_like)]
pub(crate) const RDHUP: Flags = libc::POLLRDHUP;
#[cfg(not(linux_like))]
pub(crate) const RDHUP: Flags = 0;

/// Flags the kernel reports without being asked; they disarm everything.
pub(crate) const FAILURE: Flags = libc::POLLHUP | libc::POLLERR | libc::POLLNVAL;

/// The flags a read re-arms, and a readable report disarms.
const READ_SIDE: Flags = libc::POLLIN | RDHUP | libc::POLLPRI;

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
        flags |= libc::POLLIN | RDHUP;
    }
    if interests.is_writable() {
        flags |= libc::POLLOUT;
    }
    if interests.is_priority() {
        flags |= libc::POLLPRI;
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
        flags |= libc::POLLOUT;
    }
    flags
}

/// The armed flags left after `fired` was reported: the side that fired is
/// disarmed (a readable report disarms the whole read side, as a read is
/// what re-arms it), and a failure disarms everything.
pub(crate) fn disarmed(armed: Flags, fired: Flags) -> Flags {
    if fired & FAILURE != 0 {
        return 0;
    }
    let mut side = fired & libc::POLLOUT;
    if fired & READ_SIDE != 0 {
        side |= READ_SIDE;
    }
    armed & !side
}

pub(crate) mod event {
    use super::*;

    static NAMES: [(u64, &str); 7] = [
        (libc::POLLIN as u64, "POLLIN"),
        (libc::POLLPRI as u64, "POLLPRI"),
        (libc::POLLOUT as u64, "POLLOUT"),
        (libc::POLLERR as u64, "POLLERR"),
        (libc::POLLHUP as u64, "POLLHUP"),
        (libc::POLLNVAL as u64, "POLLNVAL"),
        (RDHUP as u64, "POLLRDHUP"),
    ];

    fn has(event: &Event, flags: Flags) -> bool {
        event.flags & flags != 0
    }

    pub(crate) fn token(event: &Event) -> Token {
        event.token
    }

    pub(crate) fn is_readable(event: &Event) -> bool {
        has(event, libc::POLLIN | libc::POLLPRI)
    }

    pub(crate) fn is_writable(event: &Event) -> bool {
        has(event, libc::POLLOUT)
    }

    pub(crate) fn is_error(event: &Event) -> bool {
        has(event, libc::POLLERR | libc::POLLNVAL)
    }

    pub(crate) fn is_read_closed(event: &Event) -> bool {
        has(event, libc::POLLHUP) || (has(event, libc::POLLIN) && has(event, RDHUP))
    }

    pub(crate) fn is_write_closed(event: &Event) -> bool {
        has(event, FAILURE)
    }

    pub(crate) fn is_priority(event: &Event) -> bool {
        has(event, libc::POLLPRI)
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
    fn firing_disarms_one_side_and_failure_everything() {
        let both = interest_flags(Interest::READABLE | Interest::WRITABLE);
        assert_eq!(
            disarmed(both, libc::POLLOUT),
            interest_flags(Interest::READABLE)
        );
        assert_eq!(disarmed(both, libc::POLLIN), libc::POLLOUT);
        assert_eq!(disarmed(both, libc::POLLIN | libc::POLLHUP), 0);
        assert_eq!(rearm_flags(Interest::WRITABLE), libc::POLLOUT);
    }
}
