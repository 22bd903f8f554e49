//! The poll(2) selector: the universal fallback, for Unix systems without
//! epoll, kqueue or event ports (Haiku, Hermit, ESP-IDF, NuttX, GNU/Hurd,
//! QNX, AIX, Cygwin, Redox, ...), and forced on Linux with
//! `--cfg evmux_force_poll` so that the whole test suite runs against it.
//!
//! # Trigger model
//!
//! Emulated edge triggering. poll(2) is level-triggered, so the flags that
//! fired are disarmed (only those: a readable report leaves read-hangup
//! armed, so that a later read shutdown is reported as epoll reports it)
//! and stay so until re-armed by:
//!
//! - an evmux I/O call on the source, whatever its result:
//!   `IoSourceState::do_io` re-arms the interest the call waits for (a read
//!   re-arms readable and priority, a write writable, `try_io` both). A
//!   call that succeeded may not have drained the source, and tokio waits
//!   for the next event after a short read or write; a failure may have
//!   consumed the error (a UDP socket's ICMP error) that the next event
//!   would otherwise hide. A side reported closed (read hangup, failure)
//!   is re-armed only by a call that returns `WouldBlock` or fails;
//! - `Registry::reregister`, which is how a raw descriptor registered
//!   through `SourceFd` is re-armed (evmux cannot see its I/O).
//!
//! A source with nothing armed stays watched for failure: the kernel
//! reports `POLLHUP`, `POLLERR` and `POLLNVAL` without being asked, and
//! such an event is delivered once. It then disarms everything, so that a
//! hung-up descriptor cannot make `poll` spin; reading it to the end (0)
//! does not re-arm it.
//!
//! # Registration while polling
//!
//! The registrations live in a table behind a mutex that `select` does not
//! hold while it waits. Registering, re-arming or waking from another
//! thread updates the table and, if a `poll` is waiting, writes to the
//! selector's wake-up descriptor (an eventfd, or a pipe); the waiting call
//! returns, picks up the new table and waits again with what is left of its
//! timeout.
//!
//! # Complexity
//!
//! poll(2) itself costs O(n) in the kernel for n registered descriptors.
//! Around it, `select` copies the table only when another thread changed
//! it since the last call (O(n), far below the system call's own cost);
//! the changes it makes itself (disarming what fired) are applied to both
//! copies in O(1) each. Finding the ready descriptors scans the array until
//! every ready one is found. Registering, re-arming and deregistering are
//! O(1) (a hash map from descriptor to slot; freed slots are reused).
//! The scan for ready slots resumes where the previous one stopped, so a
//! small `Events` cannot starve the later slots.
//!
//! Dropping one of evmux's I/O types removes its registration: unlike
//! epoll, poll(2) has no registration in the kernel that closing the
//! descriptor would end.
//!
//! # Close and error mapping
//!
//! As listed in `poll_events.rs`, shared with event ports.
//!
//! # Timeouts
//!
//! Milliseconds, rounded up; timeouts beyond `i32::MAX` milliseconds are
//! clamped (the wait may end early).
//!
//! # Man pages
//!
//! poll(2), fcntl(2) (`F_GETFD` to reject closed descriptors at
//! registration, as epoll does).
//!
//! libc is used for `poll` itself: rustix's `PollFd` cannot hold the
//! negative descriptor with which a disarmed slot is skipped.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use std::{fmt, io};

use crate::sys::timeout::{millis_rounded_up, Deadline};
use crate::sys::{RawSource, WakeFd};
use crate::{Interest, Token};

use crate::sys::poll_events::{
    closed_by, disarmed, interest_flags, rearmed, reported, Flags, RegistrationTable,
    TableSelector, FAILURE,
};
pub(crate) use crate::sys::poll_events::{event, Event, Events};

/// A poll(2) selector. Clones made by `try_clone` share the registrations.
pub(crate) struct Selector {
    shared: Arc<Shared>,
    /// The `pollfd` array `select` hands to the kernel: the wake-up
    /// descriptor first, then one entry per table slot.
    snapshot: Mutex<Snapshot>,
}

pub(crate) struct Shared {
    id: usize,
    wake_fd: WakeFd,
    table: Mutex<Table>,
}

/// The registrations: `slots[i]` is described to the kernel by
/// `pollfds[i]`, whose descriptor is negative while nothing is armed.
#[derive(Default)]
struct Table {
    slots: Vec<Slot>,
    pollfds: Vec<libc::pollfd>,
    free: Vec<usize>,
    by_fd: HashMap<RawFd, usize>,
    /// Bumped by every change, so that `select` knows when to copy.
    version: u64,
    /// True while a `select` waits in poll(2) (and must be woken for a
    /// change to take effect).
    polling: bool,
    /// Tokens of `Waker`s that woke since the last `select` took them.
    wakes: Vec<Token>,
    next_generation: u64,
}

