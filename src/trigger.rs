//! Trigger modes: level-triggered, one-shot and exclusive registrations,
//! opt-in next to mio's edge-triggered ones.
//!
//! [`Registry::register`] and [`Registry::reregister`] keep mio's
//! behaviour exactly: edge-triggered readiness on every backend. A
//! registration that wants another model asks for it with
//! [`Registry::register_with`] or [`Registry::reregister_with`], which take a
//! [`Trigger`] on top of the usual arguments:
//!
//! - [`Trigger::EDGE`]: mio's model. An event when readiness appears; the
//!   next one only after the operation returned `WouldBlock`.
//! - [`Trigger::LEVEL`]: an event at every `poll` for as long as the source
//!   is ready. No draining is needed; a source left readable keeps `poll`
//!   returning at once.
//! - [`Trigger::ONESHOT`]: at most one event (see the table for kqueue),
//!   then the registration is disabled, still registered, until
//!   `reregister_with(.., Trigger::ONESHOT)` arms it again (a plain
//!   `reregister` arms it too, edge-triggered). I/O on the source does not
//!   re-arm it. Handy when several threads poll one `Poll` and each event
//!   must go to exactly one of them.
//! - [`Trigger::exclusive`]: added to `EDGE` or `LEVEL`, asks the OS to wake
//!   only one of several `Poll`s (epoll instances) waiting on the same
//!   source, instead of all of them (the thundering herd on a shared
//!   listening socket).
//!
//! Whether the backend has a mode can be asked before registering:
//! [`Registry::supports`], [`Registry::supports_edge`],
//! [`Registry::supports_level`], [`Registry::supports_oneshot`],
//! [`Registry::supports_exclusive`] (as `polling`'s `Poller::supports_level`
//! and `supports_edge`). They answer from the same table that
//! `register_with` checks against.
//!
//! # Design
//!
//! The mode travels as an argument, from `register_with` down to the
//! selector's own `register` or `reregister` (as `polling` passes its
//! `PollMode`); no thread-local or global carries it, so nested and
//! concurrent registrations each get the mode they ask for.
//!
//! [`event::Source`](crate::event::Source) is mio's trait: its three
//! required methods take no mode, and code written for mio compiles and
//! behaves as before. evmux adds two provided methods,
//! [`Source::register_with`] and [`Source::reregister_with`], which take
//! the [`Trigger`]; `Registry::register_with` checks the mode against the
//! backend, then calls them.
//!
//! - evmux's own sources implement them, handing the mode to the
//!   descriptor or socket they register: the `net` types, `unix::pipe`,
//!   `unix::SourceFd`, `unix::Signals`, `process::ChildExit`,
//!   `time::Timer`, and `Box<S>` forwards to `S`.
//! - A source of your own that implements only mio's three methods gets the
//!   provided versions: `EDGE` is its `register` (or `reregister`), and any
//!   other mode fails with `ErrorKind::Unsupported`, rather than being
//!   silently edge-triggered. To take modes, implement `register_with` and
//!   `reregister_with` and hand `trigger` to the source whose mode it is
//!   (see [`Source::register_with`] for an example). What such a source
//!   registers for itself, a helper descriptor say, gets the mode of its
//!   own call: a plain `register` inside `register_with` is edge-triggered.
//!
//! The mode belongs to the call, not to the registration: a plain
//! `reregister` is mio's and makes the registration edge-triggered, even
//! after `register_with(.., Trigger::LEVEL)`, as `polling`'s `modify` uses
//! its default mode whatever came before. (Keeping the previous mode would
//! need the selector to remember each registration's mode, which epoll and
//! kqueue do not report back, and would make a plain `reregister` of mio's
//! API mean different things depending on history.)
//!
//! Three source types have fewer modes than their backend: a
//! `time::Timer` is edge-triggered only (one event per due deadline: it
//! has no descriptor), Windows' named pipes are edge-triggered only, and
//! a `process::ChildExit` on Windows cannot be level-triggered (it reports
//! an exit once per registration, so edge and one-shot are the same
//! there); they refuse the others with `ErrorKind::Unsupported`.
//!
//! The mode is checked against what the backend can do before the source
//! is touched: a mode it cannot have fails with `ErrorKind::Unsupported` and
//! a message that names the mode and the backend; a combination the OS
//! forbids fails with `ErrorKind::InvalidInput`.
//!
//! # How each backend does it
//!
//! | Backend | `EDGE` | `LEVEL` | `ONESHOT` | `exclusive()` |
//! |---------|--------|---------|-----------|---------------|
//! | epoll (Linux, Android, illumos) | `EPOLLET` | no `EPOLLET` | `EPOLLONESHOT` (one event for the registration) | `EPOLLEXCLUSIVE` (Linux 4.5+) |
//! | kqueue (macOS, iOS, BSDs) | `EV_CLEAR` | no `EV_CLEAR` | `EV_DISPATCH` (one event per filter: readable and writable are separate filters) | `Unsupported` |
//! | poll(2) | emulated (disarm what fired) | native (nothing is disarmed) | emulated (everything disarmed after one event) | `Unsupported` |
//! | event ports (Solaris) | emulated | re-associated after every event | not re-associated after one event | `Unsupported` |
//! | WASI preview 1 | emulated (shares poll(2)'s table) | as poll(2) | as poll(2) | `Unsupported` |
//! | Windows (IOCP + AFD) | emulated (one-shot AFD polls) | the poll request re-submitted after each event | no request submitted after one event | `Unsupported` |
//!
//! Windows' named pipes (`windows::NamedPipe`) are edge-triggered only:
//! another mode is `Unsupported`.
//!
//! The kernel's rules for `EPOLLEXCLUSIVE` (epoll_ctl(2)) apply: it is
//! accepted only when a descriptor is added (so `reregister_with` refuses
//! it), never with `EPOLLONESHOT`, and only with `EPOLLIN`, `EPOLLOUT`,
//! `EPOLLWAKEUP` and `EPOLLET`. evmux therefore leaves out `EPOLLRDHUP`
//! (a read shutdown is still seen: the read returns 0, and a full hangup
//! reports `EPOLLHUP`) and refuses `Interest::PRIORITY`. Every wake-up
//! goes to at least one of the exclusive waiters; which one is up to the
//! kernel, and more than one may wake.
//!
//! On the table-based backends (poll(2), event ports, WASI) a level
//! registration reports failures (`POLLHUP`, `POLLERR`) at every poll, as
//! epoll's level mode does; a one-shot one that fired is left out of the
//! wait altogether until re-armed.

