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
/// Absent on WASI preview 1, which cannot create sockets (as in mio).
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
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// // Port 0: the OS picks a free port.
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// assert_ne!(socket.local_addr()?.port(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
        sys::net::udp_bind(addr).map(UdpSocket::from_std)
    }

    /// Wraps a std socket. It should be non-blocking
    /// (`set_nonblocking(true)`); evmux does not change it.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let std_socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// std_socket.set_nonblocking(true)?;
    /// let socket = UdpSocket::from_std(std_socket);
    /// assert!(socket.local_addr()?.ip().is_loopback());
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_std(socket: net::UdpSocket) -> UdpSocket {
        UdpSocket {
            inner: IoSource::new(socket),
            send_state: super::udp_batch::SendState::default(),
        }
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let address = socket.local_addr()?;
    /// assert_eq!(address.ip().to_string(), "127.0.0.1");
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The connected peer's address; `NotConnected` before
    /// [`connect`](UdpSocket::connect).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// // Not connected yet: no peer.
    /// assert!(socket.peer_addr().is_err());
    /// let peer = "127.0.0.1:4433".parse().unwrap();
    /// socket.connect(peer)?;
    /// assert_eq!(socket.peer_addr()?, peer);
    /// # Ok(())
    /// # }
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Sends one datagram to `target` and returns the bytes sent.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when the send buffer is full.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let sender = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let receiver = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// // One call sends one whole datagram (or fails with WouldBlock).
    /// let sent = sender.send_to(b"ping", receiver.local_addr()?)?;
    /// assert_eq!(sent, 4);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.inner.do_write(|socket| socket.send_to(buf, target))
    }

    /// Receives one datagram and the address it came from.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when no datagram is waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io;
    ///
    /// use evmux::net::UdpSocket;
    /// # fn readable(socket: &mut UdpSocket) -> std::io::Result<()> {
    /// #     // Waits (at most 10 s) until `socket` has a datagram.
    /// #     let mut poll = evmux::Poll::new()?;
    /// #     let mut events = evmux::Events::with_capacity(1);
    /// #     poll.registry().register(socket, evmux::Token(0), evmux::Interest::READABLE)?;
    /// #     poll.poll(&mut events, Some(std::time::Duration::from_secs(10)))?;
    /// #     poll.registry().deregister(socket)
    /// # }
    ///
    /// let sender = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let mut receiver = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// sender.send_to(b"ping", receiver.local_addr()?)?;
    /// readable(&mut receiver)?;
    ///
    /// let mut buf = [0; 1500];
    /// let (len, from) = receiver.recv_from(&mut buf)?;
    /// assert_eq!(&buf[..len], b"ping");
    /// assert_eq!(from, sender.local_addr()?);
    /// // Nothing more: the next receive would block.
    /// assert_eq!(receiver.recv_from(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    /// # Ok(())
    /// # }
    /// ```
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.do_read(|socket| socket.recv_from(buf))
    }

    /// Like [`recv_from`](UdpSocket::recv_from), but leaves the datagram in
    /// the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    /// # fn readable(socket: &mut UdpSocket) -> std::io::Result<()> {
    /// #     // Waits (at most 10 s) until `socket` has a datagram.
    /// #     let mut poll = evmux::Poll::new()?;
    /// #     let mut events = evmux::Events::with_capacity(1);
    /// #     poll.registry().register(socket, evmux::Token(0), evmux::Interest::READABLE)?;
    /// #     poll.poll(&mut events, Some(std::time::Duration::from_secs(10)))?;
    /// #     poll.registry().deregister(socket)
    /// # }
    ///
    /// let sender = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let mut receiver = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// sender.send_to(b"ping", receiver.local_addr()?)?;
    /// readable(&mut receiver)?;
    ///
    /// let mut buf = [0; 1500];
    /// // Peeking leaves the datagram queued: the receive gets it again.
    /// let (len, _) = receiver.peek_from(&mut buf)?;
    /// assert_eq!(&buf[..len], b"ping");
    /// assert_eq!(receiver.recv_from(&mut buf)?.0, 4);
    /// # Ok(())
    /// # }
    /// ```
    pub fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.do_read(|socket| socket.peek_from(buf))
    }

    /// Sends one datagram to the connected peer.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let sender = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let receiver = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// sender.connect(receiver.local_addr()?)?;
    /// // Connected: no address to give.
    /// assert_eq!(sender.send(b"ping")?, 4);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.do_write(|socket| socket.send(buf))
    }

    /// Receives one datagram from the connected peer.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    /// # fn readable(socket: &mut UdpSocket) -> std::io::Result<()> {
    /// #     // Waits (at most 10 s) until `socket` has a datagram.
    /// #     let mut poll = evmux::Poll::new()?;
    /// #     let mut events = evmux::Events::with_capacity(1);
    /// #     poll.registry().register(socket, evmux::Token(0), evmux::Interest::READABLE)?;
    /// #     poll.poll(&mut events, Some(std::time::Duration::from_secs(10)))?;
    /// #     poll.registry().deregister(socket)
    /// # }
    ///
    /// let sender = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let mut receiver = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// receiver.connect(sender.local_addr()?)?;
    /// sender.send_to(b"ping", receiver.local_addr()?)?;
    /// readable(&mut receiver)?;
    ///
    /// let mut buf = [0; 1500];
    /// let len = receiver.recv(&mut buf)?;
    /// assert_eq!(&buf[..len], b"ping");
    /// # Ok(())
    /// # }
    /// ```
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.do_read(|socket| socket.recv(buf))
    }

    /// Like [`recv`](UdpSocket::recv), but leaves the datagram in the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    /// # fn readable(socket: &mut UdpSocket) -> std::io::Result<()> {
    /// #     // Waits (at most 10 s) until `socket` has a datagram.
    /// #     let mut poll = evmux::Poll::new()?;
    /// #     let mut events = evmux::Events::with_capacity(1);
    /// #     poll.registry().register(socket, evmux::Token(0), evmux::Interest::READABLE)?;
    /// #     poll.poll(&mut events, Some(std::time::Duration::from_secs(10)))?;
    /// #     poll.registry().deregister(socket)
    /// # }
    ///
    /// let sender = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let mut receiver = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// receiver.connect(sender.local_addr()?)?;
    /// sender.send_to(b"ping", receiver.local_addr()?)?;
    /// readable(&mut receiver)?;
    ///
    /// let mut buf = [0; 1500];
    /// assert_eq!(receiver.peek(&mut buf)?, 4);
    /// // Still queued.
    /// assert_eq!(receiver.recv(&mut buf)?, 4);
    /// # Ok(())
    /// # }
    /// ```
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.do_read(|socket| socket.peek(buf))
    }

    /// Sets the default peer for `send` and `recv`, and filters incoming
    /// datagrams to that peer. Does not block.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let b = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// // From now on `a` sends to `b` with `send`, and the OS drops datagrams
    /// // to `a` from anywhere else.
    /// a.connect(b.local_addr()?)?;
    /// a.send(b"hello")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.connect(addr)
    }

    /// Sets `SO_BROADCAST`: permission to send to broadcast addresses.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("0.0.0.0:0".parse().unwrap())?;
    /// socket.set_broadcast(true)?;
    /// assert!(socket.broadcast()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.inner.set_broadcast(on)
    }

    /// Reads `SO_BROADCAST`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// // Off unless asked for.
    /// assert!(!socket.broadcast()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn broadcast(&self) -> io::Result<bool> {
        self.inner.broadcast()
    }

    /// Sets `IP_MULTICAST_LOOP`: whether IPv4 multicast sent here is looped
    /// back to local sockets.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// socket.set_multicast_loop_v4(false)?;
    /// assert!(!socket.multicast_loop_v4()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.inner.set_multicast_loop_v4(on)
    }

    /// Reads `IP_MULTICAST_LOOP`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// // On by default: this host's other sockets see what it sends.
    /// assert!(socket.multicast_loop_v4()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.inner.multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_TTL` for IPv4 multicast sent here.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// socket.set_multicast_ttl_v4(4)?;
    /// assert_eq!(socket.multicast_ttl_v4()?, 4);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.inner.set_multicast_ttl_v4(ttl)
    }

    /// Reads `IP_MULTICAST_TTL`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// // 1 by default: multicast stays on the local network.
    /// assert_eq!(socket.multicast_ttl_v4()?, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.inner.multicast_ttl_v4()
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// // (Nothing to show on a machine without IPv6.)
    /// let Ok(socket) = UdpSocket::bind("[::1]:0".parse().unwrap()) else { return Ok(()) };
    /// socket.set_multicast_loop_v6(false)?;
    /// assert!(!socket.multicast_loop_v6()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.inner.set_multicast_loop_v6(on)
    }

    /// Reads `IPV6_MULTICAST_LOOP`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// // (Nothing to show on a machine without IPv6.)
    /// let Ok(socket) = UdpSocket::bind("[::1]:0".parse().unwrap()) else { return Ok(()) };
    /// assert!(socket.multicast_loop_v6()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.inner.multicast_loop_v6()
    }

    /// Sets `IP_TTL` for unicast datagrams.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// socket.set_ttl(16)?;
    /// assert_eq!(socket.ttl()?, 16);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.set_ttl(ttl)
    }

    /// Reads `IP_TTL`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// println!("datagrams leave with a TTL of {}", socket.ttl()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.ttl()
    }

    /// Joins an IPv4 multicast group on the interface with address
    /// `interface` (`0.0.0.0`: the OS picks).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::net::Ipv4Addr;
    ///
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("0.0.0.0:0".parse().unwrap())?;
    /// let group = Ipv4Addr::new(239, 255, 0, 1);
    /// // On the loopback interface, which every host has.
    /// socket.join_multicast_v4(&group, &Ipv4Addr::LOCALHOST)?;
    /// socket.leave_multicast_v4(&group, &Ipv4Addr::LOCALHOST)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn join_multicast_v4(&self, multiaddr: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.inner.join_multicast_v4(multiaddr, interface)
    }

    /// Joins an IPv6 multicast group on the interface with index
    /// `interface` (0: the OS picks).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::net::Ipv6Addr;
    ///
    /// use evmux::net::UdpSocket;
    ///
    /// // (Nothing to show on a machine without IPv6.)
    /// let Ok(socket) = UdpSocket::bind("[::]:0".parse().unwrap()) else { return Ok(()) };
    /// // A link-local group; interface 0 lets the OS choose. A host without an
    /// // IPv6 route refuses it.
    /// let group: Ipv6Addr = "ff02::1:3".parse().unwrap();
    /// if socket.join_multicast_v6(&group, 0).is_ok() {
    ///     socket.leave_multicast_v6(&group, 0)?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.inner.join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv4 multicast group.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::net::Ipv4Addr;
    ///
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("0.0.0.0:0".parse().unwrap())?;
    /// let group = Ipv4Addr::new(239, 255, 0, 2);
    /// socket.join_multicast_v4(&group, &Ipv4Addr::LOCALHOST)?;
    /// socket.leave_multicast_v4(&group, &Ipv4Addr::LOCALHOST)?;
    /// // Leaving a group not joined is an error.
    /// assert!(socket.leave_multicast_v4(&group, &Ipv4Addr::LOCALHOST).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn leave_multicast_v4(&self, multiaddr: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.inner.leave_multicast_v4(multiaddr, interface)
    }

    /// Leaves an IPv6 multicast group.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::net::Ipv6Addr;
    ///
    /// use evmux::net::UdpSocket;
    ///
    /// // (Nothing to show on a machine without IPv6.)
    /// let Ok(socket) = UdpSocket::bind("[::]:0".parse().unwrap()) else { return Ok(()) };
    /// let group: Ipv6Addr = "ff02::1:4".parse().unwrap();
    /// // Never joined: leaving fails.
    /// assert!(socket.leave_multicast_v6(&group, 0).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.inner.leave_multicast_v6(multiaddr, interface)
    }

    /// Reads `IPV6_V6ONLY`: whether an IPv6 socket is limited to IPv6
    /// (false: it also serves IPv4-mapped addresses). An error on an IPv4
    /// socket.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// // (Nothing to show on a machine without IPv6.)
    /// let Ok(socket) = UdpSocket::bind("[::]:0".parse().unwrap()) else { return Ok(()) };
    /// println!("IPv6 only: {}", socket.only_v6()?);
    /// let v4 = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// assert!(v4.only_v6().is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn only_v6(&self) -> io::Result<bool> {
        sys::net::only_v6(&*self.inner)
    }

    /// Takes the pending error (`SO_ERROR`), if any, clearing it; e.g. an
    /// ICMP port-unreachable for a connected socket.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// // Nothing went wrong yet.
    /// assert!(socket.take_error()?.is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Runs `f`, an I/O operation of your own on this socket, within evmux's
    /// readiness bookkeeping; see [`TcpStream::try_io`] for the rules.
    ///
    /// [`TcpStream::try_io`]: crate::net::TcpStream::try_io
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use evmux::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let me = socket.local_addr()?;
    /// // A call evmux does not wrap, made on the socket itself (here through the
    /// // `rustix` crate): a WouldBlock from it re-arms the readiness, as evmux's
    /// // own calls do.
    /// let flags = rustix::net::SendFlags::empty();
    /// let sent = socket.try_io(|| Ok(rustix::net::sendto(&socket, b"x", flags, &me)?))?;
    /// assert_eq!(sent, 1);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(unix))]
    /// # fn main() {}
    /// ```
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
