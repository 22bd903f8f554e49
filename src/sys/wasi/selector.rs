//! The WASI preview 1 selector, over `poll_oneoff`.
//!
//! # What works
//!
//! - `Poll`, `Registry` and `Events` as everywhere: a registered descriptor
//!   is watched through one `poll_oneoff` subscription per armed interest
//!   (`fd_read` for readable, `fd_write` for writable), and the timeout is
//!   a relative subscription to the monotonic clock.
//! - Emulated edge triggering, with the registration table and re-arm model
//!   of the poll(2) selector (`registrations.rs`, `poll_events.rs`): an
//!   interest that fired is disarmed until evmux's next I/O call on the
//!   source (or `reregister`) re-arms it.
//! - `time::Timer`: deadlines kept by the selector (`timer_queue.rs`, as
//!   on poll(2)), which shorten the clock subscription (nanoseconds).
//! - `net::TcpListener` and `net::TcpStream` made from descriptors the host
//!   pre-opens (wasmtime's `--tcplisten`), through `FromRawFd`: accept,
//!   read, write, shutdown (see `net.rs`).
//!
//! # What does not
//!
//! - No `Waker`: preview 1 has no threads, so nothing could call `wake`
//!   while `poll` waits (mio has none on WASI either).
//! - No priority readiness, and no report of a failure on a descriptor
//!   with nothing armed: `poll_oneoff` only waits for reading and writing.
//!   A hang-up is reported with a readable event (`is_read_closed`) or a
//!   writable one (`is_write_closed`), when the host says so.
//! - `poll` with no timeout and nothing armed would wait forever (no other
//!   thread can register anything): it fails with `InvalidInput` instead.
//! - Socket creation (bind, connect, UDP, Unix sockets): preview 1 has no
//!   call for it, and evmux, like mio, leaves those items out.
//!
//! # Close and error mapping
//!
//! As `poll_events.rs` lists, with `poll_oneoff`'s events translated to
//! poll(2)'s flags: `fd_read` is `POLLIN`, plus `POLLRDHUP` with the
//! hang-up flag; `fd_write` is `POLLOUT`, plus `POLLHUP` with the hang-up
//! flag; an event with `EBADF` is `POLLNVAL` (the registration is dropped,
//! as poll(2)'s selector drops it) and one with any other error `POLLERR`.
//!
//! # WASI calls
//!
//! `poll_oneoff`, `fd_filestat_get` (identities, `registrations.rs`).

use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::{fmt, io};

use crate::sys::lock;
pub(crate) use crate::sys::poll_events::{event, Event, Events};
use crate::sys::poll_events::{
    interest_flags, Flags, RegistrationTable, TableSelector, POLLERR, POLLHUP, POLLIN, POLLNVAL,
    POLLOUT, RDHUP,
};
use crate::sys::registrations::{Handle, Registrations, Report};
use crate::sys::timeout::Deadline;
use crate::sys::timer_queue::{TimerQueue, TimerTable};
use crate::sys::RawSource;
use crate::trigger::{Kind, Trigger};
use crate::{Interest, Token};

/// The `userdata` of the clock subscription; a descriptor's subscriptions
/// carry the index of its registration in `Scratch::slots`.
const CLOCK: u64 = u64::MAX;

/// A `poll_oneoff` selector. Clones made by `try_clone` share the
/// registrations.
pub(crate) struct Selector {
    shared: Arc<Shared>,
    /// The buffers `select` hands to `poll_oneoff`, kept between calls.
    scratch: Mutex<Scratch>,
}

/// What `time::Timer`s registered here hold on to: the table.
pub(crate) type TimerHost = Shared;

pub(crate) struct Shared {
    id: usize,
    table: Mutex<Registrations>,
    /// The deadlines of the `time::Timer`s registered here.
    timers: Mutex<TimerQueue>,
}