#[derive(Clone, Copy)]
struct Slot {
    fd: RawFd,
    token: Token,
    interests: Flags,
    /// Sides reported closed since the last (re)registration (`closed_by`).
    closed: Flags,
    /// Distinguishes successive registrations that reuse a slot.
    generation: u64,
}

struct Snapshot {
    version: Option<u64>,
    pollfds: Vec<libc::pollfd>,
    generations: Vec<u64>,
    /// Where the next scan for ready slots starts.
    cursor: usize,
}

/// Where a registration lives, for `IoSourceState` to re-arm it.
#[derive(Clone, Copy)]
pub(crate) struct Handle {
    slot: usize,
    generation: u64,
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selector")
            .field("id", &self.shared.id)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Waker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waker")
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl Selector {
    pub(crate) fn new() -> io::Result<Selector> {
        let shared = Shared {
            id: crate::sys::next_selector_id(),
            wake_fd: WakeFd::new()?,
            table: Mutex::new(Table::default()),
        };
        Ok(Selector::with_shared(Arc::new(shared)))
    }

    fn with_shared(shared: Arc<Shared>) -> Selector {
        let snapshot = Snapshot {
            version: None,
            pollfds: Vec::new(),
            generations: Vec::new(),
            cursor: 0,
        };
        Selector {
            shared,
            snapshot: Mutex::new(snapshot),
        }
    }

    pub(crate) fn try_clone(&self) -> io::Result<Selector> {
        Ok(Selector::with_shared(Arc::clone(&self.shared)))
    }

    pub(crate) fn id(&self) -> usize {
        self.shared.id
    }

    pub(crate) fn register(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.shared.add(fd, token, interests).map(drop)
    }

    pub(crate) fn reregister(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.shared.modify(fd, token, interests)
    }

    pub(crate) fn deregister(&self, fd: RawSource<'_>) -> io::Result<()> {
        self.shared.remove(fd)
    }

    pub(crate) fn select(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.clear();
        let mut deadline = Deadline::new(timeout);
        let mut snapshot = lock(&self.snapshot);
        // Waits again, for what is left, after a wake-up that brought
        // nothing but a change from another thread.
        while let Some(wait) = deadline.next_wait() {
            let wait_now = self.prepare(&mut snapshot, wait);
            let result = poll(&mut snapshot.pollfds, wait_now);
            let mut table = self.shared.lock();
            table.polling = false;
            let ready = result?;
            if snapshot.pollfds[0].revents != 0 {
                self.shared.wake_fd.drain()?;
            }
            let found = if events.capacity() == 0 {
                !table.wakes.is_empty() || table.has_armed_readiness(&snapshot, ready)
            } else {
                table.collect(&mut snapshot, ready, events);
                !events.is_empty()
            };
            if found || ready == 0 || wait_now == Some(Duration::ZERO) {
                break;
            }
        }
        Ok(())
    }

    /// Brings the snapshot up to date and marks the table as being polled;
    /// returns how long to wait: `wait`, or not at all if wakes are queued.
    fn prepare(&self, snapshot: &mut Snapshot, wait: Option<Duration>) -> Option<Duration> {
        let mut table = self.shared.lock();
        table.polling = true;
        if snapshot.version != Some(table.version) {
            snapshot.copy_from(&table, self.shared.wake_fd.as_fd().as_raw_fd());
        }
        if table.wakes.is_empty() {
            wait
        } else {
            Some(Duration::ZERO)
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Table> {
        lock(&self.table)
    }

    /// Applies `change` to the registration of `fd`.
    fn change(&self, fd: RawSource<'_>, change: impl FnOnce(&mut Table, usize)) -> io::Result<()> {
        let mut table = self.lock();
        let Some(&index) = table.by_fd.get(&fd.as_raw_fd()) else {
            drop(table);
            // As epoll: EBADF for a closed descriptor, else NotFound.
            rustix::io::fcntl_getfd(fd)?;
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "the descriptor is not registered",
            ));
        };
        change(&mut table, index);
        self.changed(table);
        Ok(())
    }

    /// Records a change of the table and wakes a waiting `select`.
    fn changed(&self, mut table: MutexGuard<'_, Table>) {
        table.version += 1;
        let polling = table.polling;
        drop(table);
        if polling {
            self.notify();
        }
    }

    fn notify(&self) {
        if let Err(error) = self.wake_fd.wake() {
            warn!("failed to wake the poll(2) selector: {}", error);
        }
    }
}

impl RegistrationTable for Shared {
    type Handle = Handle;

