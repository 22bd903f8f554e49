//! Coverage-guided fuzzing of the readiness model: the input bytes decode
//! to a sequence of operations (`Op::decode`), which the machine of
//! `tests/util/model.rs` runs against real descriptors and checks.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/util/model.rs"]
mod model;

fuzz_target!(|data: &[u8]| {
    static SIGPIPE: Once = Once::new();
    // libFuzzer's `main` is not Rust's, which would ignore SIGPIPE; writes
    // to a pipe whose reader closed must fail with EPIPE, not kill us.
    // SAFETY: setting a signal's disposition to SIG_IGN has no
    // preconditions.
    SIGPIPE.call_once(|| unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    });
    let ops = model::Op::decode(data);
    if let Err(violation) = model::Machine::run(&ops) {
        panic!("{violation}\nops: {ops:?}");
    }
});
