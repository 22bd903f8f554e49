//! The poll(2) selector: the universal fallback, for Unix systems without
//! epoll, kqueue or event ports (Haiku, Hermit, ESP-IDF, NuttX, GNU/Hurd,
//! QNX, AIX, Cygwin, Redox, ...), WASI preview 2 (wasi-libc's poll(2)), and
//! forced on Linux with `--cfg evmux_force_poll` so that the whole test
//! suite runs against it.
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
//! poll(2) itself costs O(n) in the kernel for the n live registrations:
//! the table is dense (a removal moves the last registration into the
//! hole), so the cost follows the registrations that exist now, not the
//! most there ever were. Around it, `select` copies the table only when
//! another thread changed it since the last call (O(n), far below the
//! system call's own cost); the changes it makes itself (disarming what
//! fired) are applied to both copies in O(1) each. Finding the ready
//! descriptors scans the array until every ready one is found, starting
//! where the previous scan stopped, so that a small `Events` cannot starve
//! the later registrations. Registering, re-arming and deregistering are
//! O(1) (`registrations.rs`).
//!
//! Dropping one of evmux's I/O types removes its registration: unlike
//! epoll, poll(2) has no registration in the kernel that closing the
//! descriptor would end. A raw descriptor closed without `deregister` is
//! dropped from the table as `registrations.rs` describes.
//!
//! # Close and error mapping
//!
//! As listed in `poll_events.rs`, shared with event ports.
//!
//! # Timeouts and timers
//!
//! On Linux, ppoll(2) with nanosecond precision; elsewhere poll(2)'s
//! milliseconds, rounded up, with timeouts beyond `i32::MAX` milliseconds
//! clamped (the wait may end early).
//!
//! `time::Timer`s have no descriptor here: their deadlines live in the
//! table (`timer_queue.rs`), each wait lasts at most until the earliest,
//! and the timers that are due are reported readable after the
//! descriptors. Setting a timer from another thread wakes a waiting
//! `select` as a registration does.
//!
//! # WASI preview 2
//!
//! wasi-libc's poll(2) over preview 2's pollables, as `.ci/wasi.sh` runs it
//! under wasmtime. What differs:
//!
//! - No threads, and so no wake-up descriptor (`no_wake_fd.rs`): a wake or
//!   registration made before `poll` is in the table `poll` reads; nothing
//!   interrupts a waiting `poll`, and one without a timeout and with
//!   nothing armed fails with `InvalidInput` instead of waiting forever.
//! - A disarmed registration stays in the array with no events (wasi-libc
//!   asks only for what is asked), not as a negative descriptor, which
//!   older wasi-libc releases abort on.
//! - wasi-libc reports `POLLIN` and `POLLOUT` only: no `POLLHUP`,
//!   `POLLERR` or priority. A peer's close is readable (the read returns
//!   0), never `is_read_closed`; a failed connection is readable and
//!   writable, `take_error` returning the error; a UDP socket's ICMP error
//!   is readable, the receive failing with it.
//! - A connection started by `TcpStream::connect` completes when poll(2)
//!   sees it writable: wait for that event before using it (mio's
//!   contract everywhere).
//!
//! # Man pages
//!
//! poll(2), fstat(2) (to reject closed descriptors at registration, as
//! epoll does, and to recognise a number closed and reused).
//!
//! libc is used for `poll` itself: rustix's `PollFd` cannot hold the
//! negative descriptor with which a disarmed slot is skipped.

use std::os::fd::RawFd;
#[cfg(not(evmux_wake_fd = "none"))]
use std::os::fd::{AsFd, AsRawFd};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use std::{fmt, io};

use crate::sys::lock;
pub(crate) use crate::sys::poll_events::{event, Event, Events};
use crate::sys::poll_events::{interest_flags, Flags, RegistrationTable, TableSelector};
use crate::sys::registrations::{Handle, Registration, Registrations, Report};
use crate::sys::timeout::Deadline;
use crate::sys::timer_queue::{TimerQueue, TimerTable};
use crate::sys::{RawSource, WakeFd};
use crate::trigger::{Kind, Trigger};
use crate::{Interest, Token};

/// A poll(2) selector. Clones made by `try_clone` share the registrations.
pub(crate) struct Selector {
    shared: Arc<Shared>,
    /// The `pollfd` array `select` hands to the kernel.
    snapshot: Mutex<Snapshot>,
}

