//! evmux under mio's name.
//!
//! This crate is what a `[patch.crates-io]` entry points at so that every
//! crate in a build that depends on mio 1.x, tokio first, is built on evmux
//! instead. In the application's (or its workspace's) Cargo.toml, either
//! from a checkout of evmux:
//!
//! ```toml
//! [patch.crates-io]
//! mio = { path = "path/to/evmux/compat/tokio/mio" }
//! ```
//!
//! or from its git repository (cargo finds the crate named `mio` in it):
//!
//! ```toml
//! [patch.crates-io]
//! mio = { git = "https://example.org/evmux.git" }
//! ```
//!
//! `cargo tree -i mio` then shows `mio v1.2.99` from that path or
//! repository, and no mio from crates.io.
//!
//! The crate holds no code of its own: every public item is evmux's, under
//! the same path as in mio (`mio::Poll` is `evmux::Poll`,
//! `mio::net::TcpStream` is `evmux::net::TcpStream`, ...), and mio's
//! features `os-poll`, `os-ext`, `net` and `log` (the default, as in mio)
//! switch on evmux's features of the same names. Its version, 1.2.99,
//! satisfies every `mio = "1.x"` requirement up to 1.2, tokio 1.x's
//! included.

pub use evmux::*;
