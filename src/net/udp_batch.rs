//! Batched UDP: `UdpSocket`'s batch, segmentation-offload and ancillary
//! data methods, and the types they take. The overview readers see is the
//! "Batched UDP" section of the `net` module's docs (src/net/mod.rs).

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
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::net::Ecn;
    ///
    /// // The low two bits of a TOS byte: here DSCP 46 (expedited forwarding)
    /// // with ECT(0).
    /// assert_eq!(Ecn::from_bits(0b1011_1010), Ecn::Ect0);
    /// assert_eq!(Ecn::from_bits(0b11), Ecn::Ce);
    /// ```
    pub fn from_bits(tos: u8) -> Ecn {
        match tos & 0b11 {
            0b00 => Ecn::NotEct,
            0b01 => Ecn::Ect1,
            0b10 => Ecn::Ect0,
            _ => Ecn::Ce,
        }
    }

    /// The two bits of this codepoint.
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::net::Ecn;
    ///
    /// assert_eq!(Ecn::Ce.bits(), 0b11);
    /// assert_eq!(Ecn::from_bits(Ecn::Ect1.bits()), Ecn::Ect1);
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::net::SendDatagram;
    ///
    /// let peer = "127.0.0.1:4433".parse().unwrap();
    /// let datagram = SendDatagram::to(b"hello", peer);
    /// assert_eq!(datagram.data(), b"hello");
    /// ```
    pub fn to(data: &'a [u8], to: SocketAddr) -> SendDatagram<'a> {
        SendDatagram {
            data,
            to: Some(to),
            ecn: None,
            source: None,
        }
    }

    /// A datagram for the peer of a [connected](UdpSocket::connect) socket.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::{SendDatagram, UdpSocket};
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// socket.connect(socket.local_addr()?)?;
    /// // No address: the connected peer's.
    /// assert_eq!(socket.send_many(&[SendDatagram::connected(b"to myself")])?, 1);
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::net::{Ecn, SendDatagram};
    ///
    /// let peer = "127.0.0.1:4433".parse().unwrap();
    /// // ECN-capable transport: routers may mark it instead of dropping it.
    /// let datagram = SendDatagram::to(b"quic packet", peer).ecn(Ecn::Ect0);
    /// # let _ = datagram;
    /// ```
    pub fn ecn(mut self, ecn: Ecn) -> SendDatagram<'a> {
        self.ecn = Some(ecn);
        self
    }

    /// Sends from this local address, for a socket bound to a wildcard
    /// address (`IP_PKTINFO` / `IPV6_PKTINFO` ancillary data; Linux and
    /// Android only, `Unsupported` elsewhere). Usually the
    /// [`destination`](RecvMeta::destination) of the datagram being answered.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    ///
    /// use evmux::net::SendDatagram;
    ///
    /// let client = "192.0.2.7:50000".parse().unwrap();
    /// // Answer from the address the request was sent to (from
    /// // `RecvMeta::destination`), not whichever the routing table picks.
    /// let reply = SendDatagram::to(b"reply", client).source(Ipv4Addr::new(192, 0, 2, 1).into());
    /// # let _ = reply;
    /// ```
    pub fn source(mut self, source: IpAddr) -> SendDatagram<'a> {
        self.source = Some(source);
        self
    }

    /// The payload.
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::net::SendDatagram;
    ///
    /// let datagram = SendDatagram::connected(b"payload");
    /// assert_eq!(datagram.data().len(), 7);
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::IoSliceMut;
    ///
    /// use evmux::net::{RecvMeta, UdpSocket};
    ///
    /// # fn readable(socket: &mut UdpSocket) -> std::io::Result<()> {
    /// #     // Waits (at most 10 s) until `socket` has a datagram.
    /// #     let mut poll = evmux::Poll::new()?;
    /// #     let mut events = evmux::Events::with_capacity(1);
    /// #     poll.registry().register(socket, evmux::Token(0), evmux::Interest::READABLE)?;
    /// #     poll.poll(&mut events, Some(std::time::Duration::from_secs(10)))?;
    /// #     poll.registry().deregister(socket)
    /// # }
    /// # let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// # let sender = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// # sender.send_to(b"hello", socket.local_addr()?)?;
    /// # readable(&mut socket)?;
    /// # let mut buf = [0; 1500];
    /// # let mut meta = [RecvMeta::default()];
    /// # socket.recv_many(&mut [IoSliceMut::new(&mut buf)], &mut meta)?;
    /// # let meta = meta[0];
    /// assert_eq!(meta.len(), 5);
    /// assert_eq!(&buf[..meta.len()], b"hello");
    /// # Ok(())
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was stored: an empty datagram.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::IoSliceMut;
    ///
    /// use evmux::net::{RecvMeta, UdpSocket};
    ///
    /// # fn readable(socket: &mut UdpSocket) -> std::io::Result<()> {
    /// #     // Waits (at most 10 s) until `socket` has a datagram.
    /// #     let mut poll = evmux::Poll::new()?;
    /// #     let mut events = evmux::Events::with_capacity(1);
    /// #     poll.registry().register(socket, evmux::Token(0), evmux::Interest::READABLE)?;
    /// #     poll.poll(&mut events, Some(std::time::Duration::from_secs(10)))?;
    /// #     poll.registry().deregister(socket)
    /// # }
    /// # let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// # let sender = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// # sender.send_to(b"hello", socket.local_addr()?)?;
    /// # readable(&mut socket)?;
    /// # let mut buf = [0; 1500];
    /// # let mut meta = [RecvMeta::default()];
    /// # socket.recv_many(&mut [IoSliceMut::new(&mut buf)], &mut meta)?;
    /// # let meta = meta[0];
    /// // An empty datagram is a datagram too; this one has bytes.
    /// assert!(!meta.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The size of each coalesced datagram, the last one possibly shorter:
    /// [`len`](RecvMeta::len) unless GRO (see [`UdpSocket::set_gro`])
    /// merged several datagrams into this buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::IoSliceMut;
    ///
    /// use evmux::net::{RecvMeta, UdpSocket};
    ///
    /// # fn readable(socket: &mut UdpSocket) -> std::io::Result<()> {
    /// #     // Waits (at most 10 s) until `socket` has a datagram.
    /// #     let mut poll = evmux::Poll::new()?;
    /// #     let mut events = evmux::Events::with_capacity(1);
    /// #     poll.registry().register(socket, evmux::Token(0), evmux::Interest::READABLE)?;
    /// #     poll.poll(&mut events, Some(std::time::Duration::from_secs(10)))?;
    /// #     poll.registry().deregister(socket)
    /// # }
    /// # let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// # let sender = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// # sender.send_to(b"hello", socket.local_addr()?)?;
    /// # readable(&mut socket)?;
    /// # let mut buf = [0; 1500];
    /// # let mut meta = [RecvMeta::default()];
    /// # socket.recv_many(&mut [IoSliceMut::new(&mut buf)], &mut meta)?;
    /// # let meta = meta[0];
    /// // Without GRO each buffer holds one datagram: the stride is its length.
    /// assert_eq!(meta.stride(), meta.len());
    /// # Ok(())
    /// # }
    /// ```
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The sender's address.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::IoSliceMut;
    ///
    /// use evmux::net::{RecvMeta, UdpSocket};
    ///
    /// # fn readable(socket: &mut UdpSocket) -> std::io::Result<()> {
    /// #     // Waits (at most 10 s) until `socket` has a datagram.
    /// #     let mut poll = evmux::Poll::new()?;
    /// #     let mut events = evmux::Events::with_capacity(1);
    /// #     poll.registry().register(socket, evmux::Token(0), evmux::Interest::READABLE)?;
    /// #     poll.poll(&mut events, Some(std::time::Duration::from_secs(10)))?;
    /// #     poll.registry().deregister(socket)
    /// # }
    /// # let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// # let sender = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// # sender.send_to(b"hello", socket.local_addr()?)?;
    /// # readable(&mut socket)?;
    /// # let mut buf = [0; 1500];
    /// # let mut meta = [RecvMeta::default()];
    /// # socket.recv_many(&mut [IoSliceMut::new(&mut buf)], &mut meta)?;
    /// # let meta = meta[0];
    /// assert_eq!(meta.from(), sender.local_addr()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn from(&self) -> SocketAddr {
        self.from
    }

    /// Whether the datagram was longer than the buffer; the rest of it is
    /// lost, as with [`UdpSocket::recv_from`].
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::IoSliceMut;
    ///
    /// use evmux::net::{RecvMeta, UdpSocket};
    /// # fn readable(socket: &mut UdpSocket) -> std::io::Result<()> {
    /// #     // Waits (at most 10 s) until `socket` has a datagram.
    /// #     let mut poll = evmux::Poll::new()?;
    /// #     let mut events = evmux::Events::with_capacity(1);
    /// #     poll.registry().register(socket, evmux::Token(0), evmux::Interest::READABLE)?;
    /// #     poll.poll(&mut events, Some(std::time::Duration::from_secs(10)))?;
    /// #     poll.registry().deregister(socket)
    /// # }
    ///
    /// let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// socket.send_to(b"longer than the buffer", socket.local_addr()?)?;
    /// readable(&mut socket)?;
    ///
    /// let mut small = [0; 6];
    /// let mut meta = [RecvMeta::default()];
    /// socket.recv_many(&mut [IoSliceMut::new(&mut small)], &mut meta)?;
    /// assert!(meta[0].truncated());
    /// assert_eq!(&small, b"longer");
    /// # Ok(())
    /// # }
    /// ```
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The datagram's ECN codepoint, once [`UdpSocket::set_recv_ecn`] is on.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::{self, IoSliceMut};
    ///
    /// use evmux::net::{Ecn, RecvMeta, SendDatagram, UdpSocket};
    /// # fn readable(socket: &mut UdpSocket) -> std::io::Result<()> {
    /// #     // Waits (at most 10 s) until `socket` has a datagram.
    /// #     let mut poll = evmux::Poll::new()?;
    /// #     let mut events = evmux::Events::with_capacity(1);
    /// #     poll.registry().register(socket, evmux::Token(0), evmux::Interest::READABLE)?;
    /// #     poll.poll(&mut events, Some(std::time::Duration::from_secs(10)))?;
    /// #     poll.registry().deregister(socket)
    /// # }
    ///
    /// let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// match socket.set_recv_ecn(true) {
    ///     // Linux and Android only.
    ///     Err(e) if e.kind() == io::ErrorKind::Unsupported => return Ok(()),
    ///     result => result?,
    /// }
    /// let me = socket.local_addr()?;
    /// socket.send_many(&[SendDatagram::to(b"marked", me).ecn(Ecn::Ect1)])?;
    /// readable(&mut socket)?;
    ///
    /// let mut buf = [0; 64];
    /// let mut meta = [RecvMeta::default()];
    /// socket.recv_many(&mut [IoSliceMut::new(&mut buf)], &mut meta)?;
    /// assert_eq!(meta[0].ecn(), Some(Ecn::Ect1));
    /// # Ok(())
    /// # }
    /// ```
    pub fn ecn(&self) -> Option<Ecn> {
        self.ecn
    }

    /// The address the datagram was sent to, once
    /// [`UdpSocket::set_recv_destination`] is on.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::{self, IoSliceMut};
    ///
    /// use evmux::net::{RecvMeta, UdpSocket};
    /// # fn readable(socket: &mut UdpSocket) -> std::io::Result<()> {
    /// #     // Waits (at most 10 s) until `socket` has a datagram.
    /// #     let mut poll = evmux::Poll::new()?;
    /// #     let mut events = evmux::Events::with_capacity(1);
    /// #     poll.registry().register(socket, evmux::Token(0), evmux::Interest::READABLE)?;
    /// #     poll.poll(&mut events, Some(std::time::Duration::from_secs(10)))?;
    /// #     poll.registry().deregister(socket)
    /// # }
    ///
    /// // Bound to every address: which one was the datagram sent to?
    /// let mut server = UdpSocket::bind("0.0.0.0:0".parse().unwrap())?;
    /// match server.set_recv_destination(true) {
    ///     // Linux and Android only.
    ///     Err(e) if e.kind() == io::ErrorKind::Unsupported => return Ok(()),
    ///     result => result?,
    /// }
    /// let port = server.local_addr()?.port();
    /// let client = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// client.send_to(b"hello", ([127, 0, 0, 1], port).into())?;
    /// readable(&mut server)?;
    ///
    /// let mut buf = [0; 64];
    /// let mut meta = [RecvMeta::default()];
    /// server.recv_many(&mut [IoSliceMut::new(&mut buf)], &mut meta)?;
    /// assert_eq!(meta[0].destination(), Some([127, 0, 0, 1].into()));
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io::IoSliceMut;
    ///
    /// use evmux::net::{RecvMeta, SendDatagram, UdpSocket};
    /// # fn readable(socket: &mut UdpSocket) -> std::io::Result<()> {
    /// #     // Waits (at most 10 s) until `socket` has a datagram.
    /// #     let mut poll = evmux::Poll::new()?;
    /// #     let mut events = evmux::Events::with_capacity(1);
    /// #     poll.registry().register(socket, evmux::Token(0), evmux::Interest::READABLE)?;
    /// #     poll.poll(&mut events, Some(std::time::Duration::from_secs(10)))?;
    /// #     poll.registry().deregister(socket)
    /// # }
    ///
    /// let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// // With GRO on, the kernel may hand several datagrams over in one buffer.
    /// socket.set_gro(true)?;
    /// let me = socket.local_addr()?;
    /// socket.send_segments(SendDatagram::to(&[1; 300], me), 100)?;
    ///
    /// // However they come, `datagrams` yields them as they were sent.
    /// let mut sizes = Vec::new();
    /// let mut buf = [0; 65536];
    /// let mut meta = [RecvMeta::default()];
    /// while sizes.len() < 3 {
    ///     readable(&mut socket)?;
    ///     let n = socket.recv_many(&mut [IoSliceMut::new(&mut buf)], &mut meta)?;
    ///     for meta in &meta[..n] {
    ///         sizes.extend(meta.datagrams(&buf).map(|datagram| datagram.len()));
    ///     }
    /// }
    /// assert_eq!(sizes, [100, 100, 100]);
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::{SendDatagram, UdpSocket};
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let me = socket.local_addr()?;
    /// // 2,500 bytes as datagrams of 1,200, 1,200 and 100 bytes.
    /// let sent = socket.send_segments(SendDatagram::to(&[0; 2500], me), 1200)?;
    /// assert_eq!(sent, 2500);
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let cutter = if socket.gso_supported() { "the kernel" } else { "evmux" };
    /// println!("send_segments: segments cut by {cutter}");
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// if socket.set_gro(true)? {
    ///     println!("received datagrams may come coalesced: see RecvMeta::datagrams");
    /// }
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io;
    ///
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// match socket.set_recv_ecn(true) {
    ///     Ok(()) => println!("RecvMeta::ecn will report each datagram's codepoint"),
    ///     Err(e) if e.kind() == io::ErrorKind::Unsupported => println!("no ECN here: {e}"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io;
    ///
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("0.0.0.0:0".parse().unwrap())?;
    /// match socket.set_recv_destination(true) {
    ///     Ok(()) => println!("RecvMeta::destination will say where each datagram was sent"),
    ///     Err(e) if e.kind() == io::ErrorKind::Unsupported => println!("not here: {e}"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_recv_destination(&self, on: bool) -> io::Result<()> {
        sys::udp_batch::set_recv_destination(&self.inner, on)
    }
}
