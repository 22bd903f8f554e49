//! Timer lateness: how long after its deadline a 100 µs `time::Timer`
//! is reported by `poll`, as a distribution (p50, p99, max), next to the
//! floor of the same wait done with `std::thread::sleep` (the kernel's
//! own timer slack). Not a side-by-side with mio, which has no timers.
//!
//! The backend is the one evmux was built with: epoll (a `timerfd`), or
//! poll(2) with `RUSTFLAGS="--cfg evmux_force_poll"` (a deadline folded
//! into `ppoll`). Results go to `target/evmux-bench/timer.md`.

use std::io;
use std::time::{Duration, Instant};

use evmux::time::Timer;
use evmux::{Events, Interest, Poll, Token};

/// The timer's delay.
pub const DELAY: Duration = Duration::from_micros(100);

/// Lateness quantiles, in microseconds.
pub struct Lateness {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Lateness {
    fn of(mut late: Vec<Duration>) -> Lateness {
        late.sort();
        let at = |q: f64| late[((late.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6;
        Lateness {
            p50: at(0.5),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

/// `samples` expirations of a 100 µs timer, each timed from its deadline
/// to the return of the `poll` that reported it.
pub fn evmux_timer(samples: usize) -> io::Result<Lateness> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(4);
    let mut timer = Timer::new()?;
    poll.registry()
        .register(&mut timer, Token(0), Interest::READABLE)?;
    let mut late = Vec::with_capacity(samples);
    for _ in 0..samples {
        let deadline = Instant::now() + DELAY;
        timer.set_at(deadline)?;
        loop {
            poll.poll(&mut events, Some(Duration::from_secs(1)))?;
            let now = Instant::now();
            if !events.is_empty() && timer.read().is_ok() {
                late.push(now.saturating_duration_since(deadline));
                break;
            }
        }
    }
    Ok(Lateness::of(late))
}

/// The floor: `std::thread::sleep` for the same delay.
pub fn sleep_floor(samples: usize) -> Lateness {
    let late = (0..samples)
        .map(|_| {
            let deadline = Instant::now() + DELAY;
            std::thread::sleep(DELAY);
            Instant::now().saturating_duration_since(deadline)
        })
        .collect();
    Lateness::of(late)
}

/// The backend evmux was built with.
pub fn backend() -> &'static str {
    if cfg!(evmux_force_poll) {
        "poll(2) (deadline in ppoll)"
    } else {
        "epoll (timerfd)"
    }
}

/// Measures both and renders a Markdown table.
pub fn report(samples: usize) -> io::Result<String> {
    let timer = evmux_timer(samples)?;
    let floor = sleep_floor(samples);
    let row = |name: &str, l: &Lateness| {
        format!("| {name} | {:.1} | {:.1} | {:.1} |\n", l.p50, l.p99, l.max)
    };
    let mut table = format!(
        "Timer lateness, {DELAY:?} timer, {samples} samples, backend: {}\n\n",
        backend()
    );
    table.push_str("| waiter | p50 µs | p99 µs | max µs |\n|---|---:|---:|---:|\n");
    table.push_str(&row("evmux time::Timer + poll", &timer));
    table.push_str(&row("floor: thread::sleep", &floor));
    Ok(table)
}
