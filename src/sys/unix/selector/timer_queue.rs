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

#[path = "min_heap.rs"]
mod min_heap;

use self::min_heap::MinHeap;
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

    /// Tells a waiting `select` that the earliest deadline moved earlier.
    fn timers_changed(&self) -> io::Result<()>;

    /// Adds a timer; returns its id.
    fn add_timer(&self, token: Token, schedule: Option<Schedule>) -> io::Result<u64> {
        let (id, earlier) = self
            .with_timers(|timers| timers.moves_earliest(|timers| timers.insert(token, schedule)));
        let id = id
            .ok_or_else(|| io::Error::new(io::ErrorKind::OutOfMemory, "2^32 timers on one Poll"))?;
        if earlier {
            if let Err(error) = self.timers_changed() {
                self.remove_timer(id);
                return Err(error);
            }
        }
        Ok(id)
    }

    /// Arms or disarms a timer. Only a deadline earlier than every other
    /// costs more than the queue's work (`timers_changed`).
    fn set_timer(&self, id: u64, schedule: Option<Schedule>) -> io::Result<()> {
        let (_, earlier) =
            self.with_timers(|timers| timers.moves_earliest(|timers| timers.set(id, schedule)));
        if earlier {
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
}

/// A slot for a timer; its sequence number outlives the timer, so that a
/// heap entry left by an earlier occupant never matches a later one.
#[derive(Debug, Default)]
struct Slot {
    /// Which heap entry is current.
    sequence: u32,
    entry: Option<Entry>,
}

/// A heap entry, packed into one integer ordered as the heap needs:
/// the deadline (nanoseconds after the queue's epoch) in the high 64 bits,
/// then the slot and its sequence number. Sixteen bytes: a million armed
/// timers take 16 MB of heap, half of what `(Instant, u64, u64)` takes.
///
/// A sequence number wraps after 2^32 settings of one slot, but an entry
/// cannot live that long: every setting pushes one entry, and the heap is
/// compacted once it holds more than twice the live timers plus 16.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key(u128);

impl Key {
    fn new(nanos: u64, slot: u32, sequence: u32) -> Key {
        Key(u128::from(nanos) << 64 | u128::from(slot) << 32 | u128::from(sequence))
    }

    fn nanos(self) -> u64 {
        (self.0 >> 64) as u64
    }

    fn slot(self) -> u32 {
        (self.0 >> 32) as u32
    }

    fn sequence(self) -> u32 {
        self.0 as u32
    }
}

/// The timers of one selector, in slots; a timer's id is its slot's
/// index, which is reused once the timer is removed.
#[derive(Debug, Default)]
pub(crate) struct TimerQueue {
    heap: MinHeap<Key>,
    slots: Vec<Slot>,
    /// Slots free for reuse.
    free: Vec<u32>,
    /// Slots in use.
    live: usize,
    /// What deadlines are counted from: when the first was set. Earlier
    /// deadlines (already due) count as at the epoch.
    epoch: Option<Instant>,
}

impl TimerQueue {
    /// Adds a timer reported with `token`, armed by `schedule`; returns its
    /// id, or `None` if the queue is full (2^32 timers).
    pub(crate) fn insert(&mut self, token: Token, schedule: Option<Schedule>) -> Option<u64> {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                let slot = u32::try_from(self.slots.len()).ok()?;
                self.slots.push(Slot::default());
                slot
            }
        };
        self.slots[slot as usize].entry = Some(Entry {
            token,
            schedule: None,
        });
        self.live += 1;
        let id = u64::from(slot);
        self.set(id, schedule);
        Some(id)
    }

    fn slot(&self, id: u64) -> Option<&Slot> {
        self.slots.get(usize::try_from(id).ok()?)
    }

    fn entry(&self, id: u64) -> Option<&Entry> {
        self.slot(id)?.entry.as_ref()
    }

    /// Changes a timer's token; false if there is no such timer.
    pub(crate) fn set_token(&mut self, id: u64, token: Token) -> bool {
        let slot = usize::try_from(id)
            .ok()
            .and_then(|id| self.slots.get_mut(id));
        let entry = slot.and_then(|slot| slot.entry.as_mut());
        entry.map(|entry| entry.token = token).is_some()
    }

    /// Arms (`Some`) or disarms (`None`) a timer; false if there is none.
    pub(crate) fn set(&mut self, id: u64, schedule: Option<Schedule>) -> bool {
        let nanos = schedule.map(|schedule| self.nanos(schedule.next));
        let Some(slot) = usize::try_from(id)
            .ok()
            .and_then(|id| self.slots.get_mut(id))
        else {
            return false;
        };
        let Some(entry) = &mut slot.entry else {
            return false;
        };
        entry.schedule = schedule;
        slot.sequence = slot.sequence.wrapping_add(1);
        if let Some(nanos) = nanos {
            // Ids are slot indices, which fit in 32 bits (`insert`).
            let key = Key::new(nanos, id as u32, slot.sequence);
            self.heap.push(key);
        }
        self.compact();
        true
    }

    /// Removes a timer; false if there was none.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        let Some(slot) = usize::try_from(id)
            .ok()
            .and_then(|id| self.slots.get_mut(id))
        else {
            return false;
        };
        if slot.entry.take().is_none() {
            return false;
        }
        slot.sequence = slot.sequence.wrapping_add(1);
        self.free.push(id as u32);
        self.live -= 1;
        self.compact();
        true
    }

    /// Runs `change`, and tells whether it moved the earliest deadline
    /// earlier (or armed the first timer).
    fn moves_earliest<R>(&mut self, change: impl FnOnce(&mut TimerQueue) -> R) -> (R, bool) {
        let before = self.next_deadline();
        let result = change(self);
        let after = self.next_deadline();
        let earlier = match (before, after) {
            (Some(before), Some(after)) => after < before,
            (None, after) => after.is_some(),
            (Some(_), None) => false,
        };
        (result, earlier)
    }

    /// `at` in nanoseconds after the epoch (now, at the first call).
    fn nanos(&mut self, at: Instant) -> u64 {
        let epoch = *self.epoch.get_or_insert_with(Instant::now);
        let nanos = at.saturating_duration_since(epoch).as_nanos();
        u64::try_from(nanos).unwrap_or(u64::MAX)
    }

    /// The instant `nanos` after the epoch.
    fn instant(&self, nanos: u64) -> Option<Instant> {
        self.epoch?.checked_add(Duration::from_nanos(nanos))
    }

    /// Whether `key` is its timer's current, armed setting.
    fn is_current(&self, key: Key) -> bool {
        self.slot(u64::from(key.slot())).is_some_and(|slot| {
            slot.sequence == key.sequence()
                && slot.entry.as_ref().is_some_and(|e| e.schedule.is_some())
        })
    }

    /// The earliest deadline of an armed timer.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        self.drop_stale();
        let key = self.heap.peek()?;
        // Beyond what an `Instant` holds: never.
        self.instant(key.nanos())
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
            let Some(key) = self.heap.pop() else {
                break;
            };
            let id = u64::from(key.slot());
            let Some(entry) = self.entry(id) else {
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
        while let Some(key) = self.heap.peek() {
            if self.is_current(key) {
                break;
            }
            self.heap.pop();
        }
    }

    /// Rebuilds the heap once stale entries outnumber live ones.
    fn compact(&mut self) {
        if self.heap.len() <= 2 * self.live + 16 {
            return;
        }
        let mut heap = std::mem::take(&mut self.heap);
        heap.retain(|key| self.is_current(*key));
        self.heap = heap;
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
        let late = queue.insert(Token(2), once(start + ms(20))).unwrap();
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
        let a = queue.insert(Token(1), periodic).unwrap();
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
        let id = queue.insert(Token(0), None).unwrap();
        for i in 0..10_000 {
            queue.set(id, once(start + Duration::from_secs(i)));
        }
        assert!(queue.heap.len() <= 2 * queue.live + 17);
        assert_eq!(
            queue.next_deadline(),
            Some(start + Duration::from_secs(9_999))
        );
    }

    #[test]
    fn a_reused_slot_never_fires_for_its_last_timer() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut queue = TimerQueue::default();
        let first = queue.insert(Token(1), once(start + ms(10))).unwrap();
        queue.remove(first);
        let second = queue.insert(Token(2), None).unwrap();
        assert_eq!(first, second);
        let mut seen = Vec::new();
        assert_eq!(queue.expire(start + ms(50), 8, |t| seen.push(t)), 0);
        // A deadline before the queue's epoch is due at once.
        let past = start.checked_sub(ms(5)).unwrap_or(start);
        queue.set(second, once(past));
        assert_eq!(queue.expire(Instant::now(), 8, |t| seen.push(t)), 1);
        assert_eq!(seen, [Token(2)]);
    }
}
