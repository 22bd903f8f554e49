// Unix only: unix::pipe.
#![cfg(all(unix, feature = "os-ext"))]

use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::process::{Command, Stdio};

use evmux::unix::pipe;
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::{expect_events, is_cloexec, read_available, transfer, Readiness, WRITABLE};

#[test]
fn new_pipes_are_non_blocking_and_close_on_exec() {
    let (sender, mut receiver) = pipe::new().unwrap();
    assert!(is_cloexec(&sender) && is_cloexec(&receiver));
    assert_eq!(
        receiver.read(&mut [0; 8]).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
}

#[test]
fn sixty_four_mebibytes_with_small_and_large_buffers() {
    let (mut sender, mut receiver) = pipe::new().unwrap();
    transfer(&mut sender, &mut receiver, 64 << 20, 1000, 777);
    transfer(&mut sender, &mut receiver, 64 << 20, 1 << 20, 1 << 20);
}

#[test]
fn closing_the_sender_is_read_closed_and_end_of_file() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, mut receiver) = pipe::new().unwrap();
    poll.registry()
        .register(&mut receiver, Token(0), Interest::READABLE)
        .unwrap();
    sender.write_all(b"last").unwrap();
    drop(sender);
    let closed = Readiness {
        read_closed: true,
        ..Readiness::default()
    };
    expect_events(&mut poll, &mut events, &[(Token(0), closed)]);
    assert_eq!(read_available(&mut receiver), (b"last".to_vec(), true));
}

#[test]
fn closing_the_receiver_breaks_the_pipe() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, receiver) = pipe::new().unwrap();
    poll.registry()
        .register(&mut sender, Token(0), Interest::WRITABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(Token(0), WRITABLE)]);
    drop(receiver);
    let broken = Readiness {
        write_closed: true,
        ..Readiness::default()
    };
    expect_events(&mut poll, &mut events, &[(Token(0), broken)]);
    assert_eq!(
        sender.write(b"x").unwrap_err().kind(),
        io::ErrorKind::BrokenPipe
    );
}

#[test]
fn a_child_process_through_pipes() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = pipe::Sender::from(child.stdin.take().unwrap());
    let mut output = pipe::Receiver::from(child.stdout.take().unwrap());
    input.set_nonblocking(true).unwrap();
    output.set_nonblocking(true).unwrap();
    poll.registry()
        .register(&mut output, Token(1), Interest::READABLE)
        .unwrap();

    input.write_all(b"round trip").unwrap();
    drop(input);
    let mut echoed = Vec::new();
    loop {
        // Data is readable; the end, once `cat` exits, is read-closed only.
        expect_events(&mut poll, &mut events, &[(Token(1), Readiness::default())]);
        let (data, ended) = read_available(&mut output);
        echoed.extend(data);
        if ended {
            break;
        }
    }
    assert_eq!(echoed, b"round trip");
    child.wait().unwrap();
}

#[test]
fn stderr_converts_too() {
    let mut child = Command::new("sh")
        .args(["-c", "echo oops >&2"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut errors = pipe::Receiver::from(child.stderr.take().unwrap());
    // Still blocking: this read waits for the child.
    let mut text = String::new();
    errors.read_to_string(&mut text).unwrap();
    assert_eq!(text, "oops\n");
    child.wait().unwrap();
}

#[test]
fn set_nonblocking_both_ways() {
    let (sender, mut receiver) = pipe::new().unwrap();
    receiver.set_nonblocking(false).unwrap();
    receiver.set_nonblocking(true).unwrap();
    sender.set_nonblocking(true).unwrap();
    assert_eq!(
        receiver.read(&mut [0; 1]).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
}

#[test]
fn try_io_and_conversions() {
    let (sender, receiver) = pipe::new().unwrap();
    let result: io::Result<()> = receiver.try_io(|| Err(io::ErrorKind::WouldBlock.into()));
    assert_eq!(result.unwrap_err().kind(), io::ErrorKind::WouldBlock);
    let result: io::Result<usize> = sender.try_io(|| Ok(0));
    assert_eq!(result.unwrap(), 0);

    let fd: OwnedFd = sender.into();
    let sender = pipe::Sender::from(fd);
    let raw = sender.into_raw_fd();
    // SAFETY: `raw` came from `into_raw_fd` above and is owned by nobody else.
    let mut sender = unsafe { pipe::Sender::from_raw_fd(raw) };
    let raw = receiver.into_raw_fd();
    // SAFETY: as above.
    let mut receiver = unsafe { pipe::Receiver::from_raw_fd(raw) };
    sender.write_all(b"ok").unwrap();
    let mut buf = [0; 2];
    receiver.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ok");
    assert!(format!("{sender:?} {receiver:?}").contains("Sender"));
}
