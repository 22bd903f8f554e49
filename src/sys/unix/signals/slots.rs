//! Self-pipes that the signal handler writes to: how a signal becomes
//! readiness.
//!
//! Each listener (a `unix::Signals`, or a `process::ChildExit` on the
//! SIGCHLD fallback) claims a slot: the descriptor to write to (a pipe's
//! write end, or on Linux and Android an eventfd), the signals it wants,
//! and the signals received since it last looked. The listener owns the
//! descriptor and keeps it open until its slot is released. The slots live
//! in a list of fixed-size chunks that only grows (a chunk is never freed,
//! so the handler can walk the list without a lock; a released slot is
//! reused), and the handler, for each slot that wants the signal:
//!
//! 1. sets the signal's bit in `pending`;
//! 2. if the bit was clear, writes an 8-byte count of 1 to the descriptor
//!    (what an eventfd takes; 8 bytes to a pipe).
//!
//! A reader drains the pipe *first* and then takes `pending`: a signal
//! that arrives in between is taken now, and leaves a write for a spurious
//! wake-up later, never a lost one; a signal that arrives after the take
//! finds its bit clear and writes. So at most one write per signal number
//! is unread at any time (1 KiB in a pipe, a count of 127 in an
//! eventfd): the write never fails.
//!
//! Releasing a slot must not close its pipe under a handler that is about
//! to write to it (the number could already name another file): the
//! handler counts itself in `busy` around its use of the descriptor, and
//! the release takes the descriptor out of the slot, then waits until
//! `busy` is zero before closing it (and `SignalPipe` releases its slot
//! before it closes the read end, so the handler never writes to a pipe
//! without a reader: no SIGPIPE).
//!
//! The handler reads a slot in this order: it counts itself in `busy`,
//! loads the descriptor, and only then the signals the slot wants. A slot
//! released and claimed again by another listener while the handler is at
//! work therefore cannot mix the two: a handler that loaded the new
//! listener's descriptor reads its wanted set too (the claim stores the
//! set before the descriptor), and the new listener's release waits for
//! it. The `wanted` check before counting in `busy` is a shortcut only.
//! Taking the pending signals masks them with the wanted set as well.
//!
//! # fork(2)
//!
//! A child created by fork(2) without exec inherits the handler, the
//! slots and the pipes, shared with the parent. Each slot records the
//! process that claimed it, and the handler delivers only to slots of the
//! process it runs in: the child's signals never reach the parent's pipes,
//! even once the child has listeners of its own. A listener inherited by
//! the child reports nothing there and never reads the shared pipe (which
//! would take the parent's wake-ups); dropping it in the child closes the
//! child's copies of the descriptors without waiting for handlers (none
//! uses the slot in the child, and a `busy` count copied from a parent's
//! thread in mid-handler would never drop). The lock over claims is a
//! `ForkLock`, which the child takes over if a parent's thread held it.

use std::os::fd::RawFd;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::{fmt, ptr, thread};

use super::fork_lock::{current_pid, ForkLock};
use super::SignalSet;

const PER_CHUNK: usize = 32;

struct Cell {
    /// Taken by a live `Slot` (changed only under `CLAIM`).
    claimed: AtomicBool,
    /// The process that claimed the slot (see the module docs).
    pid: AtomicI32,
    /// The descriptor to write to, or -1.
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
                    pid: AtomicI32::new(0),
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
static CLAIM: ForkLock<()> = ForkLock::new(());

fn split(set: SignalSet) -> [u64; 2] {
    let bits = set.bits();
    [bits as u64, (bits >> 64) as u64]
}

fn word_and_bit(signal: c_int) -> (usize, u64) {
    let index = signal as usize;
    (index / 64, 1 << (index % 64))
}

/// A claimed slot; released on drop, after which the handler no longer
/// uses its descriptor.
pub(crate) struct Slot {
    cell: &'static Cell,
}

impl Slot {
    /// Starts delivering `signals` to `writer`, a pipe's write end or an
    /// eventfd.
    ///
    /// # Safety
    ///
    /// `writer` stays open until this `Slot` is dropped (its number must
    /// not name another file while the handler may write to it).
    pub(crate) unsafe fn claim(writer: RawFd, signals: SignalSet) -> Slot {
        let _guard = CLAIM.lock();
        let cell = free_cell();
        cell.claimed.store(true, Ordering::SeqCst);
        for (word, wanted) in split(signals).into_iter().enumerate() {
            cell.pending[word].store(0, Ordering::SeqCst);
            cell.wanted[word].store(wanted, Ordering::SeqCst);
        }
        cell.pid.store(current_pid(), Ordering::SeqCst);
        // Last: a handler that loads this descriptor sees all of the above.
        cell.fd.store(writer, Ordering::SeqCst);
        Slot { cell }
    }

