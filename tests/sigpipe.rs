//! With `SIGPIPE` at its default action (which kills the process), writes
//! to a closed peer must fail with an error instead. In its own test
//! binary because it changes the signal's disposition, which the test
//! harness otherwise ignores.
// Unix only: SIGPIPE.
#![cfg(all(unix, feature = "net"))]

use std::io::{self, IoSlice, Write};
use std::net::TcpListener as StdListener;

use evmux::net::{TcpStream, UnixStream};

fn restore_default_sigpipe() {
    // SAFETY: setting a standard disposition for SIGPIPE; nothing else in
    // this binary depends on it being ignored.
    let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(previous, libc::SIG_ERR);
}

/// Writes until the OS reports the broken connection, using plain and
/// vectored writes; a `SIGPIPE` would kill the test binary instead.
fn write_until_broken(mut writer: impl Write) {
    let mut errors = 0;
    for attempt in 0..10_000 {
        let result = if attempt % 2 == 0 {
            writer.write(b"anyone there?")
        } else {
            writer.write_vectored(&[IoSlice::new(b"anyone"), IoSlice::new(b" there?")])
        };
        match result {
            Ok(_) => std::thread::yield_now(),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
            Err(e) => {
                assert!(
                    matches!(
                        e.kind(),
                        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                    ),
                    "{e}"
                );
                errors += 1;
                if errors == 4 {
                    return;
                }
            }
        }
    }
    panic!("writes to a closed peer never failed");
}

#[test]
fn no_sigpipe_from_tcp_or_unix_streams() {
    restore_default_sigpipe();

    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    drop(server);
    write_until_broken(&client);

    let (left, right) = UnixStream::pair().unwrap();
    drop(right);
    write_until_broken(&left);
}
