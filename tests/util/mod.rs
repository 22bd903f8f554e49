//! Helpers shared by the integration tests. Every wait here is bounded.

#![allow(dead_code)] // Each test file uses a different subset.

use std::collections::HashMap;
use std::io::{self, Read, Write};
#[cfg(unix)]
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
#[cfg(not(wasi))]
use std::sync::mpsc;
#[cfg(not(wasi))]
use std::thread;
use std::time::{Duration, Instant};

use evmux::event::{Event, Source};
use evmux::{Events, Interest, Poll, Token};

/// The longest any test waits for something that should happen.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// How long a test waits to conclude that nothing happens.
pub const QUIET: Duration = Duration::from_millis(100);

/// The backend a `Poll` runs on, as its `Debug` names it ("epoll",
/// "io_uring", "kqueue", ...): with `--cfg evmux_io_uring` a `Poll` picks
/// io_uring or epoll when it is made.
#[allow(dead_code)]
pub fn backend(poll: &evmux::Poll) -> String {
    let debug = format!("{poll:?}");
    let start = debug
        .find("backend: \"")
        .expect("Poll's Debug names its backend")
        + 10;
    let end = start + debug[start..].find('"').unwrap();
    debug[start..end].to_owned()
}

/// Whether a new `Poll` runs on epoll (not io_uring, poll(2) or kqueue).
#[allow(dead_code)]
pub fn on_epoll() -> bool {
    backend(&evmux::Poll::new().unwrap()) == "epoll"
}

/// What a test expects of one event: its token and the flags that must be
/// set (flags not listed are not checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Readiness {
    pub readable: bool,
    pub writable: bool,
    pub error: bool,
    pub read_closed: bool,
    pub write_closed: bool,
    pub priority: bool,
}

pub const READABLE: Readiness = Readiness {
    readable: true,
    writable: false,
    error: false,
    read_closed: false,
    write_closed: false,
    priority: false,
};
pub const WRITABLE: Readiness = Readiness {
    readable: false,
    writable: true,
    ..READABLE
};

impl Readiness {
    pub fn of(event: &Event) -> Readiness {
        Readiness {
            readable: event.is_readable(),
            writable: event.is_writable(),
            error: event.is_error(),
            read_closed: event.is_read_closed(),
            write_closed: event.is_write_closed(),
            priority: event.is_priority(),
        }
    }

    /// Every flag set in `self` is set in `actual`.
    pub fn is_met_by(self, actual: Readiness) -> bool {
        (!self.readable || actual.readable)
            && (!self.writable || actual.writable)
            && (!self.error || actual.error)
            && (!self.read_closed || actual.read_closed)
            && (!self.write_closed || actual.write_closed)
            && (!self.priority || actual.priority)
    }

    pub fn union(self, other: Readiness) -> Readiness {
        Readiness {
            readable: self.readable || other.readable,
            writable: self.writable || other.writable,
            error: self.error || other.error,
            read_closed: self.read_closed || other.read_closed,
            write_closed: self.write_closed || other.write_closed,
            priority: self.priority || other.priority,
        }
    }
}

/// Polls until every expected token has been seen with (at least) the
/// expected flags, merging the flags of several events for one token.
/// Panics after `DEADLINE`. Returns what was seen, per token.
pub fn expect_events(
    poll: &mut Poll,
    events: &mut Events,
    expected: &[(Token, Readiness)],
) -> HashMap<Token, Readiness> {
    let start = Instant::now();
    let mut seen: HashMap<Token, Readiness> = HashMap::new();
    loop {
        let done = expected
            .iter()
            .all(|(token, want)| seen.get(token).is_some_and(|got| want.is_met_by(*got)));
        if done {
            return seen;
        }
        let left = DEADLINE
            .checked_sub(start.elapsed())
            .unwrap_or_else(|| panic!("timed out waiting for {expected:?}; saw {seen:?}"));
        poll.poll(events, Some(left)).expect("poll failed");
        for event in events.iter() {
            let entry = seen.entry(event.token()).or_default();
            *entry = entry.union(Readiness::of(event));
        }
    }
}

