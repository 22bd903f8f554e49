//! The raw io_uring ring behind the io_uring selector: setup, the three
//! shared mappings, and the producer and consumer sides of the two queues.
//!
//! Nothing here knows about registrations: `uring.rs` decides what goes
//! into the submission queue and what a completion means. Every method
//! that touches a queue must be called under the selector's lock (one
//! producer of submissions, one consumer of completions); the kernel is
//! the other side of each queue, synchronised through the head and tail
//! words with acquire and release ordering, as io_uring(7) prescribes.
//!
//! A kernel is accepted only with the features the selector relies on:
//! one mapping for both rings (`IORING_FEAT_SINGLE_MMAP`, 5.4), no dropped
//! completions (`IORING_FEAT_NODROP`, 5.5), the timeout in the wait call
//! (`IORING_FEAT_EXT_ARG`, 5.11), and `IORING_FEAT_RSRC_TAGS` (5.13),
//! which stands for the 5.13 poll requests (multishot poll and poll
//! update came in that release, without a feature bit of their own).
//!
//! Man pages: io_uring_setup(2), io_uring_enter(2), io_uring(7), mmap(2),
//! madvise(2) (`MADV_WIPEONFORK`: the ring's process is told from a forked
//! child by a page the child sees zeroed).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rustix::io_uring::{
    io_uring_cqe, io_uring_enter, io_uring_enter_arg, io_uring_getevents_arg, io_uring_params,
    io_uring_ptr, io_uring_setup, io_uring_sqe, IoringEnterFlags, IoringFeatureFlags,
    IoringSetupFlags, IoringSqFlags, IORING_OFF_SQES, IORING_OFF_SQ_RING,
};
use rustix::mm::{Advice, MapFlags, ProtFlags};

/// Entries of the submission queue: registration changes between two
/// waits; a fuller queue is submitted at once.
const SQ_ENTRIES: u32 = 256;
/// Entries of the completion queue: room for the events of many waits (a
/// multishot poll posts one completion per readiness change).
const CQ_ENTRIES: u32 = 4096;

/// The features the selector needs (see the module docs).
fn needed_features() -> IoringFeatureFlags {
    IoringFeatureFlags::SINGLE_MMAP
        | IoringFeatureFlags::NODROP
        | IoringFeatureFlags::EXT_ARG
        | IoringFeatureFlags::RSRC_TAGS
}

/// One completion, copied out of the ring.
#[derive(Clone, Copy, Debug)]
pub(super) struct Completion {
    pub(super) user_data: u64,
    pub(super) res: i32,
    pub(super) flags: u32,
}

/// A shared mapping of the ring's descriptor, unmapped on drop.
struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

impl Mapping {
    fn new(fd: BorrowedFd<'_>, len: usize, offset: u64) -> io::Result<Mapping> {
        let prot = ProtFlags::READ | ProtFlags::WRITE;
        let flags = MapFlags::SHARED | MapFlags::POPULATE;
        // SAFETY: a new mapping at an address the kernel picks (null hint)
        // aliases no Rust object; `fd` is an io_uring, whose mappings at
        // these offsets are the rings' shared memory.
        let ptr = unsafe { rustix::mm::mmap(ptr::null_mut(), len, prot, flags, fd, offset)? };
        let ptr = NonNull::new(ptr.cast()).ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(Mapping { ptr, len })
    }

    /// A private page that a forked child sees zeroed (`MADV_WIPEONFORK`),
    /// holding a non-zero word: the mark of the ring's own process.
    fn owner_mark() -> io::Result<Mapping> {
        let len = size_of::<AtomicU32>();
        let prot = ProtFlags::READ | ProtFlags::WRITE;
        // SAFETY: a new private mapping at an address the kernel picks
        // aliases no Rust object.
        let ptr =
            unsafe { rustix::mm::mmap_anonymous(ptr::null_mut(), len, prot, MapFlags::PRIVATE)? };
        let ptr = NonNull::new(ptr.cast()).ok_or_else(|| io::Error::other("mmap returned null"))?;
        let mapping = Mapping { ptr, len };
        // SAFETY: the range is this new mapping's (rounded up to its page).
        unsafe { rustix::mm::madvise(ptr.as_ptr().cast(), len, Advice::LinuxWipeOnFork)? };
        // SAFETY: the page is mapped, writable and aligned for a u32.
        unsafe { (*mapping.at::<AtomicU32>(0)).store(1, Ordering::Relaxed) };
        Ok(mapping)
    }

