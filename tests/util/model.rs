//! The model-based fuzzer's machine: runs a sequence of operations against
//! real descriptors through one `Poll`, and checks every event against a
//! model of edge-triggered readiness.
//!
//! Used by `tests/model.rs` (proptest generates and shrinks the sequences)
//! and by `fuzz/fuzz_targets/model.rs` (libFuzzer, for long runs outside
//! CI), which both include this one file by path. It depends on evmux and
//! std only, so that both can.
//!
//! What is checked:
//! - safety: no event for a token that is not registered now (every
//!   registration gets a fresh token, so an event for a deregistered,
//!   re-registered or closed source is caught, even when its descriptor
//!   number was reused); readable or writable only with that interest;
//!   read-closed only after the peer shut down or closed its side (or this
//!   side shut down reading); write-closed and error only once some end of
//!   the pair shut down or closed;
//! - liveness (at every `Settle` and at the end): a source registered for
//!   a readiness that it has, which has not been reported since the source
//!   was registered or since an I/O call on it returned `WouldBlock`, is
//!   reported within `DEADLINE` (the edge-triggered contract, which the
//!   backends that emulate edges follow too); a wake is reported;
//! - the bytes: every byte read is the next one the peer wrote, end of
//!   stream only after the peer's shutdown or close, and registration calls
//!   answer `AlreadyExists` or `NotFound` exactly when they should.

#![allow(dead_code)] // Each user needs a different part.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use evmux::event::{Event, Source};
use evmux::net::{TcpStream, UnixStream};
use evmux::unix::pipe;
use evmux::{Events, Interest, Poll, Token, Waker};

/// Pairs of endpoints alive at once: endpoints `2p` and `2p + 1` are pair
/// `p`'s. For a pipe, `2p` is the writing end and `2p + 1` the reading one.
/// Over libkqueue (the kqueue backend on Linux, `--cfg evmux_force_kqueue`)
/// a descriptor closed while registered leaves its filters behind, and a
/// new descriptor with the same number cannot be registered (its BUGS.md:
/// "ensure that file descriptors are removed from the kqueue before they
/// are closed"); a BSD or macOS kernel removes them on close (kqueue(2)).
/// There the model deregisters every source it closes.
const CLOSE_NEEDS_DEREGISTER: bool = cfg!(evmux_libkqueue);

/// The smallest event buffer the model polls with: one event, but two over
/// libkqueue, whose `kevent` turns one epoll event of a descriptor ready
/// for reading and writing into two events and drops the second when the
/// list has room for one (`linux_kevent_copyout`, src/linux/platform.c;
/// `.ci/kqueue/build-libkqueue.sh` mends this for larger lists only). A
/// BSD or macOS kernel keeps what does not fit for the next call.
const SMALLEST_EVENTS: usize = if cfg!(evmux_libkqueue) { 2 } else { 1 };

pub const PAIRS: usize = 3;
const ENDS: usize = 2 * PAIRS;

/// How long a `Settle` waits for what must be reported.
const DEADLINE: Duration = Duration::from_secs(10);

/// The tokens of the two wakers: one made from the `Poll`'s registry
/// (whose wakes are de-duplicated), one from a clone of it (whose wakes
/// always make the system call).
const WAKERS: [Token; 2] = [Token(usize::MAX - 1), Token(usize::MAX - 2)];

/// The kinds of pair the machine opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Unix,
    Tcp,
    Pipe,
}

/// One operation. Endpoints and pairs are taken modulo their count, and
/// an operation on a closed endpoint does nothing, so that every sequence
/// is valid and shrinking can drop any operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Closes what is left of the pair, then opens a new one in its place.
    Open {
        pair: u8,
        kind: Kind,
    },
    /// `interest`: 1 readable, 2 writable, 3 both.
    Register {
        end: u8,
        interest: u8,
    },
    Reregister {
        end: u8,
        interest: u8,
    },
    Deregister {
        end: u8,
    },
    /// Writes up to `len` bytes, stopping at `WouldBlock`.
    Write {
        end: u8,
        len: u32,
    },
    /// Reads until `WouldBlock`, end of stream or an error.
    Read {
        end: u8,
    },
    /// 0 read, 1 write, 2 both (sockets only).
    Shutdown {
        end: u8,
        how: u8,
    },
    /// Drops the endpoint, first deregistering it if `deregister` is set
    /// (dropping a registered source removes its registration too).
    Close {
        end: u8,
        deregister: bool,
    },
    /// Wakes with waker `which` (modulo 2).
    Wake {
        which: u8,
    },
    /// Polls once with a timeout of `millis` milliseconds, into a
    /// one-slot `Events` if `one` is set, else into a four-slot one.
    Poll {
        millis: u8,
        one: bool,
    },
    /// Polls until everything that must be reported has been.
    Settle,
}

