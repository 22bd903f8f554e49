//! Non-blocking, event-driven I/O: the thin, portable layer that async
//! runtimes and servers are built on.
//!
//! evmux waits for readiness on many sources at once, through each OS's own
//! mechanism (epoll on Linux, Android and illumos, kqueue on macOS, iOS and
//! the BSDs, event ports on Solaris, an I/O completion port polling sockets
//! through the AFD driver on Windows, poll(2) elsewhere), and reports it
//! as [`Event`](event::Event)s. Its API is source-compatible with mio 1.x:
//! code written for mio compiles against evmux by renaming the dependency.
//!
//! The pieces:
//!
//! - [`Poll`] waits; its [`Registry`] adds and removes sources.
//! - [`Events`] receives what `poll` found; each [`event::Event`] carries
//!   the [`Token`] the source was registered with.
//! - [`Interest`] says which readiness to watch for.
//! - [`Waker`] interrupts a blocked `poll` from another thread.
//! - [`event::Source`] is implemented by everything that can be
//!   registered; `unix::SourceFd` registers any raw descriptor.
//! - Beyond mio: [`trigger`] registers level-triggered, one-shot or
//!   exclusive ([`Registry::register_with`]), and [`time::Timer`] is a
//!   timer that is an event source.
//! - Beyond mio's sources (feature `os-ext`): `unix::Signals` receives
//!   POSIX signals as readiness, and `process::ChildExit` a child
//!   process's exit.
//!
//! Readiness is edge-triggered: perform each operation until it returns
//! `WouldBlock` before waiting again. The [`guide`] explains why and how;
//! [`features`] lists the Cargo features.
//!
//! # Example
//!
//! A pair of connected Unix sockets, watched until one has data (with the
//! `os-ext` feature):
//!
//! ```
//! # #[cfg(all(unix, feature = "os-ext"))]
//! fn main() -> std::io::Result<()> {
//!     use std::io::{self, Read, Write};
//!     use std::os::fd::AsRawFd;
//!     use std::os::unix::net::UnixStream;
//!     use std::time::Duration;
//!
//!     use evmux::unix::SourceFd;
//!     use evmux::{Events, Interest, Poll, Token};
//!
//!     const RECEIVER: Token = Token(0);
//!
//!     let mut poll = Poll::new()?;
//!     let mut events = Events::with_capacity(128);
//!
//!     let (mut sender, mut receiver) = UnixStream::pair()?;
//!     receiver.set_nonblocking(true)?;
//!     let fd = receiver.as_raw_fd();
//!     poll.registry().register(&mut SourceFd(&fd), RECEIVER, Interest::READABLE)?;
//!
//!     sender.write_all(b"ping")?;
//!
//!     let mut received = Vec::new();
//!     while received.is_empty() {
//!         poll.poll(&mut events, Some(Duration::from_secs(10)))?;
//!         for event in &events {
//!             if event.token() == RECEIVER {
//!                 // Drain until WouldBlock: the next event only comes after.
//!                 let mut buf = [0; 64];
//!                 loop {
//!                     match receiver.read(&mut buf) {
//!                         Ok(0) => break,
//!                         Ok(n) => received.extend_from_slice(&buf[..n]),
//!                         Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
//!                         Err(e) => return Err(e),
//!                     }
//!                 }
//!             }
//!         }
//!     }
//!     assert_eq!(received, b"ping");
//!     Ok(())
//! }
//! # #[cfg(not(all(unix, feature = "os-ext")))]
//! # fn main() {}
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// The availability notes docs.rs shows name only what a user can choose: a
// platform or a Cargo feature. The cfgs build.rs emits (OS groups, the
// backend, capabilities) are hidden from the automatic notes; the items they
// gate carry an explicit `doc(cfg(...))` in public terms, or say in prose
// where they exist. `.ci/docs.sh` fails if one shows through.
#![cfg_attr(
    docsrs,
    doc(auto_cfg(hide(
        linux_like,
        apple,
        bsd,
        freebsdlike,
        solarish,
        wasi,
        wasip1,
        wasip2,
        evmux_fd,
        evmux_no_waker,
        evmux_atomic_flags,
        evmux_msg_nosignal,
        evmux_mmsg,
        evmux_selector_fd,
        evmux_libkqueue,
        evmux_uring,
        evmux_selector = "epoll",
        evmux_selector = "kqueue",
        evmux_selector = "event_ports",
        evmux_selector = "poll",
        evmux_selector = "iocp",
        evmux_selector = "wasi",
        evmux_selector = "shell",
        evmux_waker = "fd",
        evmux_waker = "poll",
        evmux_waker = "kqueue",
        evmux_waker = "port",
        evmux_waker = "iocp",
        evmux_waker = "wasi",
        evmux_waker = "shell",
        evmux_wake_fd = "eventfd",
        evmux_wake_fd = "pipe",
        evmux_wake_fd = "none",
        evmux_errno,
        evmux_errno = "__errno_location",
        evmux_errno = "__errno",
        evmux_errno = "__error",
        evmux_errno = "___errno",
        evmux_errno = "_errnop",
        evmux_force_poll,
        evmux_force_pipe_waker,
        evmux_force_kqueue,
        evmux_io_uring,
        evmux_force_udp_loop,
        mio_unsupported_force_poll_poll,
        loom
    )))
)]

