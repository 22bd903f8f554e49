//! 10,000 registered sources, a few ready per poll: every ready one is
//! reported exactly once per readiness change, and no other.
// Unix only: raw descriptors through SourceFd.
#![cfg(all(unix, feature = "os-ext"))]

use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::time::Duration;

use evmux::unix::SourceFd;
use evmux::{Events, Interest, Poll, Token};

mod util;
use util::{allow_descriptors, expect_no_events, rearm, Signal, XorShift, DEADLINE};

const SOURCES: usize = 10_000;

fn run_rounds(poll: &mut Poll, fds: &[Signal], ready_per_round: usize, capacity: usize) {
    let mut events = Events::with_capacity(capacity);
    let mut random = XorShift(0x9e37_79b9_7f4a_7c15 ^ ready_per_round as u64);
    for round in 0..20 {
        let mut ready: Vec<usize> = Vec::new();
        while ready.len() < ready_per_round {
            let index = random.below(fds.len());
            if !ready.contains(&index) {
                ready.push(index);
            }
        }
        for &index in &ready {
            fds[index].raise();
        }

        let mut seen: HashMap<usize, usize> = HashMap::new();
        let start = std::time::Instant::now();
        while seen.len() < ready.len() {
            assert!(
                start.elapsed() < DEADLINE,
                "round {round}: saw {} of {}",
                seen.len(),
                ready.len()
            );
            poll.poll(&mut events, Some(DEADLINE)).unwrap();
            for event in events.iter() {
                assert!(event.is_readable());
                *seen.entry(event.token().0).or_default() += 1;
            }
        }
        // Anything still queued would show up at once.
        poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
        for event in events.iter() {
            *seen.entry(event.token().0).or_default() += 1;
        }
        let mut expected = ready.clone();
        expected.sort_unstable();
        let mut reported: Vec<usize> = seen.keys().copied().collect();
        reported.sort_unstable();
        assert_eq!(reported, expected, "round {round}: wrong sources reported");
        assert!(
            seen.values().all(|&count| count == 1),
            "round {round}: duplicates {seen:?}"
        );

        for &index in &ready {
            fds[index].clear();
            rearm(poll, &fds[index], Token(index), Interest::READABLE);
        }
    }
}

#[test]
fn ten_thousand_sources() {
    allow_descriptors(SOURCES as u64 + 256);
    let mut poll = Poll::new().unwrap();
    let fds: Vec<Signal> = (0..SOURCES).map(|_| Signal::new()).collect();
    for (index, fd) in fds.iter().enumerate() {
        let raw = fd.as_raw_fd();
        poll.registry()
            .register(&mut SourceFd(&raw), Token(index), Interest::READABLE)
            .unwrap();
    }
    let mut events = Events::with_capacity(1024);
    expect_no_events(&mut poll, &mut events);

    run_rounds(&mut poll, &fds, 1, 16);
    run_rounds(&mut poll, &fds, 64, 1024);
    // Fewer slots than ready sources: the rest come in later calls.
    run_rounds(&mut poll, &fds, 64, 16);

    for fd in &fds {
        poll.registry()
            .deregister(&mut SourceFd(&fd.as_raw_fd()))
            .unwrap();
    }
    fds[0].raise();
    expect_no_events(&mut poll, &mut events);
}
