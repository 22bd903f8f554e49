//! The Windows selector: one I/O completion port, sockets polled through
//! the AFD driver, wakers and named pipes posting to the same port.
//!
//! # Trigger model
//!
//! Emulated edge triggering, as with the poll(2) backend. An AFD poll
//! request is one-shot: it completes once one of the events asked for is
//! true. Each registered socket has at most one request in flight, asking
//! for the events that are *armed*. An event that was reported is disarmed
//! (a readable report disarms the read side, a writable one `SEND`, a
//! failure everything) until it is re-armed by:
//!
//! - an evmux I/O call on the socket that returns `WouldBlock`, or fails
//!   (`IoSourceState::do_io` re-arms the side the call waits for);
//! - `Registry::reregister`, which arms the whole new interest.
//!
//! `Registry::register_with` (`crate::trigger`): level re-submits the
//! whole interest after each event, one-shot nothing until `reregister`.
//! Only a request that reports an event disarms anything: one that was
//! cancelled (after `reregister`), or that ended with events no longer
//! asked for, is reissued for what is armed, one-shot included.
//!
//! Re-arming from any thread while `poll` waits takes effect at once:
//! changes go to an update queue that `select` applies before it waits,
//! and that the changing thread applies itself while a wait is in
//! progress (a new request can be issued from any thread). A request whose
//! events no longer cover what is armed is cancelled and reissued when its
//! cancellation completes.
//!
//! # Flag mapping (mio 1.x's)
//!
//! | `Event` query     | AFD events                                                |
//! |-------------------|-----------------------------------------------------------|
//! | `is_readable`     | `RECEIVE`, `DISCONNECT`, `ACCEPT`, `ABORT`, `CONNECT_FAIL` |
//! | `is_writable`     | `SEND`, `ABORT`, `CONNECT_FAIL`                           |
//! | `is_error`        | `CONNECT_FAIL`                                            |
//! | `is_read_closed`  | `DISCONNECT`, `ABORT`, `CONNECT_FAIL`                     |
//! | `is_write_closed` | `ABORT`, `CONNECT_FAIL`                                   |
//! | `is_priority`     | `RECEIVE_EXPEDITED`                                       |
//!
//! `ABORT` and `CONNECT_FAIL` are asked for with every interest, so a failed
//! non-blocking connect reports writable and error. `LOCAL_CLOSE` is always
//! asked for: it means the socket was closed, and ends its registration
//! without an event. A request that fails with an NTSTATUS error, or that
//! cannot be issued (the socket was closed behind evmux's back), reports
//! `CONNECT_FAIL`; the latter is put aside and a packet posted to the port
//! so that a wait in progress returns it at once. Wakers report `RECEIVE`
//! (readable).
//!
//! # Ownership of the memory the kernel writes
//!
//! Each socket's state (`SockState`) lives in an `Arc` and embeds the
//! request's `IO_STATUS_BLOCK` and `AFD_POLL_INFO`. The rule:
//!
//! > Issuing a request leaks one strong reference to the state, whose raw
//! > pointer is the request's `ApcContext`. Only dequeuing the request's
//! > completion (which hands that pointer back as `lpOverlapped`) turns it
//! > into an `Arc` again and drops it. Nothing else frees, moves or touches
//! > that memory while the request is in flight.
//!
//! Deregistering or dropping a source therefore only cancels its request;
//! the cancelled request still completes (`STATUS_CANCELLED`), and the
//! memory goes when that completion is dequeued. Wakes and named pipe
//! operations follow the same rule with their own states. When the last
//! handle to the selector goes, it cancels its sockets' requests and
//! returns at once: the port, with what is still in flight (a pipe write
//! to a client that has not read it yet), goes to a background drain that
//! takes every leaked reference back, bounded in time; what the kernel
//! never hands back is leaked, never freed early (`reclaim.rs`).
//!
//! # Timeouts and timers
//!
//! Milliseconds, rounded up; longer than `u32::MAX - 1` ms is clamped.
//! `time::Timer`s keep their deadlines in one queue per selector, which
//! shortens the wait and posts `KEY_NUDGE` to end one early
//! (`timers.rs`).
//!
//! References: `GetQueuedCompletionStatusEx`, `PostQueuedCompletionStatus`,
//! `NtDeviceIoControlFile`, `NtCancelIoFileEx`, `WSAIoctl`
//! (`SIO_BASE_HANDLE`) on Microsoft Learn.

