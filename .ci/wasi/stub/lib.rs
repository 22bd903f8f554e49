//! `pthread_join` and `pthread_detach` for the 2022 wasi-libc that Debian
//! ships: today's std references them, that libc lacks them, and WASI
//! preview 1 has no threads to join or detach. Both fail with `ENOSYS`.
//!
//! Debian's Rust has no prebuilt `core` for WASI. `.ci/wasi.sh` first
//! compiles this file with `--cfg no_core`, which needs no `core` at all
//! (an instant rustc call, but the lang items below follow the compiler's
//! version), and otherwise builds `core` with cargo (`Cargo.toml`).
#![cfg_attr(no_core, feature(no_core, lang_items), no_core)]
#![cfg_attr(no_core, allow(internal_features))]
#![cfg_attr(not(no_core), no_std)]

/// The lang items every crate needs, normally defined by `core`.
#[cfg(no_core)]
mod lang {
    #[lang = "pointee_sized"]
    pub trait PointeeSized {}
    #[lang = "meta_sized"]
    pub trait MetaSized: PointeeSized {}
    #[lang = "sized"]
    pub trait Sized: MetaSized {}
}

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
