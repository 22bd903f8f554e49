//! Batched UDP: many datagrams per system call, segmentation offload (GSO)
//! and receive coalescing (GRO), and the ancillary data a QUIC stack needs
//! (ECN bits, the destination address of a received datagram).
//!
//! Where each part comes from:
//!
//! | | Linux, Android | other Unix | Windows |
//! |---|---|---|---|
//! | [`UdpSocket::send_many`], [`UdpSocket::recv_many`] | `sendmmsg(2)`, `recvmmsg(2)`: one call per 64 datagrams (FreeBSD, NetBSD and OpenBSD too) | a loop of `sendmsg(2)` / `recvmsg(2)`: one call per datagram | a loop of `sendto` / `recvfrom` |
//! | [`UdpSocket::send_segments`] | `UDP_SEGMENT` (GSO) if the kernel has it (4.18+), checked at run time | split in user space, sent as a batch | split in user space |
//! | [`UdpSocket::set_gro`] | `UDP_GRO` (5.0+) | `Ok(false)`: datagrams arrive one by one | `Ok(false)` |
//! | ECN, destination address | `IP_TOS`/`IPV6_TCLASS`, `IP_PKTINFO`/`IPV6_PKTINFO`, sent and received | received on macOS, iOS and the BSDs (`IP_RECVTOS` where it exists: macOS, iOS, FreeBSD; `IP_RECVDSTADDR`; `IPV6_RECVTCLASS`, `IPV6_RECVPKTINFO`); sending them `Unsupported`; elsewhere `Unsupported` | `Unsupported` |
//!
//! What a socket learns from the kernel's refusals is kept per socket (as
//! in quinn-udp): a GSO send refused with `EIO` or `EINVAL` makes that
//! socket cut its own segments from then on; a send refused with `EINVAL`
//! while it carried `IP_TOS` (Linux before 3.13 refuses that message) is
//! sent again without it, and the socket's datagrams over IPv4 go
//! unmarked from then on. Unlike quinn-udp, evmux turns `IP_TOS` back on
//! when the second try is refused the same way (it was not the cause).
//! Ancillary data the kernel had to cut is reported
//! ([`RecvMeta::ancillary_truncated`]; quinn-udp does not check
//! `MSG_CTRUNC` on receives).
//!
//! The loop has the same semantics as the batched calls, at the cost of one
//! system call per datagram. Building evmux with
//! `RUSTFLAGS="--cfg evmux_force_udp_loop"` makes Linux take the loop and
//! the user-space splitting too (and report GRO as unavailable), so that
//! those paths are tested on Linux.
//!
//! All of it goes through the socket's readiness bookkeeping: a call that
//! ends in `WouldBlock`, or in a partial batch, re-arms the interest it
//! waits for on backends that emulate edge triggering (poll(2), Windows),
//! like [`UdpSocket::recv_from`] does.

use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU8, Ordering};

use crate::net::UdpSocket;
use crate::sys;

/// The most datagrams one `recv_many` returns: what one `recvmmsg(2)`
/// takes (see the sys module for why one call).
const RECV_BATCH: usize = 64;

/// What sending has learned about one socket from the OS's refusals, so
/// that the next sends avoid what failed: kept per socket, as quinn-udp
/// does (one route through an IPsec tunnel must not turn GSO off for every
/// socket of the process).
#[derive(Debug, Default)]
pub(crate) struct SendState(AtomicU8);

// GSO and ancillary data on sends are Linux's and Android's only.
#[cfg_attr(not(linux_like), allow(dead_code))]
impl SendState {
    /// The kernel refused a GSO send on this socket (`EIO`: the route's
    /// device cannot segment, or IPsec; `EINVAL`: e.g. checksums off).
    pub(crate) const NO_GSO: u8 = 1;
    /// The kernel refused the `IP_TOS` ancillary message (`EINVAL`, Linux
    /// before 3.13): ECN bits over IPv4 are left out.
    pub(crate) const NO_TOS: u8 = 2;

    pub(crate) fn has(&self, flag: u8) -> bool {
        self.0.load(Ordering::Relaxed) & flag != 0
    }

    pub(crate) fn set(&self, flag: u8) {
        self.0.fetch_or(flag, Ordering::Relaxed);
    }

    pub(crate) fn clear(&self, flag: u8) {
        self.0.fetch_and(!flag, Ordering::Relaxed);
    }
}

/// The ECN codepoint of a datagram: the low two bits of the IPv4 TOS byte
/// or the IPv6 traffic class (RFC 3168).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ecn {
    /// `00`: the sender does not support ECN.
    NotEct,
    /// `01`: ECN-capable transport, codepoint 1.
    Ect1,
    /// `10`: ECN-capable transport, codepoint 0.
    Ect0,
    /// `11`: congestion experienced.
    Ce,
}

