//! Trigger modes side by side: three UDP sockets, each with a datagram
//! waiting that nobody reads, registered with one `Poll` edge-triggered
//! (mio's model), level-triggered and one-shot. Each round of `poll` prints
//! which of them it reported:
//!
//! - round 1: all three (each became readable);
//! - rounds 2 and 3: only the level-triggered one (still readable; the
//!   edge-triggered one waits for a change, the one-shot one is disabled);
//! - after `reregister_with(.., Trigger::ONESHOT)`: the one-shot one again;
//! - after the level-triggered socket is read until `WouldBlock`: none.
//!
//! Then it asks for an exclusive registration (`EPOLLEXCLUSIVE`), which only
//! epoll has, and prints the answer. It checks each round and fails if one
//! differs.
//!
//! Run with: `cargo run --example trigger_modes --features os-poll,net`

// WASI preview 1 has no UDP sockets: there the program only says so.
#![cfg_attr(wasip1, allow(dead_code, unused_imports))]

use std::collections::BTreeSet;
use std::io;
use std::time::{Duration, Instant};

#[cfg(not(wasip1))]
use evmux::net::UdpSocket;
use evmux::trigger::Trigger;
use evmux::{Events, Interest, Poll, Token};

mod common;

const EDGE: Token = Token(0);
const LEVEL: Token = Token(1);
const ONESHOT: Token = Token(2);

fn main() {
    if let Err(error) = run() {
        eprintln!("trigger_modes: {error}");
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
    common::optional_args("trigger_modes", &[]);
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(8);
    let sender = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;

    let mut sockets = Vec::new();
    for (token, trigger) in [
        (EDGE, Trigger::EDGE),
        (LEVEL, Trigger::LEVEL),
        (ONESHOT, Trigger::ONESHOT),
    ] {
        let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
        poll.registry()
            .register_with(&mut socket, token, Interest::READABLE, trigger)?;
        sender.send_to(b"unread", socket.local_addr()?)?;
        sockets.push(socket);
    }

    // Round 1 waits until all three have reported (the datagrams may take a
    // moment to arrive); the later rounds take what one short poll returns.
    let all = set(&[EDGE, LEVEL, ONESHOT]);
    let mut reported = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while reported != all && Instant::now() < deadline {
        reported.extend(round(&mut poll, &mut events, Duration::from_millis(100))?);
    }
    show("round 1", &reported, &all)?;
    for name in ["round 2", "round 3"] {
        let reported = round(&mut poll, &mut events, Duration::from_millis(100))?;
        show(name, &reported, &set(&[LEVEL]))?;
    }

    // A one-shot registration is armed again by re-registering it.
    poll.registry().reregister_with(
        &mut sockets[2],
        ONESHOT,
        Interest::READABLE,
        Trigger::ONESHOT,
    )?;
    let reported = round(&mut poll, &mut events, Duration::from_millis(100))?;
    show("re-armed one-shot", &reported, &set(&[LEVEL, ONESHOT]))?;

    // Reading the level-triggered socket empty ends its events.
    let mut buf = [0; 64];
    loop {
        match sockets[1].recv_from(&mut buf) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    let reported = round(&mut poll, &mut events, Duration::from_millis(100))?;
    show("level one read", &reported, &set(&[]))?;

    // Exclusive wake-ups: epoll only; elsewhere the error names the mode
    // and the backend.
    let mut listener = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    match poll.registry().register_with(
        &mut listener,
        Token(3),
        Interest::READABLE,
        Trigger::EDGE.exclusive(),
    ) {
        Ok(()) => println!("exclusive: accepted"),
        Err(e) if e.kind() == io::ErrorKind::Unsupported => println!("exclusive: {e}"),
        Err(e) => return Err(e),
    }
    Ok(())
}

/// The tokens one `poll` reports within `timeout`.
fn round(poll: &mut Poll, events: &mut Events, timeout: Duration) -> io::Result<BTreeSet<Token>> {
    loop {
        match poll.poll(events, Some(timeout)) {
            Ok(()) => return Ok(events.iter().map(|event| event.token()).collect()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

fn set(tokens: &[Token]) -> BTreeSet<Token> {
    tokens.iter().copied().collect()
}

/// Prints what a round reported, by mode; fails if it is not `expected`.
fn show(round: &str, reported: &BTreeSet<Token>, expected: &BTreeSet<Token>) -> io::Result<()> {
    let names: Vec<&str> = reported
        .iter()
        .map(|&token| match token {
            EDGE => "edge",
            LEVEL => "level",
            ONESHOT => "one-shot",
            _ => "?",
        })
        .collect();
    let names = if names.is_empty() {
        "nothing".to_string()
    } else {
        names.join(", ")
    };
    println!("{round}: {names}");
    if reported != expected {
        return Err(io::Error::other(format!(
            "{round} reported {reported:?}, expected {expected:?}"
        )));
    }
    Ok(())
}
