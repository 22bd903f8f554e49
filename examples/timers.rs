//! Timers as event sources: a periodic tick and a one-shot deadline,
//! waited for by one `poll` loop with no other timeout.
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

fn main() -> io::Result<()> {
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
        // No timeout of our own: the timers end every wait.
        poll.poll(&mut events, Some(Duration::from_secs(10)))?;
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
