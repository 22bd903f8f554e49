use std::net::{self, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::{fmt, io};

use crate::io_source::IoSource;
use crate::sys;

/// A non-blocking UDP socket.
///
/// Each send and receive moves one whole datagram. A receive buffer shorter
/// than the datagram gets its beginning; the rest is discarded, as with
/// std. After [`connect`](UdpSocket::connect), [`send`](UdpSocket::send)
/// and [`recv`](UdpSocket::recv) use the connected peer and datagrams from
/// other addresses are dropped by the OS.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use evmux::net::UdpSocket;
/// use evmux::{Events, Interest, Poll, Token};
///
/// # fn main() -> std::io::Result<()> {
/// let mut poll = Poll::new()?;
/// let mut receiver = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
/// let sender = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
/// poll.registry().register(&mut receiver, Token(0), Interest::READABLE)?;
///
/// sender.send_to(b"datagram", receiver.local_addr()?)?;
///
/// let mut events = Events::with_capacity(8);
/// let mut buf = [0; 64];
/// let (len, from) = loop {
///     poll.poll(&mut events, Some(Duration::from_secs(10)))?;
///     match receiver.recv_from(&mut buf) {
///         Ok(received) => break received,
///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
///         Err(e) => return Err(e),
///     }
/// };
/// assert_eq!(&buf[..len], b"datagram");
/// assert_eq!(from, sender.local_addr()?);
/// # Ok(())
/// # }
/// ```
pub struct UdpSocket {
    // Batched I/O (`udp_batch.rs`) goes through it too.
    pub(super) inner: IoSource<net::UdpSocket>,
    /// What sending learned about this socket (batched UDP).
    pub(super) send_state: super::udp_batch::SendState,
}

impl UdpSocket {
    /// Creates a socket bound to `addr`; port 0 lets the OS pick one.
    ///
    /// # Errors
    ///
    /// `AddrInUse` if the address is taken, `AddrNotAvailable` if it is not
    /// one of this host's, and the OS's other errors.
    pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
        sys::net::udp_bind(addr).map(UdpSocket::from_std)
    }

    /// Wraps a std socket. It should be non-blocking
    /// (`set_nonblocking(true)`); evmux does not change it.
    pub fn from_std(socket: net::UdpSocket) -> UdpSocket {
        UdpSocket {
            inner: IoSource::new(socket),
            send_state: super::udp_batch::SendState::default(),
        }
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The connected peer's address; `NotConnected` before
    /// [`connect`](UdpSocket::connect).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Sends one datagram to `target` and returns the bytes sent.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when the send buffer is full.
    pub fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.inner.do_write(|socket| socket.send_to(buf, target))
    }

    /// Receives one datagram and the address it came from.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when no datagram is waiting.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.do_read(|socket| socket.recv_from(buf))
    }

    /// Like [`recv_from`](UdpSocket::recv_from), but leaves the datagram in
    /// the queue.
    pub fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.do_read(|socket| socket.peek_from(buf))
    }

    /// Sends one datagram to the connected peer.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.do_write(|socket| socket.send(buf))
    }

    /// Receives one datagram from the connected peer.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.do_read(|socket| socket.recv(buf))
    }

    /// Like [`recv`](UdpSocket::recv), but leaves the datagram in the queue.
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.do_read(|socket| socket.peek(buf))
    }

    /// Sets the default peer for `send` and `recv`, and filters incoming
    /// datagrams to that peer. Does not block.
    pub fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.connect(addr)
    }

    /// Sets `SO_BROADCAST`: permission to send to broadcast addresses.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.inner.set_broadcast(on)
    }

    /// Reads `SO_BROADCAST`.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.inner.broadcast()
    }

    /// Sets `IP_MULTICAST_LOOP`: whether IPv4 multicast sent here is looped
    /// back to local sockets.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.inner.set_multicast_loop_v4(on)
    }

    /// Reads `IP_MULTICAST_LOOP`.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.inner.multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_TTL` for IPv4 multicast sent here.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.inner.set_multicast_ttl_v4(ttl)
    }

    /// Reads `IP_MULTICAST_TTL`.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.inner.multicast_ttl_v4()
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.inner.set_multicast_loop_v6(on)
    }

    /// Reads `IPV6_MULTICAST_LOOP`.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.inner.multicast_loop_v6()
    }

    /// Sets `IP_TTL` for unicast datagrams.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.set_ttl(ttl)
    }

    /// Reads `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.ttl()
    }

    /// Joins an IPv4 multicast group on the interface with address
    /// `interface` (`0.0.0.0`: the OS picks).
    pub fn join_multicast_v4(&self, multiaddr: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.inner.join_multicast_v4(multiaddr, interface)
    }

    /// Joins an IPv6 multicast group on the interface with index
    /// `interface` (0: the OS picks).
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.inner.join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv4 multicast group.
    pub fn leave_multicast_v4(&self, multiaddr: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.inner.leave_multicast_v4(multiaddr, interface)
    }

    /// Leaves an IPv6 multicast group.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.inner.leave_multicast_v6(multiaddr, interface)
    }

    /// Reads `IPV6_V6ONLY`: whether an IPv6 socket is limited to IPv6
    /// (false: it also serves IPv4-mapped addresses). An error on an IPv4
    /// socket.
    pub fn only_v6(&self) -> io::Result<bool> {
        sys::net::only_v6(&*self.inner)
    }

    /// Takes the pending error (`SO_ERROR`), if any, clearing it; e.g. an
    /// ICMP port-unreachable for a connected socket.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Runs `f`, an I/O operation of your own on this socket, within evmux's
    /// readiness bookkeeping; see [`TcpStream::try_io`] for the rules.
    ///
    /// [`TcpStream::try_io`]: crate::net::TcpStream::try_io
    pub fn try_io<F, T>(&self, f: F) -> io::Result<T>
    where
        F: FnOnce() -> io::Result<T>,
    {
        self.inner.do_io(|_| f())
    }
}

impl_source!(UdpSocket);
#[cfg(evmux_fd)]
impl_fd_traits!(UdpSocket, net::UdpSocket, UdpSocket::from_std);
#[cfg(windows)]
impl_socket_traits!(UdpSocket, net::UdpSocket, UdpSocket::from_std);
impl_into_std!(UdpSocket, net::UdpSocket);

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