#[derive(Default)]
struct Scratch {
    subscriptions: Vec<wasi::Subscription>,
    events: Vec<wasi::Event>,
    /// (descriptor, generation) of each registration subscribed to, to find
    /// it again in the table.
    slots: Vec<(std::os::fd::RawFd, u64)>,
    /// What each slot reported, merged over its subscriptions.
    fired: Vec<Flags>,
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selector")
            .field("id", &self.shared.id)
            .finish_non_exhaustive()
    }
}

impl Selector {
    pub(crate) fn new() -> io::Result<Selector> {
        let shared = Shared {
            id: crate::sys::next_selector_id(),
            table: Mutex::default(),
            timers: Mutex::default(),
        };
        Ok(Selector::with_shared(Arc::new(shared)))
    }

    fn with_shared(shared: Arc<Shared>) -> Selector {
        Selector {
            shared,
            scratch: Mutex::default(),
        }
    }

    pub(crate) fn try_clone(&self) -> io::Result<Selector> {
        Ok(Selector::with_shared(Arc::clone(&self.shared)))
    }

    pub(crate) fn id(&self) -> usize {
        self.shared.id
    }

    /// Where `time::Timer`s registered here keep their deadlines: the
    /// registrations and timers, shared with the clones.
    pub(crate) fn timer_host(&self) -> io::Result<&Arc<TimerHost>> {
        Ok(&self.shared)
    }

    pub(crate) fn register(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        self.shared
            .add(fd, token, interests, trigger.kind())
            .map(drop)
    }

    pub(crate) fn reregister(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        self.shared.modify(fd, token, interests, trigger.kind())
    }

    pub(crate) fn deregister(&self, fd: RawSource<'_>) -> io::Result<()> {
        self.shared.remove(fd)
    }

    pub(crate) fn select(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.clear();
        let mut deadline = Deadline::new(timeout);
        let mut scratch = lock(&self.scratch);
        // Waits again, for what is left, if what fired was no longer armed.
        while let Some(wait) = deadline.next_wait() {
            // A timer's deadline shortens the wait (no thread can set one
            // meanwhile).
            let (wait, _) = lock(&self.shared.timers).bound(wait);
            scratch.subscribe(&lock(&self.shared.table), wait)?;
            scratch.poll()?;
            let mut table = lock(&self.shared.table);
            let mut timers = lock(&self.shared.timers);
            let found = if events.capacity() == 0 {
                scratch.has_armed_readiness(&table) || timers.is_due()
            } else {
                scratch.collect(&mut table, events);
                timers.expire_into(events);
                !events.is_empty()
            };
            if found || wait == Some(Duration::ZERO) {
                break;
            }
        }
        Ok(())
    }
}