use std::collections::HashMap;
use std::os::windows::io::AsRawSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use std::{fmt, io};

use windows_sys::Win32::Foundation::STATUS_CANCELLED;

use super::afd::{is_nt_error, Afd, GROUP_SIZE, POLL_CONNECT_FAIL, POLL_LOCAL_CLOSE, POLL_RECEIVE};
use super::iocp::{Completion, CompletionPort};
use super::reclaim::{self, Reclaimed};
use super::sock::{lock, PollState, SockState};
use super::timers::Timers;
use super::waker::WakeState;
use crate::sys::timeout::Deadline;
use crate::sys::timer_queue::{TimerQueue, TimerTable};
use crate::sys::RawSource;
use crate::trigger::Trigger;
use crate::{Interest, Token};

pub(crate) use super::sock::IoSourceState;

/// Completion key of the AFD handles.
pub(crate) const KEY_AFD: usize = 1;
/// Completion key of wakes.
pub(crate) const KEY_WAKE: usize = 2;
/// Completion key of named pipes.
#[cfg_attr(not(feature = "os-ext"), allow(dead_code))]
pub(crate) const KEY_PIPE: usize = 3;
/// Completion key of a packet that only ends a wait, so that `select`
/// delivers an event put aside while it waited, or waits again for an
/// earlier timer (it carries no pointer).
pub(crate) const KEY_NUDGE: usize = 4;

/// What `time::Timer`s registered here hold on to.
pub(crate) type TimerHost = Inner;

/// One readiness report: AFD event bits (also for wakes and pipes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Event {
    pub(crate) token: Token,
    pub(crate) flags: u32,
}

pub(crate) type Events = Vec<Event>;

/// Who an event not yet delivered belongs to, to check at delivery that it
/// is still wanted.
enum Origin {
    Sock(Arc<SockState>),
    Wake(Arc<WakeState>),
    #[cfg(feature = "os-ext")]
    Pipe(Arc<dyn super::overlapped::Check>),
}

/// A selector; clones made by `try_clone` share everything.
pub(crate) struct Selector {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    id: usize,
    /// Shared with the background drain, which owns it once the selector
    /// is gone (`reclaim.rs`).
    port: Arc<CompletionPort>,
    afds: Mutex<Vec<Arc<Afd>>>,
    /// Registered sockets, by the address of their state.
    sockets: Mutex<HashMap<usize, Arc<SockState>>>,
    /// Sockets whose request must be issued, reissued or cancelled.
    updates: Mutex<Vec<Arc<SockState>>>,
    /// True while `select` waits on the port.
    polling: AtomicBool,
    /// Events dequeued but not delivered (an `Events` of capacity zero).
    stash: Mutex<Vec<(Event, Origin)>>,
    completions: Mutex<Vec<Completion>>,
    timers: Mutex<Timers>,
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selector")
            .field("id", &self.inner.id)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inner")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Selector {
    pub(crate) fn new() -> io::Result<Selector> {
        super::init_winsock();
        let inner = Inner {
            id: crate::sys::next_selector_id(),
            port: Arc::new(CompletionPort::new()?),
            afds: Mutex::new(Vec::new()),
            sockets: Mutex::new(HashMap::new()),
            updates: Mutex::new(Vec::new()),
            polling: AtomicBool::new(false),
            stash: Mutex::new(Vec::new()),
            completions: Mutex::new(vec![Completion::empty(); 256]),
            timers: Mutex::default(),
        };
        Ok(Selector {
            inner: Arc::new(inner),
        })
    }

    pub(crate) fn try_clone(&self) -> io::Result<Selector> {
        Ok(Selector {
            inner: Arc::clone(&self.inner),
        })
    }

    pub(crate) fn id(&self) -> usize {
        self.inner.id
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    /// Where `time::Timer`s registered here keep their deadlines.
    pub(crate) fn timer_host(&self) -> io::Result<&Arc<TimerHost>> {
        Ok(&self.inner)
    }

    pub(crate) fn select(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        self.inner.select(events, timeout)
    }
}

impl Inner {
    #[cfg_attr(not(feature = "os-ext"), allow(dead_code))]
    pub(crate) fn port(&self) -> &CompletionPort {
        &self.port
    }

