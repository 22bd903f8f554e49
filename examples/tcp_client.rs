//! A client for the echo servers' TCP side: sends one message, waits for
//! it to come back, prints it. One `Poll`, one non-blocking connection.
//!
//! Run with:
//!
//! ```text
//! cargo run --example tcp_client --features os-poll,net [ADDRESS [MESSAGE]]
//! ```
//!
//! ADDRESS defaults to 127.0.0.1:9000 (where `tcp_server` listens),
//! MESSAGE to "hello". It gives up after 10 seconds.

use std::io;
use std::net::SocketAddr;

const DEFAULT_ADDRESS: &str = "127.0.0.1:9000";

fn main() {
    if let Err(error) = run() {
        eprintln!("tcp_client: {error}");
        std::process::exit(1);
    }
}

fn run() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| DEFAULT_ADDRESS.to_string());
    let message = args.next().unwrap_or_else(|| "hello".to_string());
    let address: SocketAddr = address
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{address}: {e}")))?;
    let echo = exchange(address, message.as_bytes())?;
    println!("{}", String::from_utf8_lossy(&echo));
    Ok(())
}

/// Connects, writes `message`, and reads until as many bytes came back.
#[cfg(not(wasip1))]
fn exchange(address: SocketAddr, message: &[u8]) -> io::Result<Vec<u8>> {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};

    use evmux::{Events, Interest, Poll, Token};

    const CLIENT: Token = Token(0);
    const PATIENCE: Duration = Duration::from_secs(10);

    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(8);
    let mut stream = evmux::net::TcpStream::connect(address)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot connect to {address}: {e}")))?;
    poll.registry()
        .register(&mut stream, CLIENT, Interest::READABLE | Interest::WRITABLE)?;

    let deadline = Instant::now() + PATIENCE;
    let (mut sent, mut received) = (0, Vec::new());
    while received.len() < message.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no echo from {address} within {PATIENCE:?}"),
            ));
        }
        match poll.poll(&mut events, Some(left)) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            result => result?,
        }
        for event in &events {
            if event.is_error() {
                let error = stream.take_error()?;
                return Err(error.unwrap_or_else(|| io::ErrorKind::ConnectionRefused.into()));
            }
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
