// Unix only: Unix-domain sockets.
#![cfg(all(unix, feature = "os-ext", feature = "net"))]

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};

use evmux::net::{UnixListener, UnixStream};
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::{expect_events, read_available, transfer, Readiness, TempDir, READABLE, WRITABLE};

#[test]
fn pair_echo_and_flags() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut a, mut b) = UnixStream::pair().unwrap();
    poll.registry()
        .register(&mut a, Token(0), Interest::READABLE | Interest::WRITABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), WRITABLE)]);
    b.write_all(b"over").unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
    let mut buf = [0; 4];
    a.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"over");
    assert!(a.local_addr().unwrap().is_unnamed());
    assert!(a.peer_addr().unwrap().is_unnamed());
    assert!(a.take_error().unwrap().is_none());
}

#[test]
fn sixty_four_mebibytes_through_a_pair() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    transfer(&mut a, &mut b, 64 << 20, 1000, 777);
    transfer(&mut b, &mut a, 64 << 20, 1 << 20, 1 << 20);
}

#[test]
fn connect_to_a_path() {
    let dir = TempDir::new("unix-stream");
    let path = dir.path("server.sock");
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut listener = UnixListener::bind(&path).unwrap();
    poll.registry()
        .register(&mut listener, Token(0), Interest::READABLE)
        .unwrap();
    let mut client = UnixStream::connect(&path).unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
    let (mut server, _) = listener.accept().unwrap();
    assert_eq!(
        client.peer_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );

    poll.registry()
        .register(&mut server, Token(1), Interest::READABLE)
        .unwrap();
    client.write_all(b"hi").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let closed = Readiness {
        read_closed: true,
        ..READABLE
    };
    expect_events(&mut poll, &mut events, &[(Token(1), closed)]);
    assert_eq!(read_available(&mut server), (b"hi".to_vec(), true));
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn connect_to_an_abstract_name() {
    #[cfg(target_os = "android")]
    use std::os::android::net::SocketAddrExt;
    #[cfg(target_os = "linux")]
    use std::os::linux::net::SocketAddrExt;

    let name = format!("evmux-test-{}-abstract", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut listener = UnixListener::bind_addr(&addr).unwrap();
    assert_eq!(
        listener.local_addr().unwrap().as_abstract_name(),
        Some(name.as_bytes())
    );
    poll.registry()
        .register(&mut listener, Token(0), Interest::READABLE)
        .unwrap();
    let _client = UnixStream::connect_addr(&addr).unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
    listener.accept().unwrap();
}

#[test]
fn bad_addresses_are_clear_errors() {
    let dir = TempDir::new("unix-stream-errors");
    let missing = UnixStream::connect(dir.path("missing.sock")).unwrap_err();
    assert_eq!(missing.kind(), io::ErrorKind::NotFound);

    let path = dir.path("no-listener.sock");
    drop(std::os::unix::net::UnixDatagram::bind(&path).unwrap());
    let refused = UnixStream::connect(&path).unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);

    let too_long = dir.path(&"x".repeat(200));
    assert_eq!(
        UnixStream::connect(&too_long).unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );

    let (a, _b) = UnixStream::pair().unwrap();
    let unnamed = a.local_addr().unwrap();
    assert_eq!(
        UnixStream::connect_addr(&unnamed).unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
}

#[test]
fn peer_close_reads_zero() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut a, b) = UnixStream::pair().unwrap();
    poll.registry()
        .register(&mut a, Token(0), Interest::READABLE)
        .unwrap();
    drop(b);
    let closed = Readiness {
        read_closed: true,
        ..READABLE
    };
    expect_events(&mut poll, &mut events, &[(Token(0), closed)]);
    assert_eq!(read_available(&mut a), (Vec::new(), true));
    assert!(a.write(b"x").is_err());
}

#[test]
fn try_io_and_conversions() {
    let (a, _b) = UnixStream::pair().unwrap();
    let result: io::Result<()> = a.try_io(|| Err(io::ErrorKind::WouldBlock.into()));
    assert_eq!(result.unwrap_err().kind(), io::ErrorKind::WouldBlock);
    let std_stream: std::os::unix::net::UnixStream = a.into();
    let a = UnixStream::from_std(std_stream);
    let fd: OwnedFd = a.into();
    let a = UnixStream::from(fd);
    let raw = a.into_raw_fd();
    // SAFETY: `raw` came from `into_raw_fd` above and is owned by nobody else.
    let a = unsafe { UnixStream::from_raw_fd(raw) };
    assert!(format!("{a:?}").contains("UnixStream"));
}