    pub(crate) fn register(
        &self,
        socket: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<Arc<SockState>> {
        let base = super::net::base_socket(socket.as_raw_socket())?;
        let afd = self.afd()?;
        let sock = Arc::new(SockState::new(base, afd, token, interests, trigger));
        lock(&self.sockets).insert(key_of(&sock), Arc::clone(&sock));
        self.queue_update(&sock);
        Ok(sock)
    }

    pub(crate) fn reregister(
        &self,
        sock: &Arc<SockState>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) {
        let mut reg = sock.lock();
        reg.token = token;
        reg.trigger = trigger.kind();
        reg.interest = super::sock::interest_mask(interests);
        reg.armed = reg.interest;
        drop(reg);
        self.queue_update(sock);
    }

    pub(crate) fn rearm(&self, sock: &Arc<SockState>, mask: u32) {
        let mut reg = sock.lock();
        let armed = reg.armed | (mask & reg.interest);
        if armed == reg.armed || reg.deleted || !reg.rearmable() {
            return;
        }
        reg.armed = armed;
        drop(reg);
        self.queue_update(sock);
    }

    pub(crate) fn deregister(&self, sock: &Arc<SockState>) {
        lock(&self.sockets).remove(&key_of(sock));
        let mut reg = sock.lock();
        reg.deleted = true;
        sock.cancel(&mut reg);
    }

    /// An AFD handle with room for one more socket.
    fn afd(&self) -> io::Result<Arc<Afd>> {
        let mut afds = lock(&self.afds);
        // Close handles no socket uses any more (their requests hold them).
        afds.retain(|afd| Arc::strong_count(afd) > 1);
        if let Some(afd) = afds.iter().find(|afd| Arc::strong_count(afd) <= GROUP_SIZE) {
            return Ok(Arc::clone(afd));
        }
        let afd = Arc::new(Afd::new(&self.port, KEY_AFD)?);
        afds.push(Arc::clone(&afd));
        Ok(afd)
    }

    /// Queues `sock` for an update, applied now if a wait is in progress.
    fn queue_update(&self, sock: &Arc<SockState>) {
        let mut reg = sock.lock();
        if !reg.queued {
            reg.queued = true;
            lock(&self.updates).push(Arc::clone(sock));
        }
        drop(reg);
        if self.polling.load(Ordering::SeqCst) {
            self.apply_updates();
        }
    }

    fn apply_updates(&self) {
        let queued = std::mem::take(&mut *lock(&self.updates));
        for sock in queued {
            self.update(&sock);
        }
    }

    /// Brings the socket's request in line with what is armed.
    fn update(&self, sock: &Arc<SockState>) {
        let mut reg = sock.lock();
        reg.queued = false;
        if reg.deleted {
            sock.cancel(&mut reg);
            return;
        }
        let armed = reg.armed;
        match reg.poll {
            PollState::Idle if armed != 0 => {
                self.port.leaked();
                if let Err(error) = SockState::submit(sock, &mut reg, armed) {
                    self.port.reclaimed();
                    // The socket cannot be polled (closed, or not a socket
                    // AFD knows): report it as failed, once.
                    trace!("AFD poll failed: {}", error);
                    reg.armed = 0;
                    let event = Event {
                        token: reg.token,
                        flags: POLL_CONNECT_FAIL,
                    };
                    lock(&self.stash).push((event, Origin::Sock(Arc::clone(sock))));
                    drop(reg);
                    // A `select` may be waiting (this runs right before its
                    // wait, or on another thread during it): end the wait,
                    // so that the event comes now and not after the
                    // timeout, or never.
                    if let Err(error) = self.port.post(KEY_NUDGE, std::ptr::null()) {
                        warn!("failed to post to the completion port: {}", error);
                    }
                }
            }
            PollState::Pending(asked) if armed & !asked != 0 => sock.cancel(&mut reg),
            _ => {}
        }
    }

    fn select(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.clear();
        if self.deliver_stash(events) {
            return Ok(());
        }
        let mut deadline = Deadline::new(timeout);
        let mut completions = lock(&self.completions);
        while let Some(wait) = deadline.next_wait() {
            let (wait, for_timer) = lock(&self.timers).begin_wait(wait);
            self.polling.store(true, Ordering::SeqCst);
            self.apply_updates();
            let room = (events.capacity() - events.len()).clamp(1, completions.len());
            let result = self.port.wait(&mut completions[..room], wait);
            self.polling.store(false, Ordering::SeqCst);
            lock(&self.timers).end_wait();
            let dequeued = result?;
            for completion in &completions[..dequeued] {
                if let Some((event, origin)) = self.complete(completion) {
                    if events.len() < events.capacity() {
                        events.push(event);
                    } else {
                        lock(&self.stash).push((event, origin));
                    }
                }
            }
            // Events put aside while waiting (a request that could not be
            // issued) come with these, and the timers that are due.
            let stashed = self.deliver_stash(events);
            self.expire_timers(events);
            let timed_out = dequeued == 0 && !for_timer;
            if !events.is_empty() || stashed || timed_out || wait == Some(Duration::ZERO) {
                return Ok(());
            }
            // Only completions without events (cancellations, stale wakes,
            // a timer's post) or a timer not yet due: wait again for what
            // is left of the timeout.
        }
        Ok(())
    }

    /// Reports the timers that are due, as room in `events` allows.
    fn expire_timers(&self, events: &mut Events) {
        let room = events.capacity() - events.len();
        let mut timers = lock(&self.timers);
        timers
            .queue
            .expire(Instant::now(), room, |token| events.push(wake_event(token)));
    }

    /// Moves stashed events that are still wanted into the room left in
    /// `events`, with the token and interest of the registration as it is
    /// now; returns true if `select` should return without waiting.
    fn deliver_stash(&self, events: &mut Events) -> bool {
        let mut stash = lock(&self.stash);
        if stash.is_empty() {
            return false;
        }
        if events.capacity() == 0 {
            return true;
        }
        let room = (events.capacity() - events.len()).min(stash.len());
        let taken: Vec<_> = stash.drain(..room).collect();
        drop(stash);
        for (event, origin) in taken {
            let event = match origin {
                Origin::Sock(sock) => {
                    let reg = sock.lock();
                    let flags = event.flags & reg.interest;
                    if reg.deleted || flags == 0 {
                        continue;
                    }
                    Event {
                        token: reg.token,
                        flags,
                    }
                }
                Origin::Wake(wake) if !wake.is_alive() => continue,
                #[cfg(feature = "os-ext")]
                Origin::Pipe(pipe) => match pipe.current(event.flags) {
                    Some(event) => event,
                    None => continue,
                },
                _ => event,
            };
            events.push(event);
        }
        // Everything stashed may have been stale: then wait as usual.
        !events.is_empty()
    }

    /// Takes back the reference a completion carries and turns it into an
    /// event, if it makes one.
    fn complete(&self, completion: &Completion) -> Option<(Event, Origin)> {
        match reclaim::reclaim(completion, &self.port) {
            Reclaimed::Sock(sock) => self.complete_poll(sock),
            Reclaimed::Wake(wake) => {
                let event = wake.take()?;
                Some((event, Origin::Wake(wake)))
            }
            #[cfg(feature = "os-ext")]
            Reclaimed::Pipe(event) => event.map(|(event, pipe)| (event, Origin::Pipe(pipe))),
            Reclaimed::Nothing => None,
        }
    }

    fn complete_poll(&self, sock: Arc<SockState>) -> Option<(Event, Origin)> {
        let mut reg = sock.lock();
        reg.poll = PollState::Idle;
        if reg.deleted {
            // The request's reference, dropped on return, may be the last.
            return None;
        }
        // SAFETY: the completion was dequeued and we hold the lock.
        let (status, reported) = unsafe { sock.reported(&reg) };
        let result = if status == STATUS_CANCELLED {
            0
        } else if is_nt_error(status) {
            POLL_CONNECT_FAIL
        } else {
            reported
        };
        if result & POLL_LOCAL_CLOSE != 0 {
            reg.deleted = true;
            drop(reg);
            lock(&self.sockets).remove(&key_of(&sock));
            return None;
        }
        let fired = result & reg.armed;
        // Only a report disarms: a cancelled request (after `reregister`
        // widened the interest), or one that ended with an event no longer
        // asked for, fired nothing, and a one-shot registration must stay
        // armed for the request issued in its place.
        if fired != 0 {
            reg.after_event(fired);
        }
        let token = reg.token;
        drop(reg);
        // Issue the next request (for what is still armed) before waiting.
        self.queue_update(&sock);
        if fired == 0 {
            return None;
        }
        Some((
            Event {
                token,
                flags: fired,
            },
            Origin::Sock(sock),
        ))
    }

    /// Posts a wake for `wake`, lending the port one reference to it.
    pub(crate) fn post_wake(&self, wake: &Arc<WakeState>) -> io::Result<()> {
        let pointer = Arc::into_raw(Arc::clone(wake));
        self.port.leaked();
        self.port.post(KEY_WAKE, pointer.cast()).inspect_err(|_| {
            self.port.reclaimed();
            // SAFETY: the post failed, so the port holds no reference: take
            // the leaked one back, once.
            drop(unsafe { Arc::from_raw(pointer) });
        })
    }
}

impl TimerTable for Inner {
    fn with_timers<R>(&self, f: impl FnOnce(&mut TimerQueue) -> R) -> R {
        f(&mut lock(&self.timers).queue)
    }

