//! Without `os-poll`, evmux compiles and every operation that needs the OS
//! returns `Unsupported`. Run with `cargo test --no-default-features --test shell`.

#![cfg(not(feature = "os-poll"))]

use std::io;

use evmux::{Events, Interest, Poll, Token};

#[test]
fn poll_is_unsupported_without_os_poll() {
    let error = Poll::new().unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::Unsupported);
    assert!(error.to_string().contains("os-poll"), "{error}");
}

#[test]
fn the_portable_types_still_work() {
    let events = Events::with_capacity(16);
    assert_eq!(events.capacity(), 16);
    assert!(events.is_empty());
    assert_eq!(events.iter().count(), 0);
    assert!((Interest::READABLE | Interest::WRITABLE).is_writable());
    assert_eq!(usize::from(Token(3)), 3);
}
