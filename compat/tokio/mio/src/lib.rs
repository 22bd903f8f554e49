//! evmux under mio's name.
//!
//! This crate is what a `[patch.crates-io]` entry points at so that every
//! crate depending on mio 1.x, tokio first, is built on evmux instead:
//!
//! ```toml
//! [patch.crates-io]
//! mio = { path = "path/to/evmux/compat/tokio/mio" }
//! ```
//!
//! It holds no code of its own: every public item is evmux's, under the
//! same path as in mio (`mio::Poll` is `evmux::Poll`, `mio::net::TcpStream`
//! is `evmux::net::TcpStream`, ...), and mio's features `os-poll`,
//! `os-ext`, `net` and `log` switch on evmux's features of the same names.
//! The version, 1.2.99, satisfies any `mio = "1.x"` requirement up to 1.2.

pub use evmux::*;