use std::io;

use crate::event::Source;
use crate::{Interest, Registry, Token};

/// How a registration reports readiness: edge, level or one-shot, and
/// optionally exclusive. See the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Trigger {
    kind: Kind,
    exclusive: bool,
}

/// The three models, without the exclusive flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Edge,
    Level,
    OneShot,
}

impl Trigger {
    /// Edge-triggered: mio's model, and what `register` uses.
    pub const EDGE: Trigger = Trigger::of(Kind::Edge);
    /// Level-triggered: an event at every poll while the source is ready.
    pub const LEVEL: Trigger = Trigger::of(Kind::Level);
    /// One-shot: disabled after its event until re-registered.
    pub const ONESHOT: Trigger = Trigger::of(Kind::OneShot);

    const fn of(kind: Kind) -> Trigger {
        Trigger {
            kind,
            exclusive: false,
        }
    }

    /// The same mode, waking only one of several `Poll`s waiting on the
    /// source (epoll's `EPOLLEXCLUSIVE`; see the module docs for its rules).
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::trigger::Trigger;
    ///
    /// // For a listening socket shared by several `Poll`s (one per thread): each
    /// // connection wakes one of them, not all (epoll only).
    /// let trigger = Trigger::EDGE.exclusive();
    /// assert!(trigger.is_edge() && trigger.is_exclusive());
    /// ```
    pub const fn exclusive(self) -> Trigger {
        Trigger {
            kind: self.kind,
            exclusive: true,
        }
    }

