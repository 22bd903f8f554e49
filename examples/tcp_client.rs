//! A client for the echo servers' TCP side: sends one message, waits for
//! it to come back, prints it. One `Poll`, one non-blocking connection.
//!
//! Run with:
//!
//! ```text
//! cargo run --example tcp_client --features os-poll,net [ADDRESS [MESSAGE]]
//! ```
//!
//! ADDRESS (`IP:PORT`) defaults to 127.0.0.1:9000 (where `tcp_server`
//! listens), MESSAGE to "hello" (quote a message of several words). It
//! gives up after 10 seconds, saying whether the connection was ever
//! established.

use std::io;
use std::net::SocketAddr;

mod common;

const DEFAULT_ADDRESS: &str = "127.0.0.1:9000";

fn main() {
    if let Err(error) = run() {
        eprintln!("tcp_client: {error}");
        std::process::exit(1);
    }
}

fn run() -> io::Result<()> {
    let args = common::optional_args("tcp_client", &["ADDRESS", "MESSAGE"]);
    let address = common::parse_address(args.first().map_or(DEFAULT_ADDRESS, String::as_str))?;
    let message = args.get(1).map_or("hello", String::as_str).to_string();
    let echo = exchange(address, message.as_bytes())?;
    println!("{}", String::from_utf8_lossy(&echo));
    Ok(())
}

/// Connects, writes `message`, and reads until as many bytes came back.
/// Every error names the address, and says whether the connection was
/// ever established.
#[cfg(not(wasip1))]
fn exchange(address: SocketAddr, message: &[u8]) -> io::Result<Vec<u8>> {
    let mut connected = false;
    talk(address, message, &mut connected).map_err(|e| {
        let context = if connected {
            format!("connected to {address}, then")
        } else {
            format!("cannot connect to {address}:")
        };
        io::Error::new(e.kind(), format!("{context} {e}"))
    })
}

/// `exchange`'s work; sets `connected` once the connection is established.
#[cfg(not(wasip1))]
fn talk(address: SocketAddr, message: &[u8], connected: &mut bool) -> io::Result<Vec<u8>> {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};

    use evmux::{Events, Interest, Poll, Token};

    const CLIENT: Token = Token(0);
    const PATIENCE: Duration = Duration::from_secs(10);

    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(8);
    // Non-blocking: this returns at once; the outcome comes as an event.
    let mut stream = evmux::net::TcpStream::connect(address)?;
    poll.registry()
        .register(&mut stream, CLIENT, Interest::READABLE | Interest::WRITABLE)?;

    let deadline = Instant::now() + PATIENCE;
    let (mut sent, mut received) = (0, Vec::new());
    while received.len() < message.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let what = if *connected {
                format!("no echo within {PATIENCE:?}")
            } else {
                // No answer at all: neither accepted nor refused.
                format!(
                    "the connection did not complete within {PATIENCE:?} (no answer: \
                     is the host up, or does a firewall drop the packets?)"
                )
            };
            return Err(io::Error::new(io::ErrorKind::TimedOut, what));
        }
        match poll.poll(&mut events, Some(left)) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            result => result?,
        }
        for event in &events {
            // A failed connect (refused, unreachable) is reported as an
            // error event; the socket holds the reason.
            if let Some(error) = stream.take_error()? {
                return Err(error);
            }
            if event.is_error() {
                return Err(io::ErrorKind::ConnectionRefused.into());
            }
            *connected |= event.is_writable() && stream.peer_addr().is_ok();
            // Write what is left, then read what came back, each until
            // WouldBlock (the edge-triggered rule).
            while sent < message.len() {
                match stream.write(&message[sent..]) {
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => break,
                    Err(e) => return Err(e),
                }
            }
            let mut buf = [0; 4096];
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => return Ok(received),
                    Ok(n) => received.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => break,
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(received)
}

/// WASI preview 1 cannot open connections (as in mio, there is no
/// `TcpStream::connect`).
#[cfg(wasip1)]
fn exchange(address: SocketAddr, _: &[u8]) -> io::Result<Vec<u8>> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!("cannot connect to {address}: WASI preview 1 cannot open connections"),
    ))
}
