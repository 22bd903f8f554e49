//! `pthread_join` and `pthread_detach` for the 2022 wasi-libc that Debian
//! ships: today's std references them, that libc lacks them, and WASI
//! preview 1 has no threads to join or detach. Both fail with `ENOSYS`.
#![no_std]

/// WASI's `ENOSYS`.
const ENOSYS: i32 = 52;

#[no_mangle]
pub extern "C" fn pthread_join(_thread: usize, _value: *mut *mut u8) -> i32 {
    ENOSYS
}

#[no_mangle]
pub extern "C" fn pthread_detach(_thread: usize) -> i32 {
    ENOSYS
}
