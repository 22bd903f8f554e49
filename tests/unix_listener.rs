// Unix only: Unix-domain sockets.
#![cfg(all(unix, feature = "os-ext", feature = "net"))]

use std::io;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};

use evmux::net::{UnixListener, UnixStream};
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::{expect_events, is_cloexec, TempDir, READABLE};

#[test]
fn bind_accept_and_addresses() {
    let dir = TempDir::new("unix-listener");
    let path = dir.path("listener.sock");
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut listener = UnixListener::bind(&path).unwrap();
    assert_eq!(
        listener.local_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );
    assert!(is_cloexec(&listener));
    poll.registry()
        .register(&mut listener, Token(0), Interest::READABLE)
        .unwrap();
    assert_eq!(
        listener.accept().unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );

    let clients: Vec<UnixStream> = (0..5)
        .map(|_| UnixStream::connect(&path).unwrap())
        .collect();
    expect_events(&mut poll, &mut events, &[(Token(0), READABLE)]);
    let mut accepted = 0;
    loop {
        match listener.accept() {
            Ok((stream, addr)) => {
                assert!(addr.is_unnamed());
                assert!(is_cloexec(&stream));
                accepted += 1;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("accept: {e}"),
        }
    }
    assert_eq!(accepted, clients.len());
    assert!(listener.take_error().unwrap().is_none());
}

#[test]
fn binding_an_existing_path_is_addr_in_use() {
    let dir = TempDir::new("unix-listener-in-use");
    let path = dir.path("taken.sock");
    let _first = UnixListener::bind(&path).unwrap();
    assert_eq!(
        UnixListener::bind(&path).unwrap_err().kind(),
        io::ErrorKind::AddrInUse
    );
    let missing_dir = dir.path("no/such/dir.sock");
    assert_eq!(
        UnixListener::bind(missing_dir).unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
}

#[test]
fn conversions_keep_the_socket() {
    let dir = TempDir::new("unix-listener-conversions");
    let path = dir.path("listener.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let std_listener: std::os::unix::net::UnixListener = listener.into();
    let listener = UnixListener::from_std(std_listener);
    let fd: OwnedFd = listener.into();
    let listener = UnixListener::from(fd);
    let raw = listener.into_raw_fd();
    // SAFETY: `raw` came from `into_raw_fd` above and is owned by nobody else.
    let listener = unsafe { UnixListener::from_raw_fd(raw) };
    assert_eq!(
        listener.local_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );
    assert!(format!("{listener:?}").contains("UnixListener"));
}