/// Polls until `exit` (registered with `token`) reports that its process
/// exited, calling `has_exited` on each of its events, as the docs say.
#[cfg(all(feature = "os-ext", any(unix, windows)))]
pub fn wait_for_exit(
    poll: &mut Poll,
    events: &mut Events,
    exit: &evmux::process::ChildExit,
    token: Token,
) {
    poll_until(poll, events, "the child's exit", |events| {
        events
            .iter()
            .any(|event| event.token() == token && event.is_readable())
            && exit.has_exited().expect("has_exited")
    });
}

/// Polls until `done` returns true, calling it after every poll with the
/// events (none after a poll that timed out). A poll interrupted by a
/// signal (`Interrupted`, which tests that raise signals expect) is
/// retried. Panics after `DEADLINE`, naming `what` it waited for.
pub fn poll_until(
    poll: &mut Poll,
    events: &mut Events,
    what: &str,
    mut done: impl FnMut(&Events) -> bool,
) {
    let start = Instant::now();
    loop {
        let left = DEADLINE
            .checked_sub(start.elapsed())
            .unwrap_or_else(|| panic!("timed out waiting for {what}"));
        match poll.poll(events, Some(left.min(QUIET))) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll failed while waiting for {what}: {e}"),
        }
        if done(events) {
            return;
        }
    }
}

/// Polls for `QUIET` and panics if any event arrives.
pub fn expect_no_events(poll: &mut Poll, events: &mut Events) {
    poll.poll(events, Some(QUIET)).expect("poll failed");
    let got: Vec<&Event> = events.iter().collect();
    assert!(got.is_empty(), "expected no events, got {got:?}");
}

/// Polls for `QUIET` and panics if any event arrives, like
/// `expect_no_events`, retrying a poll interrupted by a signal.
pub fn expect_no_events_despite_signals(poll: &mut Poll, events: &mut Events) {
    let start = Instant::now();
    while let Some(left) = QUIET.checked_sub(start.elapsed()) {
        match poll.poll(events, Some(left)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll failed: {e}"),
        }
        let got: Vec<&Event> = events.iter().collect();
        assert!(got.is_empty(), "expected no events, got {got:?}");
    }
}

/// Runs `f` on another thread and returns its result, failing the test if
/// it takes longer than `DEADLINE`: for calls that would block forever if
/// evmux were broken, such as `poll(None)`.
#[cfg(not(wasi))]
pub fn within_deadline<T, F>(f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let _ = sender.send(f());
    });
    receiver
        .recv_timeout(DEADLINE)
        .expect("the operation did not finish before the deadline")
}

/// WASI has no threads (neither preview): runs `f` here, and fails the test
/// afterwards if it took longer than `DEADLINE` (the CI bounds the whole
/// test binary's run time, in case it never returns).
#[cfg(wasi)]
pub fn within_deadline<T, F>(f: F) -> T
where
    F: FnOnce() -> T,
{
    let start = Instant::now();
    let result = f();
    assert!(
        start.elapsed() < DEADLINE,
        "the operation did not finish before the deadline"
    );
    result
}

/// A source of one descriptor that a test can make readable at will: a
/// UDP socket that sends itself a datagram. (An eventfd would do on Linux;
/// this works on every Unix, so the tests compile everywhere.)
pub struct Signal {
    socket: std::net::UdpSocket,
    addr: std::net::SocketAddr,
}

impl Signal {
    pub fn new() -> Signal {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket");
        socket.set_nonblocking(true).unwrap();
        let addr = socket.local_addr().unwrap();
        Signal { socket, addr }
    }

    /// Makes the socket readable (a new readiness edge).
    pub fn raise(&self) {
        self.socket.send_to(b"!", self.addr).expect("send to self");
    }

    /// Empties the socket; afterwards it is not readable.
    pub fn clear(&self) {
        let mut buf = [0; 8];
        loop {
            match self.socket.recv(&mut buf) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => panic!("recv: {e}"),
            }
        }
    }
}

#[cfg(unix)]
impl AsRawFd for Signal {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

#[cfg(unix)]
/// Re-arms a raw descriptor registered through `SourceFd` after the test
/// drained it to `WouldBlock`. Backends that emulate edge triggering
/// (poll(2)) cannot see I/O on raw descriptors and need it; on the others
/// the source is not ready, so this produces no event.
pub fn rearm(poll: &Poll, fd: &impl AsRawFd, token: Token, interests: Interest) {
    let fd = fd.as_raw_fd();
    poll.registry()
        .reregister(&mut evmux::unix::SourceFd(&fd), token, interests)
        .unwrap();
}

#[cfg(unix)]
/// A non-blocking, close-on-exec pipe: (reader, writer).
pub fn pipe() -> (OwnedFd, OwnedFd) {
    let (reader, writer) = rustix::pipe::pipe().expect("pipe");
    for fd in [&reader, &writer] {
        rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC).unwrap();
        rustix::io::ioctl_fionbio(fd, true).unwrap();
    }
    (reader, writer)
}