/// What `time::Timer`s registered here hold on to: the table.
pub(crate) type TimerHost = Shared;

pub(crate) struct Shared {
    id: usize,
    wake_fd: WakeFd,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    registrations: Registrations,
    /// Bumped by every change, so that `select` knows when to copy.
    version: u64,
    /// True while a `select` waits in poll(2) (and must be woken for a
    /// change to take effect).
    polling: bool,
    /// Tokens of `Waker`s that woke since the last `select` took them.
    wakes: Vec<Token>,
    /// The deadlines of the `time::Timer`s registered here.
    timers: TimerQueue,
}

/// What `select` hands to poll(2): the wake-up descriptor at index 0 (where
/// there is one, see `WAKE_SLOTS`), then registration `i` of the table (as
/// it was at `version`) at `i + WAKE_SLOTS`.
struct Snapshot {
    version: Option<u64>,
    pollfds: Vec<libc::pollfd>,
    /// The generation of each registration, to find it again if the table
    /// changed while `select` waited.
    generations: Vec<u64>,
    /// The registration the next scan for ready ones starts at.
    cursor: usize,
}

/// How many `pollfd`s precede the registrations: the wake-up descriptor's,
/// where the target has one (WASI preview 2 has none, see `no_wake_fd.rs`).
const WAKE_SLOTS: usize = if cfg!(evmux_wake_fd = "none") { 0 } else { 1 };

/// A `pollfd` that poll(2) skips: a negative descriptor on Unix (which
/// also keeps the kernel from reporting failures unasked); on WASI
/// preview 2, the descriptor itself with no events, since wasi-libc's
/// poll(2) knows only the descriptors it has (older ones abort on any
/// other) and reports nothing it was not asked for.
fn skipped(fd: RawFd) -> libc::pollfd {
    let fd = if cfg!(wasip2) { fd } else { -1 };
    libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    }
}

