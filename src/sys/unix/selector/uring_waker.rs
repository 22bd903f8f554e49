//! The io_uring selector's `Waker`: a no-op request (`IORING_OP_NOP`) on
//! the `Poll`'s ring, whose completion is the waker's event.
//!
//! A no-op completes inside the `io_uring_enter` that submits it, in the
//! waking thread: its completion is posted, and a thread waiting in `poll`
//! woken, right there. An eventfd would be one system call too, but its
//! readiness reaches the ring through a poll request, whose completion is
//! task work of the thread that submitted that request: the `poll`ing
//! thread has to be interrupted to run it (an inter-processor interrupt
//! when it is running elsewhere), which is what made a single wake from
//! another core take tens of microseconds where epoll takes one.
//!
//! A wake made while no thread waits needs no request: it is noted
//! (`Wakers::noted`), and the next `poll` returns at once with it. (A
//! request queued then would have to be submitted by the waking thread
//! when the polling thread's registrations filled the submission queue,
//! which would make their poll requests task work of the waking thread.)
//! A note keeps the completion queue's tail at the moment it was made:
//! `poll` reports it between the completions posted before and those
//! posted after, where its no-op's completion would have been, so that
//! wakers and sources take turns when `Events` has room for fewer. Only a
//! wake made while a thread waits, or while the ring's descriptor is
//! handed out (a nested `Poll`, whose readiness is a completion), submits
//! its no-op. While a wake is on its way (noted, or its request queued or
//! completed and not yet reported), further wakes add nothing, as further
//! writes to an eventfd add no new readiness: the next `poll` reports the
//! waker once.

use std::collections::VecDeque;
use std::io;
use std::sync::Weak;

use super::uring::Shared;
use crate::Token;

/// A `Waker` on an io_uring `Poll`. Weak: a waker does not keep a dropped
/// `Poll`'s ring (and the files its requests hold) alive; waking after
/// the `Poll` is gone does nothing, as writing to an eventfd nobody polls.
#[derive(Debug)]
pub(crate) struct RingWaker {
    shared: Weak<Shared>,
    id: WakerId,
}

impl RingWaker {
    pub(super) fn new(shared: Weak<Shared>, id: WakerId) -> RingWaker {
        RingWaker { shared, id }
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        match self.shared.upgrade() {
            Some(shared) => shared.wake(self.id),
            None => Ok(()),
        }
    }
}

impl Drop for RingWaker {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            shared.remove_waker(self.id);
        }
    }
}

/// A waker's place in `Wakers`: an index, and a generation that tells a
/// completion of a dropped waker from one of the waker later at its index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct WakerId {
    index: u32,
    generation: u32,
}

impl WakerId {
    /// The low 62 bits of a request's `user_data` (the selector puts the
    /// request's kind above).
    pub(super) fn bits(self) -> u64 {
        u64::from(self.index) << 32 | u64::from(self.generation)
    }

