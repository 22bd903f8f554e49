//! The event ports selector: Solaris.
//!
//! # Trigger model
//!
//! Emulated edge triggering. An association made with `port_associate` is
//! one-shot: the kernel dissociates the descriptor when it delivers an
//! event for it. evmux keeps a table of registrations with the interests
//! each has armed:
//!
//! - a delivered event disarms the side that fired (readable or writable;
//!   a failure, `POLLHUP`/`POLLERR`/`POLLNVAL`, disarms both), and the
//!   descriptor is associated again at once for what is still armed;
//! - an evmux I/O call, whatever its result, re-arms the side it waits for
//!   (`IoSourceState::do_io`, which says why), associating the descriptor
//!   again;
//! - `Registry::reregister` re-arms everything;
//! - a raw descriptor, registered through `SourceFd`, whose I/O evmux cannot
//!   see, is associated again for all its interests before the next wait
//!   after it delivered an event (as mio does on Solaris, with its poll(2)
//!   fallback). A raw registration is therefore level-triggered: it is
//!   reported at every `poll` while ready, so that one registered once and
//!   never re-registered (tokio's `AsyncFd`) keeps receiving events.
//!   Register it for writable only while waiting to write.
//!
//! illumos uses epoll (see build.rs); this backend serves Solaris.
//!
//! Every association carries the registration's generation as its user
//! data, so that an event that was already queued for a registration that
//! has since been removed, or replaced, is dropped.
//!
//! # Timers
//!
//! `time::Timer`s are deadlines kept in the table (`timer_queue.rs`, as on
//! poll(2)): each wait lasts at most until the earliest, and the due ones
//! are reported readable. Setting a timer from another thread queues one
//! user event that makes a waiting `select` recompute its wait.
//!
//! # Wakers
//!
//! `port_send` queues a user event carrying the waker's id (see
//! `waker/port.rs`); it is reported readable with the waker's token.
//! Dropping a waker drops a wake not yet delivered. Each `port_send`
//! queues an event of its own, so every waker here de-duplicates its
//! wakes (`crate::wake_dedup`), and `translate` clears its state when it
//! returns the event.
//!
//! # Close and error mapping
//!
//! poll(2)'s flags, as listed in `poll_events.rs`.
//!
//! # Timeouts
//!
//! A `timespec` with nanosecond precision, clamped to 10^8 seconds; a
//! longer wait may end early. `port_getn` reports a timeout as `ETIME`,
//! possibly with events; they are kept.
//!
//! # Man pages
//!
//! port_create(3C), port_associate(3C), port_dissociate(3C),
//! port_getn(3C), port_send(3C), poll(2) for the zero-capacity wait.
//!
//! libc is used for the port calls: rustix's `port::Event` does not expose
//! `portev_source`, which tells a waker's event from a descriptor's.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use std::{fmt, io, ptr};

use crate::sys::lock;
pub(crate) use crate::sys::poll_events::{event, Event, Events};
use crate::sys::poll_events::{
    interest_flags, reported, Flags, RegistrationTable, TableSelector, FAILURE,
};
use crate::sys::registrations::{Handle, Registration, Registrations};
use crate::sys::timeout::{timespec, Deadline, MAX_TIMEOUT};
use crate::sys::timer_queue::{TimerQueue, TimerTable};
use crate::sys::RawSource;
use crate::trigger::{Kind, Trigger};
use crate::wake_dedup::WakeState;
use crate::{Interest, Token};

/// An event port. Clones made by `try_clone` share the port and its table.
pub(crate) struct Selector {
    shared: Arc<Shared>,
    /// The buffer `port_getn` fills before events are translated.
    received: Mutex<Received>,
}

/// Port events as the kernel delivers them.
#[derive(Default)]
struct Received(Vec<libc::port_event>);

// SAFETY: a `port_event` is neither `Send` nor `Sync` only because its user
// data is a pointer. evmux only ever stores integers there (a generation or
// a waker's id) and never dereferences them.
unsafe impl Send for Received {}

/// What `time::Timer`s registered here hold on to: the table.
pub(crate) type TimerHost = Shared;

pub(crate) struct Shared {
    id: usize,
    port: OwnedFd,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    registrations: Registrations,
    /// The token and wake state of each waker, by the id its user events
    /// carry.
    wakers: HashMap<usize, (Token, Arc<WakeState>)>,
    /// Raw registrations to associate again before the next wait.
    raw_fired: Vec<(RawFd, u64)>,
    /// The deadlines of the `time::Timer`s registered here.
    timers: TimerQueue,
    /// A user event with `TIMERS_CHANGED` is queued.
    timers_wake_queued: bool,
}