    /// Ends a wait in progress that would last past the earliest deadline.
    fn timers_changed(&self) -> io::Result<()> {
        if !lock(&self.timers).must_wake() {
            return Ok(());
        }
        self.port
            .post(KEY_NUDGE, std::ptr::null())
            .inspect_err(|_| lock(&self.timers).wake_failed())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for (_, sock) in lock(&self.sockets).drain() {
            let mut reg = sock.lock();
            reg.deleted = true;
            sock.cancel(&mut reg);
        }
        reclaim::drain(Arc::clone(&self.port));
    }
}

fn key_of(sock: &Arc<SockState>) -> usize {
    Arc::as_ptr(sock) as usize
}

pub(crate) mod event {
    use super::Event;
    use crate::flag_names::FlagNames;
    use crate::sys::windows::afd::*;
    use crate::Token;

    static NAMES: [(u64, &str); 8] = [
        (POLL_RECEIVE as u64, "AFD_POLL_RECEIVE"),
        (POLL_RECEIVE_EXPEDITED as u64, "AFD_POLL_RECEIVE_EXPEDITED"),
        (POLL_SEND as u64, "AFD_POLL_SEND"),
        (POLL_DISCONNECT as u64, "AFD_POLL_DISCONNECT"),
        (POLL_ABORT as u64, "AFD_POLL_ABORT"),
        (POLL_LOCAL_CLOSE as u64, "AFD_POLL_LOCAL_CLOSE"),
        (POLL_ACCEPT as u64, "AFD_POLL_ACCEPT"),
        (POLL_CONNECT_FAIL as u64, "AFD_POLL_CONNECT_FAIL"),
    ];

