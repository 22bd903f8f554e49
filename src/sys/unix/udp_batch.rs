//! Batched UDP on Unix: `sendmmsg(2)` / `recvmmsg(2)` where the OS has them
//! (`evmux_mmsg`: Linux, Android, FreeBSD, NetBSD, OpenBSD), a loop of
//! `sendmsg(2)` / `recvmsg(2)` elsewhere (and with
//! `--cfg evmux_force_udp_loop`); GSO and GRO on Linux (`udp(7)`:
//! `UDP_SEGMENT`, `UDP_GRO`); the ancillary data of `ip(7)` and `ipv6(7)`
//! in `udp_cmsg` (received on macOS, iOS and the BSDs too: `udp_cmsg_bsd`).
//!
//! `libc` makes the message calls: rustix's `sendmsg`/`recvmsg` take only
//! the ancillary messages rustix knows (descriptors, credentials), it has
//! no `recvmmsg`, and its `sendmmsg` is Linux-only with the same limit.
//! The message headers are built here, one per datagram, pointing into
//! the caller's buffers, and live only for the call.
//!
//! Man pages: sendmmsg(2), recvmmsg(2), sendmsg(2), recvmsg(2), cmsg(3),
//! udp(7), ip(7), ipv6(7).

use std::io::{self, IoSliceMut};
use std::mem::{self, MaybeUninit};
use std::net::{self, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};

use rustix::net::addr::SocketAddrStorage;
use rustix::net::SocketAddrAny;

#[cfg(linux_like)]
pub(crate) use super::udp_cmsg::{
    gso_supported, send_gso, set_gro, set_recv_destination, set_recv_ecn,
};
#[cfg(any(apple, bsd))]
pub(crate) use super::udp_cmsg_bsd::{set_recv_destination, set_recv_ecn};
use crate::net::{RecvMeta, SendDatagram, SendState};
#[cfg(not(linux_like))]
pub(crate) use crate::sys::udp_offload_none::{gso_supported, send_gso, set_gro};
#[cfg(not(any(linux_like, apple, bsd)))]
pub(crate) use crate::sys::udp_offload_none::{set_recv_destination, set_recv_ecn};

/// Datagrams per system call: `sendmmsg`/`recvmmsg` take up to 1024
/// (`UIO_MAXIOV`); 64 keeps the per-call headers small while already
/// spreading the call's cost thin.
const BATCH: usize = 64;

/// Whether a batch takes one system call (else one per datagram).
const MMSG: bool = cfg!(all(evmux_mmsg, not(evmux_force_udp_loop)));

/// Room for one datagram's ancillary data: at most a GSO segment size, a
/// TOS or traffic class, and a packet-info record (three `CMSG_SPACE`s of
/// at most 32 bytes), aligned as `cmsghdr` needs.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
pub(crate) struct Control(pub(crate) [u8; 128]);

/// One datagram's message header: `mmsghdr` (a `msghdr` and the length
/// the kernel fills in) where batches go in one call.
#[cfg(evmux_mmsg)]
type Header = libc::mmsghdr;
#[cfg(not(evmux_mmsg))]
type Header = libc::msghdr;

fn msghdr(header: &mut Header) -> &mut libc::msghdr {
    #[cfg(evmux_mmsg)]
    return &mut header.msg_hdr;
    #[cfg(not(evmux_mmsg))]
    return header;
}

fn new_headers(count: usize) -> Vec<Header> {
    // SAFETY: `msghdr` and `mmsghdr` are plain C structs of integers and
    // pointers, for which all zeroes (null pointers, zero lengths) is a
    // valid value: an empty message.
    (0..count).map(|_| unsafe { mem::zeroed() }).collect()
}

