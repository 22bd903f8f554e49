//! The Windows platform layer: an I/O completion port with sockets polled
//! through the AFD driver (`selector.rs` has the trigger model, the flag
//! mapping and the ownership rule; `reclaim.rs` takes back what the kernel
//! hands back, also after the selector is gone), wakers posting to the
//! port, socket creation, and named pipes over overlapped I/O.

// Without `net` no socket is ever registered, and the AFD half is unused.
#![cfg_attr(not(feature = "net"), allow(dead_code))]

mod afd;
#[cfg(feature = "os-ext")]
pub(crate) mod child_exit;
#[cfg(feature = "os-ext")]
pub(crate) mod handle_wait;
mod iocp;
mod reclaim;
pub(crate) mod selector;
mod sock;
mod timers;
pub(crate) mod waker;

// Without `net`, only `base_socket` is used (by the selector).
#[cfg_attr(not(feature = "net"), allow(dead_code))]
pub(crate) mod net;

#[cfg(feature = "os-ext")]
pub(crate) mod named_pipe;
#[cfg(feature = "os-ext")]
mod overlapped;

/// Starts Winsock (version 2.2) once per process, before the first socket
/// or selector, and never cleans it up: Wine's `WSAStartup` and
/// `WSACleanup` are not thread-safe (Wine bug 60084).
pub(crate) fn init_winsock() {
    use std::sync::Once;
    use windows_sys::Win32::Networking::WinSock::{WSAStartup, WSADATA};
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // SAFETY: an all-zero `WSADATA` is a valid value of this plain
        // struct, which the call fills in.
        let mut data: WSADATA = unsafe { std::mem::zeroed() };
        // SAFETY: `data` is a live local the call writes.
        let result = unsafe { WSAStartup(0x202, &mut data) };
        if result != 0 {
            // Socket calls will then fail with WSANOTINITIALISED.
            warn!("WSAStartup failed: {}", result);
        }
    });
}
