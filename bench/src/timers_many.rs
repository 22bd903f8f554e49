//! A million timers on one thread: evmux's `time::Timer`s on one `Poll`
//! against tokio's timer wheel (a current-thread runtime, the same thread
//! arming and driving), the reference for many timers in Rust.
//!
//! Each round arms `COUNT` one-shot timers, the i-th due `(i % 500) *
//! 100 µs` after it is armed (so they spread over 50 ms), then waits until
//! every one has fired and been seen once. Reported: the time to arm one
//! timer (wall clock: arming never waits), the processor time per timer
//! of the whole round (arming and firing, without the idle waits), and the
//! process's open descriptors before arming, with every timer armed, and
//! after. evmux and tokio alternate round by round, and the ratio is
//! paired by round (see harness.rs). tokio's wheel rounds deadlines up to
//! the millisecond; evmux's are kept to the nanosecond.
//!
//! On tokio, the million `Sleep`s are polled by a small ready list of our
//! own (each `Sleep` gets a waker that queues its index), so that only the
//! ones that fired are polled again, as tokio's own tasks would be, and
//! outside tokio's cooperative budget (as a million tasks would each have
//! their own).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll as TaskPoll, Wake, Waker};
use std::time::{Duration, Instant};

use evmux::time::Timer;
use evmux::{Events, Interest, Poll, Token};

use crate::harness::{Paired, Samples};

/// Timers per round.
pub const COUNT: usize = 1_000_000;

/// When the i-th timer is due, after it is armed.
fn delay(i: usize) -> Duration {
    Duration::from_micros(100 * (i % 500) as u64)
}

/// One round's figures.
#[derive(Clone, Copy, Debug)]
struct Round {
    arm_ns: f64,
    cpu_ns: f64,
    fds_before: usize,
    fds_armed: usize,
    fds_after: usize,
}

/// The process's open descriptors.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

/// The processor time this thread has used.
fn thread_cpu() -> Duration {
    // SAFETY: a zeroed timespec is valid; clock_gettime writes into it.
    let mut now: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `now` is a live local.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(rc, 0, "clock_gettime: {}", io::Error::last_os_error());
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

fn evmux_round(count: usize) -> io::Result<Round> {
    let fds_before = open_fds();
    let cpu = thread_cpu();
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let start = Instant::now();
    let mut timers = Vec::with_capacity(count);
    for i in 0..count {
        let mut timer = Timer::new()?;
        poll.registry()
            .register(&mut timer, Token(i), Interest::READABLE)?;
        timer.set_after(delay(i))?;
        timers.push(timer);
    }
    let arm_ns = start.elapsed().as_nanos() as f64 / count as f64;
    let fds_armed = open_fds();
    let mut fired = 0;
    let mut seen = vec![false; count];
    while fired < count {
        poll.poll(&mut events, Some(Duration::from_secs(10)))?;
        for event in events.iter() {
            let i = event.token().0;
            if timers[i].read().is_ok() && !std::mem::replace(&mut seen[i], true) {
                fired += 1;
            }
        }
    }
    drop(timers);
    drop(poll);
    let cpu_ns = (thread_cpu() - cpu).as_nanos() as f64 / count as f64;
    Ok(Round {
        arm_ns,
        cpu_ns,
        fds_before,
        fds_armed,
        fds_after: open_fds(),
    })
}

/// The indices of the `Sleep`s woken since the driver last looked, and
/// the driver's waker.
#[derive(Default)]
struct ReadyList {
    ready: Vec<usize>,
    driver: Option<Waker>,
}

/// The waker of one `Sleep`: queues its index.
struct Entry {
    index: usize,
    list: Arc<Mutex<ReadyList>>,
}

impl Wake for Entry {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut list = self.list.lock().unwrap();
        list.ready.push(self.index);
        if let Some(driver) = list.driver.take() {
            driver.wake();
        }
    }
}

/// Polls every `Sleep` once, then only the woken ones, until all fired.
struct Driver {
    sleeps: Vec<Option<Pin<Box<tokio::time::Sleep>>>>,
    wakers: Vec<Waker>,
    list: Arc<Mutex<ReadyList>>,
    first: bool,
    left: usize,
}

impl Driver {
    fn poll_one(&mut self, i: usize) {
        let Some(sleep) = self.sleeps[i].as_mut() else {
            return;
        };
        let mut cx = Context::from_waker(&self.wakers[i]);
        if sleep.as_mut().poll(&mut cx).is_ready() {
            self.sleeps[i] = None;
            self.left -= 1;
        }
    }
}