#[cfg(unix)]
/// The descriptors this process has open.
pub fn open_fds() -> Vec<RawFd> {
    let listed: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    // The listing saw its own directory descriptor, closed by now.
    listed.into_iter().filter(|&fd| is_open(fd)).collect()
}

#[cfg(unix)]
fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only inspects the descriptor table; a closed
    // descriptor yields EBADF.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

#[cfg(unix)]
/// Returns true if `fd` has the close-on-exec flag.
pub fn is_cloexec(fd: &impl AsRawFd) -> bool {
    // SAFETY: the descriptor is borrowed from a live object for this call.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd.as_raw_fd()) };
    let flags = rustix::io::fcntl_getfd(fd).expect("F_GETFD");
    flags.contains(rustix::io::FdFlags::CLOEXEC)
}

/// Returns true if child processes would inherit `socket`: never for
/// sockets evmux creates.
#[cfg(windows)]
pub fn is_inheritable(socket: &impl std::os::windows::io::AsRawSocket) -> bool {
    use windows_sys::Win32::Foundation::{GetHandleInformation, HANDLE_FLAG_INHERIT};
    let mut flags = 0;
    // SAFETY: the socket is borrowed from a live object for this call, and
    // `flags` is a live local the call writes.
    let ok = unsafe { GetHandleInformation(socket.as_raw_socket() as _, &mut flags) };
    assert_ne!(
        ok,
        0,
        "GetHandleInformation: {}",
        io::Error::last_os_error()
    );
    flags & HANDLE_FLAG_INHERIT != 0
}

pub fn assert_send<T: Send>() {}
pub fn assert_sync<T: Sync>() {}

#[cfg(unix)]
/// Raises the soft descriptor limit to `needed`, for tests with thousands
/// of sockets.
pub fn allow_descriptors(needed: u64) {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limits = getrlimit(Resource::Nofile);
    let hard = limits.maximum.unwrap_or(u64::MAX);
    assert!(
        hard >= needed,
        "the hard descriptor limit {hard} is below {needed}"
    );
    if limits.current.is_some_and(|soft| soft < needed) {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(needed),
                maximum: limits.maximum,
            },
        )
        .unwrap();
    }
}

/// Windows and WASI have no descriptor limit to raise.
#[cfg(not(unix))]
pub fn allow_descriptors(_needed: u64) {}

/// A reproducible byte stream: position `i` holds `pattern[i % len]`, with
/// a prime length so that chunk boundaries never line up with it.
pub struct Pattern {
    bytes: Vec<u8>,
}

impl Pattern {
    pub fn new() -> Pattern {
        let mut state: u32 = 0x1234_5678;
        let bytes = (0..1_048_573)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 24) as u8
            })
            .collect();
        Pattern { bytes }
    }

    /// Up to `max` bytes of the stream starting at `offset`.
    pub fn at(&self, offset: usize, max: usize) -> &[u8] {
        let start = offset % self.bytes.len();
        let end = self.bytes.len().min(start + max);
        &self.bytes[start..end]
    }

    /// Panics unless `data` is the stream's content at `offset`.
    pub fn check(&self, mut offset: usize, mut data: &[u8]) {
        while !data.is_empty() {
            let expected = self.at(offset, data.len());
            assert!(
                data[..expected.len()] == *expected,
                "wrong bytes near offset {offset}"
            );
            offset += expected.len();
            data = &data[expected.len()..];
        }
    }
}