    fn has(event: &Event, flags: u32) -> bool {
        event.flags & flags != 0
    }

    pub(crate) fn token(event: &Event) -> Token {
        event.token
    }

    pub(crate) fn is_readable(event: &Event) -> bool {
        has(
            event,
            POLL_RECEIVE | POLL_DISCONNECT | POLL_ACCEPT | POLL_ABORT | POLL_CONNECT_FAIL,
        )
    }

    pub(crate) fn is_writable(event: &Event) -> bool {
        has(event, POLL_SEND | POLL_ABORT | POLL_CONNECT_FAIL)
    }

    pub(crate) fn is_error(event: &Event) -> bool {
        has(event, POLL_CONNECT_FAIL)
    }

    pub(crate) fn is_read_closed(event: &Event) -> bool {
        has(event, POLL_DISCONNECT | POLL_ABORT | POLL_CONNECT_FAIL)
    }

    pub(crate) fn is_write_closed(event: &Event) -> bool {
        has(event, POLL_ABORT | POLL_CONNECT_FAIL)
    }

    pub(crate) fn is_priority(event: &Event) -> bool {
        has(event, POLL_RECEIVE_EXPEDITED)
    }

    pub(crate) fn is_aio(_: &Event) -> bool {
        false
    }

    pub(crate) fn is_lio(_: &Event) -> bool {
        false
    }

    pub(crate) fn os_flags(event: &Event) -> FlagNames {
        FlagNames::new(u64::from(event.flags), &NAMES)
    }
}

/// A wake's event: readable.
pub(crate) fn wake_event(token: Token) -> Event {
    Event {
        token,
        flags: POLL_RECEIVE,
    }
}
