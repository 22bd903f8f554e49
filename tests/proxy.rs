//! A proxy between a client and an echo server on one `Poll`, driven only
//! by edge-triggered events, as tokio drives its sockets: each socket's
//! readiness is taken from its events and dropped at `WouldBlock`. The
//! client writes 8 MiB before reading anything back, so every socket on
//! the way fills up and each direction waits on the other's progress.
// WASI preview 1 cannot create sockets.
#![cfg(all(feature = "os-poll", feature = "net", not(wasip1)))]

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::time::Instant;

use evmux::net::TcpStream;
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::{any_local_v4, DEADLINE};

const TOTAL: usize = 8 << 20;
const CHUNK: usize = 64 << 10;

/// One socket and what its events said of it.
struct End {
    stream: TcpStream,
    /// Takes a short read or write as `WouldBlock` (tokio does, on epoll
    /// and kqueue: with edge triggering, whatever arrives after it brings
    /// a new event).
    short_is_drained: bool,
    readable: bool,
    writable: bool,
    /// An event said the peer closed: reading goes on until it returns 0,
    /// whatever a short read says (tokio keeps this apart too).
    read_closed: bool,
    /// Read returned 0.
    ended: bool,
    /// Shut down for writing.
    shut: bool,
}

impl End {
    fn new(stream: TcpStream, short_is_drained: bool) -> End {
        End {
            stream,
            short_is_drained,
            readable: false,
            writable: false,
            read_closed: false,
            ended: false,
            shut: false,
        }
    }

    /// Reads into `buf` while readable and `buf` has room; returns whether
    /// anything happened.
    fn fill(&mut self, buf: &mut Vec<u8>) -> bool {
        let mut progress = false;
        let mut chunk = vec![0; CHUNK];
        while (self.readable || self.read_closed) && !self.ended && buf.len() < CHUNK {
            let room = CHUNK - buf.len();
            match self.stream.read(&mut chunk[..room]) {
                Ok(0) => self.ended = true,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    self.readable &= !(self.short_is_drained && n < room);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    self.read_closed = false;
                }
                Err(e) => panic!("read: {e}"),
            }
            progress = true;
        }
        progress
    }

    /// Writes `buf` while writable; returns whether anything happened.
    fn drain(&mut self, buf: &mut Vec<u8>) -> bool {
        let mut progress = false;
        while self.writable && !buf.is_empty() {
            match self.stream.write(buf) {
                Ok(n) => {
                    self.writable &= !(self.short_is_drained && n < buf.len());
                    buf.drain(..n);
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.writable = false,
                Err(e) => panic!("write: {e}"),
            }
        }
        progress
    }

    /// Shuts down writing once `from` ended and nothing is left to write.
    fn pass_end(&mut self, from_ended: bool, buf: &[u8]) -> bool {
        if from_ended && buf.is_empty() && !self.shut {
            self.stream.shutdown(Shutdown::Write).unwrap();
            self.shut = true;
            return true;
        }
        false
    }
}

#[test]
fn a_proxy_with_one_side_blocked_moves_every_byte() {
    proxy(false);
}

/// The same, with a short read or write taken as the end of readiness, as
/// tokio takes it on epoll and kqueue (`tokio/src/io/poll_evented.rs`), and
/// only there: not on Windows.
#[test]
#[cfg_attr(
    windows,
    ignore = "not how a Windows program may drive mio: Windows emulates edge triggering, re-armed \
              only by WouldBlock, so tokio takes short reads as drained only on epoll and kqueue \
              targets (tokio/src/io/poll_evented.rs); mio 1.2.5 under Wine stalls on this code \
              exactly as evmux does"
)]
fn a_proxy_that_takes_short_reads_as_drained_moves_every_byte() {
    proxy(true);
}

fn proxy(short_is_drained: bool) {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(64);
    let echo_listener = std::net::TcpListener::bind(any_local_v4()).unwrap();
    let proxy_listener = std::net::TcpListener::bind(any_local_v4()).unwrap();
    let client = TcpStream::connect(proxy_listener.local_addr().unwrap()).unwrap();
    let (inbound, _) = proxy_listener.accept().unwrap();
    let outbound = TcpStream::connect(echo_listener.local_addr().unwrap()).unwrap();
    let (echo, _) = echo_listener.accept().unwrap();
    let wrap = |stream: std::net::TcpStream| {
        stream.set_nonblocking(true).unwrap();
        End::new(TcpStream::from_std(stream), short_is_drained)
    };
    // client, proxy inbound, proxy outbound, echo.
    let mut ends = [
        End::new(client, short_is_drained),
        wrap(inbound),
        End::new(outbound, short_is_drained),
        wrap(echo),
    ];
    let both = Interest::READABLE | Interest::WRITABLE;
    for (i, end) in ends.iter_mut().enumerate() {
        poll.registry()
            .register(&mut end.stream, Token(i), both)
            .unwrap();
    }
    let (mut to_send, mut received) = (TOTAL, 0);
    let mut outgoing = Vec::new(); // client -> proxy
    let mut forward = Vec::new(); // proxy inbound -> outbound
    let mut echoed = Vec::new(); // echo server's buffer
    let mut backward = Vec::new(); // proxy outbound -> inbound
    let mut incoming = Vec::new(); // what the client reads
    let start = Instant::now();
    loop {
        let mut progress = true;
        while progress {
            progress = false;
            let [client, inbound, outbound, echo] = &mut ends;
            if to_send > 0 && outgoing.is_empty() {
                let n = to_send.min(CHUNK);
                outgoing.resize(n, 3);
                to_send -= n;
            }
            progress |= client.drain(&mut outgoing);
            progress |= client.pass_end(to_send == 0, &outgoing);
            progress |= inbound.fill(&mut forward);
            progress |= outbound.drain(&mut forward);
            progress |= outbound.pass_end(inbound.ended, &forward);
            progress |= echo.fill(&mut echoed);
            progress |= echo.drain(&mut echoed);
            progress |= echo.pass_end(echo.ended, &echoed);
            progress |= outbound.fill(&mut backward);
            progress |= inbound.drain(&mut backward);
            progress |= inbound.pass_end(outbound.ended, &backward);
            progress |= client.fill(&mut incoming);
            received += incoming.len();
            incoming.clear();
        }
        if ends[0].ended {
            break;
        }
        let waited = Instant::now();
        poll.poll(&mut events, Some(DEADLINE)).unwrap();
        let stalled = || {
            let flags: Vec<_> = ends
                .iter()
                .map(|e| (e.readable, e.read_closed, e.writable, e.ended, e.shut))
                .collect();
            format!(
                "stalled after {received} of {TOTAL} bytes came back ({} left to send); \
                 buffered {}/{}/{}/{}; (readable, read_closed, writable, ended, shut) per socket: {flags:?}",
                to_send,
                outgoing.len(),
                forward.len(),
                echoed.len(),
                backward.len()
            )
        };
        assert!(
            !events.is_empty() || waited.elapsed() < DEADLINE,
            "{}",
            stalled()
        );
        assert!(start.elapsed() < 6 * DEADLINE, "{}", stalled());
        for event in events.iter() {
            let end = &mut ends[event.token().0];
            end.readable |= event.is_readable();
            end.read_closed |= event.is_read_closed();
            end.writable |= event.is_writable() || event.is_write_closed();
        }
    }
    assert_eq!(received, TOTAL);
}
