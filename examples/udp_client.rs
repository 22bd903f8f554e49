//! A client for `udp_server`: sends one datagram, waits for it to come
//! back, prints it. One `Poll`, one non-blocking socket.
//!
//! Run with:
//!
//! ```text
//! cargo run --example udp_client --features os-poll,net [ADDRESS [MESSAGE]]
//! ```
//!
//! ADDRESS defaults to 127.0.0.1:9000 (where `udp_server` listens),
//! MESSAGE to "hello". It gives up after 10 seconds.

use std::io;
use std::net::SocketAddr;

const DEFAULT_ADDRESS: &str = "127.0.0.1:9000";

fn main() {
    if let Err(error) = run() {
        eprintln!("udp_client: {error}");
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

/// Sends `message` to `address` and returns the first datagram that comes
/// back from there.
#[cfg(not(wasip1))]
fn exchange(address: SocketAddr, message: &[u8]) -> io::Result<Vec<u8>> {
    use std::time::{Duration, Instant};

    use evmux::net::UdpSocket;
    use evmux::{Events, Interest, Poll, Token};

    const SOCKET: Token = Token(0);
    const PATIENCE: Duration = Duration::from_secs(10);

    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(8);
    let local: SocketAddr = match address {
        SocketAddr::V4(_) => "0.0.0.0:0".parse().expect("an address"),
        SocketAddr::V6(_) => "[::]:0".parse().expect("an address"),
    };
    let mut socket = UdpSocket::bind(local)?;
    socket.connect(address)?;
    poll.registry()
        .register(&mut socket, SOCKET, Interest::READABLE)?;
    socket
        .send(message)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot send to {address}: {e}")))?;

    let deadline = Instant::now() + PATIENCE;
    let mut buf = vec![0; 65536];
    loop {
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
        // The echo, or WouldBlock (a spurious event): wait again.
        match socket.recv(&mut buf) {
            Ok(n) => return Ok(buf[..n].to_vec()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}

/// WASI preview 1 has no UDP sockets (as in mio).
#[cfg(wasip1)]
fn exchange(address: SocketAddr, _: &[u8]) -> io::Result<Vec<u8>> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!("cannot send to {address}: WASI preview 1 has no UDP sockets"),
    ))
}
