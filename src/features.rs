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
//! ## Testing the fallbacks
//!
//! Two `--cfg` flags, given in `RUSTFLAGS`, force the portable fallbacks
//! on any Unix so that they can be tested where a better mechanism exists:
//! `evmux_force_poll` (the poll(2) selector) and `evmux_force_pipe_waker`
//! (the pipe-based waker).