/// The user event that makes a waiting `select` wait again for the new
/// earliest timer deadline (waker ids start at 1).
const TIMERS_CHANGED: usize = 0;

/// The flags to associate a raw registration with before the next wait:
/// every interest, as at registration (level-triggered, as mio's fallback
/// is); `None` if it is not raw or already fully armed. A registration is
/// associated with the port exactly when `armed` is not empty.
fn rearm_before_wait(registration: &Registration) -> Option<Flags> {
    let rearmable = registration.raw && !registration.spent;
    (rearmable && registration.armed != registration.interests).then_some(registration.interests)
}

impl Selector {
    pub(crate) fn new() -> io::Result<Selector> {
        let port = rustix::event::port::create()?;
        // Not atomic: port_create(3C) takes no flags.
        rustix::io::fcntl_setfd(&port, rustix::io::FdFlags::CLOEXEC)?;
        let shared = Shared {
            id: crate::sys::next_selector_id(),
            port,
            table: Mutex::default(),
        };
        Ok(Selector::with_shared(Arc::new(shared)))
    }

    fn with_shared(shared: Arc<Shared>) -> Selector {
        Selector {
            shared,
            received: Mutex::default(),
        }
    }

    pub(crate) fn try_clone(&self) -> io::Result<Selector> {
        Ok(Selector::with_shared(Arc::clone(&self.shared)))
    }

    /// The port and table, shared with the selector's clones and wakers.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Where `time::Timer`s registered here keep their deadlines.
    pub(crate) fn timer_host(&self) -> io::Result<&Arc<TimerHost>> {
        Ok(&self.shared)
    }

    pub(crate) fn id(&self) -> usize {
        self.shared.id
    }

    pub(crate) fn select(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.clear();
        let timeout = timeout.map(|timeout| timeout.min(MAX_TIMEOUT));
        if events.capacity() == 0 {
            // May end at a timer's deadline with nothing queued: allowed.
            let (timeout, _) = self.shared.lock().timers.bound(timeout);
            return crate::sys::unix::wait_readable(self.shared.port.as_fd(), timeout);
        }
        let mut received = lock(&self.received);
        let received = &mut received.0;
        self.shared.rearm_raw();
        // Every event retrieved may be stale (its registration removed or
        // replaced while it was queued): wait again for what is left.
        let mut deadline = Deadline::new(timeout);
        while let Some(wait) = deadline.next_wait() {
            received.clear();
            received.reserve(events.capacity());
            let (wait, for_timer) = self.shared.lock().timers.bound(wait);
            self.shared.get(received, events.capacity(), wait)?;
            let mut table = self.shared.lock();
            for port_event in received.iter() {
                if let Some(event) = self.shared.translate(&mut table, port_event) {
                    events.push(event);
                }
            }
            table.timers.expire_into(events);
            // A wait cut short for a timer goes on if it was not due.
            if !events.is_empty() || (received.is_empty() && !for_timer) {
                break;
            }
        }
        Ok(())
    }

    pub(crate) fn register(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        self.shared
            .insert(fd, token, interests, true, trigger.kind())
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
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selector")
            .field("id", &self.shared.id)
            .finish_non_exhaustive()
    }
}

impl AsFd for Selector {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.shared.port.as_fd()
    }
}

