//! Stress, bounded in count and time: thousands of sources with random
//! readiness, registration churn from four threads against a polling
//! fifth, a wake storm from eight threads, and thousands of TCP
//! connections through one `Poll`. Every loop ends by itself; counts grow
//! with `EVMUX_RELIABILITY=long` (release checks). Loopback only.
// Linux and Android only: one eventfd per source (the descriptor limit
// allows no pairs).
#![cfg(all(
    any(target_os = "linux", target_os = "android"),
    feature = "os-ext",
    feature = "net"
))]

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use evmux::net::{TcpListener, TcpStream};
use evmux::unix::SourceFd;
use evmux::{Events, Interest, Poll, Token, Waker};

mod util;
use util::{allow_descriptors, any_local_v4, record_figure, scaled, Pattern, XorShift, DEADLINE};

/// The descriptor limit every test here asks for: the same figure, so
/// that tests raising it at the same time never lower it for each other.
/// 10,000 sources, the TCP test's connections, and the rest.
const DESCRIPTORS: u64 = 12_000;

/// A non-blocking eventfd: one descriptor, readable while its counter is
/// not zero.
fn eventfd() -> OwnedFd {
    use rustix::event::{eventfd, EventfdFlags};
    eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK).expect("eventfd")
}

fn raise(fd: &OwnedFd) {
    rustix::io::write(fd, &1u64.to_ne_bytes()).expect("write an eventfd");
}

fn clear(fd: &OwnedFd) {
    let mut buf = [0; 8];
    match rustix::io::read(fd, &mut buf) {
        Ok(_) | Err(rustix::io::Errno::AGAIN) => {}
        Err(e) => panic!("read an eventfd: {e}"),
    }
}

fn fd_reregister(poll: &Poll, fd: &OwnedFd, token: Token, interest: Interest) {
    poll.registry()
        .reregister(&mut SourceFd(&fd.as_raw_fd()), token, interest)
        .unwrap();
}

/// Polls until every token in `expected` was reported, then once more
/// without waiting; returns how often each token was reported.
fn collect(poll: &mut Poll, events: &mut Events, expected: usize) -> HashMap<Token, usize> {
    let mut seen: HashMap<Token, usize> = HashMap::new();
    let start = Instant::now();
    while seen.len() < expected {
        let left = DEADLINE
            .checked_sub(start.elapsed())
            .unwrap_or_else(|| panic!("saw {} of {expected} sources", seen.len()));
        poll.poll(events, Some(left)).unwrap();
        for event in events.iter() {
            *seen.entry(event.token()).or_default() += 1;
        }
    }
    poll.poll(events, Some(Duration::ZERO)).unwrap();
    for event in events.iter() {
        *seen.entry(event.token()).or_default() += 1;
    }
    seen
}

/// 10,000 eventfds; each round a random subset becomes ready, some
/// sources are deregistered and others registered again. Every ready,
/// registered source is reported exactly once per change, and no other.
#[test]
fn ten_thousand_sources_with_random_readiness() {
    const SOURCES: usize = 10_000;
    let rounds = scaled(40, 1_000) as usize;
    allow_descriptors(DESCRIPTORS);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(256);
    let fds: Vec<OwnedFd> = (0..SOURCES).map(|_| eventfd()).collect();
    let mut registered = vec![true; SOURCES];
    for (i, fd) in fds.iter().enumerate() {
        poll.registry()
            .register(&mut SourceFd(&fd.as_raw_fd()), Token(i), Interest::READABLE)
            .unwrap();
    }
    let mut random = XorShift(0x2545_f491_4f6c_dd1d);
    let mut changes = 0u64;
    for round in 0..rounds {
        // Registration churn: a few sources leave, a few come back.
        for _ in 0..random.below(50) {
            let i = random.below(SOURCES);
            let raw = fds[i].as_raw_fd();
            let mut source = SourceFd(&raw);
            if registered[i] {
                poll.registry().deregister(&mut source).unwrap();
            } else {
                poll.registry()
                    .register(&mut source, Token(i), Interest::READABLE)
                    .unwrap();
            }
            registered[i] = !registered[i];
        }
        let count = 1 + random.below(if round % 2 == 0 { 16 } else { 2_000 });
        let mut ready: Vec<usize> = (0..count).map(|_| random.below(SOURCES)).collect();
        ready.sort_unstable();
        ready.dedup();
        for &i in &ready {
            raise(&fds[i]);
        }
        let expected: Vec<usize> = ready.iter().copied().filter(|&i| registered[i]).collect();
        let seen = collect(&mut poll, &mut events, expected.len());
        let mut reported: Vec<usize> = seen.keys().map(|token| token.0).collect();
        reported.sort_unstable();
        assert_eq!(reported, expected, "round {round}: wrong sources reported");
        let duplicated: Vec<_> = seen.iter().filter(|(_, &n)| n > 1).collect();
        assert!(duplicated.is_empty(), "round {round}: {duplicated:?}");
        changes += expected.len() as u64;
        for &i in &ready {
            clear(&fds[i]);
            if registered[i] {
                fd_reregister(&poll, &fds[i], Token(i), Interest::READABLE);
            }
        }
    }
    eprintln!(
        "{SOURCES} sources, {rounds} rounds, {changes} readiness changes, each reported once"
    );
    record_figure("stress", "sources", SOURCES);
    record_figure("stress", "source_rounds", rounds);
    record_figure("stress", "readiness_changes", changes);
}