impl Op {
    /// Decodes operations from raw bytes (for libFuzzer): three bytes each.
    pub fn decode(data: &[u8]) -> Vec<Op> {
        data.chunks_exact(3)
            .map(|b| {
                let (a, c) = (b[1], b[2]);
                match b[0] % 16 {
                    0 => Op::Open {
                        pair: a,
                        kind: [Kind::Unix, Kind::Tcp, Kind::Pipe][c as usize % 3],
                    },
                    1 | 2 => Op::Register {
                        end: a,
                        interest: c,
                    },
                    3 => Op::Reregister {
                        end: a,
                        interest: c,
                    },
                    4 => Op::Deregister { end: a },
                    5 | 6 => Op::Write {
                        end: a,
                        len: u32::from(c) * 512 + 1,
                    },
                    7 | 8 => Op::Read { end: a },
                    9 => Op::Shutdown { end: a, how: c },
                    10 => Op::Close {
                        end: a,
                        deregister: c % 2 == 0,
                    },
                    11 => Op::Wake { which: c },
                    12..=14 => Op::Poll {
                        millis: c % 3,
                        one: a % 4 == 0,
                    },
                    _ => Op::Settle,
                }
            })
            .collect()
    }
}

/// What a run did, for the figures.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub ops: u64,
    pub events: u64,
    pub settles: u64,
}

enum Io {
    Stream(UnixStream),
    Tcp(TcpStream),
    Sender(pipe::Sender),
    Receiver(pipe::Receiver),
}

impl Io {
    fn source(&mut self) -> &mut dyn Source {
        match self {
            Io::Stream(s) => s,
            Io::Tcp(s) => s,
            Io::Sender(s) => s,
            Io::Receiver(s) => s,
        }
    }

    fn can_read(&self) -> bool {
        !matches!(self, Io::Sender(_))
    }

    fn can_write(&self) -> bool {
        !matches!(self, Io::Receiver(_))
    }
}

/// The model of one endpoint.
#[derive(Default)]
struct End {
    io: Option<Io>,
    /// The current registration: token and interest.
    registered: Option<(Token, Interest)>,
    written: usize,
    read: usize,
    /// This end shut down its reading or writing side.
    read_shut: bool,
    write_shut: bool,
    closed: bool,
    /// Owed a readable (writable) event once it is readable (writable):
    /// set by registration and by `WouldBlock`, cleared by an event.
    armed_read: bool,
    armed_write: bool,
    /// A read returned end of stream or a reset.
    ended: bool,
}

pub struct Machine {
    poll: Poll,
    events: Events,
    one_event: Events,
    wakers: [Waker; 2],
    ends: Vec<End>,
    /// Tokens handed out so far; a token below this that is not in a
    /// current registration is retired.
    next_token: usize,
    wake_owed: [bool; 2],
    pub stats: Stats,
}

/// The byte at `offset` of what end `end` writes.
fn pattern(end: usize, offset: usize) -> u8 {
    (offset.wrapping_mul(7).wrapping_add(end * 13) % 251) as u8
}

fn interest_of(code: u8) -> Interest {
    match code % 3 {
        0 => Interest::READABLE,
        1 => Interest::WRITABLE,
        _ => Interest::READABLE | Interest::WRITABLE,
    }
}

fn fail<T>(message: String) -> Result<T, String> {
    Err(message)
}

impl Machine {
    pub fn new() -> io::Result<Machine> {
        let poll = Poll::new()?;
        let clone = poll.registry().try_clone()?;
        let wakers = [
            Waker::new(poll.registry(), WAKERS[0])?,
            Waker::new_coalescing(&clone, WAKERS[1])?,
        ];
        Ok(Machine {
            poll,
            events: Events::with_capacity(4),
            one_event: Events::with_capacity(SMALLEST_EVENTS),
            wakers,
            ends: (0..ENDS).map(|_| End::default()).collect(),
            next_token: 0,
            wake_owed: [false; 2],
            stats: Stats::default(),
        })
    }

