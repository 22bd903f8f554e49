//! `time::Timer`: one-shot and periodic, relative and absolute, re-armed,
//! disarmed, counted, many at once, and set from another thread, on every
//! backend that has timers; `Unsupported` on the others.
#![cfg(feature = "os-poll")]

mod util;

use std::collections::HashSet;
use std::io;
use std::time::{Duration, Instant};

use evmux::time::Timer;
use evmux::{Events, Interest, Poll, Token};

use util::{expect_events, expect_no_events, READABLE};

const TIMER: Token = Token(7);

/// A new timer, or `None` where the backend has none (which says so).
fn new_timer() -> Option<Timer> {
    match Timer::new() {
        Ok(timer) => Some(timer),
        Err(error) => {
            assert_eq!(error.kind(), io::ErrorKind::Unsupported, "{error}");
            assert!(error.to_string().contains("time::Timer"), "{error}");
            None
        }
    }
}

/// A poll with a registered timer.
fn setup() -> Option<(Poll, Events, Timer)> {
    let mut timer = new_timer()?;
    let poll = Poll::new().unwrap();
    poll.registry()
        .register(&mut timer, TIMER, Interest::READABLE)
        .unwrap();
    Some((poll, Events::with_capacity(64), timer))
}

/// Every expiration available now.
fn read_all(timer: &mut Timer) -> u64 {
    let mut total = 0;
    loop {
        match timer.read() {
            Ok(count) => total += count,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return total,
            Err(e) => panic!("read failed: {e}"),
        }
    }
}

#[test]
fn a_one_shot_timer_fires_once() {
    let Some((mut poll, mut events, mut timer)) = setup() else {
        return;
    };
    let start = Instant::now();
    timer.set_after(Duration::from_micros(100)).unwrap();
    expect_events(&mut poll, &mut events, &[(TIMER, READABLE)]);
    assert!(start.elapsed() >= Duration::from_micros(100));
    assert_eq!(read_all(&mut timer), 1);
    assert_eq!(timer.deadline(), None);
    expect_no_events(&mut poll, &mut events);
}

#[test]
fn a_deadline_in_the_past_fires_at_once() {
    let Some((mut poll, mut events, mut timer)) = setup() else {
        return;
    };
    timer.set_at(Instant::now()).unwrap();
    expect_events(&mut poll, &mut events, &[(TIMER, READABLE)]);
    assert_eq!(read_all(&mut timer), 1);
}

#[test]
fn a_periodic_timer_reports_the_periods_it_missed() {
    let Some((mut poll, mut events, mut timer)) = setup() else {
        return;
    };
    // Started 50 ms ago with a 10 ms period: at least 6 expirations.
    let past = Instant::now().checked_sub(Duration::from_millis(50));
    let Some(past) = past else { return };
    timer.set(past, Some(Duration::from_millis(10))).unwrap();
    expect_events(&mut poll, &mut events, &[(TIMER, READABLE)]);
    assert!(read_all(&mut timer) >= 6);
    // And it goes on.
    let next = timer.deadline().unwrap();
    expect_events(&mut poll, &mut events, &[(TIMER, READABLE)]);
    assert!(Instant::now() >= next);
    assert!(read_all(&mut timer) >= 1);
    assert_eq!(timer.interval(), Some(Duration::from_millis(10)));
}

#[test]
fn a_disarmed_timer_stays_silent() {
    let Some((mut poll, mut events, mut timer)) = setup() else {
        return;
    };
    timer.set_after(Duration::from_millis(20)).unwrap();
    timer.disarm().unwrap();
    expect_no_events(&mut poll, &mut events);
    assert_eq!(read_all(&mut timer), 0);
    // Setting it again replaces a far deadline with a near one.
    timer.set_after(Duration::from_secs(3600)).unwrap();
    timer.set_after(Duration::from_millis(1)).unwrap();
    expect_events(&mut poll, &mut events, &[(TIMER, READABLE)]);
    assert_eq!(read_all(&mut timer), 1);
}

#[test]
fn a_timer_set_before_registering_fires_once_registered() {
    let Some(mut timer) = new_timer() else {
        return;
    };
    timer.set_after(Duration::from_millis(1)).unwrap();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(4);
    poll.registry()
        .register(&mut timer, TIMER, Interest::READABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(TIMER, READABLE)]);
    assert_eq!(read_all(&mut timer), 1);
}

#[test]
fn reregister_changes_the_token_and_deregister_silences() {
    let Some((mut poll, mut events, mut timer)) = setup() else {
        return;
    };
    poll.registry()
        .reregister(&mut timer, Token(8), Interest::READABLE)
        .unwrap();
    timer.set_after(Duration::from_millis(1)).unwrap();
    expect_events(&mut poll, &mut events, &[(Token(8), READABLE)]);
    assert_eq!(read_all(&mut timer), 1);
    poll.registry().deregister(&mut timer).unwrap();
    timer.set_after(Duration::from_millis(1)).unwrap();
    expect_no_events(&mut poll, &mut events);
}

