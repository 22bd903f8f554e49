//! `EVFILT_SIGNAL`: the receiver behind `unix::Signals` on the kqueue
//! systems (macOS, iOS, the BSDs).
//!
//! Each `Signals` owns a private kqueue holding one `EVFILT_SIGNAL` filter
//! per signal; the private kqueue's descriptor is what gets registered
//! with `Poll` (a kqueue is readable while it has events pending, and can
//! be watched like any descriptor, by another kqueue or by poll(2)). So
//! the selector needs no filter of its own for signals, and every
//! `Signals` for a signal sees it: the kernel records a delivery in every
//! kqueue that watches it.
//!
//! `EVFILT_SIGNAL` records a signal after its ordinary delivery, so the
//! signal must not kill the process first: evmux installs its handler
//! (module `handler`) for each signal too, which replaces the default
//! action and chains to a previous handler.
//!
//! Man pages: kqueue(2), kevent(2) (`EVFILT_SIGNAL`).

use std::io;
use std::os::fd::OwnedFd;
use std::time::Duration;

use rustix::event::kqueue::{kevent, Event, EventFilter, EventFlags};
use rustix::process::Signal;

use super::handler::{self, Listening};
use super::SignalSet;
use crate::io_source::IoSource;

/// A private kqueue watching a set of signals.
#[derive(Debug)]
pub(crate) struct SignalQueue {
    inner: IoSource<OwnedFd>,
    _listening: Listening,
}

/// A new kqueue, close-on-exec (not atomically: rustix has no `kqueue1`;
/// kqueues are not inherited across fork(2) anyway).
pub(crate) fn new_kqueue() -> io::Result<OwnedFd> {
    let kq = rustix::event::kqueue::kqueue()?;
    rustix::io::fcntl_setfd(&kq, rustix::io::FdFlags::CLOEXEC)?;
    Ok(kq)
}

/// Applies `changes` to `kq` without collecting events. An error in a
/// change fails the call (there is no room for a receipt).
pub(crate) fn apply(kq: &OwnedFd, changes: &[Event]) -> io::Result<()> {
    let mut none: Vec<Event> = Vec::new();
    // SAFETY: the changes name no descriptor (signals, processes), so
    // there is no descriptor whose lifetime the kqueue could outlive.
    unsafe { kevent(kq, changes, &mut none, Some(Duration::ZERO)) }?;
    Ok(())
}

/// Takes every event queued in `kq`, without waiting.
pub(crate) fn take_events(kq: &OwnedFd) -> io::Result<Vec<Event>> {
    const BATCH: usize = 32;
    let mut all: Vec<Event> = Vec::new();
    loop {
        all.reserve(BATCH);
        let room = all.capacity() - all.len();
        let spare = rustix::buffer::spare_capacity(&mut all);
        // SAFETY: no changes are submitted; the kqueue's filters name no
        // descriptor (see `apply`).
        let count = unsafe { kevent(kq, &[], spare, Some(Duration::ZERO)) }?;
        if count < room {
            return Ok(all);
        }
    }
}

impl SignalQueue {
    pub(crate) fn new(signals: SignalSet) -> io::Result<SignalQueue> {
        let listening = handler::listen(signals)?;
        let kq = new_kqueue()?;
        let changes: Vec<Event> = signals
            .iter()
            .map(|signal| {
                // SAFETY: `signal` is in 1..=MAX_SIGNAL and the OS accepted
                // a handler for it (`listen` above), so it is a signal.
                let signal = unsafe { Signal::from_raw_unchecked(signal) };
                let filter = EventFilter::Signal { signal, times: 0 };
                Event::new(filter, EventFlags::ADD, std::ptr::null_mut())
            })
            .collect();
        apply(&kq, &changes)?;
        Ok(SignalQueue {
            inner: IoSource::new(kq),
            _listening: listening,
        })
    }

    /// The signals received since the last call, each once.
    pub(crate) fn take(&self) -> io::Result<SignalSet> {
        self.inner.do_read(|kq| {
            let mut set = SignalSet::EMPTY;
            for event in take_events(kq)? {
                if let EventFilter::Signal { signal, .. } = event.filter() {
                    set.insert(signal.as_raw());
                }
            }
            Ok(set)
        })
    }
}

impl_source!(SignalQueue);
