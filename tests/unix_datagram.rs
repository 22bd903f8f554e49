// Unix only: Unix-domain sockets.
#![cfg(all(unix, feature = "os-ext", feature = "net"))]

use std::io;
use std::net::Shutdown;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};

use evmux::net::UnixDatagram;
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::{expect_events, TempDir, READABLE, WRITABLE};

#[test]
fn pair_preserves_boundaries() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (a, mut b) = UnixDatagram::pair().unwrap();
    poll.registry()
        .register(&mut b, Token(0), Interest::READABLE)
        .unwrap();
    for size in [1, 0, 4000] {
        a.send(&vec![9; size]).unwrap();
    }
    let mut sizes = Vec::new();
    let mut buf = [0; 8192];
    while sizes.len() < 3 {
        expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
        loop {
            match b.recv(&mut buf) {
                Ok(n) => sizes.push(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("recv: {e}"),
            }
        }
    }
    assert_eq!(sizes, [1, 0, 4000]);
}

#[test]
fn bound_sockets_and_an_unbound_sender() {
    let dir = TempDir::new("unix-datagram");
    let path = dir.path("receiver.sock");
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut receiver = UnixDatagram::bind(&path).unwrap();
    assert_eq!(
        receiver.local_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );
    poll.registry()
        .register(&mut receiver, Token(0), Interest::READABLE)
        .unwrap();

    let mut sender = UnixDatagram::unbound().unwrap();
    poll.registry()
        .register(&mut sender, Token(1), Interest::WRITABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(Token(1), WRITABLE)]);
    sender.send_to(b"to a path", &path).unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
    let mut buf = [0; 32];
    let (n, from) = receiver.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"to a path");
    assert!(from.is_unnamed());
    // Drained: the next datagram is a new readiness change.
    assert_eq!(
        receiver.recv(&mut buf).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );

    sender.connect(&path).unwrap();
    assert_eq!(
        sender.peer_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );
    sender.send(b"connected").unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
    assert_eq!(receiver.recv(&mut buf).unwrap(), 9);
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn abstract_names() {
    #[cfg(target_os = "android")]
    use std::os::android::net::SocketAddrExt;
    #[cfg(target_os = "linux")]
    use std::os::linux::net::SocketAddrExt;

    let name = format!("evmux-test-{}-datagram", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let receiver = UnixDatagram::bind_addr(&addr).unwrap();
    assert_eq!(
        receiver.local_addr().unwrap().as_abstract_name(),
        Some(name.as_bytes())
    );
}

#[test]
fn errors_and_shutdown() {
    let dir = TempDir::new("unix-datagram-errors");
    let sender = UnixDatagram::unbound().unwrap();
    let missing = sender.send_to(b"x", dir.path("nobody.sock")).unwrap_err();
    assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    assert_eq!(
        sender.send(b"x").unwrap_err().kind(),
        io::ErrorKind::NotConnected
    );
    let path = dir.path("taken.sock");
    let _taken = UnixDatagram::bind(&path).unwrap();
    assert_eq!(
        UnixDatagram::bind(&path).unwrap_err().kind(),
        io::ErrorKind::AddrInUse
    );

    let (a, b) = UnixDatagram::pair().unwrap();
    a.shutdown(Shutdown::Write).unwrap();
    assert!(a.send(b"x").is_err());
    assert!(b.take_error().unwrap().is_none());
}

#[test]
fn try_io_and_conversions() {
    let socket = UnixDatagram::unbound().unwrap();
    let result: io::Result<()> = socket.try_io(|| Err(io::ErrorKind::WouldBlock.into()));
    assert_eq!(result.unwrap_err().kind(), io::ErrorKind::WouldBlock);
    let std_socket: std::os::unix::net::UnixDatagram = socket.into();
    let socket = UnixDatagram::from_std(std_socket);
    let fd: OwnedFd = socket.into();
    let socket = UnixDatagram::from(fd);
    let raw = socket.into_raw_fd();
    // SAFETY: `raw` came from `into_raw_fd` above and is owned by nobody else.
    let socket = unsafe { UnixDatagram::from_raw_fd(raw) };
    assert!(format!("{socket:?}").contains("UnixDatagram"));
}
