//! Timers as event sources: a periodic tick and a one-shot deadline,
//! waited for by one `poll` loop (its own 10 s timeout only guards against
//! a timer that never fires).
//!
//! The tick fires every 100 ms; the deadline after 550 ms ends the
//! program, which prints each tick and how many expirations it counted.
//!
//! Run with: `cargo run --example timers --features os-poll`

use std::io;
use std::time::{Duration, Instant};

use evmux::time::Timer;
use evmux::{Events, Interest, Poll, Token};

const TICK: Token = Token(0);
const DEADLINE: Token = Token(1);

/// Every expiration of `timer` not yet read.
fn expirations(timer: &mut Timer) -> io::Result<u64> {
    let mut total = 0;
    loop {
        match timer.read() {
            Ok(count) => total += count,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(total),
            Err(e) => return Err(e),
        }
    }
}

mod common;

fn main() -> io::Result<()> {
    common::optional_args("timers", &[]);
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(16);

    let mut tick = Timer::new()?;
    tick.set_interval(Duration::from_millis(100))?;
    poll.registry()
        .register(&mut tick, TICK, Interest::READABLE)?;

    let mut deadline = Timer::new()?;
    deadline.set_after(Duration::from_millis(550))?;
    poll.registry()
        .register(&mut deadline, DEADLINE, Interest::READABLE)?;

    let start = Instant::now();
    let mut ticks = 0;
    loop {
        // The timers end every wait; the 10 s timeout is only a guard
        // against a timer that never fires.
        poll.poll(&mut events, Some(Duration::from_secs(10)))?;
        if events.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no timer fired within 10 s",
            ));
        }
        for event in &events {
            match event.token() {
                TICK => {
                    let count = expirations(&mut tick)?;
                    if count > 0 {
                        ticks += count;
                        println!("tick {ticks} at {:?}", start.elapsed());
                    }
                }
                DEADLINE if expirations(&mut deadline)? > 0 => {
                    println!("deadline at {:?}: {ticks} ticks, done", start.elapsed());
                    return Ok(());
                }
                _ => {}
            }
        }
    }
}