impl AsRawFd for Selector {
    fn as_raw_fd(&self) -> RawFd {
        self.shared.port.as_raw_fd()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Table> {
        lock(&self.table)
    }

    /// Turns a delivered port event into an evmux event, updating the
    /// table; `None` for an event nobody is registered for any more.
    fn translate(&self, table: &mut Table, port_event: &libc::port_event) -> Option<Event> {
        let source = libc::c_int::from(port_event.portev_source);
        if source == libc::PORT_SOURCE_USER {
            if port_event.portev_user as usize == TIMERS_CHANGED {
                table.timers_wake_queued = false;
                return None;
            }
            let (token, state) = table.wakers.get(&(port_event.portev_user as usize))?;
            if !state.event_returned() {
                // A storm's second `port_send`: the first event carried
                // its wakes.
                return None;
            }
            return Some(Event {
                token: *token,
                flags: libc::POLLIN,
            });
        }
        if source != libc::PORT_SOURCE_FD {
            return None;
        }
        let fd = port_event.portev_object as RawFd;
        let generation = port_event.portev_user as u64;
        let index = table.registrations.index_of_generation(fd, generation)?;
        let fired = reported(port_event.portev_events as Flags);
        let registration = table.registrations.get_mut(index);
        if registration.delivered(fired) {
            table.raw_fired.push((fd, generation));
        }
        let registration = table.registrations.get_mut(index);
        // The kernel dissociated the descriptor; associate it again for
        // what is still armed.
        if registration.armed != 0 {
            if let Err(error) = self.associate(fd, registration.armed, generation) {
                warn!("failed to associate descriptor {} again: {}", fd, error);
                registration.armed = 0;
            }
        }
        // Nothing left to report if the interest that fired was dropped
        // by a `reregister` while the event was queued.
        let flags = fired & (registration.interests | FAILURE);
        (flags != 0).then_some(Event {
            token: registration.token,
            flags,
        })
    }

    /// Adds a waker; returns the id its user events carry, and its wake
    /// state, which this selector clears when it returns the waker's event.
    pub(crate) fn add_waker(&self, token: Token) -> (usize, Arc<WakeState>) {
        static NEXT_ID: AtomicUsize = AtomicUsize::new(1);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(WakeState::new());
        self.lock().wakers.insert(id, (token, Arc::clone(&state)));
        (id, state)
    }

    /// Removes a waker: its user events still queued are dropped.
    pub(crate) fn remove_waker(&self, id: usize) {
        self.lock().wakers.remove(&id);
    }

    /// Queues a user event for waker `id` (port_send).
    pub(crate) fn send(&self, id: usize) -> io::Result<()> {
        // SAFETY: port_send reads no memory of ours; the user pointer is the
        // waker's id, an integer the kernel hands back.
        check(unsafe { libc::port_send(self.port.as_raw_fd(), 0, id as *mut libc::c_void) })
    }

    /// Registers `fd` in the mode `trigger`; `raw` for a registration made
    /// through `SourceFd`.
    fn insert(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        raw: bool,
        trigger: Kind,
    ) -> io::Result<Handle> {
        let mut table = self.lock();
        let flags = interest_flags(interests);
        let (index, handle) = table.registrations.insert(fd, token, flags, raw, trigger)?;
        let generation = table.registrations.entries()[index].generation;
        if let Err(error) = self.associate(fd.as_raw_fd(), flags, generation) {
            table.registrations.remove(index);
            return Err(error);
        }
        Ok(handle)
    }

    /// Associates again the raw registrations that delivered an event
    /// (see the module docs).
    fn rearm_raw(&self) {
        let mut table = self.lock();
        let table = &mut *table;
        for (fd, generation) in table.raw_fired.drain(..) {
            let Some(index) = table.registrations.index_of_generation(fd, generation) else {
                continue;
            };
            let registration = table.registrations.get_mut(index);
            let Some(flags) = rearm_before_wait(registration) else {
                continue;
            };
            match self.associate(fd, flags, generation) {
                Ok(()) => registration.armed = flags,
                Err(error) => warn!("failed to associate descriptor {} again: {}", fd, error),
            }
        }
    }

    fn associate(&self, fd: RawFd, flags: Flags, generation: u64) -> io::Result<()> {
        // SAFETY: port_associate reads no memory of ours; the user pointer
        // is an integer the kernel hands back, never dereferenced.
        let result = unsafe {
            libc::port_associate(
                self.port.as_raw_fd(),
                libc::PORT_SOURCE_FD,
                fd as libc::uintptr_t,
                libc::c_int::from(flags),
                generation as *mut libc::c_void,
            )
        };
        check(result)
    }

    fn dissociate(&self, fd: RawFd) -> io::Result<()> {
        // SAFETY: port_dissociate reads no memory of ours.
        check(unsafe {
            libc::port_dissociate(
                self.port.as_raw_fd(),
                libc::PORT_SOURCE_FD,
                fd as libc::uintptr_t,
            )
        })
    }

    /// Waits for at least one event and reads up to `max` into `received`.
    fn get(
        &self,
        received: &mut Vec<libc::port_event>,
        max: usize,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        let mut ts = timeout.map(|timeout| {
            let ts = timespec(timeout);
            libc::timespec {
                tv_sec: ts.tv_sec as _,
                tv_nsec: ts.tv_nsec as _,
            }
        });
        let ts_ptr = ts
            .as_mut()
            .map_or(ptr::null_mut(), |ts| ts as *mut libc::timespec);
        let max = max.min(libc::c_uint::MAX as usize) as libc::c_uint;
        let mut got: libc::c_uint = 1;
        // SAFETY: the list is the Vec's allocation, with room for `max`
        // events, of which the kernel fills `got`; `ts` outlives the call.
        let result = unsafe {
            libc::port_getn(
                self.port.as_raw_fd(),
                received.as_mut_ptr(),
                max,
                &mut got,
                ts_ptr,
            )
        };
        // The library writes `got` on success and on a timeout (ETIME, which
        // may come with events); on any other error it leaves `got` as it
        // was, and no entry was written.
        if let Err(error) = check(result) {
            if error.raw_os_error() != Some(libc::ETIME) {
                return Err(error);
            }
        }
        // SAFETY: the kernel initialised the first `got` entries.
        unsafe { received.set_len((got as usize).min(max as usize)) };
        Ok(())
    }
}

fn check(result: libc::c_int) -> io::Result<()> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl TimerTable for Shared {
    fn with_timers<R>(&self, f: impl FnOnce(&mut TimerQueue) -> R) -> R {
        f(&mut self.lock().timers)
    }

    /// Queues one `TIMERS_CHANGED` user event, so that a waiting `select`
    /// waits again for the new earliest deadline.
    fn timers_changed(&self) -> io::Result<()> {
        let mut table = self.lock();
        if std::mem::replace(&mut table.timers_wake_queued, true) {
            return Ok(());
        }
        drop(table);
        self.send(TIMERS_CHANGED).inspect_err(|_| {
            self.lock().timers_wake_queued = false;
        })
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
        self.insert(fd, token, interests, false, trigger)
    }

    fn modify(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Kind,
    ) -> io::Result<()> {
        let mut table = self.lock();
        let index = table.registrations.find(fd)?;
        let registration = table.registrations.get_mut(index);
        let flags = interest_flags(interests);
        self.associate(fd.as_raw_fd(), flags, registration.generation)?;
        registration.rearm_all(token, flags, trigger);
        Ok(())
    }

    fn remove(&self, fd: RawSource<'_>) -> io::Result<()> {
        let mut table = self.lock();
        let index = table.registrations.find(fd)?;
        // ENOENT: the descriptor fired and was not associated again.
        match self.dissociate(fd.as_raw_fd()) {
            Err(error) if error.raw_os_error() != Some(libc::ENOENT) => return Err(error),
            _ => {}
        }
        table.registrations.remove(index);
        Ok(())
    }

    fn rearm(&self, handle: Handle, flags: Flags, succeeded: bool) {
        let mut table = self.lock();
        let Some(index) = table.registrations.index_of(handle) else {
            return;
        };
        let registration = table.registrations.get_mut(index);
        let mut armed = *registration;
        if !armed.rearm(flags, succeeded) || armed.armed == 0 {
            return;
        }
        match self.associate(registration.fd, armed.armed, registration.generation) {
            Ok(()) => *registration = armed,
            Err(error) => warn!("failed to re-arm descriptor {}: {}", registration.fd, error),
        }
    }

    fn forget(&self, handle: Handle) {
        let mut table = self.lock();
        if let Some(index) = table.registrations.index_of(handle) {
            let registration = table.registrations.remove(index);
            // ENOENT (not associated) is as good as done.
            let _ = self.dissociate(registration.fd);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn a_raw_registration_is_armed_again_before_the_next_wait() {
        let both = interest_flags(Interest::READABLE | Interest::WRITABLE);
        let (reader, _writer) = rustix::pipe::pipe().unwrap();
        let mut table = Registrations::default();
        let (raw, _) = table
            .insert(reader.as_fd(), Token(0), both, true, Kind::Edge)
            .unwrap();
        let raw = table.get_mut(raw);
        assert!(raw.delivered(libc::POLLIN));
        assert_eq!(rearm_before_wait(raw), Some(both));
        raw.armed = both;
        assert_eq!(rearm_before_wait(raw), None);

        let (other, _other_writer) = rustix::pipe::pipe().unwrap();
        let (io, _) = table
            .insert(other.as_fd(), Token(1), both, false, Kind::Edge)
            .unwrap();
        let io = table.get_mut(io);
        assert!(!io.delivered(libc::POLLIN));
        assert_eq!(io.armed, libc::POLLOUT);
        assert_eq!(rearm_before_wait(io), None);
    }
}