/// The `pollfd` that describes `registration` to the kernel.
fn pollfd(registration: &Registration) -> libc::pollfd {
    if !registration.watched() {
        return skipped(registration.fd);
    }
    libc::pollfd {
        fd: registration.fd,
        events: registration.armed,
        revents: 0,
    }
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
            wake_fd: WakeFd::new()?,
            table: Mutex::default(),
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

    /// The table, shared with the selector's clones and wakers.
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

    pub(crate) fn select(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.clear();
        let mut deadline = Deadline::new(timeout);
        let mut snapshot = lock(&self.snapshot);
        // Waits again, for what is left, after a wake-up that brought
        // nothing but a change from another thread.
        while let Some(wait) = deadline.next_wait() {
            let (wait_now, for_timer) = self.prepare(&mut snapshot, wait)?;
            let result = poll(&mut snapshot.pollfds, wait_now);
            let mut table = self.shared.lock();
            table.polling = false;
            let ready = result?;
            if snapshot.woken() {
                self.shared.wake_fd.drain()?;
            }
            let found = if events.capacity() == 0 {
                let due = table.timers.is_due();
                due || !table.wakes.is_empty() || table.has_armed_readiness(&snapshot)
            } else {
                table.collect(&mut snapshot, ready, events);
                table.timers.expire_into(events);
                !events.is_empty()
            };
            // A wait cut short for a timer goes on if the timer was not due.
            let timed_out = ready == 0 && !for_timer;
            if found || timed_out || wait_now == Some(Duration::ZERO) {
                break;
            }
        }
        Ok(())
    }

    /// Brings the snapshot up to date and marks the table as being polled;
    /// returns how long to wait: `wait`, not at all if wakes are queued,
    /// or until the next timer's deadline if that comes first (and then
    /// true).
    ///
    /// Without a wake-up descriptor (and so without threads, WASI preview
    /// 2), waiting forever with nothing to wait for fails instead: nothing
    /// could ever end it.
    fn prepare(
        &self,
        snapshot: &mut Snapshot,
        wait: Option<Duration>,
    ) -> io::Result<(Option<Duration>, bool)> {
        let mut table = self.shared.lock();
        if snapshot.version != Some(table.version) {
            snapshot.copy_from(&table, &self.shared.wake_fd);
        }
        let (wait, for_timer) = if table.wakes.is_empty() {
            table.timers.bound(wait)
        } else {
            (Some(Duration::ZERO), false)
        };
        if WAKE_SLOTS == 0 && wait.is_none() && snapshot.pollfds.iter().all(|p| p.events == 0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "poll without a timeout and with nothing armed would wait forever \
                 (WASI has no threads to register or wake anything meanwhile)",
            ));
        }
        table.polling = true;
        Ok((wait, for_timer))
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Table> {
        lock(&self.table)
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
        let (_, handle) =
            table
                .registrations
                .insert(fd, token, interest_flags(interests), raw, trigger)?;
        self.changed(table);
        Ok(handle)
    }

    /// Queues a wake for `token` (once) and, if a `select` is waiting,
    /// interrupts it through the wake-up descriptor.
    pub(crate) fn queue_wake(&self, token: Token) -> io::Result<()> {
        let mut table = self.lock();
        if !table.wakes.contains(&token) {
            table.wakes.push(token);
        }
        let polling = table.polling;
        drop(table);
        if polling {
            self.wake_fd.wake()?;
        }
        Ok(())
    }

    /// Takes back a wake for `token` not yet returned.
    pub(crate) fn forget_wake(&self, token: Token) {
        self.lock().wakes.retain(|&queued| queued != token);
    }

    /// Records a change of the table and wakes a waiting `select`.
    fn changed(&self, mut table: MutexGuard<'_, Table>) {
        table.version += 1;
        let polling = table.polling;
        drop(table);
        if polling {
            if let Err(error) = self.wake_fd.wake() {
                warn!("failed to wake the poll(2) selector: {}", error);
            }
        }
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
        let result = table
            .registrations
            .modify(fd, token, interest_flags(interests), trigger);
        // A stale entry dropped on the way is a change too.
        self.changed(table);
        result
    }

    fn remove(&self, fd: RawSource<'_>) -> io::Result<()> {
        let mut table = self.lock();
        let result = table.registrations.remove_fd(fd);
        self.changed(table);
        result
    }

    fn rearm(&self, handle: Handle, flags: Flags, succeeded: bool) {
        let mut table = self.lock();
        if table.registrations.rearm(handle, flags, succeeded) {
            self.changed(table);
        }
    }

    fn forget(&self, handle: Handle) {
        let mut table = self.lock();
        if table.registrations.forget(handle) {
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

impl TimerTable for Shared {
    fn with_timers<R>(&self, f: impl FnOnce(&mut TimerQueue) -> R) -> R {
        f(&mut self.lock().timers)
    }

    /// Wakes a waiting `select`, so that it waits for the new earliest
    /// deadline; the snapshot of descriptors is unaffected.
    fn timers_changed(&self) -> io::Result<()> {
        if self.lock().polling {
            self.wake_fd.wake()?;
        }
        Ok(())
    }
}

impl Table {
    /// The table index of the registration at snapshot index `index`, if it
    /// still exists. `in_sync`: the table has not changed since the copy.
    fn resolve(&self, snapshot: &Snapshot, index: usize, in_sync: bool) -> Option<usize> {
        if in_sync {
            return Some(index);
        }
        let fd = snapshot.pollfds[index + WAKE_SLOTS].fd;
        let generation = snapshot.generations[index];
        self.registrations.index_of_generation(fd, generation)
    }

    /// Returns true if a registration that is still armed reported
    /// readiness (for an `Events` of capacity zero, which takes nothing).
    fn has_armed_readiness(&self, snapshot: &Snapshot) -> bool {
        let in_sync = snapshot.version == Some(self.version);
        snapshot.ready().any(|(index, revents)| {
            self.resolve(snapshot, index, in_sync)
                .is_some_and(|index| self.registrations.entries()[index].reportable(revents) != 0)
        })
    }

    /// Moves wakes and ready registrations into `events`, up to its
    /// capacity, disarming what is reported. What does not fit stays armed
    /// and is reported by the next call.
    fn collect(&mut self, snapshot: &mut Snapshot, ready: usize, events: &mut Events) {
        let room = events.capacity() - events.len();
        let wakes = self.wakes.len().min(room);
        events.extend(self.wakes.drain(..wakes).map(|token| Event {
            token,
            flags: libc::POLLIN,
        }));
        // Registrations that reported, not counting the wake-up descriptor.
        let mut left = ready - usize::from(snapshot.woken());
        let mut in_sync = snapshot.version == Some(self.version);
        let mut changed = false;
        for index in snapshot.scan_order() {
            if left == 0 || events.len() == events.capacity() {
                break;
            }
            let revents = snapshot.pollfds[index + WAKE_SLOTS].revents;
            if revents == 0 {
                continue;
            }
            left -= 1;
            snapshot.cursor = index + 1;
            let Some(current) = self.resolve(snapshot, index, in_sync) else {
                continue;
            };
            changed = true;
            match self.registrations.report(current, revents) {
                Report::Event(event) => {
                    events.push(event);
                    if in_sync {
                        let registration = &self.registrations.entries()[current];
                        snapshot.pollfds[index + WAKE_SLOTS] = pollfd(registration);
                    }
                }
                Report::Nothing => {}
                // The table moved its last registration into the hole.
                Report::Removed => in_sync = false,
            }
        }
        if changed {
            self.version += 1;
            if in_sync {
                snapshot.version = Some(self.version);
            }
        }
    }
}

impl Snapshot {
    fn copy_from(&mut self, table: &Table, wake_fd: &WakeFd) {
        let entries = table.registrations.entries();
        self.pollfds.clear();
        #[cfg(not(evmux_wake_fd = "none"))]
        self.pollfds.push(libc::pollfd {
            fd: wake_fd.as_fd().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        });
        #[cfg(evmux_wake_fd = "none")]
        let _ = wake_fd;
        self.pollfds.extend(entries.iter().map(pollfd));
        self.generations.clear();
        self.generations
            .extend(entries.iter().map(|registration| registration.generation));
        self.version = Some(table.version);
    }

    /// The registration indices, starting at the cursor and wrapping around.
    fn scan_order(&self) -> impl Iterator<Item = usize> {
        let count = self.generations.len();
        let start = if self.cursor < count { self.cursor } else { 0 };
        (start..count).chain(0..start)
    }

    /// Whether the wake-up descriptor reported (never without one).
    fn woken(&self) -> bool {
        WAKE_SLOTS == 1 && self.pollfds[0].revents != 0
    }

    /// The registrations that reported something, with what they reported.
    fn ready(&self) -> impl Iterator<Item = (usize, Flags)> + '_ {
        self.pollfds[WAKE_SLOTS..]
            .iter()
            .enumerate()
            .filter(|(_, pollfd)| pollfd.revents != 0)
            .map(|(index, pollfd)| (index, pollfd.revents))
    }
}

/// Waits with poll(2) (ppoll(2) on Linux, for nanoseconds); returns how
/// many entries reported something.
fn poll(pollfds: &mut [libc::pollfd], timeout: Option<Duration>) -> io::Result<usize> {
    #[cfg(linux_like)]
    let ready = {
        let ts = timeout.map(|timeout| {
            let ts = crate::sys::timeout::timespec(timeout);
            // `time_t` is 32 bits on some 32-bit targets.
            #[allow(clippy::useless_conversion)]
            let tv_sec = ts.tv_sec.try_into().unwrap_or(libc::time_t::MAX);
            libc::timespec {
                tv_sec,
                tv_nsec: ts.tv_nsec as _,
            }
        });
        let ts = ts
            .as_ref()
            .map_or(std::ptr::null(), |ts| ts as *const libc::timespec);
        // SAFETY: as for poll(2) below; `ts` is null or outlives the call,
        // and a null signal mask leaves the mask alone.
        unsafe {
            libc::ppoll(
                pollfds.as_mut_ptr(),
                pollfds.len() as libc::nfds_t,
                ts,
                std::ptr::null(),
            )
        }
    };
    #[cfg(not(linux_like))]
    let ready = {
        let timeout = timeout.map_or(-1, |timeout| {
            crate::sys::timeout::millis_rounded_up(timeout, i32::MAX as u32) as libc::c_int
        });
        // SAFETY: the pointer and length describe a live, exclusively
        // borrowed array of `pollfd`s, which the kernel only writes
        // `revents` of.
        unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, timeout) }
    };
    if ready < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(ready as usize)
}

/// Per-source state: see `TableIoSourceState`.
pub(crate) type IoSourceState = crate::sys::poll_events::TableIoSourceState<Shared>;