impl Ecn {
    /// The codepoint in the low two bits of a TOS or traffic-class byte.
    pub fn from_bits(tos: u8) -> Ecn {
        match tos & 0b11 {
            0b00 => Ecn::NotEct,
            0b01 => Ecn::Ect1,
            0b10 => Ecn::Ect0,
            _ => Ecn::Ce,
        }
    }

    /// The two bits of this codepoint.
    pub fn bits(self) -> u8 {
        match self {
            Ecn::NotEct => 0b00,
            Ecn::Ect1 => 0b01,
            Ecn::Ect0 => 0b10,
            Ecn::Ce => 0b11,
        }
    }
}

/// One datagram to send with [`UdpSocket::send_many`] or, as a run of equal
/// segments, with [`UdpSocket::send_segments`].
///
/// # Examples
///
/// ```
/// use evmux::net::{Ecn, SendDatagram};
///
/// let peer = "127.0.0.1:4433".parse().unwrap();
/// let datagram = SendDatagram::to(b"hello", peer).ecn(Ecn::Ect0);
/// assert_eq!(datagram.data(), b"hello");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct SendDatagram<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) to: Option<SocketAddr>,
    pub(crate) ecn: Option<Ecn>,
    pub(crate) source: Option<IpAddr>,
}

impl<'a> SendDatagram<'a> {
    /// A datagram for `to`.
    pub fn to(data: &'a [u8], to: SocketAddr) -> SendDatagram<'a> {
        SendDatagram {
            data,
            to: Some(to),
            ecn: None,
            source: None,
        }
    }

    /// A datagram for the peer of a [connected](UdpSocket::connect) socket.
    pub fn connected(data: &'a [u8]) -> SendDatagram<'a> {
        SendDatagram {
            data,
            to: None,
            ecn: None,
            source: None,
        }
    }

    /// Marks the datagram with an ECN codepoint (`IP_TOS` / `IPV6_TCLASS`
    /// ancillary data; Linux and Android only, `Unsupported` elsewhere).
    /// The family of the path decides which: a socket's IPv4-mapped peer
    /// gets `IP_TOS`. A kernel that refuses `IP_TOS` (before Linux 3.13)
    /// gets the datagram without it: unmarked over IPv4.
    pub fn ecn(mut self, ecn: Ecn) -> SendDatagram<'a> {
        self.ecn = Some(ecn);
        self
    }

    /// Sends from this local address, for a socket bound to a wildcard
    /// address (`IP_PKTINFO` / `IPV6_PKTINFO` ancillary data; Linux and
    /// Android only, `Unsupported` elsewhere). Usually the
    /// [`destination`](RecvMeta::destination) of the datagram being answered.
    pub fn source(mut self, source: IpAddr) -> SendDatagram<'a> {
        self.source = Some(source);
        self
    }

    /// The payload.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
}

/// What [`UdpSocket::recv_many`] learned about one received datagram (or,
/// with GRO, one run of coalesced datagrams).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvMeta {
    pub(crate) len: usize,
    pub(crate) stride: usize,
    pub(crate) from: SocketAddr,
    pub(crate) truncated: bool,
    pub(crate) ecn: Option<Ecn>,
    pub(crate) destination: Option<IpAddr>,
    pub(crate) ancillary_truncated: bool,
}

impl Default for RecvMeta {
    fn default() -> RecvMeta {
        RecvMeta {
            len: 0,
            stride: 0,
            from: SocketAddr::from(([0, 0, 0, 0], 0)),
            truncated: false,
            ecn: None,
            destination: None,
            ancillary_truncated: false,
        }
    }
}

impl RecvMeta {
    /// The bytes stored in the buffer.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was stored: an empty datagram.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The size of each coalesced datagram, the last one possibly shorter:
    /// [`len`](RecvMeta::len) unless GRO (see [`UdpSocket::set_gro`])
    /// merged several datagrams into this buffer.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The sender's address.
    pub fn from(&self) -> SocketAddr {
        self.from
    }

    /// Whether the datagram was longer than the buffer; the rest of it is
    /// lost, as with [`UdpSocket::recv_from`].
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The datagram's ECN codepoint, once [`UdpSocket::set_recv_ecn`] is on.
    pub fn ecn(&self) -> Option<Ecn> {
        self.ecn
    }

    /// The address the datagram was sent to, once
    /// [`UdpSocket::set_recv_destination`] is on.
    pub fn destination(&self) -> Option<IpAddr> {
        self.destination
    }

