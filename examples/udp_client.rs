//! A client for `udp_server`: sends one datagram, waits for it to come
//! back, prints it. One `Poll`, one non-blocking socket.
//!
//! Run with:
//!
//! ```text
//! cargo run --example udp_client --features os-poll,net [ADDRESS [MESSAGE]]
//! ```
//!
//! ADDRESS (`IP:PORT`) defaults to 127.0.0.1:9000 (where `udp_server`
//! listens), MESSAGE to "hello" (quote a message of several words). It
//! gives up after 10 seconds.

use std::io;
use std::net::SocketAddr;

mod common;

const DEFAULT_ADDRESS: &str = "127.0.0.1:9000";

fn main() {
    if let Err(error) = run() {
        eprintln!("udp_client: {error}");
        std::process::exit(1);
    }
}

fn run() -> io::Result<()> {
    let args = common::optional_args("udp_client", &["ADDRESS", "MESSAGE"]);
    let address = common::parse_address(args.first().map_or(DEFAULT_ADDRESS, String::as_str))?;
    let message = args.get(1).map_or("hello", String::as_str).to_string();
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
            // The OS's "port unreachable": nothing listens there.
            Err(e) => return Err(io::Error::new(e.kind(), format!("{address}: {e}"))),
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