    /// True for [`Trigger::EDGE`] (exclusive or not).
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::trigger::Trigger;
    ///
    /// assert!(Trigger::EDGE.is_edge());
    /// assert!(!Trigger::LEVEL.is_edge());
    /// ```
    pub const fn is_edge(self) -> bool {
        matches!(self.kind, Kind::Edge)
    }

    /// True for [`Trigger::LEVEL`] (exclusive or not).
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::trigger::Trigger;
    ///
    /// assert!(Trigger::LEVEL.is_level());
    /// assert!(Trigger::LEVEL.exclusive().is_level());
    /// ```
    pub const fn is_level(self) -> bool {
        matches!(self.kind, Kind::Level)
    }

    /// True for [`Trigger::ONESHOT`].
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::trigger::Trigger;
    ///
    /// assert!(Trigger::ONESHOT.is_oneshot());
    /// assert!(!Trigger::EDGE.is_oneshot());
    /// ```
    pub const fn is_oneshot(self) -> bool {
        matches!(self.kind, Kind::OneShot)
    }

    /// True if [`exclusive`](Trigger::exclusive) was asked for.
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::trigger::Trigger;
    ///
    /// assert!(!Trigger::LEVEL.is_exclusive());
    /// assert!(Trigger::LEVEL.exclusive().is_exclusive());
    /// ```
    pub const fn is_exclusive(self) -> bool {
        self.exclusive
    }

    // Read by the backends that have modes other than edge.
    #[cfg_attr(evmux_selector = "shell", allow(dead_code))]
    pub(crate) fn kind(self) -> Kind {
        self.kind
    }

    fn name(self) -> &'static str {
        match (self.kind, self.exclusive) {
            (Kind::Edge, false) => "edge-triggered",
            (Kind::Level, false) => "level-triggered",
            (Kind::OneShot, _) => "one-shot",
            (Kind::Edge, true) => "exclusive edge-triggered",
            (Kind::Level, true) => "exclusive level-triggered",
        }
    }
}

impl Default for Trigger {
    fn default() -> Trigger {
        Trigger::EDGE
    }
}

/// Whether the backend of `selector` can have `kind` at all.
fn backend_has(selector: &crate::sys::Selector, kind: Kind, exclusive: bool) -> bool {
    if exclusive && !crate::sys::has_exclusive(selector) {
        return false;
    }
    match kind {
        Kind::Edge => true,
        Kind::Level | Kind::OneShot => !cfg!(evmux_selector = "shell"),
    }
}

/// Checks `trigger` against the backend and the OS's rules before the
/// source is touched (see the module docs).
pub(crate) fn check(
    selector: &crate::sys::Selector,
    trigger: Trigger,
    interests: Interest,
    reregister: bool,
) -> io::Result<()> {
    if !backend_has(selector, trigger.kind, trigger.exclusive) {
        let message = format!(
            "{} registration is not supported on {}",
            trigger.name(),
            crate::sys::backend_name(selector)
        );
        return Err(io::Error::new(io::ErrorKind::Unsupported, message));
    }
    if !trigger.exclusive {
        return Ok(());
    }
    let refusal = if trigger.is_oneshot() {
        Some("an exclusive registration cannot be one-shot (EPOLLEXCLUSIVE with EPOLLONESHOT)")
    } else if reregister {
        Some("exclusive applies when a source is registered, not re-registered (EPOLLEXCLUSIVE with EPOLL_CTL_MOD)")
    } else if interests.is_priority() {
        Some("an exclusive registration cannot watch priority readiness (EPOLLEXCLUSIVE with EPOLLPRI)")
    } else {
        None
    };
    match refusal {
        Some(message) => Err(io::Error::new(io::ErrorKind::InvalidInput, message)),
        None => Ok(()),
    }
}