    /// Whether the OS had more ancillary data for this datagram than fits
    /// in evmux's buffer (`MSG_CTRUNC`), and cut it. evmux's buffer holds
    /// what evmux asks for (GRO, ECN, destination); this happens when the
    /// program set other options on the socket that add ancillary data
    /// (timestamps, TTL, ...). What was cut is missing:
    /// [`ecn`](RecvMeta::ecn) and [`destination`](RecvMeta::destination)
    /// may be `None`, and a GRO [`stride`](RecvMeta::stride) may be lost
    /// (the kernel writes it first, so it rarely is). Turn the other
    /// options off, or read such a socket with `recvmsg(2)` yourself.
    pub fn ancillary_truncated(&self) -> bool {
        self.ancillary_truncated
    }

    /// Splits the received bytes (`&buf[..len]` is taken here) into the
    /// datagrams the sender sent: one, or several when GRO coalesced them.
    pub fn datagrams<'b>(&self, buf: &'b [u8]) -> impl Iterator<Item = &'b [u8]> {
        let received = &buf[..self.len.min(buf.len())];
        // An empty datagram is still one datagram.
        let count = if received.is_empty() { 1 } else { 0 };
        received
            .chunks(self.stride.max(1))
            .chain(std::iter::repeat_n(received, count))
    }
}

impl UdpSocket {
    /// Sends a batch of datagrams, in order, and returns how many were
    /// sent: the first `n` of `batch`; retry the rest.
    ///
    /// One system call sends up to 64 datagrams on Linux, Android,
    /// FreeBSD, NetBSD and OpenBSD (`sendmmsg(2)`); elsewhere each takes
    /// its own, with the same results. An empty batch returns `Ok(0)`.
    ///
    /// # Errors
    ///
    /// Only when nothing was sent: `WouldBlock` when the send buffer is
    /// full, or the first datagram's error. An error on a later datagram
    /// ends the batch early (`Ok(n)`) and is not returned, as with
    /// `sendmmsg(2)`: send from datagram `n` again. An error of that
    /// datagram (too long, no route to its address) recurs then; one the
    /// OS was holding for the socket (an earlier datagram refused) has
    /// been reported, and the datagram goes.
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::net::{SendDatagram, UdpSocket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let me = socket.local_addr()?;
    /// let batch = [SendDatagram::to(b"one", me), SendDatagram::to(b"two", me)];
    /// assert_eq!(socket.send_many(&batch)?, 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_many(&self, batch: &[SendDatagram<'_>]) -> io::Result<usize> {
        if batch.is_empty() {
            return Ok(0);
        }
        self.inner
            .do_write(|socket| sys::udp_batch::send_many(socket, &self.send_state, batch))
    }

