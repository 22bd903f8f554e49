//! Batched UDP on loopback: one socket sends a batch of datagrams to
//! another in one call, then a run of equal segments (GSO where the kernel
//! has it), and the receiver takes them in batches (coalesced by GRO
//! where the kernel has it), waiting on a `Poll`. Prints what arrived.
//!
//! Run with:
//!
//! ```text
//! cargo run --example udp_batch --features os-poll,net
//! ```
//!
//! It finishes on its own, giving up after 10 seconds.

// WASI preview 1 has no UDP sockets: there the program only says so.
#![cfg_attr(wasip1, allow(dead_code, unused_imports))]

use std::io::{self, IoSliceMut};
use std::time::{Duration, Instant};

#[cfg(not(wasip1))]
use evmux::net::{RecvMeta, SendDatagram, UdpSocket};
use evmux::{Events, Interest, Poll, Token};

mod common;

const BATCH: usize = 16;
const SEGMENT: usize = 1200;
const SEGMENTS: usize = 20;

fn main() {
    if let Err(error) = run() {
        eprintln!("udp_batch: {error}");
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
    common::optional_args("udp_batch", &[]);
    let mut poll = Poll::new()?;
    let sender = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    let mut receiver = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    let to = receiver.local_addr()?;
    let gro = receiver.set_gro(true)?;
    poll.registry()
        .register(&mut receiver, Token(0), Interest::READABLE)
        .unwrap();

    // A batch of datagrams of different sizes, in one call.
    let payloads: Vec<Vec<u8>> = (0..BATCH).map(|i| vec![i as u8; 1 + i * 50]).collect();
    let batch: Vec<SendDatagram<'_>> = payloads
        .iter()
        .map(|payload| SendDatagram::to(payload, to))
        .collect();
    let sent = sender.send_many(&batch)?;
    println!("send_many: {sent} of {BATCH} datagrams in one call");

    // One buffer cut into equal segments.
    let run: Vec<u8> = (0..SEGMENT * SEGMENTS)
        .map(|i| (i / SEGMENT) as u8)
        .collect();
    let bytes = sender.send_segments(SendDatagram::to(&run, to), SEGMENT)?;
    println!(
        "send_segments: {bytes} bytes as {SEGMENT}-byte datagrams (cut by {})",
        if sender.gso_supported() {
            "the kernel, GSO"
        } else {
            "evmux"
        }
    );

    let expected = sent + bytes.div_ceil(SEGMENT);
    let (datagrams, calls) = receive(&mut poll, &receiver, expected)?;
    println!(
        "recv_many: {datagrams} datagrams in {calls} calls (GRO {})",
        if gro { "on" } else { "unavailable" }
    );
    if datagrams != expected {
        return Err(io::Error::other(format!(
            "expected {expected} datagrams, received {datagrams}"
        )));
    }
    Ok(())
}

/// Receives until `expected` datagrams arrived: how many, in how many calls.
#[cfg(not(wasip1))]
fn receive(poll: &mut Poll, receiver: &UdpSocket, expected: usize) -> io::Result<(usize, usize)> {
    let mut storage = vec![vec![0u8; 65_536]; 8];
    let mut meta = [RecvMeta::default(); 8];
    let mut events = Events::with_capacity(8);
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut datagrams, mut calls) = (0, 0);
    while datagrams < expected {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "datagrams missing"));
        }
        poll.poll(&mut events, Some(left))?;
        loop {
            let mut bufs: Vec<IoSliceMut<'_>> =
                storage.iter_mut().map(|buf| IoSliceMut::new(buf)).collect();
            let n = match receiver.recv_many(&mut bufs, &mut meta) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            };
            calls += 1;
            for (meta, buf) in meta.iter().zip(&storage).take(n) {
                datagrams += meta.datagrams(buf).count();
            }
        }
    }
    Ok((datagrams, calls))
}
