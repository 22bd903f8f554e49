//! # evmux's Cargo features
//!
//! The names and meaning are mio's, so that a renamed dependency keeps its
//! feature list.
//!
//! | Feature   | Default | What it enables |
//! |-----------|---------|-----------------|
//! | `os-poll` | no      | The OS readiness mechanism behind [`Poll`](crate::Poll) and [`Waker`](crate::Waker). Without it evmux still compiles, on any target, but, as in mio, `Poll::new` does not exist (see below). |
//! | `os-ext`  | no      | OS-specific extensions: `unix::SourceFd` to register any raw descriptor, `unix::pipe`, `unix::Signals` (signals as readiness) and `process::ChildExit` (a process's exit as readiness); on Windows, `windows::NamedPipe`. Implies `os-poll`. |
//! | `net`     | no      | The network types of the `net` module: TCP, UDP and Unix-domain sockets. |
//! | `log`     | yes     | Trace and warning messages through the [`log`](https://docs.rs/log) crate, under the log target `evmux` (see below). Without it, the logging code compiles to nothing. |
//!
//! A typical dependency line:
//!
//! ```toml
//! evmux = { version = "0.1", features = ["os-poll", "net"] }
//! ```
//!
//! ## Log target
//!
//! Every record evmux logs has the target `evmux`. Renaming the dependency
//! (`mio = { package = "evmux", ... }`) does not change it, so a tokio
//! program on evmux selects evmux's records with `RUST_LOG=evmux=trace`;
//! `RUST_LOG=mio=trace` selects none of them. The program must install a
//! logger (`env_logger`, or `tracing`'s `log` bridge) for them to appear
//! (see the [guide](crate::guide), section 8).
//!
//! ## Forgetting `os-poll`
//!
//! Without `os-poll` there is no `Poll::new`, so a program that needs the
//! OS fails to compile instead of failing at run time:
//!
#![cfg_attr(not(feature = "os-poll"), doc = "```compile_fail")]
#![cfg_attr(feature = "os-poll", doc = "```")]
//! let poll = evmux::Poll::new();
//! ```
//!
//! ## Testing the fallbacks and other backends
//!
//! Two `--cfg` flags, given in `RUSTFLAGS`, force the portable fallbacks
//! on any Unix so that they can be tested where a better mechanism exists:
//! `evmux_force_poll` (the poll(2) selector) and `evmux_force_pipe_waker`
//! (the pipe-based waker).
//!
//! A third, `evmux_force_kqueue`, builds the kqueue backend of macOS and
//! the BSDs on Linux, with every kqueue source (`EVFILT_USER` waker,
//! `EVFILT_TIMER` timers, `EVFILT_PROC` process exits), over
//! [libkqueue](https://github.com/mheily/libkqueue), a user-space
//! kqueue(2) built on epoll. The environment variable
//! `EVMUX_LIBKQUEUE_DIR` names libkqueue's install prefix (the folder
//! holding `lib/libkqueue.a`); evmux links it statically:
//!
//! ```text
//! EVMUX_LIBKQUEUE_DIR=/opt/libkqueue RUSTFLAGS="--cfg evmux_force_kqueue" cargo test --all-features
//! ```
//!
//! It runs the same source files that macOS and the BSDs compile; only the
//! binding of `struct kevent` and its constants differs. libkqueue differs
//! from a kernel's kqueue in a few documented ways (the tests that meet one
//! say which); it is a way to run kqueue code on Linux, not a platform to
//! deploy on.
//!
//! ## io_uring (Linux)
//!
//! `--cfg evmux_io_uring` builds the io_uring backend for Linux: each
//! `Poll` watches its sources with poll requests on an io_uring (Linux
//! 5.13 or later), whose registration changes go to the kernel inside the
//! wait's own system call, so `register` and `deregister` cost no system
//! call of their own. `Poll::new` falls back to epoll, for that `Poll`,
//! where io_uring is unavailable (an older kernel, the
//! `kernel.io_uring_disabled` sysctl, a seccomp profile that refuses it);
//! the environment variable `EVMUX_IO_URING=0` chooses epoll in a binary
//! built with io_uring, to compare the two. `Poll`'s `Debug` names the
//! backend it got.
//!
//! ```text
//! RUSTFLAGS="--cfg evmux_io_uring" cargo test --all-features
//! ```
//!
//! What differs from epoll: `Trigger::exclusive` is `Unsupported`; a
//! descriptor number that is not open is accepted by `register` (and
//! forgotten when its request fails) rather than refused, and a regular file
//! is reported ready rather than refused; a raw descriptor
//! (`unix::SourceFd`) must be deregistered before it is closed (a poll
//! request holds the file open, so a socket closed while registered would
//! send no FIN; evmux's own types deregister themselves when dropped);
//! io_uring runs its completion work in the thread that submitted a
//! request, interrupting a blocking system call there: most restart by
//! themselves, but an `epoll_wait` of another epoll instance in that
//! thread (and, rarely, `Poll::poll` itself) returns `EINTR`
//! (`ErrorKind::Interrupted`) with no signal sent: poll again.