    fn add(&self, fd: RawSource<'_>, token: Token, interests: Interest) -> io::Result<Handle> {
        // Reject a closed descriptor now, as epoll would, rather than
        // reporting POLLNVAL later.
        rustix::io::fcntl_getfd(fd)?;
        let raw = fd.as_raw_fd();
        let mut table = self.lock();
        if table.by_fd.contains_key(&raw) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the descriptor is already registered",
            ));
        }
        let interests = interest_flags(interests);
        let handle = table.insert(Slot {
            fd: raw,
            token,
            interests,
            closed: 0,
            generation: 0,
        });
        self.changed(table);
        Ok(handle)
    }

    fn modify(&self, fd: RawSource<'_>, token: Token, interests: Interest) -> io::Result<()> {
        self.change(fd, |table, index| {
            let slot = &mut table.slots[index];
            slot.token = token;
            slot.interests = interest_flags(interests);
            table.arm(index);
        })
    }

    fn remove(&self, fd: RawSource<'_>) -> io::Result<()> {
        self.change(fd, |table, index| table.remove(index))
    }

    fn rearm(&self, handle: Handle, flags: Flags, succeeded: bool) {
        let mut table = self.lock();
        if !table.holds(handle) {
            return;
        }
        let flags = rearmed(flags, table.slots[handle.slot].closed, succeeded);
        if table.arm_some(handle.slot, flags) {
            self.changed(table);
        }
    }

    fn forget(&self, handle: Handle) {
        let mut table = self.lock();
        if table.holds(handle) {
            table.remove(handle.slot);
            self.changed(table);
        }
    }
}

impl TableSelector for Selector {
    type Table = Shared;

    fn table(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl Table {
    fn insert(&mut self, mut slot: Slot) -> Handle {
        slot.generation = self.next_generation;
        self.next_generation += 1;
        let disabled = libc::pollfd {
            fd: -1,
            events: 0,
            revents: 0,
        };
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index] = slot;
                index
            }
            None => {
                self.slots.push(slot);
                self.pollfds.push(disabled);
                self.slots.len() - 1
            }
        };
        self.by_fd.insert(slot.fd, index);
        self.arm(index);
        Handle {
            slot: index,
            generation: slot.generation,
        }
    }

    /// Returns true if `handle`'s registration still exists.
    fn holds(&self, handle: Handle) -> bool {
        self.slots
            .get(handle.slot)
            .is_some_and(|slot| slot.generation == handle.generation)
    }

    fn remove(&mut self, index: usize) {
        let slot = &mut self.slots[index];
        self.by_fd.remove(&slot.fd);
        slot.fd = -1;
        // No handle carries this generation: old handles no longer match.
        slot.generation = u64::MAX;
        self.pollfds[index] = libc::pollfd {
            fd: -1,
            events: 0,
            revents: 0,
        };
        self.free.push(index);
    }

    /// Arms every interest of a registration (and watches it for failure).
    fn arm(&mut self, index: usize) {
        let slot = &mut self.slots[index];
        slot.closed = 0;
        self.pollfds[index] = libc::pollfd {
            fd: slot.fd,
            events: slot.interests,
            revents: 0,
        };
    }

    /// Arms the interests among `flags` that the registration has; returns
    /// false if they already were.
    fn arm_some(&mut self, index: usize, flags: Flags) -> bool {
        let slot = self.slots[index];
        let pollfd = &mut self.pollfds[index];
        let wanted = pollfd.events | (flags & slot.interests);
        if pollfd.fd == slot.fd && pollfd.events == wanted {
            return false;
        }
        *pollfd = libc::pollfd {
            fd: slot.fd,
            events: wanted,
            revents: 0,
        };
        true
    }

    /// Returns true if a registration that is still armed reported
    /// readiness (for an `Events` of capacity zero, which takes nothing).
    fn has_armed_readiness(&self, snapshot: &Snapshot, ready: usize) -> bool {
        snapshot
            .ready_slots(ready)
            .any(|(index, revents)| self.fired(snapshot, index, revents) != 0)
    }

    /// The flags of `revents` that the registration in slot `index`, if it
    /// is still the one the snapshot polled, should report.
    fn fired(&self, snapshot: &Snapshot, index: usize, revents: Flags) -> Flags {
        match (self.slots.get(index), self.pollfds.get(index)) {
            (Some(slot), Some(pollfd))
                if slot.generation == snapshot.generations[index] && pollfd.fd >= 0 =>
            {
                reported(revents & (pollfd.events | FAILURE))
            }
            _ => 0,
        }
    }

    /// Moves wakes and ready registrations into `events`, up to its
    /// capacity, disarming what fired. Anything left over stays armed and
    /// is reported by the next call.
    fn collect(&mut self, snapshot: &mut Snapshot, ready: usize, events: &mut Events) {
        let room = events.capacity() - events.len();
        let wakes = self.wakes.len().min(room);
        events.extend(self.wakes.drain(..wakes).map(|token| Event {
            token,
            flags: libc::POLLIN,
        }));
        let in_sync = snapshot.version == Some(self.version);
        let mut changed = false;
        // Scan from where the last call stopped, so that busy sources
        // cannot starve the others when `events` is small.
        let slots = snapshot.pollfds.len() - 1;
        let mut left = ready - usize::from(snapshot.pollfds[0].revents != 0);
        let start = snapshot.cursor;
        for step in 0..slots {
            if left == 0 || events.len() == events.capacity() {
                break;
            }
            let index = (start + step) % slots;
            let revents = snapshot.pollfds[index + 1].revents;
            if revents == 0 {
                continue;
            }
            left -= 1;
            let flags = self.fired(snapshot, index, revents);
            if flags == 0 {
                continue;
            }
            snapshot.cursor = index + 1;
            events.push(Event {
                token: self.slots[index].token,
                flags,
            });
            self.slots[index].closed |= closed_by(flags);
            self.disarm(index, flags);
            if in_sync {
                snapshot.pollfds[index + 1] = self.pollfds[index];
            }
            changed = true;
        }
        if changed {
            self.version += 1;
            if in_sync {
                snapshot.version = Some(self.version);
            }
        }
    }

    /// Disarms the interests that fired. A registration with nothing
    /// armed stays in the poll set with no events, where the kernel still
    /// reports a failure (`POLLHUP`, `POLLERR`, `POLLNVAL`) once; after a
    /// failure it leaves the set until re-armed, so it cannot spin.
    fn disarm(&mut self, index: usize, fired: Flags) {
        let pollfd = &mut self.pollfds[index];
        pollfd.events = disarmed(pollfd.events, fired);
        if fired & FAILURE != 0 {
            *pollfd = libc::pollfd {
                fd: -1,
                events: 0,
                revents: 0,
            };
        }
    }
}

