//! Without `os-poll`, evmux compiles and the portable types work; as in
//! mio, `Poll::new` does not exist (the `compile_fail` example of module
//! `features` proves it: `cargo test --no-default-features --doc`). Run with
//! `cargo test --no-default-features --test shell`.

#![cfg(not(feature = "os-poll"))]

use evmux::{Events, Interest, Token};

#[test]
fn the_portable_types_still_work() {
    let events = Events::with_capacity(16);
    assert_eq!(events.capacity(), 16);
    assert!(events.is_empty());
    assert_eq!(events.iter().count(), 0);
    assert!((Interest::READABLE | Interest::WRITABLE).is_writable());
    assert_eq!(usize::from(Token(3)), 3);
}
