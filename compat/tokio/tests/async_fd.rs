//! `AsyncFd` on descriptors tokio knows nothing about: each is registered
//! once and then goes through many readiness changes.
//!
//! On the poll(2) backend (`--cfg evmux_force_poll`, or mio's own
//! `--cfg mio_unsupported_force_poll_poll`) the tests of raw descriptors
//! are ignored: there, as on mio's poll(2) backend, an event disarms a
//! descriptor registered through `SourceFd` until `Registry::reregister`,
//! which tokio's `AsyncFd` never calls, so a second readiness change is
//! never reported. Both libraries behave alike; .ci/tokio.sh runs the rest
//! of the suite on that backend.
// Raw descriptors: Unix only.
#![cfg(unix)]

mod util;

use std::fs::File;
use std::io::{ErrorKind, Read, Write};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use util::within;

/// Registers `file` with the runtime's I/O driver for `interest`.
fn register(file: File, interest: Interest) -> AsyncFd<File> {
    // SAFETY: a `File` owns its descriptor, keeps it open until dropped and
    // always returns the same one; the `AsyncFd` owns the `File`.
    unsafe { AsyncFd::register_with_interest(file, interest) }.unwrap()
}

/// Reads from `fd` until it would block, appending to `out`; waits for
/// readiness first. Returns when at least one byte was read.
async fn read_some(fd: &AsyncFd<File>, out: &mut Vec<u8>) {
    let mut buf = [0; 4096];
    loop {
        let mut guard = within("readable", fd.readable()).await.unwrap();
        let mut got = 0;
        loop {
            match guard.try_io(|file| file.get_ref().read(&mut buf)) {
                Ok(Ok(0)) => return,
                Ok(Ok(n)) => {
                    out.extend_from_slice(&buf[..n]);
                    got += n;
                }
                Ok(Err(e)) => panic!("read: {e}"),
                // WouldBlock: the readiness was cleared.
                Err(_) => break,
            }
        }
        if got > 0 {
            return;
        }
    }
}

#[cfg_attr(
    any(evmux_force_poll, mio_unsupported_force_poll_poll),
    ignore = "SourceFd is one-shot on poll(2)"
)]
#[tokio::test]
async fn pipe_reader_many_readiness_changes() {
    let (read, write) = util::pipe();
    let reader = register(File::from(read), Interest::READABLE);
    let mut writer = File::from(write);
    let mut received = Vec::new();
    for round in 0..1000u32 {
        let message = round.to_le_bytes();
        writer.write_all(&message).unwrap();
        let before = received.len();
        while received.len() < before + 4 {
            read_some(&reader, &mut received).await;
        }
        assert_eq!(received[before..], message, "round {round}");
    }
    // The reader sees the end once the writer is gone.
    drop(writer);
    let mut guard = within("end of file", reader.readable()).await.unwrap();
    let mut buf = [0; 8];
    let n = guard.try_io(|file| file.get_ref().read(&mut buf));
    assert_eq!(n.unwrap().unwrap(), 0);
}

#[cfg_attr(
    any(evmux_force_poll, mio_unsupported_force_poll_poll),
    ignore = "SourceFd is one-shot on poll(2)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipe_writer_waits_for_room_again_and_again() {
    let (read, write) = util::pipe();
    let writer = register(File::from(write), Interest::WRITABLE);
    let mut reader = File::from(read);
    // Another thread drains the pipe whenever asked; the writer fills it
    // until it would block and waits to become writable.
    let (drain, drains) = std::sync::mpsc::channel::<()>();
    let drainer = std::thread::spawn(move || {
        let mut total = 0usize;
        let mut buf = vec![0; 1 << 16];
        while drains.recv().is_ok() {
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => return total,
                    Ok(n) => total += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("drain: {e}"),
                }
            }
        }
        total
    });
    let chunk = [0xa5; 4096];
    let mut written = 0usize;
    for _ in 0..50 {
        let mut guard = within("writable", writer.writable()).await.unwrap();
        loop {
            match guard.try_io(|file| file.get_ref().write(&chunk)) {
                Ok(Ok(n)) => written += n,
                Ok(Err(e)) => panic!("write: {e}"),
                Err(_would_block) => break,
            }
        }
        drain.send(()).unwrap();
    }
    drop(drain);
    drop(writer);
    // The last drain may have run before the last write: what is left
    // stays unread. Everything the drainer read was written.
    let drained = drainer.join().unwrap();
    assert!(drained <= written && drained > 0, "{drained} of {written}");
}

