//! Compile-time proof that evmux's API is mio 1.x's: the same code, pinning
//! every signature to a function pointer of an exact type and every trait
//! impl to a bound, is compiled against both crates. If evmux's API drifted
//! from mio's, the evmux half would fail to compile; if a pin were not
//! mio's true signature, the mio half would.
//!
//! Unix-only and Windows-only items are pinned on their own platforms; on
//! WASI preview 1 the items mio leaves out (`Waker`, `UdpSocket`, `bind`,
//! `connect`, the `wasi` module) are left out here, and on preview 2 those
//! it leaves out there (`Waker`, Unix sockets, pipes): the pins prove that
//! what mio has, evmux has. That evmux has nothing else on those targets,
//! but for its documented extras, is `.ci/wasi.sh`'s rustdoc JSON diff.
#![cfg(all(feature = "os-ext", feature = "net"))]
#![allow(clippy::type_complexity)]

use std::fmt::Debug;
use std::hash::Hash;

fn traits_of_token<
    T: Copy + Clone + Debug + PartialEq + Eq + PartialOrd + Ord + Hash + Send + Sync,
>() {
}
fn traits_of_interest<T>()
where
    T: Copy + Clone + Debug + PartialEq + Eq + PartialOrd + Ord + Send + Sync,
    T: std::ops::BitOr<Output = T> + std::ops::BitOrAssign,
{
}
fn send_sync_debug<T: Send + Sync + Debug>() {}
fn clone_debug<T: Clone + Debug>() {}
#[cfg(unix)]
#[allow(dead_code)] // Unused where the backend has no descriptor.
fn fd_handle<T: std::os::fd::AsRawFd>() {}
#[cfg(unix)]
#[allow(dead_code)]
fn fd_owner<T: std::os::fd::AsRawFd + std::os::fd::AsFd>() {}

