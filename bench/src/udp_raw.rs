//! The raw system calls of the batched UDP workloads: the floor the
//! evmux rows are compared with, and the untimed feeding and draining of
//! sockets that every competitor shares. IPv4 on loopback only.

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::{io, mem, ptr};

/// Sets an integer socket option.
fn set_int(socket: &UdpSocket, level: libc::c_int, name: libc::c_int, value: libc::c_int) {
    // SAFETY: `value` is a live `c_int`, its size given.
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            ptr::addr_of!(value).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(result, 0, "setsockopt: {}", io::Error::last_os_error());
}

/// A receive buffer large enough that loopback drops nothing in a batch.
pub fn roomy(socket: &UdpSocket) {
    set_int(socket, libc::SOL_SOCKET, libc::SO_RCVBUF, 4 << 20);
}

/// A bound, non-blocking, roomy std socket on loopback.
pub fn socket() -> UdpSocket {
    let socket = UdpSocket::bind(crate::fixtures::localhost()).expect("bind");
    socket.set_nonblocking(true).expect("set_nonblocking");
    roomy(&socket);
    socket
}

fn sockaddr(to: SocketAddr) -> libc::sockaddr_in {
    let SocketAddr::V4(to) = to else {
        panic!("IPv4 only")
    };
    // SAFETY: all zeroes is a valid `sockaddr_in`.
    let mut addr: libc::sockaddr_in = unsafe { mem::zeroed() };
    addr.sin_family = libc::AF_INET as libc::sa_family_t;
    addr.sin_port = to.port().to_be();
    addr.sin_addr.s_addr = u32::from_ne_bytes(to.ip().octets());
    addr
}

/// Room for one `UDP_SEGMENT` or `UDP_GRO` message.
#[repr(C, align(8))]
struct Control([u8; 32]);

/// `sendmmsg` of `count` copies of `payload` to `to`, or with `gso`, one
/// message of `count` segments of `payload.len()` bytes from `run`.
pub fn send(fd: RawFd, payload: &[u8], run: &[u8], count: usize, to: SocketAddr, gso: bool) {
    let mut addr = sockaddr(to);
    let (messages, len) = if gso {
        (1, payload.len() * count)
    } else {
        (count, payload.len())
    };
    let base = if gso { run } else { payload };
    let mut iov = libc::iovec {
        iov_base: base.as_ptr() as *mut libc::c_void,
        iov_len: len,
    };
    let mut control = Control([0; 32]);
    // SAFETY: all zeroes is a valid `mmsghdr`.
    let mut headers: Vec<libc::mmsghdr> = (0..messages).map(|_| unsafe { mem::zeroed() }).collect();
    for header in &mut headers {
        header.msg_hdr.msg_name = ptr::addr_of_mut!(addr).cast();
        header.msg_hdr.msg_namelen = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        header.msg_hdr.msg_iov = &mut iov;
        header.msg_hdr.msg_iovlen = 1;
        if gso {
            let segment = payload.len() as u16;
            // SAFETY: `control` has room for one message with a `u16`
            // (CMSG_SPACE(2) is 16 bytes); the header points into it.
            unsafe {
                header.msg_hdr.msg_control = control.0.as_mut_ptr().cast();
                header.msg_hdr.msg_controllen = libc::CMSG_SPACE(2) as usize;
                let cmsg = libc::CMSG_FIRSTHDR(&header.msg_hdr);
                (*cmsg).cmsg_level = libc::SOL_UDP;
                (*cmsg).cmsg_type = libc::UDP_SEGMENT;
                (*cmsg).cmsg_len = libc::CMSG_LEN(2) as usize;
                ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<u16>(), segment);
            }
        }
    }
    // SAFETY: the headers point to live buffers for the call.
    let sent = unsafe { libc::sendmmsg(fd, headers.as_mut_ptr(), messages as u32, 0) };
    assert_eq!(
        sent,
        messages as i32,
        "sendmmsg: {}",
        io::Error::last_os_error()
    );
}

/// `recvmmsg` into `bufs` until `count` datagrams arrived, counting the
/// segments of GRO runs; returns the calls made.
pub fn receive(fd: RawFd, bufs: &mut [Vec<u8>], count: usize) -> usize {
    let batch = bufs.len();
    let mut iovs: Vec<libc::iovec> = bufs
        .iter_mut()
        .map(|buf| libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        })
        .collect();
    let mut controls: Vec<Control> = (0..batch).map(|_| Control([0; 32])).collect();
    // SAFETY: all zeroes is a valid `mmsghdr`.
    let mut headers: Vec<libc::mmsghdr> = (0..batch).map(|_| unsafe { mem::zeroed() }).collect();
    let (mut got, mut calls) = (0, 0);
    while got < count {
        for (i, header) in headers.iter_mut().enumerate() {
            header.msg_hdr.msg_iov = &mut iovs[i];
            header.msg_hdr.msg_iovlen = 1;
            header.msg_hdr.msg_control = controls[i].0.as_mut_ptr().cast();
            header.msg_hdr.msg_controllen = 32;
        }
        let want = batch.min(count - got) as u32;
        // SAFETY: the headers point to live buffers for the call.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                headers.as_mut_ptr(),
                want,
                libc::MSG_DONTWAIT,
                ptr::null_mut(),
            )
        };
        calls += 1;
        if n < 0 {
            let error = io::Error::last_os_error();
            assert_eq!(error.kind(), io::ErrorKind::WouldBlock, "recvmmsg: {error}");
            assert!(calls < 1_000_000, "datagrams lost: {got} of {count}");
            continue;
        }
        for header in &headers[..n as usize] {
            got += segments(header);
        }
    }
    calls
}

/// The datagrams one received message holds: one, or a GRO run's count.
fn segments(header: &libc::mmsghdr) -> usize {
    let len = header.msg_len as usize;
    // SAFETY: the kernel wrote `msg_controllen` bytes of ancillary data
    // into the header's live buffer.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&header.msg_hdr);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_UDP && (*cmsg).cmsg_type == libc::UDP_GRO {
                let stride = ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::c_int>());
                return len.div_ceil(stride.max(1) as usize);
            }
            cmsg = libc::CMSG_NXTHDR(&header.msg_hdr, cmsg);
        }
    }
    1
}

/// Receives whatever is queued, untimed.
pub fn drain(socket: &UdpSocket) {
    let mut buf = [0u8; 65_536];
    while socket.recv(&mut buf).is_ok() {}
}

/// Turns `UDP_GRO` on.
pub fn gro(socket: &UdpSocket) {
    set_int(socket, libc::SOL_UDP, libc::UDP_GRO, 1);
}