/// Sends the datagrams of `batch`, in calls of up to `BATCH`; returns how
/// many were sent, an error only if none was.
pub(crate) fn send_many(
    socket: &net::UdpSocket,
    state: &SendState,
    batch: &[SendDatagram<'_>],
) -> io::Result<usize> {
    send_all(socket, state, batch, None)
}

/// `send_many`, each message carrying `gso` as its segment size if given.
pub(crate) fn send_all(
    socket: &net::UdpSocket,
    state: &SendState,
    batch: &[SendDatagram<'_>],
    gso: Option<u16>,
) -> io::Result<usize> {
    let mut sent = 0;
    for chunk in batch.chunks(BATCH) {
        match send_chunk(socket, state, chunk, gso) {
            Ok(n) if n == chunk.len() => sent += n,
            Ok(n) => return Ok(sent + n),
            Err(_) if sent > 0 => break,
            Err(error) => return Err(error),
        }
    }
    Ok(sent)
}

/// Sends `chunk` in one call. Linux before 3.13 refuses the `IP_TOS`
/// ancillary message with `EINVAL`: a chunk that carried one and was
/// refused so is sent again without, and the socket leaves it out from
/// then on (`SendState::NO_TOS`), unless the second try is refused the
/// same way, which shows that `IP_TOS` was not the cause.
fn send_chunk(
    socket: &net::UdpSocket,
    state: &SendState,
    chunk: &[SendDatagram<'_>],
    gso: Option<u16>,
) -> io::Result<usize> {
    let tos = !state.has(SendState::NO_TOS);
    let (result, carried_tos) = send_chunk_once(socket, chunk, gso, tos)?;
    match result {
        Err(error) if carried_tos && error.raw_os_error() == Some(libc::EINVAL) => {
            state.set(SendState::NO_TOS);
            let (again, _) = send_chunk_once(socket, chunk, gso, false)?;
            if again
                .as_ref()
                .is_err_and(|e| e.raw_os_error() == Some(libc::EINVAL))
            {
                state.clear(SendState::NO_TOS);
                return Err(error);
            }
            again
        }
        result => result,
    }
}

/// One attempt at sending `chunk`, with `IP_TOS` for the ECN bits over
/// IPv4 if `tos`: the result, and whether an `IP_TOS` message went. The
/// outer error is for ancillary data this system cannot send.
fn send_chunk_once(
    socket: &net::UdpSocket,
    chunk: &[SendDatagram<'_>],
    gso: Option<u16>,
    tos: bool,
) -> io::Result<(io::Result<usize>, bool)> {
    let mut iovs: Vec<libc::iovec> = chunk
        .iter()
        .map(|datagram| libc::iovec {
            iov_base: datagram.data.as_ptr() as *mut libc::c_void,
            iov_len: datagram.data.len(),
        })
        .collect();
    let names: Vec<Option<SocketAddrAny>> = chunk
        .iter()
        .map(|datagram| datagram.to.map(SocketAddrAny::from))
        .collect();
    let (mut controls, carried_tos) = send_controls(socket, chunk, gso, tos)?;
    let mut headers = new_headers(chunk.len());
    for (i, header) in headers.iter_mut().enumerate() {
        let header = msghdr(header);
        if let Some(name) = &names[i] {
            header.msg_name = name.as_ptr() as *mut libc::c_void;
            header.msg_namelen = name.addr_len() as _;
        }
        header.msg_iov = &mut iovs[i];
        header.msg_iovlen = 1;
        if let Some((control, used)) = controls.get_mut(i) {
            if *used > 0 {
                header.msg_control = control.0.as_mut_ptr().cast();
                header.msg_controllen = *used as _;
            }
        }
    }
    let result = if MMSG {
        mmsg(socket.as_raw_fd(), &mut headers, Direction::Send)
    } else {
        each(socket.as_raw_fd(), &mut headers, Direction::Send).map(|(n, _)| n)
    };
    Ok((result, carried_tos))
}

/// The ancillary data of each datagram of `chunk` with the bytes used (or
/// nothing if none has any), and whether an `IP_TOS` message is among it.
fn send_controls(
    socket: &net::UdpSocket,
    chunk: &[SendDatagram<'_>],
    gso: Option<u16>,
    tos: bool,
) -> io::Result<(Vec<(Control, usize)>, bool)> {
    let wanted = gso.is_some()
        || chunk
            .iter()
            .any(|datagram| datagram.ecn.is_some() || datagram.source.is_some());
    if !wanted {
        return Ok((Vec::new(), false));
    }
    #[cfg(linux_like)]
    {
        super::udp_cmsg::encode_send(socket, chunk, gso, tos)
    }
    #[cfg(not(linux_like))]
    {
        let _ = (socket, tos);
        Err(crate::sys::udp_offload_none::unsupported(
            "sending the ECN bits or source address",
        ))
    }
}

/// Receives up to `bufs.len()` datagrams (`UdpSocket::recv_many` caps
/// that at its `RECV_BATCH`); returns how many arrived, an error only if
/// none did. One `recvmmsg` call: the kernel keeps an error met after
/// the first datagram for the socket's next receive, which a second call
/// here would take and have to drop.
pub(crate) fn recv_many(
    socket: &net::UdpSocket,
    bufs: &mut [IoSliceMut<'_>],
    meta: &mut [RecvMeta],
) -> io::Result<usize> {
    let count = bufs.len();
    // The kernel writes the addresses and the ancillary data, and only
    // what it wrote is read (`msg_namelen`, `msg_controllen` bytes), so
    // the buffers start uninitialised: no zeroing per call.
    let mut names: Vec<MaybeUninit<libc::sockaddr_storage>> = uninit(count);
    // Ancillary data arrives only for the options set on the socket (GRO,
    // ECN, destination), which evmux sets on Linux, Android, macOS, iOS
    // and the BSDs.
    const DECODED: bool = cfg!(any(linux_like, apple, bsd));
    let mut controls: Vec<MaybeUninit<Control>> = uninit(if DECODED { count } else { 0 });
    let mut headers = new_headers(count);
    for (i, header) in headers.iter_mut().enumerate() {
        let header = msghdr(header);
        header.msg_name = names[i].as_mut_ptr().cast();
        header.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as _;
        // `IoSliceMut` is ABI-compatible with `iovec` on Unix.
        header.msg_iov = bufs[i..].as_mut_ptr().cast();
        header.msg_iovlen = 1;
        if let Some(control) = controls.get_mut(i) {
            header.msg_control = control.as_mut_ptr().cast();
            header.msg_controllen = mem::size_of::<Control>() as _;
        }
    }
    let fd = socket.as_raw_fd();
    let (received, lens) = if MMSG {
        (mmsg(fd, &mut headers, Direction::Recv)?, None)
    } else {
        let (n, lens) = each(fd, &mut headers, Direction::Recv)?;
        (n, Some(lens))
    };
    for (i, header) in headers.iter_mut().take(received).enumerate() {
        #[cfg(evmux_mmsg)]
        let len = match &lens {
            Some(lens) => lens[i],
            None => header.msg_len as usize,
        };
        #[cfg(not(evmux_mmsg))]
        let len = lens.as_ref().map_or(0, |lens| lens[i]);
        let header = msghdr(header);
        meta[i] = RecvMeta {
            len,
            stride: len,
            from: decode_address(&names[i], header.msg_namelen as usize),
            truncated: header.msg_flags & libc::MSG_TRUNC != 0,
            ecn: None,
            destination: None,
            ancillary_truncated: header.msg_flags & libc::MSG_CTRUNC != 0,
        };
        #[cfg(linux_like)]
        super::udp_cmsg::decode_recv(header, &mut meta[i]);
        #[cfg(any(apple, bsd))]
        super::udp_cmsg_bsd::decode_recv(header, &mut meta[i]);
    }
    Ok(received)
}

/// `count` uninitialised slots.
fn uninit<T>(count: usize) -> Vec<MaybeUninit<T>> {
    (0..count).map(|_| MaybeUninit::uninit()).collect()
}

/// The sender's address, of which the kernel wrote the first `len` bytes;
/// the unspecified address if it wrote none an IP socket can have (which
/// UDP never does).
fn decode_address(name: &MaybeUninit<libc::sockaddr_storage>, len: usize) -> SocketAddr {
    let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
    if len < mem::size_of::<libc::sockaddr_in>() || len > mem::size_of::<libc::sockaddr_storage>() {
        return unspecified;
    }
    // SAFETY: `name` is a `sockaddr_storage` (the layout of rustix's
    // `SocketAddrStorage`) of which the kernel wrote the first `len`
    // bytes, checked to lie within it; `read` copies only those.
    let any = unsafe { SocketAddrAny::read(name.as_ptr().cast::<SocketAddrStorage>(), len as _) };
    SocketAddr::try_from(any).unwrap_or(unspecified)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Send,
    Recv,
}

/// One `sendmmsg`/`recvmmsg` over `headers`: how many messages went.
#[cfg(evmux_mmsg)]
fn mmsg(fd: RawFd, headers: &mut [Header], direction: Direction) -> io::Result<usize> {
    loop {
        // SAFETY: `headers` is a valid array of `headers.len()` message
        // headers whose pointers (names, iovecs, ancillary buffers) point
        // into buffers that outlive this call.
        let result = unsafe { mmsg_call(fd, headers, direction) };
        if result >= 0 {
            return Ok(result as usize);
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// The call itself. `recvmmsg` with `MSG_WAITFORONE` waits (on a blocking
/// socket) for the first datagram only, as `recv_from` would.
///
/// # Safety
///
/// The headers' pointers must be valid for the call.
#[cfg(linux_like)]
unsafe fn mmsg_call(fd: RawFd, headers: &mut [Header], direction: Direction) -> isize {
    let (number, flags) = match direction {
        Direction::Send => (libc::SYS_sendmmsg, 0),
        Direction::Recv => (libc::SYS_recvmmsg, libc::MSG_WAITFORONE),
    };
    // The system call, not libc's wrapper: the `libc` crate declares the
    // wrappers for glibc only, and Android and musl have the call.
    // SAFETY: the caller's promise; the null timeout is allowed.
    unsafe {
        libc::syscall(
            number,
            fd,
            headers.as_mut_ptr(),
            headers.len() as libc::c_uint,
            flags,
            std::ptr::null_mut::<libc::timespec>(),
        ) as isize
    }
}

/// # Safety
///
/// The headers' pointers must be valid for the call.
#[cfg(all(evmux_mmsg, not(linux_like)))]
unsafe fn mmsg_call(fd: RawFd, headers: &mut [Header], direction: Direction) -> isize {
    let (messages, count) = (headers.as_mut_ptr(), headers.len() as _);
    // SAFETY: the caller's promise; the null timeout is allowed.
    unsafe {
        match direction {
            Direction::Send => libc::sendmmsg(fd, messages, count, 0) as isize,
            Direction::Recv => libc::recvmmsg(
                fd,
                messages,
                count,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            ) as isize,
        }
    }
}

#[cfg(not(evmux_mmsg))]
fn mmsg(fd: RawFd, headers: &mut [Header], direction: Direction) -> io::Result<usize> {
    each(fd, headers, direction).map(|(n, _)| n)
}

/// One `sendmsg`/`recvmsg` per header, until one would block or fails:
/// how many went, and the bytes of each. An error only for the first.
fn each(
    fd: RawFd,
    headers: &mut [Header],
    direction: Direction,
) -> io::Result<(usize, Vec<usize>)> {
    let mut lens = Vec::with_capacity(headers.len());
    for header in headers.iter_mut() {
        // After the first datagram, never wait (a blocking socket would).
        let flags = if lens.is_empty() {
            0
        } else {
            libc::MSG_DONTWAIT
        };
        match one(fd, msghdr(header), direction, flags) {
            Ok(len) => lens.push(len),
            Err(_) if !lens.is_empty() => break,
            Err(error) => return Err(error),
        }
    }
    Ok((lens.len(), lens))
}

fn one(
    fd: RawFd,
    header: &mut libc::msghdr,
    direction: Direction,
    flags: libc::c_int,
) -> io::Result<usize> {
    loop {
        // SAFETY: `header` is a valid message header whose pointers point
        // into buffers that outlive this call.
        let result = unsafe {
            match direction {
                Direction::Send => libc::sendmsg(fd, header, flags),
                Direction::Recv => libc::recvmsg(fd, header, flags),
            }
        };
        if result >= 0 {
            return Ok(result as usize);
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}