/// The token of registration `generation` of source `index` of thread
/// `thread`.
fn churn_token(thread: usize, index: usize, generation: u64) -> Token {
    Token((generation as usize) << 16 | thread << 8 | index)
}

/// Four threads register, reregister and deregister their own sources
/// (eventfds kept readable) while a fifth polls. Every event carries a
/// token that was handed out, and no poll that began after a registration
/// was replaced or removed reports its token; afterwards every source
/// still registered reports exactly once, and no deregistered one does.
#[test]
fn registration_churn_from_four_threads_while_a_fifth_polls() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 64;
    let operations = scaled(1_000_000, 10_000_000);
    let mut poll = Poll::new().unwrap();
    let registry = poll.registry().try_clone().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    // The latest generation handed out per source.
    let latest: Arc<Vec<AtomicU64>> = Arc::new(
        (0..THREADS * PER_THREAD)
            .map(|_| AtomicU64::new(0))
            .collect(),
    );
    // A clock of registration changes, and per source the generation
    // below which every registration has ended and the clock reading
    // once that was so (packed: generation << 32 | clock).
    let clock = AtomicU64::new(1);
    let retired: Vec<AtomicU64> = (0..THREADS * PER_THREAD)
        .map(|_| AtomicU64::new(0))
        .collect();
    let retire = |source: usize, below: u64| {
        let at = clock.fetch_add(1, Ordering::SeqCst);
        retired[source].store(below << 32 | at, Ordering::SeqCst);
    };
    let fds: Vec<Vec<OwnedFd>> = (0..THREADS)
        .map(|_| (0..PER_THREAD).map(|_| eventfd()).collect())
        .collect();
    for fd in fds.iter().flatten() {
        raise(fd);
    }
    let started = Instant::now();

    let (states, polled) = thread::scope(|scope| {
        let poller = {
            let stop = Arc::clone(&stop);
            let latest = Arc::clone(&latest);
            let poll = &mut poll;
            let (clock, retired) = (&clock, &retired);
            scope.spawn(move || {
                let mut events = Events::with_capacity(256);
                let mut count = 0u64;
                while !stop.load(Ordering::Acquire) {
                    let began = clock.load(Ordering::SeqCst);
                    poll.poll(&mut events, Some(Duration::from_millis(50)))
                        .unwrap();
                    for event in events.iter() {
                        let token = event.token().0;
                        let (thread, index) = ((token >> 8) & 0xff, token & 0xff);
                        let generation = (token >> 16) as u64;
                        assert!(thread < THREADS && index < PER_THREAD, "{event:?}");
                        let handed_out = latest[thread * PER_THREAD + index].load(Ordering::SeqCst);
                        assert!(
                            generation <= handed_out,
                            "a token never handed out: {event:?}"
                        );
                        let packed = retired[thread * PER_THREAD + index].load(Ordering::SeqCst);
                        let (below, at) = (packed >> 32, packed & 0xffff_ffff);
                        assert!(
                            generation >= below || began <= at,
                            "a poll that began after generation {generation} of a source was \
                             replaced or removed reported it: {event:?}"
                        );
                        count += 1;
                    }
                }
                count
            })
        };
        let workers: Vec<_> = fds
            .iter()
            .enumerate()
            .map(|(thread, fds)| {
                let registry = &registry;
                let latest = Arc::clone(&latest);
                let retire = &retire;
                scope.spawn(move || {
                    let mut random = XorShift(0x9e37_79b9 + thread as u64);
                    let mut state: Vec<Option<u64>> = vec![None; PER_THREAD];
                    let mut generation = 0u64;
                    for _ in 0..operations / THREADS as u64 {
                        let index = random.below(PER_THREAD);
                        let raw = fds[index].as_raw_fd();
                        let mut source = SourceFd(&raw);
                        let interest = if random.below(2) == 0 {
                            Interest::READABLE
                        } else {
                            Interest::READABLE | Interest::WRITABLE
                        };
                        let source_id = thread * PER_THREAD + index;
                        match state[index] {
                            Some(old) if random.below(3) == 0 => {
                                registry.deregister(&mut source).unwrap();
                                retire(source_id, old + 1);
                                state[index] = None;
                            }
                            old => {
                                generation += 1;
                                latest[thread * PER_THREAD + index]
                                    .store(generation, Ordering::SeqCst);
                                let token = churn_token(thread, index, generation);
                                if old.is_some() {
                                    registry.reregister(&mut source, token, interest).unwrap();
                                    retire(source_id, generation);
                                } else {
                                    registry.register(&mut source, token, interest).unwrap();
                                }
                                state[index] = Some(generation);
                            }
                        }
                    }
                    state
                })
            })
            .collect();
        let states: Vec<Vec<Option<u64>>> =
            workers.into_iter().map(|w| w.join().unwrap()).collect();
        stop.store(true, Ordering::Release);
        (states, poller.join().unwrap())
    });
    let elapsed = started.elapsed();

    // Re-arm every registered source with its last token: each reports
    // once, nothing else does.
    let mut expected = Vec::new();
    for (thread, state) in states.iter().enumerate() {
        for (index, generation) in state.iter().enumerate() {
            if let Some(generation) = *generation {
                let token = churn_token(thread, index, generation);
                fd_reregister(&poll, &fds[thread][index], token, Interest::READABLE);
                expected.push(token.0);
            }
        }
    }
    expected.sort_unstable();
    let mut events = Events::with_capacity(512);
    let seen = collect(&mut poll, &mut events, expected.len());
    let mut reported: Vec<usize> = seen.keys().map(|token| token.0).collect();
    reported.sort_unstable();
    assert_eq!(
        reported, expected,
        "registered sources lost or deregistered ones reported"
    );
    eprintln!(
        "{operations} registration operations from {THREADS} threads in {elapsed:?}, \
         {polled} events polled meanwhile; {} sources left registered, all reported",
        expected.len()
    );
    record_figure("stress", "churn_operations", operations);
    record_figure("stress", "churn_events_polled", polled);
    record_figure("stress", "churn_registered_at_end", expected.len());
}