impl Snapshot {
    fn copy_from(&mut self, table: &Table, wake_fd: RawFd) {
        self.pollfds.clear();
        self.pollfds.push(libc::pollfd {
            fd: wake_fd,
            events: libc::POLLIN,
            revents: 0,
        });
        self.pollfds.extend_from_slice(&table.pollfds);
        self.generations.clear();
        self.generations
            .extend(table.slots.iter().map(|slot| slot.generation));
        self.version = Some(table.version);
    }

    /// The table slots (not the wake-up descriptor) that reported
    /// something, with what they reported; stops once `ready` entries,
    /// counting the wake-up descriptor, are found.
    fn ready_slots(&self, ready: usize) -> impl Iterator<Item = (usize, Flags)> + '_ {
        let ready = ready - usize::from(self.pollfds[0].revents != 0);
        self.pollfds[1..]
            .iter()
            .enumerate()
            .filter(|(_, pollfd)| pollfd.revents != 0)
            .map(|(index, pollfd)| (index, pollfd.revents))
            .take(ready)
    }
}

/// Waits with poll(2); returns how many entries reported something.
fn poll(pollfds: &mut [libc::pollfd], timeout: Option<Duration>) -> io::Result<usize> {
    let timeout = timeout.map_or(-1, |timeout| {
        millis_rounded_up(timeout, i32::MAX as u32) as libc::c_int
    });
    // SAFETY: the pointer and length describe a live, exclusively borrowed
    // array of `pollfd`s, which the kernel only writes `revents` of.
    let ready = unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, timeout) };
    if ready < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(ready as usize)
}

/// Locks a mutex, ignoring poisoning: no code panics while holding these
/// locks, and the data stays consistent if one ever did.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Per-source state: see `TableIoSourceState`.
pub(crate) type IoSourceState = crate::sys::poll_events::TableIoSourceState<Shared>;

/// A `Waker` of the poll(2) selector: it queues its token in the table and,
/// if a `select` is waiting, wakes it through the wake-up descriptor. A
/// token already queued is not queued twice, so wakes coalesce.
pub(crate) struct Waker {
    shared: Arc<Shared>,
    token: Token,
}

impl Waker {
    pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
        Ok(Waker {
            shared: Arc::clone(&selector.shared),
            token,
        })
    }

    /// Takes back a wake not yet returned, as closing a waker's descriptor
    /// does on the other backends.
    fn forget_pending(&self) {
        self.shared
            .lock()
            .wakes
            .retain(|&token| token != self.token);
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        let mut table = self.shared.lock();
        if !table.wakes.contains(&self.token) {
            table.wakes.push(self.token);
        }
        let polling = table.polling;
        drop(table);
        if polling {
            self.shared.wake_fd.wake()?;
        }
        Ok(())
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        self.forget_pending();
    }
}
