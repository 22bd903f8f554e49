//! The Unix platform layer: what every Unix backend shares, and the
//! Unix-only public types.

#[cfg(feature = "os-ext")]
mod sourcefd;
#[cfg(feature = "os-ext")]
pub use self::sourcefd::SourceFd;

#[cfg(feature = "net")]
pub(crate) mod net;
#[cfg(feature = "os-ext")]
pub mod pipe;
#[cfg(feature = "net")]
pub(crate) mod uds;