macro_rules! pin_core_api {
    ($krate:ident) => {{
        use std::io;
        use std::time::Duration;

        use $krate::event::{Event, Iter, Source};
        #[cfg(unix)]
        use $krate::unix::SourceFd;
        // WASI preview 2 has it under `wasi`; preview 1 has none.
        #[cfg(wasip2)]
        use $krate::wasi::SourceFd;
        // Not on WASI in mio (evmux has one on preview 2: `evmux_extras`).
        #[cfg(not(wasi))]
        use $krate::Waker;
        use $krate::{Events, Interest, Poll, Registry, Token};
        // The doc-only modules exist at the same paths.
        #[allow(unused_imports)]
        use $krate::{features, guide};
        let _: fn(usize) -> $krate::event::Events = $krate::event::Events::with_capacity;

        // Poll
        let _: fn() -> io::Result<Poll> = Poll::new;
        let _: fn(&Poll) -> &Registry = Poll::registry;
        let _: fn(&mut Poll, &mut Events, Option<Duration>) -> io::Result<()> = Poll::poll;
        send_sync_debug::<Poll>();
        // The poll(2) backend has no descriptor to expose (mio's neither).
        #[cfg(all(unix, not(evmux_force_poll)))]
        fd_handle::<Poll>();

        // Registry
        #[cfg(any(unix, wasip2))]
        let _: fn(&Registry, &mut SourceFd<'static>, Token, Interest) -> io::Result<()> =
            Registry::register::<SourceFd<'static>>;
        #[cfg(any(unix, wasip2))]
        let _: fn(&Registry, &mut SourceFd<'static>, Token, Interest) -> io::Result<()> =
            Registry::reregister::<SourceFd<'static>>;
        #[cfg(any(unix, wasip2))]
        let _: fn(&Registry, &mut SourceFd<'static>) -> io::Result<()> =
            Registry::deregister::<SourceFd<'static>>;
        let _: fn(&Registry, &mut (dyn Source + 'static)) -> io::Result<()> =
            Registry::deregister::<dyn Source>;
        let _: fn(&Registry, &mut (dyn Source + 'static), Token, Interest) -> io::Result<()> =
            Registry::register::<dyn Source>;
        let _: fn(&Registry) -> io::Result<Registry> = Registry::try_clone;
        send_sync_debug::<Registry>();
        #[cfg(all(unix, not(evmux_force_poll)))]
        fd_owner::<Registry>();

        // Events and Iter
        let _: fn(usize) -> Events = Events::with_capacity;
        let _: fn(&Events) -> usize = Events::capacity;
        let _: fn(&Events) -> bool = Events::is_empty;
        let _: for<'a> fn(&'a Events) -> Iter<'a> = Events::iter;
        let _: fn(&mut Events) = Events::clear;
        let _: fn(&'static Events) -> Iter<'static> = <&'static Events as IntoIterator>::into_iter;
        let _: fn(&mut Iter<'static>) -> Option<&'static Event> = <Iter<'static> as Iterator>::next;
        send_sync_debug::<Events>();
        clone_debug::<Iter<'static>>();

        // Event
        let _: fn(&Event) -> Token = Event::token;
        let _: fn(&Event) -> bool = Event::is_readable;
        let _: fn(&Event) -> bool = Event::is_writable;
        let _: fn(&Event) -> bool = Event::is_error;
        let _: fn(&Event) -> bool = Event::is_read_closed;
        let _: fn(&Event) -> bool = Event::is_write_closed;
        let _: fn(&Event) -> bool = Event::is_priority;
        let _: fn(&Event) -> bool = Event::is_aio;
        let _: fn(&Event) -> bool = Event::is_lio;
        #[cfg(any(unix, wasip2))]
        send_sync_debug::<Event>();

        // Source
        #[cfg(any(unix, wasip2))]
        {
            let _: fn(&mut SourceFd<'static>, &Registry, Token, Interest) -> io::Result<()> =
                <SourceFd<'static> as Source>::register;
            let _: fn(&mut SourceFd<'static>, &Registry, Token, Interest) -> io::Result<()> =
                <SourceFd<'static> as Source>::reregister;
            let _: fn(&mut SourceFd<'static>, &Registry) -> io::Result<()> =
                <SourceFd<'static> as Source>::deregister;
            let fd: std::os::fd::RawFd = 0;
            let source: SourceFd<'_> = SourceFd(&fd);
            let _: &std::os::fd::RawFd = source.0;
            let _ = format!("{source:?}");
        }
        let _: fn(&mut Box<dyn Source>, &Registry, Token, Interest) -> io::Result<()> =
            <Box<dyn Source> as Source>::register;

        // Token
        let token: Token = Token(7);
        let _: usize = token.0;
        let _: usize = usize::from(token);
        traits_of_token::<Token>();

        // Interest
        const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);
        const READABLE: bool = BOTH.is_readable();
        const WRITABLE: bool = BOTH.is_writable();
        const AIO: bool = BOTH.is_aio();
        const LIO: bool = BOTH.is_lio();
        const PRIORITY: bool = BOTH.is_priority();
        let _ = (READABLE, WRITABLE, AIO, LIO, PRIORITY);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let _: Interest = Interest::PRIORITY;
        let _: fn(Interest, Interest) -> Interest = Interest::add;
        let _: fn(Interest, Interest) -> Option<Interest> = Interest::remove;
        let _: fn(Interest) -> bool = Interest::is_readable;
        traits_of_interest::<Interest>();

        // Waker
        #[cfg(not(wasi))]
        {
            let _: fn(&Registry, Token) -> io::Result<Waker> = Waker::new;
            let _: fn(&Waker) -> io::Result<()> = Waker::wake;
            send_sync_debug::<Waker>();
        }
    }};
}

/// The std interop of an I/O type: descriptor traits on Unix and WASI.
#[cfg(evmux_fd)]
fn os_interop<T>()
where
    T: std::os::fd::AsRawFd + std::os::fd::AsFd + std::os::fd::FromRawFd + std::os::fd::IntoRawFd,
    T: From<std::os::fd::OwnedFd> + Into<std::os::fd::OwnedFd> + Debug + Send + Sync,
{
}
/// The std interop of a socket type: socket traits on Windows.
#[cfg(windows)]
fn os_interop<T>()
where
    T: std::os::windows::io::AsRawSocket + std::os::windows::io::AsSocket,
    T: std::os::windows::io::FromRawSocket + std::os::windows::io::IntoRawSocket,
    T: From<std::os::windows::io::OwnedSocket> + Debug + Send + Sync,
{
}
fn reads<T>()
where
    T: std::io::Read,
    for<'a> &'a T: std::io::Read,
{
}
fn writes<T>()
where
    T: std::io::Write,
    for<'a> &'a T: std::io::Write,
{
}

type Closure = fn() -> std::io::Result<usize>;

macro_rules! pin_net_api {
    ($krate:ident) => {{
        use std::io;
        use std::net::{self, Shutdown, SocketAddr};

        use $krate::event::Source;
        use $krate::net::{TcpListener, TcpStream};

        fn source<T: Source>() {}

        // TcpListener
        #[cfg(not(wasip1))]
        let _: fn(SocketAddr) -> io::Result<TcpListener> = TcpListener::bind;
        let _: fn(net::TcpListener) -> TcpListener = TcpListener::from_std;
        let _: fn(&TcpListener) -> io::Result<(TcpStream, SocketAddr)> = TcpListener::accept;
        let _: fn(&TcpListener) -> io::Result<SocketAddr> = TcpListener::local_addr;
        let _: fn(&TcpListener, u32) -> io::Result<()> = TcpListener::set_ttl;
        let _: fn(&TcpListener) -> io::Result<u32> = TcpListener::ttl;
        let _: fn(&TcpListener) -> io::Result<Option<io::Error>> = TcpListener::take_error;
        source::<TcpListener>();
        os_interop::<TcpListener>();
        let _: fn(TcpListener) -> net::TcpListener = Into::into;

        // TcpStream
        #[cfg(not(wasip1))]
        let _: fn(SocketAddr) -> io::Result<TcpStream> = TcpStream::connect;
        let _: fn(net::TcpStream) -> TcpStream = TcpStream::from_std;
        let _: fn(&TcpStream) -> io::Result<SocketAddr> = TcpStream::peer_addr;
        let _: fn(&TcpStream) -> io::Result<SocketAddr> = TcpStream::local_addr;
        let _: fn(&TcpStream, Shutdown) -> io::Result<()> = TcpStream::shutdown;
        let _: fn(&TcpStream, bool) -> io::Result<()> = TcpStream::set_nodelay;
        let _: fn(&TcpStream) -> io::Result<bool> = TcpStream::nodelay;
        let _: fn(&TcpStream, u32) -> io::Result<()> = TcpStream::set_ttl;
        let _: fn(&TcpStream) -> io::Result<u32> = TcpStream::ttl;
        let _: fn(&TcpStream) -> io::Result<Option<io::Error>> = TcpStream::take_error;
        let _: fn(&TcpStream, &mut [u8]) -> io::Result<usize> = TcpStream::peek;
        let _: fn(&TcpStream, Closure) -> io::Result<usize> = TcpStream::try_io::<Closure, usize>;
        source::<TcpStream>();
        os_interop::<TcpStream>();
        reads::<TcpStream>();
        writes::<TcpStream>();
        let _: fn(TcpStream) -> net::TcpStream = Into::into;

        #[cfg(not(wasip1))]
        pin_udp_api!($krate);
    }};
}

#[cfg(not(wasip1))]
macro_rules! pin_udp_api {
    ($krate:ident) => {{
        use std::io;
        use std::net::{self, Ipv4Addr, Ipv6Addr, SocketAddr};

        use $krate::net::UdpSocket;

        fn source<T: $krate::event::Source>() {}

        let _: fn(SocketAddr) -> io::Result<UdpSocket> = UdpSocket::bind;
        let _: fn(net::UdpSocket) -> UdpSocket = UdpSocket::from_std;
        let _: fn(&UdpSocket) -> io::Result<SocketAddr> = UdpSocket::local_addr;
        let _: fn(&UdpSocket) -> io::Result<SocketAddr> = UdpSocket::peer_addr;
        let _: fn(&UdpSocket, &[u8], SocketAddr) -> io::Result<usize> = UdpSocket::send_to;
        let _: fn(&UdpSocket, &mut [u8]) -> io::Result<(usize, SocketAddr)> = UdpSocket::recv_from;
        let _: fn(&UdpSocket, &mut [u8]) -> io::Result<(usize, SocketAddr)> = UdpSocket::peek_from;
        let _: fn(&UdpSocket, &[u8]) -> io::Result<usize> = UdpSocket::send;
        let _: fn(&UdpSocket, &mut [u8]) -> io::Result<usize> = UdpSocket::recv;
        let _: fn(&UdpSocket, &mut [u8]) -> io::Result<usize> = UdpSocket::peek;
        let _: fn(&UdpSocket, SocketAddr) -> io::Result<()> = UdpSocket::connect;
        let _: fn(&UdpSocket, bool) -> io::Result<()> = UdpSocket::set_broadcast;
        let _: fn(&UdpSocket) -> io::Result<bool> = UdpSocket::broadcast;
        let _: fn(&UdpSocket, bool) -> io::Result<()> = UdpSocket::set_multicast_loop_v4;
        let _: fn(&UdpSocket) -> io::Result<bool> = UdpSocket::multicast_loop_v4;
        let _: fn(&UdpSocket, u32) -> io::Result<()> = UdpSocket::set_multicast_ttl_v4;
        let _: fn(&UdpSocket) -> io::Result<u32> = UdpSocket::multicast_ttl_v4;
        let _: fn(&UdpSocket, bool) -> io::Result<()> = UdpSocket::set_multicast_loop_v6;
        let _: fn(&UdpSocket) -> io::Result<bool> = UdpSocket::multicast_loop_v6;
        let _: fn(&UdpSocket, u32) -> io::Result<()> = UdpSocket::set_ttl;
        let _: fn(&UdpSocket) -> io::Result<u32> = UdpSocket::ttl;
        let _: fn(&UdpSocket, &Ipv4Addr, &Ipv4Addr) -> io::Result<()> =
            UdpSocket::join_multicast_v4;
        let _: fn(&UdpSocket, &Ipv6Addr, u32) -> io::Result<()> = UdpSocket::join_multicast_v6;
        let _: fn(&UdpSocket, &Ipv4Addr, &Ipv4Addr) -> io::Result<()> =
            UdpSocket::leave_multicast_v4;
        let _: fn(&UdpSocket, &Ipv6Addr, u32) -> io::Result<()> = UdpSocket::leave_multicast_v6;
        let _: fn(&UdpSocket) -> io::Result<bool> = UdpSocket::only_v6;
        let _: fn(&UdpSocket) -> io::Result<Option<io::Error>> = UdpSocket::take_error;
        let _: fn(&UdpSocket, Closure) -> io::Result<usize> = UdpSocket::try_io::<Closure, usize>;
        source::<UdpSocket>();
        os_interop::<UdpSocket>();
        let _: fn(UdpSocket) -> net::UdpSocket = Into::into;
    }};
}

#[cfg(unix)]
macro_rules! pin_unix_net_api {
    ($krate:ident) => {{
        use std::io;
        use std::net::Shutdown;
        use std::os::unix::net as unix_net;
        use std::path::Path;

        use $krate::event::Source;
        use $krate::net::{UnixDatagram, UnixListener, UnixStream};

        fn source<T: Source>() {}

        // UnixListener
        let _: fn(&'static Path) -> io::Result<UnixListener> = UnixListener::bind::<&'static Path>;
        let _: fn(&unix_net::SocketAddr) -> io::Result<UnixListener> = UnixListener::bind_addr;
        let _: fn(unix_net::UnixListener) -> UnixListener = UnixListener::from_std;
        let _: fn(&UnixListener) -> io::Result<(UnixStream, unix_net::SocketAddr)> =
            UnixListener::accept;
        let _: fn(&UnixListener) -> io::Result<unix_net::SocketAddr> = UnixListener::local_addr;
        let _: fn(&UnixListener) -> io::Result<Option<io::Error>> = UnixListener::take_error;
        source::<UnixListener>();
        os_interop::<UnixListener>();
        let _: fn(UnixListener) -> unix_net::UnixListener = Into::into;

        // UnixStream
        let _: fn(&'static Path) -> io::Result<UnixStream> = UnixStream::connect::<&'static Path>;
        let _: fn(&unix_net::SocketAddr) -> io::Result<UnixStream> = UnixStream::connect_addr;
        let _: fn(unix_net::UnixStream) -> UnixStream = UnixStream::from_std;
        let _: fn() -> io::Result<(UnixStream, UnixStream)> = UnixStream::pair;
        let _: fn(&UnixStream) -> io::Result<unix_net::SocketAddr> = UnixStream::local_addr;
        let _: fn(&UnixStream) -> io::Result<unix_net::SocketAddr> = UnixStream::peer_addr;
        let _: fn(&UnixStream) -> io::Result<Option<io::Error>> = UnixStream::take_error;
        let _: fn(&UnixStream, Shutdown) -> io::Result<()> = UnixStream::shutdown;
        let _: fn(&UnixStream, Closure) -> io::Result<usize> = UnixStream::try_io::<Closure, usize>;
        source::<UnixStream>();
        os_interop::<UnixStream>();
        reads::<UnixStream>();
        writes::<UnixStream>();
        let _: fn(UnixStream) -> unix_net::UnixStream = Into::into;

        // UnixDatagram
        let _: fn(&'static Path) -> io::Result<UnixDatagram> = UnixDatagram::bind::<&'static Path>;
        let _: fn(&unix_net::SocketAddr) -> io::Result<UnixDatagram> = UnixDatagram::bind_addr;
        let _: fn(unix_net::UnixDatagram) -> UnixDatagram = UnixDatagram::from_std;
        let _: fn(&UnixDatagram, &'static Path) -> io::Result<()> =
            UnixDatagram::connect::<&'static Path>;
        let _: fn() -> io::Result<UnixDatagram> = UnixDatagram::unbound;
        let _: fn() -> io::Result<(UnixDatagram, UnixDatagram)> = UnixDatagram::pair;
        let _: fn(&UnixDatagram) -> io::Result<unix_net::SocketAddr> = UnixDatagram::local_addr;
        let _: fn(&UnixDatagram) -> io::Result<unix_net::SocketAddr> = UnixDatagram::peer_addr;
        let _: fn(&UnixDatagram, &mut [u8]) -> io::Result<(usize, unix_net::SocketAddr)> =
            UnixDatagram::recv_from;
        let _: fn(&UnixDatagram, &mut [u8]) -> io::Result<usize> = UnixDatagram::recv;
        let _: fn(&UnixDatagram, &[u8], &'static Path) -> io::Result<usize> =
            UnixDatagram::send_to::<&'static Path>;
        let _: fn(&UnixDatagram, &[u8]) -> io::Result<usize> = UnixDatagram::send;
        let _: fn(&UnixDatagram) -> io::Result<Option<io::Error>> = UnixDatagram::take_error;
        let _: fn(&UnixDatagram, Shutdown) -> io::Result<()> = UnixDatagram::shutdown;
        let _: fn(&UnixDatagram, Closure) -> io::Result<usize> =
            UnixDatagram::try_io::<Closure, usize>;
        source::<UnixDatagram>();
        os_interop::<UnixDatagram>();
        let _: fn(UnixDatagram) -> unix_net::UnixDatagram = Into::into;
    }};
}

#[cfg(unix)]
macro_rules! pin_pipe_api {
    ($krate:ident) => {{
        use std::io;
        use std::process::{ChildStderr, ChildStdin, ChildStdout};

        use $krate::event::Source;
        use $krate::unix::pipe::{self, Receiver, Sender};

        fn source<T: Source>() {}

        let _: fn() -> io::Result<(Sender, Receiver)> = pipe::new;
        let _: fn(&Sender, bool) -> io::Result<()> = Sender::set_nonblocking;
        let _: fn(&Sender, Closure) -> io::Result<usize> = Sender::try_io::<Closure, usize>;
        let _: fn(ChildStdin) -> Sender = From::from;
        source::<Sender>();
        os_interop::<Sender>();
        writes::<Sender>();

        let _: fn(&Receiver, bool) -> io::Result<()> = Receiver::set_nonblocking;
        let _: fn(&Receiver, Closure) -> io::Result<usize> = Receiver::try_io::<Closure, usize>;
        let _: fn(ChildStdout) -> Receiver = From::from;
        let _: fn(ChildStderr) -> Receiver = From::from;
        source::<Receiver>();
        os_interop::<Receiver>();
        reads::<Receiver>();
    }};
}

#[cfg(windows)]
macro_rules! pin_windows_api {
    ($krate:ident) => {{
        use std::ffi::OsStr;
        use std::io;
        use std::os::windows::io::{AsRawHandle, FromRawHandle};

        use $krate::event::Source;
        use $krate::windows::NamedPipe;

        fn source<T: Source>() {}
        fn handle_interop<T: AsRawHandle + FromRawHandle + Debug + Send + Sync>() {}

        let _: fn(&'static OsStr) -> io::Result<NamedPipe> = NamedPipe::new::<&'static OsStr>;
        let _: fn(&NamedPipe) -> io::Result<()> = NamedPipe::connect;
        let _: fn(&NamedPipe) -> io::Result<()> = NamedPipe::disconnect;
        let _: fn(&NamedPipe) -> io::Result<Option<io::Error>> = NamedPipe::take_error;
        source::<NamedPipe>();
        handle_interop::<NamedPipe>();
        reads::<NamedPipe>();
        writes::<NamedPipe>();
    }};
}

#[test]
fn evmux_has_the_net_and_pipe_api_of_mio() {
    pin_net_api!(evmux);
    #[cfg(unix)]
    pin_unix_net_api!(evmux);
    #[cfg(unix)]
    pin_pipe_api!(evmux);
    #[cfg(windows)]
    pin_windows_api!(evmux);
}

#[test]
fn the_net_and_pipe_pins_are_mios_own_signatures() {
    pin_net_api!(mio);
    #[cfg(unix)]
    pin_unix_net_api!(mio);
    #[cfg(unix)]
    pin_pipe_api!(mio);
    #[cfg(windows)]
    pin_windows_api!(mio);
}

#[test]
fn evmux_has_the_core_api_of_mio() {
    pin_core_api!(evmux);
}

#[test]
fn the_pins_are_mios_own_signatures() {
    pin_core_api!(mio);
}

/// evmux goes beyond mio where that cannot break mio code.
#[test]
fn evmux_extras() {
    // A single-threaded `Waker` on WASI preview 2 (mio has none on WASI).
    #[cfg(wasip2)]
    {
        use evmux::{Registry, Token, Waker};
        let _: fn(&Registry, Token) -> std::io::Result<Waker> = Waker::new;
        let _: fn(&Waker) -> std::io::Result<()> = Waker::wake;
        send_sync_debug::<Waker>();
    }
    #[cfg(all(unix, not(evmux_force_poll)))]
    fd_owner::<evmux::Poll>();
    fn exact<T: ExactSizeIterator>() {}
    exact::<evmux::event::Iter<'static>>();
}
