//! The io_uring selector (Linux 5.13+, `--cfg evmux_io_uring`): readiness
//! through poll requests on a ring, with mio's semantics and fewer system
//! calls than epoll allows.
//!
//! # Registrations are submissions
//!
//! A registration is an `IORING_OP_POLL_ADD` request, a `deregister` an
//! `IORING_OP_ASYNC_CANCEL` of it (by `user_data`), a `reregister` both (the new request reports
//! the readiness there is at once, as `EPOLL_CTL_MOD` does). They are
//! queued in the submission queue and go to the kernel with the next wait,
//! in the same `io_uring_enter` (`IORING_ENTER_GETEVENTS |
//! IORING_ENTER_EXT_ARG`, the timeout in nanoseconds): no system call of
//! their own. A change made while another thread is in that wait is
//! submitted at once, so that it takes effect in the wait, as on epoll;
//! so is a full submission queue.
//!
//! Each request's `user_data` carries the descriptor and a generation
//! that every registration change bumps: a completion of an older
//! generation is dropped, never reported under the old token.
//!
//! # Trigger model
//!
//! | Mode | Request |
//! |------|---------|
//! | `EDGE` | multishot poll (`IORING_POLL_ADD_MULTI`): one completion per readiness change, as `EPOLLET` (the kernel filters wake-ups by interest as epoll does) |
//! | `ONESHOT` | a one-shot poll; armed again by `reregister` |
//! | `LEVEL` | a one-shot poll, re-armed after each event with the next wait (whose first check reports the source again while it is ready) |
//! | exclusive | `Unsupported` |
//!
//! A multishot request that the kernel ends (no `IORING_CQE_F_MORE`, as
//! when the completion queue overflowed) is submitted again; completions
//! the queue could not hold are kept by the kernel (`IORING_FEAT_NODROP`)
//! and moved in by the next wait. Completions of one registration within
//! one `poll` are merged into one event, as epoll reports a descriptor
//! once per wait. Events are epoll's (`Event` is `epoll_event`), so the
//! close and error mapping is epoll's: a poll result is a mask of the same
//! `EPOLL*` bits.
//!
//! # A poll request holds its file
//!
//! While a request is in the kernel it holds a reference to the file: a
//! descriptor closed while registered stays open underneath (a socket
//! sends no FIN) until the request is removed. evmux's own I/O types see
//! to it when dropped (`IoSourceState`): a source dropped registered has
//! its request removed at once (one `io_uring_enter`), and one dropped
//! after `deregister` has that removal submitted at once if it is still
//! queued, so the close is a close, as on epoll. A raw descriptor
//! (`unix::SourceFd`) must be deregistered before it is closed, which
//! every correct mio program does anyway; its file is then released when
//! the removal reaches the kernel: with the next `poll`, or at once if a
//! thread is waiting in one. Dropping the `Poll` (and its clones)
//! releases every file.
//!
//! # Task work
//!
//! The kernel completes a poll request in task work of the thread that
//! submitted it, signalled like a signal without one: a blocking system
//! call in that thread is interrupted (restartable ones restart;
//! `epoll_wait` returns `EINTR`), and a wait here may end with `EINTR`,
//! reported as `Interrupted`, with no signal delivered. A request whose
//! thread has exited is cancelled by the kernel when it gets ready
//! (`ECANCELED`: its work can no longer run there); `drain` queues it
//! again, from the polling thread, without an event.
//!
//! # Fork
//!
//! The queues are memory a forked child shares with its parent. A child
//! (told apart by a page it sees zeroed: `Ring::inherited`) must not touch
//! them: the sources and wakers it inherited are dropped without removing
//! the parent's requests (closing the child's descriptors, as on epoll)
//! and without the lock (a thread of the parent may have held it at the
//! fork), and any other use of the inherited `Poll`, a new `Waker`
//! included, is `Unsupported`.
//!
//! A `Waker` does not go through a poll request, and so through no task
//! work: its wake is a no-op request, completed in the waking thread, or,
//! while no thread waits, only noted for the next `poll`
//! (`uring_waker.rs`).
//!
//! # Nesting
//!
//! Once the ring's descriptor has been asked for (`AsFd`, to put the
//! `Poll` in another one), every change is submitted at once: the outer
//! wait, not `select`, is then what sees the inner `Poll`'s readiness
//! (the descriptor is readable while completions are queued).
//!
//! Man pages: io_uring_enter(2) (`IORING_OP_POLL_ADD`,
//! `IORING_OP_ASYNC_CANCEL`), io_uring(7), poll(2) (whether priority data
//! is there: see `reported`).

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rustix::event::epoll::EventFlags;
use rustix::io_uring::{io_uring_sqe, io_uring_user_data};

