//! Registration changes made by another thread while `poll` blocks take
//! effect in that call: deregister, drop, and re-arm (an I/O call that
//! returns `WouldBlock`), on every backend. (Windows has its own in
//! windows_afd.rs.)
// Unix only: Unix-domain socket pairs.
#![cfg(all(unix, feature = "os-ext", feature = "net"))]

use std::io::{self, Read, Write};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use evmux::net::UnixStream;
use evmux::{Events, Interest, Poll, Registry, Token, Waker};

mod util;
use util::{expect_no_events, DEADLINE};

const SOURCE: Token = Token(1);
const WAKE: Token = Token(9);

/// A thread that polls (blocking) and sends every token it sees, until it
/// sees `WAKE`; then it hands the `Poll` back.
fn poller(poll: Poll) -> (JoinHandle<Poll>, mpsc::Receiver<Token>) {
    let (seen, tokens) = mpsc::channel();
    let handle = thread::spawn(move || {
        let mut poll = poll;
        let mut events = Events::with_capacity(8);
        loop {
            poll.poll(&mut events, None).unwrap();
            for event in events.iter() {
                seen.send(event.token()).unwrap();
                if event.token() == WAKE {
                    return poll;
                }
            }
        }
    });
    (handle, tokens)
}

/// The tokens the poller sees up to `WAKE`, within `DEADLINE`.
fn tokens_until_wake(tokens: &mpsc::Receiver<Token>) -> Vec<Token> {
    let mut seen = Vec::new();
    while seen.last() != Some(&WAKE) {
        seen.push(tokens.recv_timeout(DEADLINE).expect("the poller got stuck"));
    }
    seen
}

/// Asks for the `Poll`'s descriptor, where it has one: io_uring then
/// submits each change at once, from the thread that makes it, as it does
/// whenever another thread is in `poll` (here without racing a poller
/// into its wait).
fn hand_out_descriptor(poll: &Poll) {
    #[cfg(evmux_selector_fd)]
    let _ = std::os::fd::AsRawFd::as_raw_fd(poll);
    #[cfg(not(evmux_selector_fd))]
    let _ = poll;
}

fn setup() -> (Poll, Registry, Arc<Waker>, UnixStream, UnixStream) {
    let poll = Poll::new().unwrap();
    let registry = poll.registry().try_clone().unwrap();
    let waker = Arc::new(Waker::new(&registry, WAKE).unwrap());
    let (mut a, b) = UnixStream::pair().unwrap();
    registry
        .register(&mut a, SOURCE, Interest::READABLE)
        .unwrap();
    (poll, registry, waker, a, b)
}

#[test]
fn deregister_while_poll_blocks() {
    let (poll, registry, waker, mut a, mut b) = setup();
    let (handle, tokens) = poller(poll);
    registry.deregister(&mut a).unwrap();
    b.write_all(b"after deregister").unwrap();
    waker.wake().unwrap();
    let seen = tokens_until_wake(&tokens);
    assert!(
        !seen.contains(&SOURCE),
        "deregistered source reported: {seen:?}"
    );
    let mut poll = handle.join().unwrap();
    expect_no_events(&mut poll, &mut Events::with_capacity(8));
}

#[test]
fn drop_while_poll_blocks() {
    let (poll, _registry, waker, a, b) = setup();
    let (handle, tokens) = poller(poll);
    drop(a);
    // New descriptors, which may reuse the dropped one's number, get ready.
    let (c, mut d) = UnixStream::pair().unwrap();
    d.write_all(b"to a new socket").unwrap();
    drop(b);
    waker.wake().unwrap();
    let seen = tokens_until_wake(&tokens);
    assert!(!seen.contains(&SOURCE), "dropped source reported: {seen:?}");
    let mut poll = handle.join().unwrap();
    expect_no_events(&mut poll, &mut Events::with_capacity(8));
    drop(c);
}

