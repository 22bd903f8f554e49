//! Reading received ancillary messages (cmsg(3)): the walk over a
//! message header's control buffer, shared by the systems whose UDP
//! receives carry the ECN bits and the destination address (`udp_cmsg` on
//! Linux and Android, `udp_cmsg_bsd` on macOS, iOS and the BSDs).
//!
//! `libc` for the `CMSG_*` functions and for the socket options that ask
//! for such messages: rustix parses only the ancillary messages it knows
//! (descriptors, credentials), and sets few of those options.

use std::io;
use std::mem::size_of;
use std::os::fd::{AsFd, AsRawFd};
use std::os::raw::c_int;
use std::ptr;

/// Sets an integer socket option, such as one that asks for an ancillary
/// message with each datagram.
pub(crate) fn set_option(
    socket: &impl AsFd,
    level: c_int,
    name: c_int,
    value: c_int,
) -> io::Result<()> {
    // SAFETY: `value` is a readable `c_int`, its size given.
    let result = unsafe {
        libc::setsockopt(
            socket.as_fd().as_raw_fd(),
            level,
            name,
            ptr::addr_of!(value).cast(),
            size_of::<c_int>() as libc::socklen_t,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Calls `each(level, type, data)` for every ancillary message the kernel
/// wrote into `header`'s control buffer; `data` is the message's payload,
/// cut at the end of what the kernel wrote.
pub(crate) fn for_each(header: &libc::msghdr, mut each: impl FnMut(c_int, c_int, &[u8])) {
    if header.msg_control.is_null() || header.msg_controllen == 0 {
        return;
    }
    let start = header.msg_control as usize;
    // `msg_controllen` is a `size_t` on Linux, a `socklen_t` elsewhere.
    #[allow(clippy::unnecessary_cast)]
    let end = start + header.msg_controllen as usize;
    // SAFETY: the control buffer is live and the kernel wrote its first
    // `msg_controllen` bytes; CMSG_FIRSTHDR and CMSG_NXTHDR return null or
    // a header that lies within them.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(header) };
    while !cmsg.is_null() {
        // SAFETY: `cmsg` points to a header within the buffer (above).
        let (level, kind, len) = unsafe {
            let cmsg = ptr::read_unaligned(cmsg);
            (cmsg.cmsg_level, cmsg.cmsg_type, cmsg.cmsg_len as usize)
        };
        // SAFETY: as above; the payload follows the header.
        let data = unsafe { libc::CMSG_DATA(cmsg) };
        let data_len = len
            .saturating_sub(data_offset())
            .min(end.saturating_sub(data as usize));
        // SAFETY: `data_len` bytes from `data` lie within the part of the
        // buffer the kernel wrote (clamped to its end just above).
        each(level, kind, unsafe {
            std::slice::from_raw_parts(data, data_len)
        });
        // SAFETY: as above.
        cmsg = unsafe { libc::CMSG_NXTHDR(header, cmsg) };
    }
}

/// Where a message's payload starts after its header: `CMSG_LEN(0)`.
pub(crate) fn data_offset() -> usize {
    // SAFETY: pure arithmetic on a length.
    unsafe { libc::CMSG_LEN(0) as usize }
}

/// A `T` from the start of `data`, if it is long enough. For the plain C
/// integers and structs of ancillary payloads, for which any bytes are a
/// valid value.
pub(crate) fn read<T: Copy>(data: &[u8]) -> Option<T> {
    // SAFETY: `size_of::<T>()` bytes are readable (checked), read
    // unaligned; the `T`s read are plain C data.
    (data.len() >= size_of::<T>())
        .then(|| unsafe { ptr::read_unaligned(data.as_ptr().cast::<T>()) })
}