/// The answer of a [`Source`] that does not forward trigger modes (its
/// type implements only mio's three methods) to a mode other than `EDGE`.
pub(crate) fn not_forwarded(trigger: Trigger) -> io::Error {
    let message = format!(
        "{} registration asked of a source whose `event::Source` implementation \
         does not forward trigger modes (it has no `register_with`/`reregister_with`), \
         so it can only be registered edge-triggered",
        trigger.name()
    );
    io::Error::new(io::ErrorKind::Unsupported, message)
}

/// What the backend can do, asked before registering (as `polling`'s
/// `Poller::supports_level` and `supports_edge`).
///
/// The answers are about the backend, so they hold for every `Poll` of the
/// process; a mode reported as supported is accepted by
/// [`register_with`](Registry::register_with) for evmux's sockets, pipes
/// and `unix::SourceFd`, and one reported unsupported is refused with
/// `ErrorKind::Unsupported` before the source is touched. A few source
/// types have fewer modes than their backend: a `time::Timer` and
/// Windows' `NamedPipe` are edge-triggered only, `process::ChildExit` on
/// Windows cannot be level-triggered (see the [module docs](crate::trigger)).
impl Registry {
    /// Whether the backend has `trigger`, that is whether
    /// [`register_with`](Registry::register_with) can accept it. An
    /// [`exclusive`](Trigger::exclusive) mode is asked for at registration
    /// and with interests that allow it (see the module docs); one-shot and
    /// exclusive together are never possible.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::trigger::Trigger;
    /// use evmux::Poll;
    ///
    /// let poll = Poll::new()?;
    /// let registry = poll.registry();
    /// // Falls back to edge triggering where the backend has no level mode.
    /// let trigger = if registry.supports(Trigger::LEVEL) {
    ///     Trigger::LEVEL
    /// } else {
    ///     Trigger::EDGE
    /// };
    /// assert_eq!(registry.supports_level(), trigger.is_level());
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn supports(&self, trigger: Trigger) -> bool {
        let forbidden = trigger.exclusive && trigger.is_oneshot();
        backend_has(self.selector(), trigger.kind, trigger.exclusive) && !forbidden
    }

    /// Whether [`Trigger::EDGE`] is available: true on every backend.
    pub fn supports_edge(&self) -> bool {
        self.supports(Trigger::EDGE)
    }

    /// Whether [`Trigger::LEVEL`] is available.
    pub fn supports_level(&self) -> bool {
        self.supports(Trigger::LEVEL)
    }

    /// Whether [`Trigger::ONESHOT`] is available.
    pub fn supports_oneshot(&self) -> bool {
        self.supports(Trigger::ONESHOT)
    }

    /// Whether [`Trigger::exclusive`] is available (with `EDGE` or `LEVEL`,
    /// at registration): epoll only.
    pub fn supports_exclusive(&self) -> bool {
        self.supports(Trigger::EDGE.exclusive())
    }
}