    pub(super) fn from_bits(bits: u64) -> WakerId {
        WakerId {
            index: (bits >> 32 & 0x3fff_ffff) as u32,
            generation: bits as u32,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    token: Token,
    generation: u32,
    /// A wake is on its way: noted, or its request queued or completed,
    /// and not yet reported.
    pending: bool,
}

/// The wakers of one ring (under the selector's lock).
#[derive(Debug, Default)]
pub(super) struct Wakers {
    slots: Vec<Option<Slot>>,
    next_generation: u32,
    /// Wakes on their way without a request (no thread was waiting), in
    /// the order made, each with the completion queue's tail when it was
    /// made: the next `poll` reports them.
    noted: VecDeque<(WakerId, u32)>,
}

impl Wakers {
    pub(super) fn add(&mut self, token: Token) -> WakerId {
        self.next_generation = self.next_generation.wrapping_add(1);
        let slot = Slot {
            token,
            generation: self.next_generation,
            pending: false,
        };
        let index = match self.slots.iter().position(Option::is_none) {
            Some(index) => index,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.slots[index] = Some(slot);
        WakerId {
            index: index as u32,
            generation: slot.generation,
        }
    }

    pub(super) fn remove(&mut self, id: WakerId) {
        if self.slot(id).is_some() {
            self.slots[id.index as usize] = None;
            self.noted.retain(|&(noted, _)| noted != id);
        }
    }

    /// Whether a wake must queue a request (none is on its way); if so,
    /// one is from now on.
    pub(super) fn start_wake(&mut self, id: WakerId) -> bool {
        match self.slot(id) {
            Some(slot) if !slot.pending => {
                slot.pending = true;
                true
            }
            _ => false,
        }
    }

    /// The wake `start_wake` began is noted, without a request, when the
    /// completion queue's tail is `cq_tail`.
    pub(super) fn note(&mut self, id: WakerId, cq_tail: u32) {
        if self.slot(id).is_some() {
            self.noted.push_back((id, cq_tail));
        }
    }

    /// Whether a noted wake waits to be reported.
    pub(super) fn any_noted(&self) -> bool {
        !self.noted.is_empty()
    }

    /// Reports the noted wakes made before the completion at position
    /// `before` of the completion queue was posted (all with `None`), as
    /// long as `report` has room (returns true); false if it ran out. The
    /// rest stay noted for later.
    pub(super) fn report_noted(
        &mut self,
        before: Option<u32>,
        mut report: impl FnMut(Token) -> bool,
    ) -> bool {
        while let Some(&(id, at)) = self.noted.front() {
            if before.is_some_and(|position| (position.wrapping_sub(at) as i32) < 0) {
                return true;
            }
            if let Some(slot) = self.slot(id) {
                if !report(slot.token) {
                    return false;
                }
                slot.pending = false;
            }
            self.noted.pop_front();
        }
        true
    }

    /// Turns the noted wakes into wakes on their way by request (the ring's
    /// descriptor was handed out: see `Shared::wake`): the wakers whose
    /// no-op the caller queues.
    pub(super) fn unnote(&mut self) -> Vec<WakerId> {
        self.noted.drain(..).map(|(id, _)| id).collect()
    }

    /// The request a wake started could not be queued.
    pub(super) fn abandon_wake(&mut self, id: WakerId) {
        if let Some(slot) = self.slot(id) {
            slot.pending = false;
        }
    }

    /// A wake's request completed: the token to report, unless its waker
    /// was dropped meanwhile.
    pub(super) fn complete(&mut self, id: WakerId) -> Option<Token> {
        let slot = self.slot(id)?;
        slot.pending = false;
        Some(slot.token)
    }

    fn slot(&mut self, id: WakerId) -> Option<&mut Slot> {
        self.slots
            .get_mut(id.index as usize)
            .and_then(Option::as_mut)
            .filter(|slot| slot.generation == id.generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_wakers_completion_is_not_reported_for_its_successor() {
        let mut wakers = Wakers::default();
        let first = wakers.add(Token(1));
        assert!(wakers.start_wake(first));
        assert!(
            !wakers.start_wake(first),
            "one request on its way at a time"
        );
        wakers.remove(first);
        let second = wakers.add(Token(2));
        assert_eq!(WakerId::from_bits(second.bits()), second);
        assert_eq!(wakers.complete(first), None);
        assert!(wakers.start_wake(second));
        assert_eq!(wakers.complete(second), Some(Token(2)));
        assert!(
            wakers.start_wake(second),
            "reported: the next wake queues again"
        );
    }

    #[test]
    fn a_noted_wake_is_reported_once_and_forgotten_with_its_waker() {
        let mut wakers = Wakers::default();
        let second = wakers.add(Token(2));
        let first = wakers.add(Token(1));
        assert!(wakers.start_wake(first));
        wakers.note(first, 7);
        assert!(wakers.start_wake(second));
        wakers.note(second, 9);
        assert!(!wakers.start_wake(first), "noted: on its way");
        let mut reported = Vec::new();
        // Before the completion at 7: the first was noted when it was
        // not yet posted.
        let mut report = |token| {
            let room = reported.is_empty();
            if room {
                reported.push(token);
            }
            room
        };
        assert!(wakers.report_noted(Some(6), &mut report));
        assert!(wakers.report_noted(Some(7), &mut report));
        // Room for one.
        assert!(!wakers.report_noted(None, &mut report));
        assert_eq!(reported, [Token(1)], "in the order noted");
        assert!(wakers.any_noted(), "the second had no room");
        wakers.remove(second);
        assert!(!wakers.any_noted(), "dropped with its waker");
        assert!(
            wakers.start_wake(first),
            "reported: the next wake starts again"
        );
    }
}
