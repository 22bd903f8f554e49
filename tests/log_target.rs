//! evmux logs under the target `evmux`, whatever the dependency is called,
//! as the `features` docs promise. In its own test binary because it
//! installs the process's one logger.
// It logs through a `Waker`, which WASI does not have (as in mio).
#![cfg(all(feature = "log", feature = "os-poll", not(evmux_no_waker)))]

use std::sync::Mutex;

use evmux::{Poll, Token, Waker};

/// Remembers the target of every record.
struct Targets(Mutex<Vec<String>>);

impl log::Log for Targets {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        self.0.lock().unwrap().push(record.target().to_string());
    }

    fn flush(&self) {}
}

static TARGETS: Targets = Targets(Mutex::new(Vec::new()));

#[test]
fn every_record_has_the_target_evmux() {
    log::set_logger(&TARGETS).unwrap();
    log::set_max_level(log::LevelFilter::Trace);

    let poll = Poll::new().unwrap();
    let waker = Waker::new(poll.registry(), Token(0)).unwrap();
    waker.wake().unwrap();

    let targets = TARGETS.0.lock().unwrap();
    assert!(!targets.is_empty(), "waking logs a trace record");
    assert!(
        targets.iter().all(|target| target == "evmux"),
        "{targets:?}"
    );
}