    /// The `T` at byte `offset` (an offset the kernel gave for this map).
    fn at<T>(&self, offset: u32) -> *mut T {
        debug_assert!((offset as usize) < self.len);
        // SAFETY: the kernel's offsets lie inside the mapping.
        unsafe { self.ptr.as_ptr().add(offset as usize).cast() }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr` and `len` are this mapping's; nothing refers to it
        // after the ring that owns it is dropped.
        let _ = unsafe { rustix::mm::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// An io_uring instance and its mapped queues.
pub(super) struct Ring {
    // Declared before `fd`: unmapped before the ring is closed.
    rings: Mapping,
    _sqes_map: Mapping,
    /// Zero in a forked child (see `inherited`).
    owner: Mapping,
    fd: OwnedFd,
    sq_head: *const AtomicU32,
    sq_tail: *const AtomicU32,
    sq_flags: *const AtomicU32,
    sq_mask: u32,
    sq_entries: u32,
    sqes: *mut io_uring_sqe,
    cq_head: *const AtomicU32,
    cq_tail: *const AtomicU32,
    cq_mask: u32,
    cqes: *const io_uring_cqe,
}

// SAFETY: the raw pointers point into mappings the ring owns; the queues
// are only used under the selector's lock (see the module docs), and the
// head and tail words are atomics shared with the kernel.
unsafe impl Send for Ring {}
// SAFETY: as for `Send`.
unsafe impl Sync for Ring {}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring").field("fd", &self.fd).finish()
    }
}

impl Ring {
    /// A new ring, or the error that makes the caller fall back to epoll:
    /// the kernel's (`ENOSYS`, `EPERM` from the `io_uring_disabled` sysctl
    /// or a seccomp filter, `ENOMEM`), or `Unsupported` for a kernel
    /// without a needed feature.
    pub(super) fn new() -> io::Result<Ring> {
        let mut params = io_uring_params::default();
        params.flags = IoringSetupFlags::CQSIZE | IoringSetupFlags::CLAMP;
        params.cq_entries = CQ_ENTRIES;
        // SAFETY: `params` is a valid, zeroed-but-for-the-flags parameter
        // block that the kernel fills in.
        let fd = unsafe { io_uring_setup(SQ_ENTRIES, &mut params)? };
        if !params.features.contains(needed_features()) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "io_uring lacks multishot poll or the wait timeout (Linux 5.13 needed)",
            ));
        }
        let (sq, cq) = (params.sq_off, params.cq_off);
        let sq_len = sq.array as usize + params.sq_entries as usize * 4;
        let cq_len = cq.cqes as usize + params.cq_entries as usize * size_of::<io_uring_cqe>();
        let rings = Mapping::new(fd.as_fd(), sq_len.max(cq_len), IORING_OFF_SQ_RING)?;
        let sqes_len = params.sq_entries as usize * size_of::<io_uring_sqe>();
        let sqes_map = Mapping::new(fd.as_fd(), sqes_len, IORING_OFF_SQES)?;
        let ring = Ring {
            sq_head: rings.at(sq.head),
            sq_tail: rings.at(sq.tail),
            sq_flags: rings.at(sq.flags),
            // SAFETY: the kernel wrote these words before setup returned.
            sq_mask: unsafe { *rings.at::<u32>(sq.ring_mask) },
            sq_entries: params.sq_entries,
            sqes: sqes_map.at(0),
            cq_head: rings.at(cq.head),
            cq_tail: rings.at(cq.tail),
            // SAFETY: as above.
            cq_mask: unsafe { *rings.at::<u32>(cq.ring_mask) },
            cqes: rings.at(cq.cqes),
            rings,
            _sqes_map: sqes_map,
            owner: Mapping::owner_mark()?,
            fd,
        };
        // The index array maps slot i to entry i, once and for all.
        let array: *mut u32 = ring.rings.at(sq.array);
        for i in 0..ring.sq_entries {
            // SAFETY: the array has `sq_entries` entries; the kernel reads
            // it only for submitted slots, none yet.
            unsafe { array.add(i as usize).write(i) };
        }
        Ok(ring)
    }

    fn load(word: *const AtomicU32, order: Ordering) -> u32 {
        // SAFETY: `word` points into the ring's mapping, which lives as
        // long as `self`, and is only accessed atomically.
        unsafe { (*word).load(order) }
    }

    /// Whether this is a process forked from the one that made the ring:
    /// the queues are memory it shares with that process, whose positions
    /// it does not know, so it must not touch them.
    pub(super) fn inherited(&self) -> bool {
        Self::load(self.owner.at(0), Ordering::Relaxed) == 0
    }

    /// Queues `sqe` at `tail` (the selector's copy of the submission tail)
    /// and publishes it; false if the queue is full.
    pub(super) fn push(&self, tail: &mut u32, sqe: &io_uring_sqe) -> bool {
        let head = Self::load(self.sq_head, Ordering::Acquire);
        if tail.wrapping_sub(head) >= self.sq_entries {
            return false;
        }
        let index = (*tail & self.sq_mask) as usize;
        // SAFETY: `index` is within the entries; the kernel has consumed
        // this slot (head is past it), and no one else writes it (lock).
        unsafe { self.sqes.add(index).write(*sqe) };
        *tail = tail.wrapping_add(1);
        // SAFETY: as in `load`; the release publishes the entry.
        unsafe { (*self.sq_tail).store(*tail, Ordering::Release) };
        true
    }

    /// Entries queued at `tail` that the kernel has not consumed.
    pub(super) fn unsubmitted(&self, tail: u32) -> u32 {
        tail.wrapping_sub(Self::load(self.sq_head, Ordering::Acquire))
    }

    /// Whether the kernel holds completions that did not fit in the queue
    /// (a wait moves them in).
    pub(super) fn cq_overflowed(&self) -> bool {
        let flags = Self::load(self.sq_flags, Ordering::Acquire);
        IoringSqFlags::from_bits_retain(flags).contains(IoringSqFlags::CQ_OVERFLOW)
    }

    /// Submits up to `count` queued entries without waiting.
    pub(super) fn submit(&self, count: u32) -> io::Result<u32> {
        // SAFETY: the entries were fully written before the tail moved
        // (`push`); the flags carry no extended argument.
        Ok(unsafe { io_uring_enter(&self.fd, count, 0, IoringEnterFlags::empty())? })
    }

    /// Submits up to `count` entries and waits until a completion is in
    /// the queue, or `timeout` passes (`ETIME`), in one system call.
    pub(super) fn submit_and_wait(&self, count: u32, timeout: Option<Duration>) -> io::Result<()> {
        if timeout == Some(Duration::ZERO) {
            // No wait: no timer either (a zero timeout would still sleep
            // for the thread's timer slack, 50 µs by default).
            // SAFETY: as in `submit`; GETEVENTS with no minimum only runs
            // the pending completion work and moves kept completions in.
            let flags = IoringEnterFlags::GETEVENTS;
            return match unsafe { io_uring_enter(&self.fd, count, 0, flags) } {
                Ok(_) => Ok(()),
                Err(error) => Err(error.into()),
            };
        }
        let ts = timeout.map(|timeout| rustix::fs::Timespec {
            tv_sec: timeout.as_secs().min(i64::MAX as u64) as i64,
            tv_nsec: timeout.subsec_nanos() as _,
        });
        let mut arg = io_uring_getevents_arg::default();
        if let Some(ts) = &ts {
            arg.ts = io_uring_ptr::new((ts as *const rustix::fs::Timespec).cast_mut().cast());
        }
        let flags = IoringEnterFlags::GETEVENTS | IoringEnterFlags::EXT_ARG;
        // SAFETY: `arg` and the timespec it points to outlive the call; no
        // signal mask is passed (null, size 0: the mask is left alone).
        let result = unsafe { io_uring_enter_arg(&self.fd, count, 1, flags, Some(&arg)) };
        match result {
            Ok(_) | Err(rustix::io::Errno::TIME) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// The completion at `head` (the selector's copy of the completion
    /// head), if the kernel has posted one there.
    pub(super) fn peek(&self, head: u32) -> Option<Completion> {
        if Self::load(self.cq_tail, Ordering::Acquire) == head {
            return None;
        }
        // SAFETY: the entry at `head` was posted (tail is past it, and the
        // acquire load makes its contents visible) and is not reused until
        // the head moves past it.
        let cqe = unsafe { &*self.cqes.add((head & self.cq_mask) as usize) };
        Some(Completion {
            user_data: cqe.user_data.u64_(),
            res: cqe.res,
            flags: cqe.flags.bits(),
        })
    }

    /// Hands the entries before `head` back to the kernel.
    pub(super) fn consumed(&self, head: u32) {
        // SAFETY: as in `load`; the release orders the reads before it.
        unsafe { (*self.cq_head).store(head, Ordering::Release) };
    }

    /// Where the kernel posts its next completion.
    pub(super) fn cq_tail(&self) -> u32 {
        Self::load(self.cq_tail, Ordering::Acquire)
    }

    /// The completion head as the kernel last saw it (at creation: 0).
    pub(super) fn cq_head(&self) -> u32 {
        Self::load(self.cq_head, Ordering::Acquire)
    }

    /// The submission tail (at creation: 0).
    pub(super) fn sq_tail(&self) -> u32 {
        Self::load(self.sq_tail, Ordering::Acquire)
    }
}

impl AsFd for Ring {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_have_the_kernel_sizes() {
        assert_eq!(size_of::<io_uring_sqe>(), 64);
        assert_eq!(size_of::<io_uring_cqe>(), 16);
    }
}
