//! # evmux's Cargo features
//!
//! The names and meaning are mio's, so that a renamed dependency keeps its
//! feature list.
//!
//! | Feature   | Default | What it enables |
//! |-----------|---------|-----------------|
//! | `os-poll` | no      | The OS readiness mechanism behind [`Poll`](crate::Poll) and [`Waker`](crate::Waker). Without it evmux still compiles, on any target, and every operation that needs the OS returns an [`Unsupported`](std::io::ErrorKind::Unsupported) error. |
//! | `os-ext`  | no      | OS-specific extensions: `unix::SourceFd` to register any raw descriptor, and `unix::pipe`; on Windows, `windows::NamedPipe`. Implies `os-poll`. |
//! | `net`     | no      | The network types of the `net` module: TCP, UDP and Unix-domain sockets. |
//! | `log`     | yes     | Trace and warning messages through the [`log`](https://docs.rs/log) crate. Without it, the logging code compiles to nothing. |
//!
//! A typical dependency line:
//!
//! ```toml
//! evmux = { version = "0.1", features = ["os-poll", "net"] }
//! ```
//!
//! ## Testing the fallbacks
//!
//! Two `--cfg` flags, given in `RUSTFLAGS`, force the portable fallbacks
//! on any Unix so that they can be tested where a better mechanism exists:
//! `evmux_force_poll` (the poll(2) selector) and `evmux_force_pipe_waker`
//! (the pipe-based waker).