/// Eight threads wake one `Poll` while it polls, through a coalescing
/// waker. After every round, a last wake from each thread is reported,
/// however the storm left the wake de-duplication.
#[test]
fn wake_storm_from_eight_threads() {
    const THREADS: usize = 8;
    const TOKEN: Token = Token(7);
    let per_thread = scaled(1_000_000, 10_000_000);
    let rounds = 100u64;
    let per_round = per_thread / rounds;
    let mut poll = Poll::new().unwrap();
    let waker = Waker::new_coalescing(poll.registry(), TOKEN).unwrap();
    let mut events = Events::with_capacity(8);
    // Workers and the poller meet at these; the poller is not polling
    // while it waits.
    let barrier = Barrier::new(THREADS + 1);
    let done = AtomicUsize::new(0);
    let mut storm_events = 0u64;
    let started = Instant::now();
    thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..rounds {
                    barrier.wait();
                    for _ in 0..per_round {
                        waker.wake().unwrap();
                    }
                    done.fetch_add(1, Ordering::AcqRel);
                    barrier.wait();
                    // The last wake of the round, with nobody polling.
                    waker.wake().unwrap();
                    barrier.wait();
                }
            });
        }
        for round in 0..rounds {
            barrier.wait();
            // The storm, polled at the same time. A poll may end without
            // an event (a wake skipped because the batch being returned
            // already carries it), so the wait is short; nothing is
            // concluded from it.
            while done.load(Ordering::Acquire) < THREADS * (round as usize + 1) {
                poll.poll(&mut events, Some(Duration::from_millis(20)))
                    .unwrap();
                storm_events += events.iter().count() as u64;
            }
            barrier.wait();
            barrier.wait();
            // The last wakes happened after the last poll: one of them,
            // at least, is waiting.
            poll.poll(&mut events, Some(DEADLINE)).unwrap();
            assert!(
                events.iter().any(|event| event.token() == TOKEN),
                "round {round}: the last wakes were lost"
            );
        }
    });
    let total = THREADS as u64 * (per_round + 1) * rounds;
    eprintln!(
        "{total} wakes from {THREADS} threads in {:?}, {storm_events} wake events during the storm, \
         the last wake of all {rounds} rounds seen",
        started.elapsed()
    );
    record_figure("stress", "wakes", total);
    record_figure("stress", "wake_rounds", rounds);
}

