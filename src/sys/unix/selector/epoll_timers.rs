//! `time::Timer`s on epoll: one deadline queue per selector, and one
//! `timerfd` per selector set to its earliest deadline.
//!
//! The timerfd (CLOCK_MONOTONIC, the clock behind `Instant`) keeps the
//! kernel timer's precision: it wakes the waiting thread at the deadline
//! without the timer slack that a wait's own timeout pays (see the
//! README's timer lateness). Setting it from another thread
//! (`timerfd_settime`) ends a wait in progress at the new deadline; no
//! wake-up is needed.
//!
//! # Telling the timer's event apart
//!
//! A user's token can be any `usize`, so no token value is free to mark
//! the timer's event. Its flags mark it instead: the timerfd sits in a
//! small epoll instance of its own (the relay), and the relay is in the
//! selector's set for `EPOLLIN | EPOLLRDNORM`, edge-triggered. An epoll
//! instance reports `EPOLLIN | EPOLLRDNORM` when it has an event, and
//! the kernel reports only the flags a registration asked for: evmux never
//! asks for `EPOLLRDNORM` for anything else, so an event carrying it is
//! the relay's, whatever its token. The selector removes it from the
//! batch, then reports the timers that are due.
//!
//! The timerfd is never read: `timerfd_settime` clears its count, so each
//! expiration after a setting is a new edge. The relay and the timerfd
//! are created when the first timer is registered: a `Poll` without
//! timers costs no more than before.
//!
//! Man pages: timerfd_create(2) (`timerfd_settime`), epoll(7) (an epoll
//! descriptor in an epoll set).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rustix::event::epoll::{self, EventData, EventFlags};
use rustix::time::{Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags};

use super::{token_data, Event, Events};
use crate::sys::lock;
use crate::sys::timeout::timespec;
use crate::sys::timer_queue::{DrivenQueue, OsTimer, TimerQueue, TimerTable};

/// The flag only the relay's event carries.
const MARK: EventFlags = EventFlags::RDNORM;

/// A selector's timers.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    /// Set once the relay exists: `select` looks for timers from then on.
    active: AtomicBool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    driven: DrivenQueue,
    relay: Option<Relay>,
}

/// The timerfd, and the epoll instance that relays it to the selector.
#[derive(Debug)]
struct Relay {
    timerfd: OwnedFd,
    _nest: OwnedFd,
}

impl OsTimer for Relay {
    fn fire_after(&self, after: Duration) -> io::Result<()> {
        let spec = Itimerspec {
            it_interval: timespec(Duration::ZERO),
            it_value: timespec(after),
        };
        rustix::time::timerfd_settime(&self.timerfd, TimerfdTimerFlags::empty(), &spec)?;
        Ok(())
    }
}

/// Adds the relay `nest` to the selector's epoll set `ep`.
pub(super) fn add_relay(ep: BorrowedFd<'_>, nest: BorrowedFd<'_>) -> io::Result<()> {
    let relayed = EventFlags::IN | MARK | EventFlags::ET;
    epoll::add(ep, nest, EventData::new_u64(u64::MAX), relayed)?;
    Ok(())
}

impl Relay {
    /// A disarmed timerfd in a new epoll instance, which `add` puts into
    /// the selector (the io_uring selector watches it with a poll request
    /// and reports its event with `MARK` too).
    fn new(add: impl FnOnce(BorrowedFd<'_>) -> io::Result<()>) -> io::Result<Relay> {
        let flags = TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC;
        let timerfd = rustix::time::timerfd_create(TimerfdClockId::Monotonic, flags)?;
        let nest = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        epoll::add(&nest, &timerfd, EventData::new_u64(0), EventFlags::IN)?;
        add(nest.as_fd())?;
        Ok(Relay {
            timerfd,
            _nest: nest,
        })
    }
}

impl Timers {
    /// Whether any timer was ever registered with this selector (or is
    /// being registered: then there may be no relay yet).
    #[inline]
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::SeqCst)
    }

    /// Creates the relay and puts it into the selector with `add`, once.
    /// `active` is set first: a `select` that sees the relay's event
    /// (after `add` added it) then sees `active` too, and takes the event
    /// out.
    pub(crate) fn start(
        &self,
        add: impl FnOnce(BorrowedFd<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        if self.is_active() {
            return Ok(());
        }
        let mut state = lock(&self.state);
        if state.relay.is_none() {
            self.active.store(true, Ordering::SeqCst);
            match Relay::new(add) {
                Ok(relay) => state.relay = Some(relay),
                Err(error) => {
                    self.active.store(false, Ordering::SeqCst);
                    return Err(error);
                }
            }
        }
        Ok(())
    }

    /// After a wait: takes the relay's event out of `events`, adds the
    /// timers that are due (as room allows), and sets the timerfd for the
    /// next deadline. Returns true if the relay's event was there.
    pub(crate) fn after_wait(&self, events: &mut Events) -> io::Result<bool> {
        let before = events.len();
        events.retain(|event| !is_relay(event));
        let fired = events.len() != before;
        let mut state = lock(&self.state);
        let State { driven, relay } = &mut *state;
        let room = events.capacity() - events.len();
        driven.queue.expire(Instant::now(), room, |token| {
            events.push(Event(epoll::Event {
                flags: EventFlags::IN,
                data: token_data(token),
            }));
        });
        if let Some(relay) = relay {
            driven.drive(relay, fired)?;
        }
        Ok(fired)
    }
}

fn is_relay(event: &Event) -> bool {
    // Copied out: the struct is packed on x86-64.
    let epoll::Event { flags, .. } = event.0;
    flags.contains(MARK)
}

impl TimerTable for Timers {
    fn with_timers<R>(&self, f: impl FnOnce(&mut TimerQueue) -> R) -> R {
        f(&mut lock(&self.state).driven.queue)
    }

    fn timers_changed(&self) -> io::Result<()> {
        let mut state = lock(&self.state);
        let State { driven, relay } = &mut *state;
        match relay {
            Some(relay) => driven.drive(relay, false),
            None => Ok(()),
        }
    }
}