#[test]
fn rearm_while_poll_blocks() {
    let (poll, _registry, waker, mut a, mut b) = setup();
    let (handle, tokens) = poller(poll);
    b.write_all(b"first").unwrap();
    assert_eq!(tokens.recv_timeout(DEADLINE), Ok(SOURCE));
    // The poller blocks again; this thread reads to WouldBlock (which
    // re-arms on the backends that emulate edge triggering), then new
    // data must wake the blocked poll.
    let mut buf = [0; 64];
    assert_eq!(a.read(&mut buf).unwrap(), 5);
    assert_eq!(
        a.read(&mut buf).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    b.write_all(b"second").unwrap();
    assert_eq!(
        tokens.recv_timeout(DEADLINE),
        Ok(SOURCE),
        "the re-armed source was not reported"
    );
    waker.wake().unwrap();
    tokens_until_wake(&tokens);
    handle.join().unwrap();
}

/// A source (and a waker) registered by a thread that has since exited
/// reports its readiness as any other: an event, not an error, and again
/// on the next change. On io_uring the registering thread submits the
/// request itself when another thread is in `poll` or, as here, when the
/// `Poll`'s descriptor was handed out; the kernel then cancelled the
/// request when it got ready after that thread's exit (`ECANCELED`), which
/// was reported as an error event and left the source dead.
#[test]
fn a_registering_thread_that_exited_leaves_a_live_registration() {
    let mut poll = Poll::new().unwrap();
    hand_out_descriptor(&poll);
    let registry = poll.registry().try_clone().unwrap();
    let (a, mut b) = UnixStream::pair().unwrap();
    let (mut a, waker) = thread::spawn(move || {
        let mut a = a;
        registry
            .register(&mut a, SOURCE, Interest::READABLE)
            .unwrap();
        (a, Waker::new(&registry, WAKE).unwrap())
    })
    .join()
    .unwrap();
    let mut events = Events::with_capacity(8);
    let mut buf = [0; 64];
    for round in 0..2 {
        b.write_all(b"ready").unwrap();
        waker.wake().unwrap();
        let mut seen = Vec::new();
        while !(seen.contains(&SOURCE) && seen.contains(&WAKE)) {
            poll.poll(&mut events, Some(DEADLINE)).unwrap();
            assert!(!events.is_empty(), "round {round}: only {seen:?} reported");
            for event in events.iter() {
                assert!(!event.is_error(), "round {round}: {event:?}");
                assert!(event.is_readable(), "round {round}: {event:?}");
                seen.push(event.token());
            }
        }
        assert_eq!(a.read(&mut buf).unwrap(), 5);
    }
}

/// A thread that registers a source while another polls, then
/// blocks in a call of its own (a receive with a timeout), is not
/// interrupted when the source gets ready, as on epoll. On io_uring that
/// thread submitted the poll request, so the kernel completes it in task
/// work of that thread, which ends its receive with `EINTR`.
#[cfg(target_os = "linux")]
#[test]
#[cfg_attr(
    evmux_io_uring,
    ignore = "defect: on io_uring a thread that registered while another polls gets EINTR in its blocking recv (SO_RCVTIMEO) when the source gets ready (task work)"
)]
fn readiness_does_not_interrupt_a_registering_threads_blocking_calls() {
    let (poll, registry, waker, _a, _b) = setup();
    hand_out_descriptor(&poll);
    let (handle, tokens) = poller(poll);
    let (c, mut d) = UnixStream::pair().unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(DEADLINE)).unwrap();
    let address = udp.local_addr().unwrap();
    let (started, me) = mpsc::channel();
    let worker = thread::spawn(move || {
        let mut c = c;
        registry
            .register(&mut c, Token(2), Interest::READABLE)
            .unwrap();
        started.send(util::gettid()).unwrap();
        let mut buf = [0; 16];
        (c, udp.recv(&mut buf).map_err(|e| e.kind()))
    });
    let me = me.recv_timeout(DEADLINE).unwrap();
    util::wait_in_syscall(me, libc::SYS_recvfrom);
    d.write_all(b"ready").unwrap();
    assert_eq!(tokens.recv_timeout(DEADLINE), Ok(Token(2)));
    // The receive stays in its call unless interrupted (`QUIET` to
    // conclude it was not); then the datagram it waits for is sent.
    let start = std::time::Instant::now();
    while util::in_syscall(me, libc::SYS_recvfrom) && start.elapsed() < util::QUIET {
        thread::sleep(std::time::Duration::from_millis(1));
    }
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sender.send_to(b"datagram", address).unwrap();
    let (_c, received) = worker.join().unwrap();
    assert_eq!(received, Ok(8), "recv with a timeout");
    waker.wake().unwrap();
    tokens_until_wake(&tokens);
    handle.join().unwrap();
}