#[macro_use]
mod macros;
// Windows' only `os-ext` type, `NamedPipe`, keeps its own state.
#[cfg(any(feature = "net", all(unix, feature = "os-ext")))]
#[macro_use]
mod io_macros;

pub mod event;
mod flag_names;
mod interest;
#[cfg(any(feature = "net", all(unix, feature = "os-ext")))]
mod io_source;
#[cfg(feature = "net")]
#[cfg_attr(docsrs, doc(cfg(feature = "net")))]
pub mod net;
mod poll;
#[cfg(feature = "os-ext")]
#[cfg_attr(docsrs, doc(cfg(feature = "os-ext")))]
pub mod process;
mod sys;
pub mod time;
mod token;
pub mod trigger;
mod wake_dedup;
// WASI preview 1 has no public `Waker` (see the `wasi` selector's docs).
#[cfg_attr(evmux_no_waker, allow(dead_code))]
mod waker;

pub mod features;
pub mod guide;

pub use crate::event::Events;
pub use crate::interest::Interest;
pub use crate::poll::{Poll, Registry};
pub use crate::token::Token;
#[cfg(not(evmux_no_waker))]
pub use crate::waker::Waker;

/// The thread-safety every backend must provide, checked when the crate is
/// compiled for each target (tests only run on some).
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Poll>();
    send_sync::<Registry>();
    send_sync::<Events>();
    send_sync::<event::Event>();
    #[cfg(not(evmux_no_waker))]
    send_sync::<Waker>();
};

/// The README's Rust code, compiled and run as doctests (`cargo test
/// --all-features`): its snippets stay true.
#[cfg(all(doctest, feature = "os-poll", feature = "net", not(wasip1)))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Windows-only extensions.
#[cfg(all(windows, feature = "os-ext"))]
#[cfg_attr(docsrs, doc(cfg(all(windows, feature = "os-ext"))))]
pub mod windows {
    pub use crate::sys::windows::named_pipe::NamedPipe;
}

/// WASI extensions (preview 2 and later, as in mio: preview 1 has no
/// registration of raw descriptors).
#[cfg(all(wasip2, feature = "os-ext"))]
#[cfg_attr(docsrs, doc(cfg(all(target_os = "wasi", feature = "os-ext"))))]
pub mod wasi {
    pub use crate::sys::SourceFd;
}

/// Unix-only extensions.
#[cfg(all(unix, feature = "os-ext"))]
#[cfg_attr(docsrs, doc(cfg(all(unix, feature = "os-ext"))))]
pub mod unix {
    pub use crate::sys::unix::pipe;
    pub use crate::sys::unix::signals::names as signal;
    pub use crate::sys::unix::signals::{Pending, Signals};
    pub use crate::sys::unix::SourceFd;
}