impl Scratch {
    /// Fills the subscriptions: one per armed interest of each registration,
    /// and the clock for `wait`.
    fn subscribe(&mut self, table: &Registrations, wait: Option<Duration>) -> io::Result<()> {
        self.subscriptions.clear();
        self.slots.clear();
        for registration in table.entries() {
            // Not for read-hangup or priority alone: `fd_read` would
            // report the readable data that `POLLIN`, disarmed, must not.
            let read = registration.armed & POLLIN != 0;
            let write = registration.armed & POLLOUT != 0;
            if !(read || write) {
                continue;
            }
            let slot = self.slots.len() as u64;
            self.slots.push((registration.fd, registration.generation));
            // A registered descriptor is open, and its number fits.
            let fd = registration.fd as wasi::Fd;
            if read {
                let fd_read = wasi::SubscriptionFdReadwrite {
                    file_descriptor: fd,
                };
                let u = wasi::SubscriptionUU { fd_read };
                self.push(slot, wasi::EVENTTYPE_FD_READ, u);
            }
            if write {
                let fd_write = wasi::SubscriptionFdReadwrite {
                    file_descriptor: fd,
                };
                let u = wasi::SubscriptionUU { fd_write };
                self.push(slot, wasi::EVENTTYPE_FD_WRITE, u);
            }
        }
        if let Some(wait) = wait {
            let clock = wasi::SubscriptionClock {
                id: wasi::CLOCKID_MONOTONIC,
                // Nanoseconds: a non-zero timeout stays non-zero, and one
                // beyond 584 years waits that long.
                timeout: u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX),
                precision: 0,
                flags: 0,
            };
            let u = wasi::SubscriptionUU { clock };
            self.push(CLOCK, wasi::EVENTTYPE_CLOCK, u);
        }
        if self.subscriptions.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "poll without a timeout and with nothing armed would wait forever \
                 (WASI preview 1 has no threads to register anything meanwhile)",
            ));
        }
        Ok(())
    }

    fn push(&mut self, userdata: u64, kind: wasi::Eventtype, u: wasi::SubscriptionUU) {
        self.subscriptions.push(wasi::Subscription {
            userdata,
            u: wasi::SubscriptionU { tag: kind.raw(), u },
        });
    }

    /// Waits with `poll_oneoff`, then merges what each slot reported into
    /// `fired`.
    fn poll(&mut self) -> io::Result<()> {
        let count = self.subscriptions.len();
        self.events.clear();
        self.events.resize(count, NO_EVENT);
        // SAFETY: both pointers describe live arrays of `count` elements
        // (the events exclusively borrowed), and `poll_oneoff` writes at
        // most `count` events.
        let ready = unsafe {
            wasi::poll_oneoff(self.subscriptions.as_ptr(), self.events.as_mut_ptr(), count)
        }
        .map_err(errno)?;
        self.events.truncate(ready);
        self.fired.clear();
        self.fired.resize(self.slots.len(), 0);
        for event in &self.events {
            if event.userdata != CLOCK {
                self.fired[event.userdata as usize] |= flags_of(event);
            }
        }
        Ok(())
    }

    /// The slots that reported something, with the table index of their
    /// registration if it still exists.
    fn ready<'a>(
        &'a self,
        table: &'a Registrations,
    ) -> impl Iterator<Item = (Option<usize>, Flags)> + 'a {
        self.slots
            .iter()
            .zip(&self.fired)
            .filter(|(_, &fired)| fired != 0)
            .map(|(&(fd, generation), &fired)| (table.index_of_generation(fd, generation), fired))
    }

    /// For an `Events` of capacity zero, which takes nothing.
    fn has_armed_readiness(&self, table: &Registrations) -> bool {
        self.ready(table).any(|(index, fired)| {
            index.is_some_and(|index| table.entries()[index].reportable(fired) != 0)
        })
    }

    /// Moves what is ready into `events`, up to its capacity, disarming what
    /// is reported; what does not fit stays armed for the next call.
    fn collect(&self, table: &mut Registrations, events: &mut Events) {
        for (&(fd, generation), &fired) in self.slots.iter().zip(&self.fired) {
            if events.len() == events.capacity() {
                break;
            }
            if fired == 0 {
                continue;
            }
            // Looked up again each time: a removal moves another entry.
            let Some(index) = table.index_of_generation(fd, generation) else {
                continue;
            };
            if let Report::Event(event) = table.report(index, fired) {
                events.push(event);
            }
        }
    }
}

/// An output slot before `poll_oneoff` fills it.
const NO_EVENT: wasi::Event = wasi::Event {
    userdata: CLOCK,
    error: wasi::ERRNO_SUCCESS,
    type_: wasi::EVENTTYPE_CLOCK,
    fd_readwrite: wasi::EventFdReadwrite {
        nbytes: 0,
        flags: 0,
    },
};

/// A descriptor's event as poll(2)'s flags (see the module docs).
fn flags_of(event: &wasi::Event) -> Flags {
    let hangup = event.fd_readwrite.flags & wasi::EVENTRWFLAGS_FD_READWRITE_HANGUP != 0;
    if event.error == wasi::ERRNO_BADF {
        POLLNVAL
    } else if event.error != wasi::ERRNO_SUCCESS {
        POLLERR
    } else if event.type_ == wasi::EVENTTYPE_FD_READ {
        POLLIN | if hangup { RDHUP } else { 0 }
    } else {
        POLLOUT | if hangup { POLLHUP } else { 0 }
    }
}