/// Connections accepted, echoed and closed through one `Poll`, a few
/// hundred at a time, every byte checked.
#[test]
fn thousands_of_tcp_connections_echoed_and_closed() {
    const AT_ONCE: usize = 250;
    const LISTENER: Token = Token(usize::MAX);
    const SERVER: usize = 1 << 30;
    let total = scaled(5_000, 20_000) as usize;
    allow_descriptors(DESCRIPTORS);
    let pattern = Pattern::new();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(256);
    let mut listener = TcpListener::bind(any_local_v4()).unwrap();
    let addr = listener.local_addr().unwrap();
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let mut random = XorShift(0x1234_5678_9abc_def1);

    // Client `i`: stream, bytes to send, sent, received. Server: stream,
    // bytes waiting to be echoed.
    struct Client {
        stream: TcpStream,
        length: usize,
        sent: usize,
        received: usize,
        offset: usize,
    }
    let mut clients: HashMap<usize, Client> = HashMap::new();
    let mut servers: HashMap<usize, (TcpStream, Vec<u8>)> = HashMap::new();
    let (mut opened, mut finished, mut bytes, mut next_server) = (0, 0, 0u64, SERVER);
    let start = Instant::now();
    let deadline = DEADLINE * 6;

    while finished < total {
        assert!(
            start.elapsed() < deadline,
            "{finished} of {total} connections done in {deadline:?}"
        );
        while opened < total && clients.len() < AT_ONCE {
            let mut stream = TcpStream::connect(addr).unwrap();
            poll.registry()
                .register(
                    &mut stream,
                    Token(opened),
                    Interest::READABLE | Interest::WRITABLE,
                )
                .unwrap();
            let length = 1 + random.below(8_192);
            let offset = random.below(1 << 20);
            clients.insert(
                opened,
                Client {
                    stream,
                    length,
                    sent: 0,
                    received: 0,
                    offset,
                },
            );
            opened += 1;
        }
        poll.poll(&mut events, Some(DEADLINE)).unwrap();
        for event in events.iter() {
            let token = event.token().0;
            if event.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            poll.registry()
                                .register(
                                    &mut stream,
                                    Token(next_server),
                                    Interest::READABLE | Interest::WRITABLE,
                                )
                                .unwrap();
                            servers.insert(next_server, (stream, Vec::new()));
                            next_server += 1;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => panic!("accept: {e}"),
                    }
                }
            } else if token >= SERVER {
                let Some((stream, pending)) = servers.get_mut(&token) else {
                    continue;
                };
                let closed = echo(stream, pending);
                if closed && pending.is_empty() {
                    let (mut stream, _) = servers.remove(&token).unwrap();
                    poll.registry().deregister(&mut stream).unwrap();
                }
            } else if let Some(client) = clients.get_mut(&token) {
                if client_step(client, &pattern) {
                    bytes += client.length as u64;
                    let mut client = clients.remove(&token).unwrap();
                    poll.registry().deregister(&mut client.stream).unwrap();
                    finished += 1;
                }
            }
        }
    }
    // The servers see the clients' close and finish too.
    let drain_start = Instant::now();
    while !servers.is_empty() {
        assert!(
            drain_start.elapsed() < DEADLINE,
            "{} servers left",
            servers.len()
        );
        poll.poll(&mut events, Some(DEADLINE)).unwrap();
        for event in events.iter() {
            let token = event.token().0;
            if let Some((stream, pending)) = servers.get_mut(&token) {
                if echo(stream, pending) && pending.is_empty() {
                    servers.remove(&token);
                }
            }
        }
    }
    eprintln!(
        "{total} TCP connections echoed ({bytes} bytes, byte-exact) and closed in {:?}",
        start.elapsed()
    );
    record_figure("stress", "tcp_connections", total);
    record_figure("stress", "tcp_bytes", bytes);

    fn client_step(client: &mut Client, pattern: &Pattern) -> bool {
        while client.sent < client.length {
            let chunk = pattern.at(client.offset + client.sent, client.length - client.sent);
            match client.stream.write(chunk) {
                Ok(n) => client.sent += n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::NotConnected
                    ) =>
                {
                    break
                }
                Err(e) => panic!("client write: {e}"),
            }
        }
        let mut buf = [0; 4096];
        loop {
            match client.stream.read(&mut buf) {
                Ok(0) => panic!("the server closed first"),
                Ok(n) => {
                    pattern.check(client.offset + client.received, &buf[..n]);
                    client.received += n;
                    assert!(
                        client.received <= client.length,
                        "more bytes echoed than sent"
                    );
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::NotConnected
                    ) =>
                {
                    break
                }
                Err(e) => panic!("client read: {e}"),
            }
        }
        client.received == client.length
    }

    /// Echoes what arrives; returns true once the client has closed.
    fn echo(stream: &mut TcpStream, pending: &mut Vec<u8>) -> bool {
        let mut buf = [0; 4096];
        let mut closed = false;
        loop {
            match stream.read(&mut buf) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    closed = true;
                    pending.clear();
                    break;
                }
                Err(e) => panic!("server read: {e}"),
            }
        }
        while !pending.is_empty() {
            match stream.write(pending) {
                Ok(n) => {
                    pending.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) if closed => pending.clear(),
                Err(e) => panic!("server write: {e}"),
            }
        }
        closed
    }
}
