//! Self-pipes that the signal handler writes to: how a signal becomes
//! readiness where there is no `EVFILT_SIGNAL` (every Unix but the kqueue
//! systems).
//!
//! Each listener (a `unix::Signals`, or a `process::ChildExit` on the
//! SIGCHLD fallback) claims a slot: the write end of its pipe, the signals
//! it wants, and the signals received since it last looked. The slots live
//! in a list of fixed-size chunks that only grows (a chunk is never freed,
//! so the handler can walk the list without a lock; a released slot is
//! reused), and the handler, for each slot that wants the signal:
//!
//! 1. sets the signal's bit in `pending`;
//! 2. if the bit was clear, writes one byte to the pipe.
//!
//! A reader drains the pipe *first* and then takes `pending`: a signal
//! that arrives in between is taken now, and leaves a byte for a spurious
//! wake-up later, never a lost one; a signal that arrives after the take
//! finds its bit clear and writes a byte. So at most one byte per signal
//! number is in a pipe at any time: the pipe never fills, and the write
//! never fails.
//!
//! Releasing a slot must not close its pipe under a handler that is about
//! to write to it (the number could already name another file): the
//! handler counts itself in `busy` around its use of the descriptor, and
//! the release takes the descriptor out of the slot, then waits until
//! `busy` is zero before closing it.
//!
//! A child created by fork(2) without exec inherits the handler and the
//! pipes: the handler delivers only in the process that set the slots up.

use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::{fmt, ptr, thread};

use super::SignalSet;

const PER_CHUNK: usize = 32;

struct Cell {
    /// Taken by a live `Slot` (changed only under `CLAIM`).
    claimed: AtomicBool,
    /// The pipe's write end, or -1.
    fd: AtomicI32,
    /// Handlers between loading `fd` and finishing their write.
    busy: AtomicUsize,
    wanted: [AtomicU64; 2],
    pending: [AtomicU64; 2],
}

struct Chunk {
    cells: [Cell; PER_CHUNK],
    next: AtomicPtr<Chunk>,
}

impl Chunk {
    const fn new() -> Chunk {
        Chunk {
            cells: [const {
                Cell {
                    claimed: AtomicBool::new(false),
                    fd: AtomicI32::new(-1),
                    busy: AtomicUsize::new(0),
                    wanted: [AtomicU64::new(0), AtomicU64::new(0)],
                    pending: [AtomicU64::new(0), AtomicU64::new(0)],
                }
            }; PER_CHUNK],
            next: AtomicPtr::new(ptr::null_mut()),
        }
    }

    fn next(&self) -> Option<&'static Chunk> {
        // SAFETY: `next` is null or a leaked `Box<Chunk>`, never freed.
        unsafe { self.next.load(Ordering::Acquire).as_ref() }
    }
}

static FIRST: Chunk = Chunk::new();
/// Serialises claims and the growth of the list.
static CLAIM: Mutex<()> = Mutex::new(());
/// The process that set up the slots (see the module docs), or 0.
static OWNER: AtomicI32 = AtomicI32::new(0);

fn split(set: SignalSet) -> [u64; 2] {
    let bits = set.bits();
    [bits as u64, (bits >> 64) as u64]
}

fn word_and_bit(signal: c_int) -> (usize, u64) {
    let index = signal as usize;
    (index / 64, 1 << (index % 64))
}

/// A claimed slot; released (and its pipe's write end closed) on drop.
pub(crate) struct Slot {
    cell: &'static Cell,
}

impl Slot {
    /// Starts delivering `signals` to the pipe whose write end is `writer`.
    pub(crate) fn claim(writer: OwnedFd, signals: SignalSet) -> Slot {
        let _guard = crate::sys::lock(&CLAIM);
        OWNER.store(
            rustix::process::getpid().as_raw_nonzero().get(),
            Ordering::SeqCst,
        );
        let cell = free_cell();
        cell.claimed.store(true, Ordering::SeqCst);
        for (word, wanted) in split(signals).into_iter().enumerate() {
            cell.pending[word].store(0, Ordering::SeqCst);
            cell.wanted[word].store(wanted, Ordering::SeqCst);
        }
        cell.fd.store(writer.into_raw_fd(), Ordering::SeqCst);
        Slot { cell }
    }

    /// The signals received since the last call. Drain the pipe first (see
    /// the module docs).
    pub(crate) fn take_pending(&self) -> SignalSet {
        let low = self.cell.pending[0].swap(0, Ordering::SeqCst);
        let high = self.cell.pending[1].swap(0, Ordering::SeqCst);
        SignalSet::from_bits(u128::from(low) | (u128::from(high) << 64))
    }

    /// Delivers `signal` to this slot alone, as the handler would.
    pub(crate) fn notify(&self, signal: c_int) {
        deliver_to(self.cell, signal);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let fd = self.cell.fd.swap(-1, Ordering::SeqCst);
        while self.cell.busy.load(Ordering::SeqCst) != 0 {
            thread::yield_now();
        }
        if fd >= 0 {
            // SAFETY: `claim` stored a descriptor it owned; the swap above
            // took it out, and no handler uses it any more, so this is its
            // only owner.
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        let _guard = crate::sys::lock(&CLAIM);
        for wanted in &self.cell.wanted {
            wanted.store(0, Ordering::SeqCst);
        }
        self.cell.claimed.store(false, Ordering::SeqCst);
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            .field("fd", &self.cell.fd.load(Ordering::Relaxed))
            .finish()
    }
}

/// A cell that no slot holds, adding a chunk if every one is taken. Called
/// with `CLAIM` held.
fn free_cell() -> &'static Cell {
    let mut chunk: &'static Chunk = &FIRST;
    loop {
        if let Some(cell) = chunk
            .cells
            .iter()
            .find(|cell| !cell.claimed.load(Ordering::SeqCst))
        {
            return cell;
        }
        match chunk.next() {
            Some(next) => chunk = next,
            None => {
                let new: &'static Chunk = Box::leak(Box::new(Chunk::new()));
                chunk
                    .next
                    .store(ptr::from_ref(new).cast_mut(), Ordering::Release);
                chunk = new;
            }
        }
    }
}

/// Hands `signal` to every slot that wants it. Called by the signal
/// handler: async-signal-safe.
pub(crate) fn deliver(signal: c_int) {
    let owner = OWNER.load(Ordering::SeqCst);
    if owner == 0 || owner != rustix::process::getpid().as_raw_nonzero().get() {
        return;
    }
    let mut chunk = Some(&FIRST);
    while let Some(current) = chunk {
        for cell in &current.cells {
            deliver_to(cell, signal);
        }
        chunk = current.next();
    }
}

fn deliver_to(cell: &Cell, signal: c_int) {
    let (word, bit) = word_and_bit(signal);
    if cell.wanted[word].load(Ordering::SeqCst) & bit == 0 {
        return;
    }
    cell.busy.fetch_add(1, Ordering::SeqCst);
    let fd = cell.fd.load(Ordering::SeqCst);
    if fd >= 0 && cell.pending[word].fetch_or(bit, Ordering::SeqCst) & bit == 0 {
        wake(fd);
    }
    cell.busy.fetch_sub(1, Ordering::SeqCst);
}

/// Writes one byte to a slot's pipe. The pipe holds at most one byte per
/// signal number (see the module docs), so `EAGAIN` cannot happen; an
/// interrupted write is retried.
fn wake(fd: RawFd) {
    // SAFETY: the descriptor is open: its slot's release waits for `busy`
    // to drop to zero before closing it. The borrow ends with this call.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    while let Err(rustix::io::Errno::INTR) = rustix::io::write(fd, b"s") {}
}
