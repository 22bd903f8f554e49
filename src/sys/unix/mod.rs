//! The Unix platform layer: what every Unix backend shares, and the
//! Unix-only public types.

use std::io;
use std::os::fd::OwnedFd;

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

/// Creates a pipe, `(read end, write end)`, both non-blocking and
/// close-on-exec.
#[cfg_attr(not(any(feature = "os-ext", nbio_wake_fd = "pipe")), allow(dead_code))]
pub(crate) fn new_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    #[cfg(nbio_atomic_flags)]
    let pipe = {
        use rustix::pipe::PipeFlags;
        rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?
    };
    #[cfg(not(nbio_atomic_flags))]
    let pipe = {
        let (reader, writer) = rustix::pipe::pipe()?;
        (
            set_cloexec_nonblocking(reader)?,
            set_cloexec_nonblocking(writer)?,
        )
    };
    Ok(pipe)
}

/// Where the OS cannot create a descriptor with its flags, sets them right
/// after: close-on-exec and non-blocking. The descriptor is closed if a
/// step fails.
#[cfg(not(nbio_atomic_flags))]
pub(crate) fn set_cloexec_nonblocking(fd: OwnedFd) -> io::Result<OwnedFd> {
    rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC)?;
    rustix::io::ioctl_fionbio(&fd, true)?;
    Ok(fd)
}