    /// Runs `ops`, then settles. On a violation, returns what went wrong
    /// (with the step it happened at).
    pub fn run(ops: &[Op]) -> Result<Stats, String> {
        let mut machine = Machine::new().map_err(|e| format!("setup: {e}"))?;
        for (step, op) in ops.iter().enumerate() {
            machine
                .apply(*op)
                .map_err(|e| format!("step {step} ({op:?}): {e}"))?;
            machine.stats.ops += 1;
        }
        machine.settle().map_err(|e| format!("final settle: {e}"))?;
        Ok(machine.stats)
    }

    pub fn apply(&mut self, op: Op) -> Result<(), String> {
        match op {
            Op::Open { pair, kind } => self.open(pair as usize % PAIRS, kind),
            Op::Register { end, interest } => self.register(end as usize % ENDS, interest),
            Op::Reregister { end, interest } => self.reregister(end as usize % ENDS, interest),
            Op::Deregister { end } => self.deregister(end as usize % ENDS),
            Op::Write { end, len } => self.write(end as usize % ENDS, len as usize),
            Op::Read { end } => self.read(end as usize % ENDS),
            Op::Shutdown { end, how } => self.shutdown(end as usize % ENDS, how),
            Op::Close { end, deregister } => self.close(end as usize % ENDS, deregister),
            Op::Wake { which } => {
                let which = which as usize % 2;
                self.wakers[which]
                    .wake()
                    .map_err(|e| format!("wake: {e}"))?;
                self.wake_owed[which] = true;
                Ok(())
            }
            Op::Poll { millis, one } => {
                self.poll_once(Duration::from_millis(u64::from(millis)), one)
            }
            Op::Settle => self.settle(),
        }
    }

    fn open(&mut self, pair: usize, kind: Kind) -> Result<(), String> {
        for end in [2 * pair, 2 * pair + 1] {
            self.close(end, false)?;
        }
        let (a, b) = match kind {
            Kind::Unix => {
                let (a, b) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
                (Io::Stream(a), Io::Stream(b))
            }
            Kind::Tcp => {
                let (a, b) = tcp_pair().map_err(|e| format!("TCP pair: {e}"))?;
                (Io::Tcp(a), Io::Tcp(b))
            }
            Kind::Pipe => {
                let (tx, rx) = pipe::new().map_err(|e| format!("pipe: {e}"))?;
                (Io::Sender(tx), Io::Receiver(rx))
            }
        };
        for (end, io) in [(2 * pair, a), (2 * pair + 1, b)] {
            self.ends[end] = End {
                io: Some(io),
                ..End::default()
            };
        }
        Ok(())
    }