use super::epoll::{Event, Events, TimerHost};
use super::uring_requests::{
    cancel_request, poll_data, poll_mask, poll_request, relay_add, reported, wake_request,
    CQE_F_MORE, KIND_CONTROL, KIND_POLL, KIND_RELAY, KIND_SHIFT, KIND_WAKE,
};
use super::uring_ring::{Completion, Ring};
use super::uring_waker::{RingWaker, WakerId, Wakers};
use crate::sys::lock;
use crate::sys::timeout::Deadline;
use crate::sys::RawSource;
use crate::trigger::{Kind, Trigger};
use crate::{Interest, Token};

/// How a registration is armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Edge,
    Level,
    OneShot,
}

/// A descriptor's registration.
#[derive(Clone, Copy, Debug)]
struct Slot {
    token: Token,
    mask: u32,
    mode: Mode,
    generation: u32,
    /// Whether a request is in the kernel (or queued).
    armed: bool,
    /// The `poll` that last reported it, and where (for merging).
    batch: u64,
    at: usize,
}

/// What the lock protects: the queues' positions and the registrations.
#[derive(Debug, Default)]
struct State {
    sq_tail: u32,
    cq_head: u32,
    /// A thread is in (or about to enter) the wait.
    waiting: bool,
    /// Registrations by descriptor number.
    slots: Vec<Option<Slot>>,
    /// Generations outlive registrations, so that a completion of an
    /// earlier registration of a number never matches a later one.
    generations: Vec<u32>,
    batch: u64,
    relay: Option<RawFd>,
    /// Completions taken out of the queue to make room while submitting
    /// (`reap`), for the next `poll`: only those that may still be events.
    backlog: VecDeque<Completion>,
    /// Requests that ended while `drain` read the completion queue, to be
    /// queued again once it is done: queueing may have to make room by
    /// reading that same queue (`reap`), which must not happen under the
    /// reader's feet.
    rearms: Vec<Rearm>,
    wakers: Wakers,
}

/// A request to put on the ring again (see `State::rearms`).
#[derive(Clone, Copy, Debug)]
enum Rearm {
    /// The registration of this descriptor, if still this generation.
    Poll(RawFd, u32),
    /// The timers' relay.
    Relay(RawFd),
}

/// The ring and its registrations, shared by a selector's clones and by
/// the sources registered with it (weakly: see `IoSourceState`).
#[derive(Debug)]
pub(crate) struct Shared {
    ring: Ring,
    state: Mutex<State>,
    /// The ring's descriptor was handed out (`AsFd`: a `Poll` nested in
    /// another): someone may wait on it rather than in `select`, so every
    /// change is submitted at once.
    exposed: AtomicBool,
}

/// An io_uring selector.
#[derive(Debug)]
pub(crate) struct Selector {
    id: usize,
    shared: Arc<Shared>,
    timers: Arc<TimerHost>,
}

impl Selector {
    /// A new ring, or the reason there is none (the caller falls back).
    pub(crate) fn new() -> io::Result<Selector> {
        let ring = Ring::new()?;
        let state = State {
            sq_tail: ring.sq_tail(),
            cq_head: ring.cq_head(),
            ..State::default()
        };
        Ok(Selector {
            id: crate::sys::next_selector_id(),
            shared: Arc::new(Shared {
                ring,
                state: Mutex::new(state),
                exposed: AtomicBool::new(false),
            }),
            timers: Arc::default(),
        })
    }

    pub(crate) fn try_clone(&self) -> io::Result<Selector> {
        Ok(Selector {
            id: self.id,
            shared: Arc::clone(&self.shared),
            timers: Arc::clone(&self.timers),
        })
    }