#[cfg_attr(
    any(evmux_force_poll, mio_unsupported_force_poll_poll),
    ignore = "SourceFd is one-shot on poll(2)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventfd_registered_once_counts_every_wake() {
    let fd = util::eventfd();
    let mut notifier = File::from(fd.try_clone().unwrap());
    let counter = register(File::from(fd), Interest::READABLE);
    // A plain thread adds to the counter; the task reads and so resets it,
    // then acknowledges. Every round is one edge: not ready -> ready.
    let (ack, acks) = std::sync::mpsc::channel::<()>();
    let (tick, ticks) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let thread = std::thread::spawn(move || {
        for round in 1..=1000u64 {
            notifier.write_all(&round.to_ne_bytes()).unwrap();
            tick.send(round).unwrap();
            if acks.recv().is_err() {
                return;
            }
        }
    });
    let mut ticks = ticks;
    for round in 1..=1000u64 {
        assert_eq!(within("a tick", ticks.recv()).await, Some(round));
        let mut guard = within("readable", counter.readable()).await.unwrap();
        let mut value = [0; 8];
        let n = guard
            .try_io(|file| file.get_ref().read(&mut value))
            .expect("the counter is readable")
            .unwrap();
        assert_eq!(n, 8);
        assert_eq!(u64::from_ne_bytes(value), round);
        // Read once more: the counter is zero, so this clears readiness.
        let again = guard.try_io(|file| file.get_ref().read(&mut value));
        assert!(again.is_err(), "the counter was reset");
        ack.send(()).unwrap();
    }
    thread.join().unwrap();
}

#[cfg_attr(
    any(evmux_force_poll, mio_unsupported_force_poll_poll),
    ignore = "SourceFd is one-shot on poll(2)"
)]
#[tokio::test]
async fn eventfd_readiness_stays_until_cleared() {
    let fd = util::eventfd();
    let counter = register(File::from(fd), Interest::READABLE | Interest::WRITABLE);
    counter.get_ref().write_all(&5u64.to_ne_bytes()).unwrap();
    for _ in 0..10 {
        // Without clear_ready the readiness is kept by tokio.
        let guard = within("readable", counter.readable()).await.unwrap();
        drop(guard);
    }
    let mut guard = within("readable", counter.readable()).await.unwrap();
    let mut value = [0; 8];
    guard.get_inner().read_exact(&mut value).unwrap();
    assert_eq!(u64::from_ne_bytes(value), 5);
    guard.clear_ready();
    // Writable all along: an eventfd's counter is far from its maximum.
    let guard = within("writable", counter.writable()).await.unwrap();
    drop(guard);
    // Now nothing is pending: a read waits until the next write.
    let ready = tokio::time::timeout(std::time::Duration::from_millis(50), counter.readable());
    assert!(ready.await.is_err(), "not readable while the counter is 0");
    counter.get_ref().write_all(&1u64.to_ne_bytes()).unwrap();
    let guard = within("readable again", counter.readable()).await.unwrap();
    drop(guard);
}

#[tokio::test]
async fn tokio_pipe_types_on_evmux_pipes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut sender, mut receiver) = tokio::net::unix::pipe::pipe().unwrap();
    let data = util::pattern(1 << 20, 3);
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        sender.write_all(&sent).await.unwrap();
    });
    let mut back = Vec::new();
    within("the whole pipe", receiver.read_to_end(&mut back))
        .await
        .unwrap();
    within("the writer", writer).await.unwrap();
    assert!(back == data);
}