    /// Sends `datagram`'s data as datagrams of `segment_size` bytes each,
    /// the last one possibly shorter, and returns the bytes sent: all of
    /// them, or a multiple of `segment_size` when the send buffer filled
    /// up (send the rest later, from that offset).
    ///
    /// On Linux 4.18 and later the kernel cuts the segments (`UDP_SEGMENT`,
    /// GSO): one system call and one trip through the network stack for
    /// up to 64 of them. Elsewhere, or when the kernel refuses, evmux cuts
    /// them and sends them as a batch ([`send_many`](UdpSocket::send_many)).
    /// [`gso_supported`](UdpSocket::gso_supported) tells which.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `segment_size` is 0; otherwise as
    /// [`send_many`](UdpSocket::send_many).
    pub fn send_segments(
        &self,
        datagram: SendDatagram<'_>,
        segment_size: usize,
    ) -> io::Result<usize> {
        if segment_size == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "UDP segment size must not be zero",
            ));
        }
        self.inner.do_write(|socket| {
            if datagram.data.len() > segment_size {
                let state = &self.send_state;
                if let Some(sent) = sys::udp_batch::send_gso(socket, state, datagram, segment_size)
                {
                    return sent;
                }
            }
            // Cut here. No data at all is still one (empty) datagram.
            let mut pieces: Vec<SendDatagram<'_>> = datagram
                .data
                .chunks(segment_size)
                .map(|data| SendDatagram { data, ..datagram })
                .collect();
            if pieces.is_empty() {
                pieces.push(datagram);
            }
            let sent = sys::udp_batch::send_many(socket, &self.send_state, &pieces)?;
            Ok(pieces[..sent].iter().map(|piece| piece.data.len()).sum())
        })
    }

    /// Whether [`send_segments`](UdpSocket::send_segments) lets the kernel
    /// cut the segments (GSO) rather than evmux. Whether the kernel has
    /// GSO is checked once per process; a socket whose GSO send the kernel
    /// refuses (`EIO`: the route's device cannot segment, or IPsec;
    /// `EINVAL`: e.g. UDP checksums turned off) cuts its own from then on,
    /// and only that socket.
    pub fn gso_supported(&self) -> bool {
        sys::udp_batch::gso_supported(&self.send_state)
    }

    /// Receives a batch of datagrams: datagram `i` goes into `bufs[i]` and
    /// what is known about it into `meta[i]`. Returns how many arrived: at
    /// most 64, and at most the shorter of the two slices; the rest are
    /// untouched.
    ///
    /// One system call receives the batch on Linux, Android, FreeBSD,
    /// NetBSD and OpenBSD (`recvmmsg(2)`); elsewhere each datagram takes
    /// its own. An empty batch returns `Ok(0)`. A datagram longer than its
    /// buffer is cut ([`RecvMeta::truncated`]).
    ///
    /// # Errors
    ///
    /// Only when nothing arrived: `WouldBlock` when no datagram is
    /// waiting, or the socket's error. When datagrams arrived before an
    /// error, they are returned, and the error ends the batch: with
    /// `recvmmsg(2)` the socket keeps it for the next call. Where each
    /// datagram takes its own call, an error that arrives between two of
    /// them (such as `ConnectionRefused` for an earlier datagram of a
    /// connected socket) is consumed by the call that meets it, and not
    /// reported.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::IoSliceMut;
    ///
    /// use evmux::net::{RecvMeta, SendDatagram, UdpSocket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let me = socket.local_addr()?;
    /// socket.send_many(&[SendDatagram::to(b"one", me), SendDatagram::to(b"two", me)])?;
    ///
    /// let (mut a, mut b) = ([0; 64], [0; 64]);
    /// let mut bufs = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
    /// let mut meta = [RecvMeta::default(); 2];
    /// let mut received = 0;
    /// // Loopback delivers at once; a program would wait for readiness.
    /// while received < 2 {
    ///     match socket.recv_many(&mut bufs[received..], &mut meta[received..]) {
    ///         Ok(n) => received += n,
    ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// drop(bufs);
    /// assert_eq!(&a[..meta[0].len()], b"one");
    /// assert_eq!(meta[1].from(), me);
    /// # Ok(())
    /// # }
    /// ```
    pub fn recv_many(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> io::Result<usize> {
        let count = bufs.len().min(meta.len()).min(RECV_BATCH);
        if count == 0 {
            return Ok(0);
        }
        self.inner.do_read(|socket| {
            sys::udp_batch::recv_many(socket, &mut bufs[..count], &mut meta[..count])
        })
    }

    /// Turns receive coalescing (`UDP_GRO`) on or off, and returns whether
    /// it is on. When on, one buffer of [`recv_many`](UdpSocket::recv_many)
    /// may hold several datagrams of one sender, all of
    /// [`RecvMeta::stride`] bytes but the last; split them with
    /// [`RecvMeta::datagrams`]. Give such a socket buffers of 64 KiB.
    ///
    /// Returns `Ok(false)` where the OS has no GRO for UDP (before Linux
    /// 5.0, other systems): datagrams then arrive one per buffer, which
    /// [`RecvMeta::datagrams`] handles the same way.
    ///
    /// # Errors
    ///
    /// The OS's errors other than "no such option".
    pub fn set_gro(&self, on: bool) -> io::Result<bool> {
        sys::udp_batch::set_gro(&self.inner, on)
    }

    /// Asks for each received datagram's ECN codepoint, reported by
    /// [`RecvMeta::ecn`] (`IP_RECVTOS`, and `IPV6_RECVTCLASS` on an IPv6
    /// socket).
    ///
    /// # Errors
    ///
    /// `Unsupported` on systems other than Linux, Android, macOS, iOS and
    /// the BSDs, and for an IPv4 socket on NetBSD, OpenBSD and DragonFly
    /// (no `IP_RECVTOS`).
    pub fn set_recv_ecn(&self, on: bool) -> io::Result<()> {
        sys::udp_batch::set_recv_ecn(&self.inner, on)
    }

    /// Asks for the address each received datagram was sent to, reported by
    /// [`RecvMeta::destination`] (`IP_PKTINFO`, or `IP_RECVDSTADDR` on
    /// macOS, iOS and the BSDs, and `IPV6_RECVPKTINFO` on an IPv6 socket):
    /// what a server bound to a wildcard address answers from (see
    /// [`SendDatagram::source`], which is Linux's and Android's only).
    ///
    /// # Errors
    ///
    /// `Unsupported` on systems other than Linux, Android, macOS, iOS and
    /// the BSDs.
    pub fn set_recv_destination(&self, on: bool) -> io::Result<()> {
        sys::udp_batch::set_recv_destination(&self.inner, on)
    }
}