    pub(crate) fn id(&self) -> usize {
        self.id
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// A `Waker` whose wakes are no-op requests on this ring.
    pub(crate) fn waker(&self, token: Token) -> io::Result<RingWaker> {
        self.shared.owned()?;
        let id = self.shared.lock().wakers.add(token);
        Ok(RingWaker::new(Arc::downgrade(&self.shared), id))
    }

    /// Where `time::Timer`s keep their deadlines; the first call puts the
    /// relay's poll request on the ring.
    pub(crate) fn timer_host(&self) -> io::Result<&Arc<TimerHost>> {
        self.timers.start(|nest| self.shared.add_relay(nest))?;
        Ok(&self.timers)
    }

    pub(crate) fn select(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.clear();
        self.shared.owned()?;
        let mut deadline = Deadline::new(timeout);
        while let Some(wait) = deadline.next_wait() {
            self.shared.wait(wait)?;
            if events.capacity() == 0 {
                break;
            }
            self.shared.drain(events)?;
            if self.timers.is_active() {
                self.timers.after_wait(events)?;
            }
            // Only stale completions, or the relay with no timer due: wait
            // again for what is left.
            if !events.is_empty() || wait == Some(Duration::ZERO) {
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
        self.shared.register(number(fd)?, token, interests, trigger)
    }

    pub(crate) fn reregister(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        let fd = number(fd)?;
        self.shared.owned()?;
        let mut state = self.shared.lock();
        if slot_of(&state, fd).is_none() {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        }
        self.shared.remove(&mut state, fd)?;
        self.shared.add(&mut state, fd, token, interests, trigger)
    }

    pub(crate) fn deregister(&self, fd: RawSource<'_>) -> io::Result<()> {
        self.shared.deregister(number(fd)?)
    }
}

/// The descriptor's number, if a request can carry it: a negative one is
/// `EBADF` at once, as epoll answers. (Whether a number is open is only
/// known when the request is submitted: one that is not is forgotten then,
/// as a descriptor closed while registered is on epoll.)
fn number(fd: RawSource<'_>) -> io::Result<RawFd> {
    let fd = fd.as_raw_fd();
    if !(0..1 << 30).contains(&fd) {
        return Err(rustix::io::Errno::BADF.into());
    }
    Ok(fd)
}

fn slot_of(state: &State, fd: RawFd) -> Option<&Slot> {
    state.slots.get(fd as usize).and_then(Option::as_ref)
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// `Unsupported` in a process forked from the ring's: the queues are
    /// memory shared with the parent, whose positions only it knows (a
    /// child that touched them would break the parent's `Poll`).
    fn owned(&self) -> io::Result<()> {
        match self.ring.inherited() {
            false => Ok(()),
            true => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "an io_uring `Poll` cannot be used in a process forked from the one that made it",
            )),
        }
    }

    pub(crate) fn register(
        &self,
        fd: RawFd,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        self.owned()?;
        let mut state = self.lock();
        if slot_of(&state, fd).is_some() {
            return Err(io::Error::from(io::ErrorKind::AlreadyExists));
        }
        self.add(&mut state, fd, token, interests, trigger)
    }

    pub(crate) fn deregister(&self, fd: RawFd) -> io::Result<()> {
        self.deregister_at(fd).map(drop)
    }

    /// `deregister`, returning the submission queue position after the
    /// removal (see `release`).
    pub(crate) fn deregister_at(&self, fd: RawFd) -> io::Result<u32> {
        self.owned()?;
        let mut state = self.lock();
        if slot_of(&state, fd).is_none() {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        }
        self.remove(&mut state, fd)?;
        Ok(state.sq_tail)
    }

    /// Makes sure the kernel has the entries queued before `position`
    /// (a removal), submitting them now if not: the descriptor is about to
    /// be closed, and its file must not outlive it.
    pub(crate) fn release(&self, position: u32) {
        // A forked child's copy of a source: the parent's ring is not its.
        if self.ring.inherited() {
            return;
        }
        let state = self.lock();
        let unsubmitted = self.ring.unsubmitted(state.sq_tail);
        let first_unsubmitted = state.sq_tail.wrapping_sub(unsubmitted);
        if (position.wrapping_sub(first_unsubmitted) as i32) > 0 {
            if let Err(error) = self.submit_now(&state) {
                warn!("failed to submit a removal to the io_uring: {}", error);
            }
        }
    }

    /// Records the registration and queues its request.
    fn add(
        &self,
        state: &mut State,
        fd: RawFd,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        let index = fd as usize;
        if state.slots.len() <= index {
            state.slots.resize(index + 1, None);
            state.generations.resize(index + 1, 0);
        }
        let generation = state.generations[index].wrapping_add(1);
        state.generations[index] = generation;
        let mode = match trigger.kind() {
            Kind::Edge => Mode::Edge,
            Kind::Level => Mode::Level,
            Kind::OneShot => Mode::OneShot,
        };
        let slot = Slot {
            token,
            mask: poll_mask(interests),
            mode,
            generation,
            armed: true,
            batch: 0,
            at: 0,
        };
        state.slots[index] = Some(slot);
        self.queue(state, &poll_add(fd, &slot))
    }

    /// Forgets the registration and queues the removal of its request.
    fn remove(&self, state: &mut State, fd: RawFd) -> io::Result<()> {
        let Some(slot) = state.slots[fd as usize].take() else {
            return Ok(());
        };
        if !slot.armed {
            return Ok(());
        }
        let target = io_uring_user_data::from_u64(poll_data(fd, slot.generation));
        self.queue(state, &cancel_request(target))
    }

    /// The relay's multishot request, for readable (`epoll_timers.rs`
    /// tells its event apart by `EPOLLRDNORM`, which `drain` sets).
    fn add_relay(&self, nest: BorrowedFd<'_>) -> io::Result<()> {
        self.owned()?;
        let mut state = self.lock();
        state.relay = Some(nest.as_raw_fd());
        self.queue(&mut state, &relay_add(nest.as_raw_fd()))
    }

    /// Puts `sqe` in the submission queue; submits at once if the queue
    /// is full or a thread is waiting (so the change reaches its wait).
    fn queue(&self, state: &mut State, sqe: &io_uring_sqe) -> io::Result<()> {
        let mut tries = 0;
        while !self.ring.push(&mut state.sq_tail, sqe) {
            tries += 1;
            if tries > 1000 {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "the io_uring submission queue stays full",
                ));
            }
            // Room for completions, so that the kernel takes the queued
            // entries; not under a waiting thread's feet: it would find
            // the completions it was woken for gone (it drains them itself).
            if !state.waiting {
                self.reap(state);
            }
            self.submit_now(state)?;
        }
        if state.waiting || self.exposed.load(Ordering::Relaxed) {
            self.submit_now(state)?;
        }
        Ok(())
    }

    fn submit_now(&self, state: &State) -> io::Result<()> {
        let count = self.ring.unsubmitted(state.sq_tail);
        if count == 0 {
            return Ok(());
        }
        match self.ring.submit(count) {
            Ok(_) => Ok(()),
            // The kernel could not take them now (memory for overflowed
            // completions): they stay queued for the next wait.
            Err(e) if e.kind() == io::ErrorKind::ResourceBusy => Ok(()),
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::AGAIN.raw_os_error()) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Empties the completion queue without a `poll` (a program that
    /// changes many registrations between two): drops what can no longer
    /// be an event (removals, stale generations), keeps the rest in the
    /// backlog. Without this the kernel would keep every completion, in
    /// memory of its own, until the next `poll`.
    fn reap(&self, state: &mut State) {
        while let Some(completion) = self.ring.peek(state.cq_head) {
            state.cq_head = state.cq_head.wrapping_add(1);
            if completion.user_data >> KIND_SHIFT == KIND_CONTROL {
                continue;
            }
            let current = completion.user_data >> KIND_SHIFT != KIND_POLL || {
                let fd = (completion.user_data >> 32 & 0x3fff_ffff) as RawFd;
                slot_of(state, fd)
                    .is_some_and(|slot| slot.generation == completion.user_data as u32)
            };
            if current {
                state.backlog.push_back(completion);
            }
        }
        self.ring.consumed(state.cq_head);
    }

    /// Submits what is queued and waits for a completion, or `timeout`.
    fn wait(&self, timeout: Option<Duration>) -> io::Result<()> {
        let (count, timeout) = {
            let mut state = self.lock();
            // Completions in the backlog are ready now.
            // So are noted wakes (`uring_waker.rs`).
            let timeout = match state.backlog.is_empty() && !state.wakers.any_noted() {
                true => timeout,
                false => Some(Duration::ZERO),
            };
            let count = self.ring.unsubmitted(state.sq_tail);
            // Nothing to submit and no wait: the completion queue, shared
            // memory, already holds all the kernel would report, unless it
            // kept some aside (overflow). A completion's task work runs in
            // this thread whenever the kernel signals it, not only in a
            // system call, so entering the kernel would add nothing.
            if timeout == Some(Duration::ZERO) && count == 0 && !self.ring.cq_overflowed() {
                return Ok(());
            }
            state.waiting = true;
            (count, timeout)
        };
        let result = self.ring.submit_and_wait(count, timeout);
        self.lock().waiting = false;
        result
    }

    /// Turns completions into events, as room in `events` allows; leaves
    /// the rest in the queue for the next `poll`.
    fn drain(&self, events: &mut Events) -> io::Result<()> {
        let mut state = self.lock();
        state.batch += 1;
        let mut room = true;
        while let Some(&completion) = state.backlog.front() {
            room = self.complete(&mut state, completion, events);
            if !room {
                break;
            }
            state.backlog.pop_front();
        }
        let start = state.cq_head;
        // Noted wakes (`uring_waker.rs`) in their place among the
        // completions: before the first one posted after them.
        while room {
            let head = state.cq_head;
            room = state.wakers.report_noted(Some(head), wake_into(events));
            let Some(completion) = self.ring.peek(head).filter(|_| room) else {
                break;
            };
            if !self.complete(&mut state, completion, events) {
                room = false;
                break;
            }
            state.cq_head = head.wrapping_add(1);
        }
        if room {
            state.wakers.report_noted(None, wake_into(events));
        }
        if state.cq_head != start {
            self.ring.consumed(state.cq_head);
        }
        self.rearm(&mut state)?;
        if self.ring.cq_overflowed() && events.len() < events.capacity() {
            // The next wait moves the kept completions in at once.
            trace!("io_uring completion queue overflowed; completions kept by the kernel");
        }
        Ok(())
    }

    /// Handles one completion; false if it needs room `events` lacks (it
    /// stays in the queue).
    fn complete(&self, state: &mut State, c: Completion, events: &mut Events) -> bool {
        let more = c.flags & CQE_F_MORE != 0;
        match c.user_data >> KIND_SHIFT {
            KIND_POLL => {}
            KIND_RELAY => {
                if events.len() == events.capacity() {
                    return false;
                }
                let mark = EventFlags::IN | EventFlags::RDNORM;
                events.push(Event::new(mark, u64::MAX));
                if !more {
                    if let Some(relay) = state.relay {
                        state.rearms.push(Rearm::Relay(relay));
                    }
                }
                return true;
            }
            KIND_WAKE => {
                if events.len() == events.capacity() {
                    return false;
                }
                let id = WakerId::from_bits(c.user_data);
                if let Some(token) = state.wakers.complete(id) {
                    events.push(Event::new(EventFlags::IN, token.0 as u64));
                }
                return true;
            }
            _ => return true,
        }
        let fd = (c.user_data >> 32 & 0x3fff_ffff) as RawFd;
        let generation = c.user_data as u32;
        let batch = state.batch;
        let Some(slot) = state.slots.get_mut(fd as usize).and_then(Option::as_mut) else {
            return true;
        };
        if slot.generation != generation {
            return true;
        }
        // A descriptor closed (or never open) before its request reached
        // the kernel: forgotten, as epoll forgets a closed descriptor.
        if c.res == -(rustix::io::Errno::BADF.raw_os_error()) {
            state.slots[fd as usize] = None;
            return true;
        }
        // Ended by the kernel, not by evmux (whose removals and changes
        // move the generation on first): the thread that submitted the
        // request exited, so the work that would have posted its
        // completion could not run there. Not an event: queued again from
        // this thread, the request reports the readiness there is at once.
        if c.res == -(rustix::io::Errno::CANCELED.raw_os_error()) {
            state.rearms.push(Rearm::Poll(fd, generation));
            return true;
        }
        // Another failure: an error event, once.
        let flags = if c.res < 0 {
            EventFlags::ERR.bits()
        } else {
            reported(fd, slot.mask, c.res as u32)
        };
        // Nothing the registration asked for (see `reported`): no event;
        // a request that ended is queued again, whatever its mode.
        if flags == 0 {
            if !more {
                state.rearms.push(Rearm::Poll(fd, generation));
            }
            return true;
        }
        if slot.batch == batch {
            events[slot.at] = events[slot.at].with_flags(flags);
        } else if events.len() == events.capacity() {
            return false;
        } else {
            slot.batch = batch;
            slot.at = events.len();
            events.push(Event::new(
                EventFlags::from_bits_retain(flags),
                slot.token.0 as u64,
            ));
        }
        if more {
            return true;
        }
        // The request ended: a multishot one the kernel stopped, or a
        // one-shot one that fired.
        let rearm = c.res >= 0 && matches!(slot.mode, Mode::Edge | Mode::Level);
        slot.armed = rearm;
        if rearm {
            state.rearms.push(Rearm::Poll(fd, generation));
        }
        true
    }

    /// Queues the requests that ended during `drain` again. One that
    /// cannot be queued now stays listed for the next `poll`.
    fn rearm(&self, state: &mut State) -> io::Result<()> {
        while let Some(&rearm) = state.rearms.last() {
            let sqe = match rearm {
                Rearm::Relay(fd) => Some(relay_add(fd)),
                Rearm::Poll(fd, generation) => slot_of(state, fd)
                    .filter(|slot| slot.generation == generation && slot.armed)
                    .map(|slot| poll_add(fd, slot)),
            };
            if let Some(sqe) = sqe {
                self.queue(state, &sqe)?;
            }
            state.rearms.pop();
        }
        Ok(())
    }

    /// Wakes the `poll` in progress, by a no-op submitted at once, or the
    /// next one, by a note (`uring_waker.rs`).
    pub(super) fn wake(&self, id: WakerId) -> io::Result<()> {
        self.owned()?;
        let mut state = self.lock();
        if !state.wakers.start_wake(id) {
            return Ok(());
        }
        // No thread waits: the next `poll` finds the wake noted. Queueing
        // a request instead could make this thread submit the polling
        // thread's queued registrations (a full queue), whose completions
        // would then be task work of this thread.
        if !state.waiting && !self.exposed.load(Ordering::Relaxed) {
            let cq_tail = self.ring.cq_tail();
            state.wakers.note(id, cq_tail);
            return Ok(());
        }
        let queued = self.queue(&mut state, &wake_request(id.bits()));
        if queued.is_err() {
            state.wakers.abandon_wake(id);
        }
        queued
    }

    /// Submits what is queued, with a request for each noted wake: the
    /// ring's descriptor is handed out, and whoever waits on it sees only
    /// completions.
    fn expose(&self, state: &mut State) -> io::Result<()> {
        let mut result = Ok(());
        for id in state.wakers.unnote() {
            if let Err(error) = self.queue(state, &wake_request(id.bits())) {
                // Not on its way after all: the next wake tries again.
                state.wakers.abandon_wake(id);
                result = Err(error);
            }
        }
        result.and_then(|()| self.submit_now(state))
    }

    pub(super) fn remove_waker(&self, id: WakerId) {
        // A forked child's copy of a waker: the lock may have been held
        // by a thread of the parent at the fork, and nothing is reported
        // in the child anyway.
        if self.ring.inherited() {
            return;
        }
        self.lock().wakers.remove(id);
    }

    /// Removes what a dropped I/O source left registered, at once (see
    /// the module docs); nothing if it was not.
    pub(crate) fn forget(&self, fd: RawFd) {
        // A forked child's copy of a source: the parent's ring is not its.
        if self.ring.inherited() {
            return;
        }
        let mut state = self.lock();
        if slot_of(&state, fd).is_some() {
            let removed = self
                .remove(&mut state, fd)
                .and_then(|()| self.submit_now(&state));
            if let Err(error) = removed {
                warn!(
                    "failed to remove a dropped source's poll request: {}",
                    error
                );
            }
        }
    }
}

impl AsFd for Selector {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // Submit what is queued now, and every change from now on.
        self.shared.exposed.store(true, Ordering::Relaxed);
        // In a forked child nothing is submitted (see `Shared::owned`),
        // and the lock may have been held by a thread of the parent.
        if !self.shared.ring.inherited() {
            let mut state = self.shared.lock();
            if let Err(error) = self.shared.expose(&mut state) {
                warn!("failed to submit to the io_uring: {}", error);
            }
        }
        self.shared.ring.as_fd()
    }
}

/// Reports a noted wake into `events`, if they have room (see
/// `Wakers::report_noted`).
fn wake_into(events: &mut Events) -> impl FnMut(Token) -> bool + '_ {
    |token| {
        let room = events.len() < events.capacity();
        if room {
            events.push(Event::new(EventFlags::IN, token.0 as u64));
        }
        room
    }
}

fn poll_add(fd: RawFd, slot: &Slot) -> io_uring_sqe {
    let multishot = slot.mode == Mode::Edge;
    poll_request(fd, slot.mask, multishot, poll_data(fd, slot.generation))
}