impl Registry {
    /// Registers `source` as [`register`](Registry::register) does, with the
    /// trigger mode `trigger` instead of edge triggering.
    ///
    /// # Errors
    ///
    /// Those of `register`, and `Unsupported` if the backend has no such
    /// mode, `InvalidInput` for a combination the OS refuses (see the
    /// [`trigger`](crate::trigger) module).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(unix, feature = "os-ext"))]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io::Write;
    /// use std::os::fd::AsRawFd;
    /// use std::os::unix::net::UnixStream;
    /// use std::time::Duration;
    ///
    /// use evmux::trigger::Trigger;
    /// use evmux::unix::SourceFd;
    /// use evmux::{Events, Interest, Poll, Token};
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let (mut sender, receiver) = UnixStream::pair()?;
    /// receiver.set_nonblocking(true)?;
    /// let fd = receiver.as_raw_fd();
    /// poll.registry().register_with(
    ///     &mut SourceFd(&fd),
    ///     Token(0),
    ///     Interest::READABLE,
    ///     Trigger::LEVEL,
    /// )?;
    /// sender.write_all(b"x")?;
    /// // Unread, the byte is reported by every poll.
    /// for _ in 0..2 {
    ///     poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    ///     assert!(events.iter().any(|event| event.token() == Token(0)));
    /// }
    /// # Ok(())
    /// # }
    /// # #[cfg(not(all(unix, feature = "os-ext")))]
    /// # fn main() {}
    /// ```
    pub fn register_with<S>(
        &self,
        source: &mut S,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()>
    where
        S: Source + ?Sized,
    {
        check(self.selector(), trigger, interests, false)?;
        trace!(
            "registering source: token={:?}, interests={:?}, trigger={:?}",
            token,
            interests,
            trigger
        );
        source.register_with(self, token, interests, trigger)
    }

    /// Re-registers `source` as [`reregister`](Registry::reregister) does,
    /// with the trigger mode `trigger`; this is also how a one-shot
    /// registration is armed again.
    ///
    /// # Errors
    ///
    /// Those of `reregister`, and those of
    /// [`register_with`](Registry::register_with); `exclusive` is refused
    /// here (`InvalidInput`), as epoll refuses it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(feature = "os-poll", feature = "net"))]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use evmux::net::UdpSocket;
    /// use evmux::trigger::Trigger;
    /// use evmux::{Events, Interest, Poll, Token};
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// poll.registry().register_with(&mut socket, Token(0), Interest::WRITABLE, Trigger::ONESHOT)?;
    ///
    /// // One event, then the registration is disabled...
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// assert_eq!(events.iter().count(), 1);
    /// poll.poll(&mut events, Some(Duration::from_millis(10)))?;
    /// assert!(events.is_empty());
    ///
    /// // ...until it is armed again.
    /// poll.registry().reregister_with(&mut socket, Token(0), Interest::WRITABLE, Trigger::ONESHOT)?;
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// assert_eq!(events.iter().count(), 1);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(all(feature = "os-poll", feature = "net")))]
    /// # fn main() {}
    /// ```
    pub fn reregister_with<S>(
        &self,
        source: &mut S,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()>
    where
        S: Source + ?Sized,
    {
        check(self.selector(), trigger, interests, true)?;
        trace!(
            "reregistering source: token={:?}, interests={:?}, trigger={:?}",
            token,
            interests,
            trigger
        );
        source.reregister_with(self, token, interests, trigger)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_follows_the_kernel_rules() {
        // The shell has no selector to ask.
        let Ok(selector) = crate::sys::Selector::new() else {
            return;
        };
        let check =
            |trigger, interests, reregister| check(&selector, trigger, interests, reregister);
        let read = Interest::READABLE;
        let kind = |result: io::Result<()>| result.unwrap_err().kind();
        if crate::sys::has_exclusive(&selector) {
            assert!(check(Trigger::LEVEL.exclusive(), read, false).is_ok());
            assert!(check(Trigger::EDGE.exclusive(), read, false).is_ok());
            let oneshot = check(Trigger::ONESHOT.exclusive(), read, false);
            assert_eq!(kind(oneshot), io::ErrorKind::InvalidInput);
            let modify = check(Trigger::EDGE.exclusive(), read, true);
            assert_eq!(kind(modify), io::ErrorKind::InvalidInput);
            #[cfg(any(target_os = "linux", target_os = "android"))]
            {
                let priority = check(Trigger::EDGE.exclusive(), Interest::PRIORITY, false);
                assert_eq!(kind(priority), io::ErrorKind::InvalidInput);
            }
        } else {
            let error = check(Trigger::EDGE.exclusive(), read, false).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::Unsupported);
            let backend = crate::sys::backend_name(&selector);
            assert!(error.to_string().contains(backend), "{error}");
        }
    }

    #[test]
    fn names_and_predicates() {
        assert!(Trigger::default().is_edge());
        assert!(Trigger::LEVEL.is_level() && !Trigger::LEVEL.is_exclusive());
        assert!(Trigger::ONESHOT.is_oneshot());
        let exclusive = Trigger::LEVEL.exclusive();
        assert!(exclusive.is_level() && exclusive.is_exclusive());
        assert_eq!(exclusive.name(), "exclusive level-triggered");
    }
}
