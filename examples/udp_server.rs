//! A UDP echo server: every datagram is sent back to where it came from.
//!
//! Run with:
//!
//! ```text
//! cargo run --example udp_server --features os-poll,net [ADDRESS]
//! ```
//!
//! ADDRESS (`IP:PORT`) defaults to 127.0.0.1:9000. Talk to it from a
//! second terminal with the `udp_client` example:
//! `cargo run --example udp_client --features os-poll,net -- 127.0.0.1:9000 hello`
//! (or with `nc -u 127.0.0.1 9000`, where netcat is installed).

// WASI preview 1 has no UDP sockets: there the program only says so.
#![cfg_attr(wasip1, allow(dead_code, unused_imports))]

use std::io;

#[cfg(not(wasip1))]
use evmux::net::UdpSocket;
use evmux::{Events, Interest, Poll, Token};

const SOCKET: Token = Token(0);
mod common;

const DEFAULT_ADDRESS: &str = "127.0.0.1:9000";

fn main() {
    if let Err(error) = run() {
        eprintln!("udp_server: {error}");
        std::process::exit(1);
    }
}

#[cfg(wasip1)]
fn run() -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "WASI preview 1 has no UDP sockets",
    ))
}

#[cfg(not(wasip1))]
fn run() -> io::Result<()> {
    let args = common::optional_args("udp_server", &["ADDRESS"]);
    let address = common::parse_address(args.first().map_or(DEFAULT_ADDRESS, String::as_str))?;

    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(64);
    let mut socket = UdpSocket::bind(address)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot bind {address}: {e}")))?;
    poll.registry()
        .register(&mut socket, SOCKET, Interest::READABLE)?;
    println!("UDP echo server on {}", socket.local_addr()?);

    // Large enough for any UDP datagram.
    let mut buf = vec![0; 65536];
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for event in &events {
            if event.token() != SOCKET {
                continue;
            }
            // Receive until WouldBlock.
            loop {
                let (len, from) = match socket.recv_from(&mut buf) {
                    Ok(received) => received,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        eprintln!("receive failed: {e}");
                        break;
                    }
                };
                // A full send buffer drops the echo, as UDP may.
                if let Err(e) = socket.send_to(&buf[..len], from) {
                    eprintln!("echo to {from} failed: {e}");
                }
            }
        }
    }
}