#[test]
fn a_zero_interval_is_refused() {
    let Some(mut timer) = new_timer() else {
        return;
    };
    let error = timer.set(Instant::now(), Some(Duration::ZERO)).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    assert!(format!("{timer:?}").contains("Timer"));
}

#[cfg(not(target_os = "wasi"))]
#[test]
fn a_timer_set_from_another_thread_ends_a_blocked_poll() {
    let Some((mut poll, mut events, mut timer)) = setup() else {
        return;
    };
    let setter = std::thread::spawn(move || {
        timer.set_after(Duration::from_millis(5)).unwrap();
        timer
    });
    let start = Instant::now();
    while events.is_empty() {
        assert!(start.elapsed() < util::DEADLINE, "the timer never fired");
        poll.poll(&mut events, Some(util::DEADLINE)).unwrap();
    }
    let mut timer = setter.join().unwrap();
    assert!(events.iter().all(|event| event.token() == TIMER));
    assert_eq!(read_all(&mut timer), 1);
}

#[test]
fn ten_thousand_timers_each_fire() {
    const COUNT: usize = 10_000;
    if new_timer().is_none() {
        return;
    }
    util::allow_descriptors(COUNT as u64 + 1024);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(1024);
    let mut timers: Vec<Timer> = (0..COUNT).map(|_| Timer::new().unwrap()).collect();
    for (i, timer) in timers.iter_mut().enumerate() {
        poll.registry()
            .register(timer, Token(i), Interest::READABLE)
            .unwrap();
        timer
            .set_after(Duration::from_micros(100 * (i % 50) as u64))
            .unwrap();
    }
    let mut fired = HashSet::new();
    let start = Instant::now();
    while fired.len() < COUNT {
        assert!(
            start.elapsed() < util::DEADLINE,
            "{} timers fired",
            fired.len()
        );
        poll.poll(&mut events, Some(util::DEADLINE)).unwrap();
        for event in events.iter() {
            assert!(event.is_readable());
            let timer = &mut timers[event.token().0];
            if read_all(timer) > 0 {
                assert!(fired.insert(event.token()), "fired twice");
            }
        }
    }
    for timer in &mut timers {
        poll.registry().deregister(timer).unwrap();
    }
}

#[test]
fn registration_mistakes_are_errors() {
    let Some((poll, _events, mut timer)) = setup() else {
        return;
    };
    let twice = poll
        .registry()
        .register(&mut timer, TIMER, Interest::READABLE);
    assert_eq!(twice.unwrap_err().kind(), io::ErrorKind::AlreadyExists);
    let other = Poll::new().unwrap();
    let elsewhere = other
        .registry()
        .reregister(&mut timer, TIMER, Interest::READABLE);
    assert_eq!(elsewhere.unwrap_err().kind(), io::ErrorKind::NotFound);
    poll.registry().deregister(&mut timer).unwrap();
    let again = poll.registry().deregister(&mut timer);
    assert_eq!(again.unwrap_err().kind(), io::ErrorKind::NotFound);
    // Free again: it can move to the other `Poll`.
    other
        .registry()
        .register(&mut timer, TIMER, Interest::READABLE)
        .unwrap();
}

/// An expiration not yet read stays readable across `reregister`, as a
/// `timerfd` does: the new registration reports it. (On Windows the
/// thread-pool wait had consumed the timer's signal, and the new wait
/// never saw it.)
#[test]
fn an_unread_expiration_is_reported_after_reregister() {
    let Some((mut poll, mut events, mut timer)) = setup() else {
        return;
    };
    timer.set_after(Duration::ZERO).unwrap();
    expect_events(&mut poll, &mut events, &[(TIMER, READABLE)]);
    let other = Token(8);
    poll.registry()
        .reregister(&mut timer, other, Interest::READABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(other, READABLE)]);
    assert_eq!(read_all(&mut timer), 1);
}

/// As above, across `deregister` and `register`.
#[test]
fn an_unread_expiration_is_reported_after_registering_again() {
    let Some((mut poll, mut events, mut timer)) = setup() else {
        return;
    };
    timer.set_after(Duration::ZERO).unwrap();
    expect_events(&mut poll, &mut events, &[(TIMER, READABLE)]);
    poll.registry().deregister(&mut timer).unwrap();
    poll.registry()
        .register(&mut timer, TIMER, Interest::READABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, &[(TIMER, READABLE)]);
    assert_eq!(read_all(&mut timer), 1);
}