    fn fresh_token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }

    fn register(&mut self, end: usize, code: u8) -> Result<(), String> {
        let token = self.fresh_token();
        let interest = interest_of(code);
        let registry = self.poll.registry();
        let state = &mut self.ends[end];
        let Some(io) = state.io.as_mut() else {
            return Ok(());
        };
        let result = registry.register(io.source(), token, interest);
        match (state.registered, result) {
            (None, Ok(())) => {
                state.registered = Some((token, interest));
                state.armed_read = true;
                state.armed_write = true;
                Ok(())
            }
            (Some(_), Err(e)) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            (was, result) => fail(format!("register when registered={was:?}: {result:?}")),
        }
    }

    fn reregister(&mut self, end: usize, code: u8) -> Result<(), String> {
        let token = self.fresh_token();
        let interest = interest_of(code);
        let registry = self.poll.registry();
        let state = &mut self.ends[end];
        let Some(io) = state.io.as_mut() else {
            return Ok(());
        };
        let result = registry.reregister(io.source(), token, interest);
        match (state.registered, result) {
            (Some(_), Ok(())) => {
                state.registered = Some((token, interest));
                state.armed_read = true;
                state.armed_write = true;
                Ok(())
            }
            (None, Err(e)) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            (was, result) => fail(format!("reregister when registered={was:?}: {result:?}")),
        }
    }

    fn deregister(&mut self, end: usize) -> Result<(), String> {
        let registry = self.poll.registry();
        let state = &mut self.ends[end];
        let Some(io) = state.io.as_mut() else {
            return Ok(());
        };
        let result = registry.deregister(io.source());
        match (state.registered, result) {
            (Some(_), Ok(())) => {
                state.registered = None;
                Ok(())
            }
            (None, Err(e)) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            (was, result) => fail(format!("deregister when registered={was:?}: {result:?}")),
        }
    }

    fn peer(end: usize) -> usize {
        end ^ 1
    }

    /// Bytes written to `end` that it has not read yet.
    fn unread(&self, end: usize) -> usize {
        self.ends[Self::peer(end)].written - self.ends[end].read
    }

    /// The peer stopped sending: shut down its writing side or closed.
    fn peer_done(&self, end: usize) -> bool {
        let peer = &self.ends[Self::peer(end)];
        peer.write_shut || peer.closed
    }

    /// The connection may have been reset (TCP and Unix sockets): by the
    /// peer closing with unread data, or by data arriving after a side
    /// shut down its reading.
    fn reset_possible(&self, end: usize) -> bool {
        let peer = &self.ends[Self::peer(end)];
        peer.closed || peer.read_shut || self.ends[end].read_shut
    }

    /// Some end of the pair shut down or closed something.
    fn pair_touched(&self, end: usize) -> bool {
        [end, Self::peer(end)].iter().any(|&e| {
            let s = &self.ends[e];
            s.read_shut || s.write_shut || s.closed
        })
    }

    fn write(&mut self, end: usize, len: usize) -> Result<(), String> {
        let peer_gone = {
            let peer = &self.ends[Self::peer(end)];
            peer.closed || peer.read_shut
        };
        let state = &mut self.ends[end];
        let Some(io) = state.io.as_mut() else {
            return Ok(());
        };
        if !io.can_write() {
            return Ok(());
        }
        let data: Vec<u8> = (0..len).map(|i| pattern(end, state.written + i)).collect();
        let mut done = 0;
        while done < len {
            let result = match io {
                Io::Stream(s) => s.write(&data[done..]),
                Io::Tcp(s) => s.write(&data[done..]),
                Io::Sender(s) => s.write(&data[done..]),
                Io::Receiver(_) => unreachable!(),
            };
            match result {
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    state.armed_write = true;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                    ) && (state.write_shut || peer_gone) =>
                {
                    state.armed_write = true;
                    break;
                }
                Err(e) => return fail(format!("write after {done} bytes: {e}")),
            }
        }
        state.written += done;
        Ok(())
    }

    fn read(&mut self, end: usize) -> Result<(), String> {
        let may_end = self.peer_done(end) || self.reset_possible(end);
        let available = self.unread(end);
        let state = &mut self.ends[end];
        let Some(io) = state.io.as_mut() else {
            return Ok(());
        };
        if !io.can_read() {
            return Ok(());
        }
        let mut buf = [0; 4096];
        let mut got = 0;
        loop {
            let result = match io {
                Io::Stream(s) => s.read(&mut buf),
                Io::Tcp(s) => s.read(&mut buf),
                Io::Receiver(s) => s.read(&mut buf),
                Io::Sender(_) => unreachable!(),
            };
            match result {
                Ok(0) if may_end => {
                    state.ended = true;
                    break;
                }
                Ok(0) => return fail(format!("end of stream, but the peer is open ({got} read)")),
                Ok(n) => {
                    if got + n > available {
                        return fail(format!("read {} bytes, only {available} written", got + n));
                    }
                    for (i, &byte) in buf[..n].iter().enumerate() {
                        let offset = state.read + got + i;
                        if byte != pattern(Self::peer(end), offset) {
                            return fail(format!("wrong byte at offset {offset}"));
                        }
                    }
                    got += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    state.armed_read = true;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset && may_end => {
                    state.ended = true;
                    break;
                }
                Err(e) => return fail(format!("read after {got} bytes: {e}")),
            }
        }
        state.read += got;
        Ok(())
    }

    fn shutdown(&mut self, end: usize, how: u8) -> Result<(), String> {
        let state = &mut self.ends[end];
        let how = [Shutdown::Read, Shutdown::Write, Shutdown::Both][how as usize % 3];
        let result = match state.io.as_mut() {
            Some(Io::Stream(s)) => s.shutdown(how),
            Some(Io::Tcp(s)) => s.shutdown(how),
            _ => return Ok(()),
        };
        match result {
            Ok(()) => {}
            // The peer's reset may have disconnected the socket already.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
            Err(e) => return fail(format!("shutdown({how:?}): {e}")),
        }
        state.read_shut |= how != Shutdown::Write;
        state.write_shut |= how != Shutdown::Read;
        Ok(())
    }

    fn close(&mut self, end: usize, deregister: bool) -> Result<(), String> {
        if self.ends[end].io.is_none() {
            return Ok(());
        }
        let deregister = deregister || CLOSE_NEEDS_DEREGISTER;
        if deregister && self.ends[end].registered.is_some() {
            self.deregister(end)?;
        }
        let state = &mut self.ends[end];
        state.io = None;
        state.registered = None;
        state.closed = true;
        Ok(())
    }

    /// The end owes a readable event: registered for it, readable for sure,
    /// and not reported since it was armed.
    fn owes_readable(&self, end: usize) -> bool {
        let state = &self.ends[end];
        let readable = self.unread(end) > 0 || self.peer_done(end) || state.read_shut;
        matches!(state.registered, Some((_, i)) if i.is_readable())
            && state.io.as_ref().is_some_and(Io::can_read)
            && state.armed_read
            && !state.ended
            && readable
    }

    /// The end owes a writable event: registered for it, with nothing in
    /// flight (so room to write) and nothing shut down, and not reported
    /// since it was armed.
    fn owes_writable(&self, end: usize) -> bool {
        let state = &self.ends[end];
        let peer = &self.ends[Self::peer(end)];
        matches!(state.registered, Some((_, i)) if i.is_writable())
            && state.io.as_ref().is_some_and(Io::can_write)
            && state.armed_write
            && !self.pair_touched(end)
            && state.written == peer.read
    }

    fn owed(&self) -> Vec<String> {
        let mut owed = Vec::new();
        for end in 0..ENDS {
            if self.owes_readable(end) {
                owed.push(format!("end {end} readable"));
            }
            if self.owes_writable(end) {
                owed.push(format!("end {end} writable"));
            }
        }
        for (which, &owed_wake) in self.wake_owed.iter().enumerate() {
            if owed_wake {
                owed.push(format!("waker {which}'s wake"));
            }
        }
        owed
    }

    fn poll_once(&mut self, timeout: Duration, one: bool) -> Result<(), String> {
        let events = if one {
            &mut self.one_event
        } else {
            &mut self.events
        };
        match self.poll.poll(events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return fail(format!("poll: {e}")),
        }
        let events: Vec<Event> = events.iter().cloned().collect();
        for event in &events {
            self.stats.events += 1;
            self.check_event(event)?;
        }
        Ok(())
    }

    fn settle(&mut self) -> Result<(), String> {
        self.stats.settles += 1;
        let start = Instant::now();
        loop {
            let owed = self.owed();
            if owed.is_empty() {
                return Ok(());
            }
            let Some(left) = DEADLINE.checked_sub(start.elapsed()) else {
                return fail(format!("not reported within {DEADLINE:?}: {owed:?}"));
            };
            self.poll_once(left.min(Duration::from_millis(100)), false)?;
        }
    }

    fn check_event(&mut self, event: &Event) -> Result<(), String> {
        let token = event.token();
        if let Some(which) = WAKERS.iter().position(|&waker| waker == token) {
            if !event.is_readable() {
                return fail(format!("a wake that is not readable: {event:?}"));
            }
            self.wake_owed[which] = false;
            return Ok(());
        }
        let Some(end) =
            (0..ENDS).find(|&e| matches!(self.ends[e].registered, Some((t, _)) if t == token))
        else {
            let what = if token.0 <= self.next_token {
                "deregistered, re-registered or closed"
            } else {
                "never registered"
            };
            return fail(format!("event for a {what} token: {event:?}"));
        };
        let (_, interest) = self.ends[end].registered.unwrap();
        if event.is_readable() && !interest.is_readable() {
            return fail(format!("readable without the interest: {event:?}"));
        }
        if event.is_writable() && !interest.is_writable() {
            return fail(format!("writable without the interest: {event:?}"));
        }
        if event.is_read_closed() && !(self.peer_done(end) || self.reset_possible(end)) {
            return fail(format!("read-closed while the peer still sends: {event:?}"));
        }
        if (event.is_write_closed() || event.is_error()) && !self.pair_touched(end) {
            return fail(format!(
                "write-closed or error on an intact pair: {event:?}"
            ));
        }
        // A report that finds the source ready pays what it owes. A stale
        // one (readiness already consumed) pays nothing: the next change
        // is still owed an event.
        let failed = event.is_error() || event.is_read_closed() || event.is_write_closed();
        let readable_now = self.unread(end) > 0 || self.peer_done(end) || self.ends[end].read_shut;
        let state = &mut self.ends[end];
        if (event.is_readable() || failed) && readable_now {
            state.armed_read = false;
        }
        if event.is_writable() || failed {
            state.armed_write = false;
        }
        Ok(())
    }
}

/// A connected pair of non-blocking TCP streams on loopback.
fn tcp_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let client = std::net::TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    for stream in [&client, &server] {
        stream.set_nonblocking(true)?;
        stream.set_nodelay(true)?;
    }
    Ok((TcpStream::from_std(client), TcpStream::from_std(server)))
}
