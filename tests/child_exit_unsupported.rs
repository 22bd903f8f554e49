//! `process::ChildExit` where evmux cannot watch processes (WASI): a clear
//! `Unsupported` error, no panic.
#![cfg(all(not(unix), not(windows), feature = "os-ext"))]

#[test]
fn watching_a_process_is_unsupported_with_a_clear_message() {
    let error =
        evmux::process::ChildExit::from_pid(std::process::id()).expect_err("not supported here");
    assert_eq!(error.kind(), std::io::ErrorKind::Unsupported);
    assert!(error.to_string().contains("ChildExit"), "{error}");
}
