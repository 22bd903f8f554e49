//! The requests the io_uring selector (`uring.rs`) puts on its ring, and
//! what their completions report: how a request's `user_data` says what
//! it is, the poll masks of interests, and the entries themselves.
//!
//! Man pages: io_uring_enter(2) (`IORING_OP_POLL_ADD`,
//! `IORING_OP_ASYNC_CANCEL`, `IORING_OP_NOP`), poll(2).

use std::os::fd::{BorrowedFd, RawFd};

use rustix::event::epoll::EventFlags;
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::io_uring::{
    addr_or_splice_off_in_union, io_uring_sqe, io_uring_user_data, len_union, op_flags_union,
    IoringOp, IoringPollFlags,
};

use crate::Interest;

/// The kind of a request, in the top two bits of its `user_data`.
pub(super) const KIND_SHIFT: u32 = 62;
pub(super) const KIND_POLL: u64 = 0;
/// Cancellations: their own completions mean nothing to the selector.
pub(super) const KIND_CONTROL: u64 = 1;
/// The timers' relay (`epoll_timers.rs`).
pub(super) const KIND_RELAY: u64 = 2;
/// A `Waker`'s no-op (`uring_waker.rs`).
pub(super) const KIND_WAKE: u64 = 3;
/// `IORING_CQE_F_MORE`: the multishot request goes on.
pub(super) const CQE_F_MORE: u32 = 1 << 1;

pub(super) fn poll_data(fd: RawFd, generation: u32) -> u64 {
    KIND_POLL << KIND_SHIFT | (fd as u32 as u64) << 32 | u64::from(generation)
}

/// The poll mask of `interests`, with epoll's bits (which are poll's).
pub(super) fn poll_mask(interests: Interest) -> u32 {
    let mut mask = EventFlags::empty();
    if interests.is_readable() {
        mask |= EventFlags::IN | EventFlags::RDHUP;
    }
    if interests.is_writable() {
        mask |= EventFlags::OUT;
    }
    if interests.is_priority() {
        // The kernel matches a wake-up against a request's mask without
        // `EPOLLPRI`; a socket's "data arrived" wake-up also carries
        // `EPOLLRDBAND`, which wakes a priority-only request (`reported`
        // drops it from the result).
        mask |= EventFlags::PRI | EventFlags::RDBAND;
    }
    mask.bits()
}

/// The flags a completion reports, of `res`. A poll request's result is
/// the wake-up's own mask where the wake-up carried one, not the file's
/// state: a socket's "data arrived" wake-up carries `EPOLLPRI`, so
/// ordinary data would read as priority. With `EPOLLPRI` asked for,
/// poll(2) tells whether it holds now, as epoll polls the file again.
/// `EPOLLRDBAND` is only there to be woken (`poll_mask`). Zero: nothing
/// the registration asked for.
pub(super) fn reported(fd: RawFd, mask: u32, res: u32) -> u32 {
    let pri = EventFlags::PRI.bits();
    let mut flags = res & !EventFlags::RDBAND.bits();
    if mask & pri != 0 && flags & pri != 0 && !has_priority_data(fd) {
        flags &= !pri;
    }
    flags
}

/// Whether `fd` has priority data now: poll(2), without waiting.
fn has_priority_data(fd: RawFd) -> bool {
    // SAFETY: `fd` has a current registration, so it is open: a
    // registered descriptor must not be closed (see the module docs).
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let mut fds = [PollFd::new(&fd, PollFlags::PRI)];
    match rustix::event::poll(&mut fds, Some(&Timespec::default())) {
        Ok(_) => fds[0].revents().contains(PollFlags::PRI),
        // Cannot tell: as the kernel said.
        Err(_) => true,
    }
}

pub(super) fn relay_add(fd: RawFd) -> io_uring_sqe {
    let mask = EventFlags::IN.bits();
    poll_request(fd, mask, true, KIND_RELAY << KIND_SHIFT)
}

pub(super) fn poll_request(fd: RawFd, mask: u32, multishot: bool, user_data: u64) -> io_uring_sqe {
    let flags = match multishot {
        true => IoringPollFlags::ADD_MULTI,
        false => IoringPollFlags::empty(),
    };
    io_uring_sqe {
        opcode: IoringOp::PollAdd,
        fd,
        op_flags: op_flags_union {
            poll32_events: mask,
        },
        len: len_union { poll_flags: flags },
        user_data: io_uring_user_data::from_u64(user_data),
        ..io_uring_sqe::default()
    }
}

/// The removal of the request whose `user_data` is `target`. Not
/// `IORING_OP_POLL_REMOVE`: it fails with `EALREADY`, leaving the request
/// in place, when it meets the request in the middle of a wake-up (found
/// by tests/model.rs); a cancellation marks the request cancelled whatever
/// it is doing.
pub(super) fn cancel_request(target: io_uring_user_data) -> io_uring_sqe {
    io_uring_sqe {
        opcode: IoringOp::AsyncCancel,
        fd: -1,
        addr_or_splice_off_in: addr_or_splice_off_in_union { user_data: target },
        user_data: io_uring_user_data::from_u64(KIND_CONTROL << KIND_SHIFT),
        ..io_uring_sqe::default()
    }
}

/// A `Waker`'s no-op; `bits` tell which waker (`uring_waker.rs`).
pub(super) fn wake_request(bits: u64) -> io_uring_sqe {
    io_uring_sqe {
        opcode: IoringOp::Nop,
        fd: -1,
        user_data: io_uring_user_data::from_u64(KIND_WAKE << KIND_SHIFT | bits),
        ..io_uring_sqe::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_data_keeps_descriptor_and_generation() {
        let data = poll_data(0x3fff_ffff, u32::MAX);
        assert_eq!(data >> KIND_SHIFT, KIND_POLL);
        assert_eq!((data >> 32 & 0x3fff_ffff) as RawFd, 0x3fff_ffff);
        assert_eq!(data as u32, u32::MAX);
    }
}
