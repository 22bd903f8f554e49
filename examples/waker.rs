//! A `Waker` lets another thread interrupt a blocked `poll`.
//!
//! A worker thread sends jobs through a channel and wakes the event loop
//! after each one; the loop sleeps in `poll` until then.
//!
//! Run with: `cargo run --example waker --features os-poll`

#![cfg_attr(evmux_no_waker, allow(dead_code, unused_imports))]

use std::io;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

#[cfg(not(evmux_no_waker))]
use evmux::Waker;
use evmux::{Events, Poll, Token};

mod common;

const WAKER: Token = Token(0);
const JOBS: u32 = 5;

// WASI has no `Waker` (as in mio), nor threads: there the program only says
// so.
#[cfg(evmux_no_waker)]
fn main() -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "WASI has no Waker",
    ))
}

#[cfg(not(evmux_no_waker))]
fn main() -> io::Result<()> {
    common::optional_args("waker", &[]);
    let mut poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let (jobs, inbox) = mpsc::channel::<u32>();

    let producer = {
        let waker = Arc::clone(&waker);
        thread::spawn(move || -> io::Result<()> {
            for job in 1..=JOBS {
                thread::sleep(Duration::from_millis(100));
                jobs.send(job).expect("the event loop is gone");
                // Tell the event loop to look at the channel.
                waker.wake()?;
            }
            Ok(())
        })
    };

    let mut events = Events::with_capacity(8);
    let mut done = 0;
    while done < JOBS {
        // Blocks until the producer wakes us; no timeout needed.
        poll.poll(&mut events, None)?;
        for event in &events {
            if event.token() == WAKER {
                // Several wakes may have coalesced into this one event, so
                // take everything the channel holds.
                for job in inbox.try_iter() {
                    println!("event loop: got job {job}");
                    done += 1;
                }
            }
        }
    }
    producer.join().expect("the producer panicked")?;
    println!("event loop: all {JOBS} jobs handled");
    Ok(())
}