/// A `Poll` that polled on a thread that has since exited, moved to
/// another thread, reports its sources as before. (On io_uring the exited
/// thread submitted their poll requests, which the kernel cancelled when
/// they got ready: an error event, and no event after.)
#[test]
fn a_poll_moved_from_a_thread_that_exited_keeps_its_sources() {
    let (a, mut b) = UnixStream::pair().unwrap();
    let (mut poll, mut a) = thread::spawn(move || {
        let mut a = a;
        let mut poll = Poll::new().unwrap();
        poll.registry()
            .register(&mut a, SOURCE, Interest::READABLE)
            .unwrap();
        expect_no_events(&mut poll, &mut Events::with_capacity(8));
        (poll, a)
    })
    .join()
    .unwrap();
    let mut events = Events::with_capacity(8);
    let mut buf = [0; 64];
    for round in 0..2 {
        b.write_all(b"ready").unwrap();
        poll.poll(&mut events, Some(DEADLINE)).unwrap();
        let got: Vec<_> = events.iter().collect();
        assert_eq!(got.len(), 1, "round {round}: {got:?}");
        assert_eq!(got[0].token(), SOURCE, "round {round}: {got:?}");
        assert!(
            got[0].is_readable() && !got[0].is_error(),
            "round {round}: {got:?}"
        );
        assert_eq!(a.read(&mut buf).unwrap(), 5);
    }
}

/// The child of the test below: reads one byte from the descriptor in
/// `arg`, then exits.
#[cfg(target_os = "linux")]
extern "C" fn wait_for_release(arg: *mut libc::c_void) -> libc::c_int {
    let mut byte = 0u8;
    // SAFETY: `byte` has room for the one byte read; _exit ends the child
    // without touching the memory it shares with its parent.
    unsafe {
        libc::read(
            arg as usize as libc::c_int,
            (&mut byte as *mut u8).cast(),
            1,
        );
        libc::_exit(0)
    }
}

/// A source's readiness reaches a waiting `poll` at once even while the
/// thread that registered it is in an uninterruptible wait: here a
/// vfork-style `clone` whose child waits for this test (as `posix_spawn`'s
/// caller waits until the child execs; a thread in disk I/O waits the
/// same way).
/// On io_uring that thread submitted the poll request, and the kernel
/// posts its completion in task work of that thread, which cannot run
/// until the wait ends: the event came only after it.
#[cfg(target_os = "linux")]
#[test]
#[cfg_attr(
    evmux_io_uring,
    ignore = "defect: on io_uring readiness waits until the thread that submitted the poll request leaves an uninterruptible wait (task work)"
)]
fn readiness_is_not_held_up_by_a_registering_thread_in_an_uninterruptible_wait() {
    let mut poll = Poll::new().unwrap();
    hand_out_descriptor(&poll);
    let registry = poll.registry().try_clone().unwrap();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let mut ends = [0; 2];
    // SAFETY: `ends` has room for the two descriptors pipe2 writes.
    assert_eq!(
        unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) },
        0
    );
    let [release_reader, release_writer] = ends;
    let (started, me) = mpsc::channel();
    let spawner = thread::spawn(move || {
        registry
            .register(&mut a, SOURCE, Interest::READABLE)
            .unwrap();
        started.send(util::gettid()).unwrap();
        // A vfork-style child (it shares this memory, on a stack of its
        // own) that waits for the test: this thread waits with it.
        let mut stack = vec![0u8; 64 * 1024];
        // SAFETY: the stack is live until the child has exited (the
        // thread waits for that, uninterruptibly, inside clone); the
        // child function only makes raw system calls.
        let child = unsafe {
            libc::clone(
                wait_for_release,
                stack.as_mut_ptr().add(stack.len()).cast(),
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                release_reader as usize as *mut libc::c_void,
            )
        };
        assert!(child > 0, "clone: {}", io::Error::last_os_error());
        let mut status = 0;
        // SAFETY: `status` is valid for writes; the child is ours.
        assert_eq!(unsafe { libc::waitpid(child, &mut status, 0) }, child);
        a
    });
    let me = me.recv_timeout(DEADLINE).unwrap();
    util::wait_in_syscall(me, libc::SYS_clone);
    b.write_all(b"ready").unwrap();
    let mut events = Events::with_capacity(8);
    poll.poll(&mut events, Some(DEADLINE)).unwrap();
    let reported = events.iter().any(|event| event.token() == SOURCE);
    let still_waiting = util::in_syscall(me, libc::SYS_clone);
    // SAFETY: writes one byte from a live buffer; releases the child.
    assert_eq!(
        unsafe { libc::write(release_writer, b"x".as_ptr().cast(), 1) },
        1
    );
    let _a = spawner.join().unwrap();
    // SAFETY: both ends are this test's, closed once.
    unsafe {
        libc::close(release_reader);
        libc::close(release_writer);
    }
    assert!(reported, "no event while the registering thread waited");
    assert!(still_waiting, "the event came only once the wait was over");
}