impl Future for Driver {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> TaskPoll<()> {
        let this = &mut *self;
        if std::mem::take(&mut this.first) {
            for i in 0..this.sleeps.len() {
                this.poll_one(i);
            }
        }
        loop {
            let ready = {
                let mut list = this.list.lock().unwrap();
                if list.ready.is_empty() {
                    if this.left == 0 {
                        return TaskPoll::Ready(());
                    }
                    list.driver = Some(cx.waker().clone());
                    return TaskPoll::Pending;
                }
                std::mem::take(&mut list.ready)
            };
            for i in ready {
                this.poll_one(i);
            }
        }
    }
}

fn tokio_round(count: usize) -> io::Result<Round> {
    let fds_before = open_fds();
    let cpu = thread_cpu();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let list = Arc::new(Mutex::new(ReadyList::default()));
    let (arm_ns, fds_armed) = runtime.block_on(async {
        let start = Instant::now();
        let mut driver = Driver {
            sleeps: Vec::with_capacity(count),
            wakers: Vec::with_capacity(count),
            list: Arc::clone(&list),
            first: true,
            left: count,
        };
        for i in 0..count {
            let deadline = tokio::time::Instant::now() + delay(i);
            driver
                .sleeps
                .push(Some(Box::pin(tokio::time::sleep_until(deadline))));
            let entry = Entry {
                index: i,
                list: Arc::clone(&list),
            };
            driver.wakers.push(Waker::from(Arc::new(entry)));
        }
        // A `Sleep` enters the wheel when first polled: arming is creating
        // it and that first poll.
        // Outside tokio's cooperative budget, which would make all but 128
        // `Sleep`s per poll return at once without entering the wheel (each
        // of a million tasks would have a budget of its own).
        let mut driver = Box::pin(tokio::task::unconstrained(driver));
        let first = std::future::poll_fn(|cx| {
            let _ = driver.as_mut().poll(cx);
            TaskPoll::Ready(())
        });
        first.await;
        let arm_ns = start.elapsed().as_nanos() as f64 / count as f64;
        let fds_armed = open_fds();
        driver.await;
        (arm_ns, fds_armed)
    });
    drop(runtime);
    let cpu_ns = (thread_cpu() - cpu).as_nanos() as f64 / count as f64;
    Ok(Round {
        arm_ns,
        cpu_ns,
        fds_before,
        fds_armed,
        fds_after: open_fds(),
    })
}

/// Runs `rounds` alternating rounds and renders a Markdown table.
pub fn report(rounds: usize) -> io::Result<String> {
    let mut evmux = Vec::new();
    let mut tokio = Vec::new();
    for round in 0..rounds {
        if round % 2 == 0 {
            evmux.push(evmux_round(COUNT)?);
            tokio.push(tokio_round(COUNT)?);
        } else {
            tokio.push(tokio_round(COUNT)?);
            evmux.push(evmux_round(COUNT)?);
        }
    }
    let samples = |rounds: &[Round], f: fn(&Round) -> f64| Samples(rounds.iter().map(f).collect());
    let mut table = format!(
        "{COUNT} one-shot timers armed on one thread and fired (spread over 50 ms), \
         {rounds} rounds each, alternating\n\n"
    );
    table.push_str(
        "| | arm, ns/timer | arm + fire, CPU ns/timer | descriptors before / all armed / after |\n\
         |---|---:|---:|---|\n",
    );
    for (name, rounds) in [
        ("evmux time::Timer, one Poll", &evmux),
        ("tokio time::sleep_until, current-thread runtime", &tokio),
    ] {
        let last = rounds.last().expect("at least one round");
        table.push_str(&format!(
            "| {name} | {:.0} | {:.0} | {} / {} / {} |\n",
            samples(rounds, |r| r.arm_ns).median(),
            samples(rounds, |r| r.cpu_ns).median(),
            last.fds_before,
            last.fds_armed,
            last.fds_after
        ));
    }
    for (what, f) in [
        ("arm", (|r: &Round| r.arm_ns) as fn(&Round) -> f64),
        ("arm + fire (CPU)", |r: &Round| r.cpu_ns),
    ] {
        let ratio = Paired::of(&samples(&evmux, f), &samples(&tokio, f));
        let ratio = ratio.map_or_else(
            || "– (fewer than 6 rounds)".to_string(),
            |p| format!("{:.3} ({:.3}–{:.3})", p.median, p.low, p.high),
        );
        table.push_str(&format!("\nevmux / tokio, {what}: {ratio}"));
    }
    table.push('\n');
    Ok(table)
}
