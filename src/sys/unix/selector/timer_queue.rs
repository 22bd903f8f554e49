//! The deadlines of `time::Timer`s, one queue per selector on every
//! backend: a min-heap of expirations that the selector folds into its
//! wait, and whose due timers it reports readable. No timer has a
//! descriptor or handle of its own. `TimerTable` is what
//! `sys/unix/timer/queue.rs` asks of the selector.
//!
//! How the earliest deadline ends a wait is the selector's business: the
//! table-based selectors (poll(2), event ports, WASI) shorten their wait
//! to it; epoll and kqueue keep one OS timer per selector set to it (see
//! `OsTimer`, below), which also ends a wait already in progress when
//! another thread sets an earlier deadline; Windows shortens its wait and
//! posts to the completion port for the latter.
//!
//! Entries in the heap are never updated in place: setting or removing a
//! timer bumps its sequence number, and a heap entry whose number is
//! stale is dropped when it reaches the top (or when stale entries
//! outnumber live ones, by a rebuild). Adding, setting and removing cost
//! O(log n); finding the next deadline O(1) amortised.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use std::io;

#[cfg(any(
    evmux_selector = "poll",
    evmux_selector = "event_ports",
    evmux_selector = "wasi"
))]
use crate::sys::poll_events::{Event, Events, POLLIN};
use crate::time::Schedule;
use crate::Token;

/// A selector's timers, shared with the `Timer`s registered with it.
pub(crate) trait TimerTable {
    /// Runs `f` on the queue, under the selector's lock.
    fn with_timers<R>(&self, f: impl FnOnce(&mut TimerQueue) -> R) -> R;

    /// Tells a waiting `select` that the earliest deadline may have moved
    /// earlier.
    fn timers_changed(&self) -> io::Result<()>;

    /// Adds a timer; returns its id.
    fn add_timer(&self, token: Token, schedule: Option<Schedule>) -> io::Result<u64> {
        let id = self.with_timers(|timers| timers.insert(token, schedule));
        if schedule.is_some() {
            if let Err(error) = self.timers_changed() {
                self.remove_timer(id);
                return Err(error);
            }
        }
        Ok(id)
    }

    /// Arms or disarms a timer.
    fn set_timer(&self, id: u64, schedule: Option<Schedule>) -> io::Result<()> {
        self.with_timers(|timers| timers.set(id, schedule));
        if schedule.is_some() {
            self.timers_changed()?;
        }
        Ok(())
    }

    /// Changes a timer's token.
    fn set_timer_token(&self, id: u64, token: Token) {
        self.with_timers(|timers| timers.set_token(id, token));
    }

    /// Removes a timer.
    fn remove_timer(&self, id: u64) {
        self.with_timers(|timers| timers.remove(id));
    }
}

/// One timer.
#[derive(Debug)]
struct Entry {
    token: Token,
    schedule: Option<Schedule>,
    /// Which heap entry is current.
    sequence: u64,
}

/// The timers of one selector, by id.
#[derive(Debug, Default)]
pub(crate) struct TimerQueue {
    heap: BinaryHeap<Reverse<(Instant, u64, u64)>>,
    timers: HashMap<u64, Entry>,
    next_id: u64,
    next_sequence: u64,
}

impl TimerQueue {
    /// Adds a timer reported with `token`, armed by `schedule`; returns its
    /// id.
    pub(crate) fn insert(&mut self, token: Token, schedule: Option<Schedule>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let entry = Entry {
            token,
            schedule: None,
            sequence: 0,
        };
        self.timers.insert(id, entry);
        self.set(id, schedule);
        id
    }

    /// Changes a timer's token; false if there is no such timer.
    pub(crate) fn set_token(&mut self, id: u64, token: Token) -> bool {
        let entry = self.timers.get_mut(&id);
        entry.map(|entry| entry.token = token).is_some()
    }