/// A WASI error number as an `io::Error` (std's raw OS errors on WASI).
fn errno(errno: wasi::Errno) -> io::Error {
    io::Error::from_raw_os_error(errno.raw().into())
}

impl TimerTable for Shared {
    fn with_timers<R>(&self, f: impl FnOnce(&mut TimerQueue) -> R) -> R {
        f(&mut lock(&self.timers))
    }

    /// Nothing waits meanwhile: WASI preview 1 has no threads.
    fn timers_changed(&self) -> io::Result<()> {
        Ok(())
    }
}

impl RegistrationTable for Shared {
    type Handle = Handle;

    fn add(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Kind,
    ) -> io::Result<Handle> {
        let mut table = lock(&self.table);
        let flags = interest_flags(interests);
        let (_, handle) = table.insert(fd, token, flags, false, trigger)?;
        Ok(handle)
    }

    fn modify(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Kind,
    ) -> io::Result<()> {
        lock(&self.table).modify(fd, token, interest_flags(interests), trigger)
    }

    fn remove(&self, fd: RawSource<'_>) -> io::Result<()> {
        lock(&self.table).remove_fd(fd)
    }

    fn rearm(&self, handle: Handle, flags: Flags, succeeded: bool) {
        lock(&self.table).rearm(handle, flags, succeeded);
    }

    fn forget(&self, handle: Handle) {
        lock(&self.table).forget(handle);
    }
}

impl TableSelector for Selector {
    type Table = Shared;

    fn table(&self) -> &Arc<Shared> {
        &self.shared
    }
}

/// Per-source state: see `TableIoSourceState`.
pub(crate) type IoSourceState = crate::sys::poll_events::TableIoSourceState<Shared>;

/// No `Waker` on WASI (see the module docs); the public type is absent, and
/// this stands in for it so that the portable code compiles.
#[derive(Debug)]
pub(crate) struct Waker {
    never: std::convert::Infallible,
}

impl Waker {
    pub(crate) fn new(_: &Selector, _: Token) -> io::Result<Waker> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "WASI preview 1 has no threads: there is no Waker",
        ))
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        match self.never {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fd_event(type_: wasi::Eventtype, error: wasi::Errno, hangup: bool) -> Event {
        let event = wasi::Event {
            userdata: 0,
            error,
            type_,
            fd_readwrite: wasi::EventFdReadwrite {
                nbytes: 1,
                flags: if hangup {
                    wasi::EVENTRWFLAGS_FD_READWRITE_HANGUP
                } else {
                    0
                },
            },
        };
        Event {
            token: Token(0),
            flags: crate::sys::poll_events::reported(flags_of(&event)),
        }
    }

    #[test]
    fn poll_oneoff_events_map_to_what_epoll_would_report() {
        let ok = wasi::ERRNO_SUCCESS;
        let readable = fd_event(wasi::EVENTTYPE_FD_READ, ok, false);
        assert!(event::is_readable(&readable) && !event::is_read_closed(&readable));
        let read_hangup = fd_event(wasi::EVENTTYPE_FD_READ, ok, true);
        assert!(event::is_readable(&read_hangup) && event::is_read_closed(&read_hangup));
        assert!(!event::is_write_closed(&read_hangup));
        let writable = fd_event(wasi::EVENTTYPE_FD_WRITE, ok, false);
        assert!(event::is_writable(&writable) && !event::is_error(&writable));
        let write_hangup = fd_event(wasi::EVENTTYPE_FD_WRITE, ok, true);
        assert!(event::is_write_closed(&write_hangup));
        let failed = fd_event(wasi::EVENTTYPE_FD_READ, wasi::ERRNO_IO, false);
        assert!(event::is_error(&failed) && !event::is_readable(&failed));
        let closed = fd_event(wasi::EVENTTYPE_FD_WRITE, wasi::ERRNO_BADF, false);
        assert_eq!(closed.flags, POLLNVAL);
    }
}