    /// Whether this slot was claimed by this process, not inherited from
    /// the parent across fork(2) (see the module docs).
    pub(crate) fn is_own(&self) -> bool {
        self.cell.pid.load(Ordering::SeqCst) == current_pid()
    }

    /// The signals received since the last call. Drain the pipe first (see
    /// the module docs).
    /// Masked with the wanted set, as a second line of defence: a bit the
    /// listener never asked for is dropped, never reported.
    pub(crate) fn take_pending(&self) -> SignalSet {
        let [low, high] = [0, 1].map(|word| {
            self.cell.pending[word].swap(0, Ordering::SeqCst)
                & self.cell.wanted[word].load(Ordering::SeqCst)
        });
        SignalSet::from_bits(u128::from(low) | (u128::from(high) << 64))
    }

    /// Delivers `signal` to this slot alone, as the handler would.
    // Only the SIGCHLD fallback of `ChildExit` calls it.
    #[cfg_attr(evmux_selector = "kqueue", allow(dead_code))]
    pub(crate) fn notify(&self, signal: c_int) {
        deliver_to(self.cell, signal, current_pid());
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let own = self.is_own();
        self.cell.fd.store(-1, Ordering::SeqCst);
        // From here the owner may close the descriptor. An inherited slot:
        // no handler of this process uses it.
        while own && self.cell.busy.load(Ordering::SeqCst) != 0 {
            thread::yield_now();
        }
        let _guard = CLAIM.lock();
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
    // getpid(2) is async-signal-safe (a raw system call through rustix).
    let pid = current_pid();
    let mut chunk = Some(&FIRST);
    while let Some(current) = chunk {
        for cell in &current.cells {
            deliver_to(cell, signal, pid);
        }
        chunk = current.next();
    }
}

/// Hands `signal` to `cell` if a listener of process `pid` holds it and
/// wants the signal (the order of the loads: see the module docs).
fn deliver_to(cell: &Cell, signal: c_int, pid: i32) {
    let (word, bit) = word_and_bit(signal);
    if cell.wanted[word].load(Ordering::SeqCst) & bit == 0 {
        return;
    }
    cell.busy.fetch_add(1, Ordering::SeqCst);
    let fd = cell.fd.load(Ordering::SeqCst);
    let wanted = fd >= 0
        && cell.pid.load(Ordering::SeqCst) == pid
        && cell.wanted[word].load(Ordering::SeqCst) & bit != 0;
    if wanted && cell.pending[word].fetch_or(bit, Ordering::SeqCst) & bit == 0 {
        wake(fd);
    }
    cell.busy.fetch_sub(1, Ordering::SeqCst);
}

/// Writes a count of 1 to a slot's descriptor: the 8 bytes an eventfd
/// takes (a pipe takes them as they are). At most one is unread per
/// signal number (see the module docs), so `EAGAIN` cannot happen; an
/// interrupted write is retried.
fn wake(fd: RawFd) {
    // SAFETY: the descriptor is open: its owner keeps it open until the
    // slot's release, which waits for `busy` to drop to zero. The borrow
    // ends with this call.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let one = 1u64.to_ne_bytes();
    while let Err(rustix::io::Errno::INTR) = rustix::io::write(fd, &one) {}
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    use super::*;

    /// The interleaving the handler's load order rules out, forced by
    /// hand: a slot's pending set gets a signal its listener does not
    /// want (as a handler that read an earlier listener's wanted set would
    /// have left it). Taking the pending signals drops it.
    #[test]
    fn a_signal_the_listener_does_not_want_is_never_reported() {
        let (_reader, writer) = crate::sys::unix::new_pipe().unwrap();
        let mut wanted = SignalSet::EMPTY;
        wanted.insert(libc::SIGUSR2);
        // SAFETY: `writer` outlives the slot (dropped at the end of the
        // test, after `slot`, declared later).
        let slot = unsafe { Slot::claim(writer.as_raw_fd(), wanted) };
        let (word, bit) = word_and_bit(libc::SIGUSR1);
        slot.cell.pending[word].fetch_or(bit, Ordering::SeqCst);
        assert_eq!(slot.take_pending(), SignalSet::EMPTY);
        slot.notify(libc::SIGUSR2);
        assert_eq!(slot.take_pending(), wanted);
    }
}
