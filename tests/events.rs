#![cfg(feature = "os-ext")]
// Most of these tests need a `Waker`, which WASI does not have.
#![cfg_attr(evmux_no_waker, allow(unused_imports))]
use std::time::Duration;

#[cfg(not(evmux_no_waker))]
use evmux::Waker;
use evmux::{Events, Poll, Token};

mod util;
use util::{expect_no_events, within_deadline, DEADLINE};

#[test]
fn new_events_are_empty_with_the_asked_capacity() {
    let events = Events::with_capacity(256);
    assert_eq!(events.capacity(), 256);
    assert!(events.is_empty());
    assert_eq!(events.iter().count(), 0);
    assert_eq!(format!("{events:?}"), "[]");
}

// Made ready by `Waker`s, which WASI does not have.
#[cfg(not(evmux_no_waker))]
#[test]
fn iter_into_iter_and_clear() {
    let mut poll = Poll::new().unwrap();
    let waker = Waker::new(poll.registry(), Token(4)).unwrap();
    waker.wake().unwrap();

    let mut events = Events::with_capacity(4);
    poll.poll(&mut events, Some(DEADLINE)).unwrap();
    assert!(!events.is_empty());
    let iter = events.iter();
    assert_eq!(iter.len(), 1);
    assert_eq!(iter.size_hint(), (1, Some(1)));
    let tokens: Vec<Token> = (&events).into_iter().map(|e| e.token()).collect();
    assert_eq!(tokens, [Token(4)]);
    assert!(format!("{events:?}").contains("Token(4)"));

    events.clear();
    assert!(events.is_empty());
    assert_eq!(events.capacity(), 4);
}

// Made ready by `Waker`s, which WASI does not have.
#[cfg(not(evmux_no_waker))]
#[test]
fn more_ready_sources_than_capacity_are_all_delivered_once() {
    let mut poll = Poll::new().unwrap();
    let wakers: Vec<Waker> = (0..5)
        .map(|i| Waker::new(poll.registry(), Token(i)).unwrap())
        .collect();
    for waker in &wakers {
        waker.wake().unwrap();
    }
    let mut events = Events::with_capacity(2);
    let mut seen = Vec::new();
    while seen.len() < 5 {
        poll.poll(&mut events, Some(DEADLINE)).unwrap();
        assert!(events.iter().len() <= 2);
        seen.extend(events.iter().map(|e| e.token().0));
    }
    seen.sort_unstable();
    assert_eq!(seen, [0, 1, 2, 3, 4]);
    expect_no_events(&mut poll, &mut events);
}

#[test]
fn zero_capacity_waits_for_the_timeout_when_nothing_is_pending() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(0);
    let timeout = Duration::from_millis(20);
    let start = std::time::Instant::now();
    poll.poll(&mut events, Some(timeout)).unwrap();
    assert!(events.is_empty());
    assert!(
        start.elapsed() >= timeout,
        "returned after {:?}",
        start.elapsed()
    );
}

// Made ready by `Waker`s, which WASI does not have.
#[cfg(not(evmux_no_waker))]
#[test]
#[cfg_attr(
    evmux_libkqueue,
    ignore = "libkqueue's kqueue descriptor is the write end of a pipe, never readable; a BSD or \
              macOS kqueue is readable while it has events (kqueue(2))"
)]
fn zero_capacity_returns_at_once_when_events_are_pending_and_takes_none() {
    let mut poll = Poll::new().unwrap();
    let waker = Waker::new(poll.registry(), Token(1)).unwrap();
    waker.wake().unwrap();

    // Without a timeout: must not block, because an event is pending.
    let (mut poll, events) = within_deadline(move || {
        let mut events = Events::with_capacity(0);
        poll.poll(&mut events, None).unwrap();
        (poll, events)
    });
    assert!(events.is_empty());

    // The event was left queued.
    let mut events = Events::with_capacity(8);
    poll.poll(&mut events, Some(DEADLINE)).unwrap();
    let tokens: Vec<Token> = events.iter().map(|e| e.token()).collect();
    assert_eq!(tokens, [Token(1)]);
}

#[test]
fn events_and_iter_are_send_and_sync() {
    util::assert_send::<Events>();
    util::assert_sync::<Events>();
    util::assert_send::<evmux::event::Event>();
    util::assert_sync::<evmux::event::Event>();
    util::assert_send::<evmux::event::Iter<'static>>();
}