/// Moves `total` bytes from `writer` to `reader` through one `Poll`, with
/// writes of at most `write_chunk` and reads of at most `read_chunk` bytes,
/// each side drained until `WouldBlock` on every event. Checks every byte.
pub fn transfer<W, R>(
    writer: &mut W,
    reader: &mut R,
    total: usize,
    write_chunk: usize,
    read_chunk: usize,
) where
    W: Write + Source,
    R: Read + Source,
{
    const WRITER: Token = Token(0);
    const READER: Token = Token(1);
    let pattern = Pattern::new();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(writer, WRITER, Interest::WRITABLE)
        .unwrap();
    poll.registry()
        .register(reader, READER, Interest::READABLE)
        .unwrap();

    let (mut written, mut read) = (0, 0);
    let mut buf = vec![0; read_chunk];
    while read < total {
        poll.poll(&mut events, Some(DEADLINE)).unwrap();
        assert!(
            !events.is_empty(),
            "no progress for {DEADLINE:?}: wrote {written}, read {read}"
        );
        for event in events.iter() {
            if event.token() == WRITER {
                while written < total {
                    let chunk = pattern.at(written, write_chunk.min(total - written));
                    match writer.write(chunk) {
                        Ok(n) => written += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => panic!("write failed after {written} bytes: {e}"),
                    }
                }
            } else if event.token() == READER {
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) => panic!("unexpected end of stream after {read} bytes"),
                        Ok(n) => {
                            pattern.check(read, &buf[..n]);
                            read += n;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => panic!("read failed after {read} bytes: {e}"),
                    }
                }
            }
        }
    }
    assert_eq!(read, total);
    poll.registry().deregister(writer).unwrap();
    poll.registry().deregister(reader).unwrap();
}

/// Reads until `WouldBlock` or end of stream; returns the bytes and
/// whether the stream ended.
pub fn read_available(reader: &mut impl Read) -> (Vec<u8>, bool) {
    let mut data = Vec::new();
    let mut buf = [0; 4096];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return (data, true),
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return (data, false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("read failed: {e}"),
        }
    }
}

/// Two connected, non-blocking evmux TCP streams on loopback.
pub fn tcp_pair() -> (evmux::net::TcpStream, evmux::net::TcpStream) {
    let listener = std::net::TcpListener::bind(any_local_v4()).unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    for stream in [&client, &server] {
        stream.set_nonblocking(true).unwrap();
    }
    (
        evmux::net::TcpStream::from_std(client),
        evmux::net::TcpStream::from_std(server),
    )
}

/// Writes all of `data` to a non-blocking stream, retrying while it is not
/// ready (as a fresh connection's can be on WASI preview 2); panics after
/// `DEADLINE`.
pub fn write_all_within_deadline(stream: &mut impl Write, mut data: &[u8]) {
    let start = Instant::now();
    while !data.is_empty() {
        match stream.write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(
                    start.elapsed() < DEADLINE,
                    "the stream never became writable"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("write: {e}"),
        }
    }
}

/// The loopback address with port 0, for binding.
pub fn any_local_v4() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// The IPv6 loopback with port 0, or `None` when this machine has no IPv6
/// (tests then skip their IPv6 half, and say so).
pub fn any_local_v6() -> Option<std::net::SocketAddr> {
    let addr: std::net::SocketAddr = "[::1]:0".parse().unwrap();
    match std::net::UdpSocket::bind(addr) {
        Ok(_) => Some(addr),
        Err(e) => {
            eprintln!("skipping IPv6: {e}");
            None
        }
    }
}

/// A directory of its own for a test's Unix socket files, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("evmux-{}-{name}-{unique}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self, file: &str) -> std::path::PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Records a figure for RELIABILITY.md: appends `name<TAB>value` to
/// `$EVMUX_FIGURES/<file>.tsv` when the reliability scripts set that
/// directory; does nothing otherwise.
pub fn record_figure(file: &str, name: &str, value: impl std::fmt::Display) {
    let Some(dir) = std::env::var_os("EVMUX_FIGURES") else {
        return;
    };
    std::fs::create_dir_all(&dir).expect("create the figures directory");
    let path = std::path::Path::new(&dir).join(format!("{file}.tsv"));
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .expect("open the figures file");
    writeln!(out, "{name}\t{value}").expect("write a figure");
}

/// A count scaled for the reliability scripts' long mode: `quick` by
/// default, `long` when `EVMUX_RELIABILITY=long` (release checks).
pub fn scaled(quick: u64, long: u64) -> u64 {
    match std::env::var("EVMUX_RELIABILITY").as_deref() {
        Ok("long") => long,
        _ => quick,
    }
}

