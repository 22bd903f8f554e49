//! `process::ChildExit` where evmux cannot watch processes (WASI): a clear
//! `Unsupported` error, no panic.
#![cfg(all(not(unix), not(windows), feature = "os-ext"))]

#[test]
fn watching_a_process_is_unsupported_with_a_clear_message() {
    // Any id: WASI has no processes (and std's `process::id` panics there).
    let error = evmux::process::ChildExit::from_pid(1).expect_err("not supported here");
    assert_eq!(error.kind(), std::io::ErrorKind::Unsupported);
    assert!(error.to_string().contains("ChildExit"), "{error}");
}