    /// Arms (`Some`) or disarms (`None`) a timer; false if there is none.
    pub(crate) fn set(&mut self, id: u64, schedule: Option<Schedule>) -> bool {
        let Some(entry) = self.timers.get_mut(&id) else {
            return false;
        };
        self.next_sequence += 1;
        entry.sequence = self.next_sequence;
        entry.schedule = schedule;
        if let Some(schedule) = schedule {
            self.heap
                .push(Reverse((schedule.next, id, self.next_sequence)));
        }
        self.compact();
        true
    }

    /// Removes a timer; false if there was none.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        let removed = self.timers.remove(&id).is_some();
        self.compact();
        removed
    }

    /// The earliest deadline of an armed timer.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        self.drop_stale();
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Reports every timer due at `now`, up to `room` of them, through
    /// `report`, and moves each past `now` (a one-shot one is done). Returns
    /// how many were reported.
    pub(crate) fn expire(
        &mut self,
        now: Instant,
        room: usize,
        mut report: impl FnMut(Token),
    ) -> usize {
        let mut reported = 0;
        while reported < room {
            match self.next_deadline() {
                Some(at) if at <= now => {}
                _ => break,
            }
            let Some(Reverse((_, id, _))) = self.heap.pop() else {
                break;
            };
            let Some(entry) = self.timers.get(&id) else {
                continue;
            };
            report(entry.token);
            reported += 1;
            // One event per poll however many periods passed (`Timer::read`
            // counts them); a one-shot timer is done.
            let left = entry
                .schedule
                .and_then(|schedule| schedule.expirations(now).1);
            self.set(id, left);
        }
        reported
    }

    /// How long a selector may wait: `wait`, or less to wake for the next
    /// deadline, and then true.
    #[cfg_attr(
        any(evmux_selector = "epoll", evmux_selector = "kqueue"),
        allow(dead_code)
    )]
    pub(crate) fn bound(&mut self, wait: Option<Duration>) -> (Option<Duration>, bool) {
        let Some(at) = self.next_deadline() else {
            return (wait, false);
        };
        let timer = at.saturating_duration_since(Instant::now());
        match wait {
            Some(wait) if wait <= timer => (Some(wait), false),
            _ => (Some(timer), true),
        }
    }

    /// Whether a timer is due now (for an `Events` of capacity zero;
    /// event ports, epoll and kqueue wait on their descriptor for those
    /// instead, and Windows for no longer than the earliest deadline).
    #[cfg_attr(
        any(
            evmux_selector = "event_ports",
            evmux_selector = "epoll",
            evmux_selector = "kqueue",
            evmux_selector = "iocp"
        ),
        allow(dead_code)
    )]
    pub(crate) fn is_due(&mut self) -> bool {
        let now = Instant::now();
        self.next_deadline().is_some_and(|at| at <= now)
    }

    /// Reports the timers that are due, readable, as room in `events`
    /// allows.
    #[cfg(any(
        evmux_selector = "poll",
        evmux_selector = "event_ports",
        evmux_selector = "wasi"
    ))]
    pub(crate) fn expire_into(&mut self, events: &mut Events) {
        let room = events.capacity() - events.len();
        let readable = |token| {
            events.push(Event {
                token,
                flags: POLLIN,
            })
        };
        self.expire(Instant::now(), room, readable);
    }

    /// Pops stale entries off the top of the heap.
    fn drop_stale(&mut self) {
        while let Some(Reverse((_, id, sequence))) = self.heap.peek() {
            let current = self
                .timers
                .get(id)
                .is_some_and(|entry| entry.sequence == *sequence && entry.schedule.is_some());
            if current {
                break;
            }
            self.heap.pop();
        }
    }

    /// Rebuilds the heap once stale entries outnumber live ones.
    fn compact(&mut self) {
        if self.heap.len() <= 2 * self.timers.len() + 16 {
            return;
        }
        let timers = &self.timers;
        self.heap.retain(|Reverse((_, id, sequence))| {
            timers
                .get(id)
                .is_some_and(|entry| entry.sequence == *sequence)
        });
    }
}

/// One OS timer per selector, set to the earliest deadline (epoll's
/// timerfd, kqueue's `EVFILT_TIMER`): whatever the OS needs to make it
/// fire `after` from now, once.
#[cfg(any(evmux_selector = "epoll", evmux_selector = "kqueue"))]
pub(crate) trait OsTimer {
    fn fire_after(&self, after: Duration) -> io::Result<()>;
}