/// Runs `f` with exactly `free` descriptors left below the process's
/// descriptor limit (the gaps below the highest open descriptor are
/// filled), then closes the fillers and restores the limit. Changes
/// process-wide state: only for test binaries whose tests run one at a
/// time.
#[cfg(unix)]
pub fn with_free_descriptors<T>(free: u64, f: impl FnOnce() -> T) -> T {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let saved = getrlimit(Resource::Nofile);
    // Not standard input, which CI may have closed.
    let original = std::fs::File::open("/dev/null").expect("open /dev/null");
    let highest = open_fds().into_iter().max().unwrap_or(2);
    let mut fillers = vec![OwnedFd::from(original)];
    loop {
        let fd = rustix::io::fcntl_dupfd_cloexec(&fillers[0], 0).expect("dup a filler");
        if fd.as_raw_fd() > highest {
            break;
        }
        fillers.push(fd);
    }
    let limit = highest as u64 + 1 + free;
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(limit),
            maximum: saved.maximum,
        },
    )
    .expect("lower the descriptor limit");
    let value = f();
    drop(fillers);
    setrlimit(Resource::Nofile, saved).expect("restore the descriptor limit");
    value
}

/// A small deterministic generator, so that a failure can be replayed.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

/// Accepts `count` connections that are already on their way to
/// `listener` (registered with `Token(0)` for readable): after each event,
/// accepts until `WouldBlock`; then no further event may come.
#[cfg(feature = "net")]
pub fn accept_every(
    poll: &mut Poll,
    events: &mut Events,
    listener: &evmux::net::TcpListener,
    count: usize,
) {
    let mut accepted = 0;
    while accepted < count {
        expect_events(poll, events, &[(Token(0), READABLE)]);
        loop {
            match listener.accept() {
                Ok(_) => accepted += 1,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("accept after {accepted}: {e}"),
            }
        }
    }
    expect_no_events(poll, events);
}

/// Sets a socket's receive buffer (`SO_RCVBUF`; the OS may round it): room
/// for many datagrams, so that loopback drops none, or next to none.
#[cfg(unix)]
pub fn set_recv_buffer(socket: &impl std::os::fd::AsFd, bytes: usize) {
    rustix::net::sockopt::set_socket_recv_buffer_size(socket, bytes).expect("SO_RCVBUF");
}

/// Sets a socket's receive buffer (`SO_RCVBUF`; the OS may round it).
#[cfg(windows)]
pub fn set_recv_buffer(socket: &impl std::os::windows::io::AsRawSocket, bytes: usize) {
    use windows_sys::Win32::Networking::WinSock::{setsockopt, SOL_SOCKET, SO_RCVBUF};
    let value = i32::try_from(bytes).unwrap_or(i32::MAX);
    // SAFETY: `value` is a live `i32`, its size given.
    let result = unsafe {
        setsockopt(
            socket.as_raw_socket() as usize,
            SOL_SOCKET,
            SO_RCVBUF,
            std::ptr::addr_of!(value).cast(),
            std::mem::size_of::<i32>() as i32,
        )
    };
    assert_eq!(result, 0, "SO_RCVBUF: {}", io::Error::last_os_error());
}

/// Where the receive buffer cannot be set (WASI preview 2): the default.
#[cfg(not(any(unix, windows)))]
pub fn set_recv_buffer<T>(_socket: &T, _bytes: usize) {}

/// The calling thread's id, for `wait_in_syscall`.
#[cfg(target_os = "linux")]
pub fn gettid() -> i32 {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// Whether thread `tid` of this process is in system call `nr` (a
/// `libc::SYS_*` number), as /proc shows it.
#[cfg(target_os = "linux")]
pub fn in_syscall(tid: i32, nr: libc::c_long) -> bool {
    let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall"));
    text.is_ok_and(|text| text.split(' ').next() == Some(nr.to_string().as_str()))
}

/// Waits (within `DEADLINE`) until thread `tid` of this process is blocked
/// in system call `nr`: for a test that needs something to happen while
/// a thread is in that call.
#[cfg(target_os = "linux")]
pub fn wait_in_syscall(tid: i32, nr: libc::c_long) {
    let start = Instant::now();
    while !in_syscall(tid, nr) {
        assert!(
            start.elapsed() < DEADLINE,
            "thread {tid} never blocked in system call {nr}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}