/// A queue and the deadline its OS timer is set to.
///
/// The rule that keeps every deadline reported: while a timer is armed,
/// the OS timer is set for no later than the earliest deadline, or has
/// fired and its event not yet been handled (`fired`). Setting it later
/// than needed is harmless (a wait that finds nothing due goes on), so a
/// deadline that moves later, or a timer removed, costs no system call,
/// and nor does one armed after the earliest.
#[cfg(any(evmux_selector = "epoll", evmux_selector = "kqueue"))]
#[derive(Debug, Default)]
pub(crate) struct DrivenQueue {
    pub(crate) queue: TimerQueue,
    /// The deadline the OS timer is set for; `None` if it is not set, or
    /// fired and was handled.
    set_for: Option<Instant>,
}

#[cfg(any(evmux_selector = "epoll", evmux_selector = "kqueue"))]
impl DrivenQueue {
    /// Sets the OS timer for the earliest deadline if it is not already
    /// set for that or earlier. `fired`: its event was just handled, so it
    /// is set for nothing.
    pub(crate) fn drive(&mut self, os: &impl OsTimer, fired: bool) -> io::Result<()> {
        if fired {
            self.set_for = None;
        }
        let Some(next) = self.queue.next_deadline() else {
            return Ok(());
        };
        if self.set_for.is_some_and(|at| at <= next) {
            return Ok(());
        }
        // A deadline already due fires in a nanosecond (zero would disarm
        // a timerfd).
        let after = next
            .saturating_duration_since(Instant::now())
            .max(Duration::from_nanos(1));
        os.fire_after(after)?;
        self.set_for = Some(next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn once(at: Instant) -> Option<Schedule> {
        Some(Schedule {
            next: at,
            repeat: None,
        })
    }

    #[test]
    fn due_timers_are_reported_in_deadline_order_and_once() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut queue = TimerQueue::default();
        let late = queue.insert(Token(2), once(start + ms(20)));
        queue.insert(Token(1), once(start + ms(10)));
        queue.insert(Token(3), None);
        assert_eq!(queue.next_deadline(), Some(start + ms(10)));
        let mut seen = Vec::new();
        assert_eq!(queue.expire(start + ms(15), 8, |t| seen.push(t)), 1);
        assert_eq!(seen, [Token(1)]);
        // Re-set, then removed: neither the old nor the new deadline fires.
        queue.set(late, once(start + ms(30)));
        queue.remove(late);
        assert_eq!(queue.next_deadline(), None);
        assert_eq!(queue.expire(start + ms(100), 8, |t| seen.push(t)), 0);
    }

    #[test]
    fn a_periodic_timer_moves_past_now_and_respects_room() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut queue = TimerQueue::default();
        let periodic = Some(Schedule {
            next: start + ms(10),
            repeat: Some(crate::time::Repeat::Rate(ms(10), Default::default())),
        });
        let a = queue.insert(Token(1), periodic);
        queue.insert(Token(2), periodic);
        let mut seen = Vec::new();
        assert_eq!(queue.expire(start + ms(35), 1, |t| seen.push(t)), 1);
        assert_eq!(queue.expire(start + ms(35), 8, |t| seen.push(t)), 1);
        seen.sort();
        assert_eq!(seen, [Token(1), Token(2)]);
        assert_eq!(queue.next_deadline(), Some(start + ms(40)));
        assert!(queue.set_token(a, Token(9)));
        assert!(!queue.set_token(77, Token(9)));
    }

    #[test]
    fn resetting_many_times_keeps_the_heap_small() {
        let start = Instant::now();
        let mut queue = TimerQueue::default();
        let id = queue.insert(Token(0), None);
        for i in 0..10_000 {
            queue.set(id, once(start + Duration::from_secs(i)));
        }
        assert!(queue.heap.len() <= 2 * queue.timers.len() + 17);
        assert_eq!(
            queue.next_deadline(),
            Some(start + Duration::from_secs(9_999))
        );
    }
}
