//! The Unix platform layer: what every Unix backend shares, and the
//! Unix-only public types.

use std::io;
use std::os::fd::OwnedFd;

#[cfg(feature = "os-ext")]
mod sourcefd;
#[cfg(feature = "os-ext")]
pub use self::sourcefd::SourceFd;

#[cfg(feature = "os-ext")]
pub(crate) mod child_exit;
#[cfg(all(feature = "net", any(linux_like, apple, bsd)))]
mod cmsg;
#[cfg(evmux_selector = "kqueue")]
pub(crate) mod kevent;
#[cfg(feature = "net")]
pub(crate) mod net;
#[cfg(feature = "os-ext")]
pub mod pipe;
#[cfg(feature = "os-ext")]
pub(crate) mod signals;
#[cfg(feature = "net")]
pub(crate) mod udp_batch;
#[cfg(all(feature = "net", linux_like))]
mod udp_cmsg;
#[cfg(all(feature = "net", any(apple, bsd)))]
mod udp_cmsg_bsd;
#[cfg(feature = "net")]
pub(crate) mod uds;

/// Creates a pipe, `(read end, write end)`, both non-blocking and
/// close-on-exec.
#[cfg_attr(not(any(feature = "os-ext", evmux_wake_fd = "pipe")), allow(dead_code))]
pub(crate) fn new_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    #[cfg(evmux_atomic_flags)]
    let pipe = {
        use rustix::pipe::PipeFlags;
        rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?
    };
    #[cfg(not(evmux_atomic_flags))]
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
#[cfg(not(evmux_atomic_flags))]
pub(crate) fn set_cloexec_nonblocking(fd: OwnedFd) -> io::Result<OwnedFd> {
    rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC)?;
    rustix::io::ioctl_fionbio(&fd, true)?;
    Ok(fd)
}

/// Waits until `fd` is readable, or the timeout passes, and reads nothing:
/// how a selector whose queue is itself a descriptor (epoll, kqueue, event
/// ports) serves an `Events` of capacity zero, leaving every event queued.
///
/// The timeout is clamped to `i32::MAX` milliseconds (24.8 days), which
/// poll(2) takes everywhere; the wait may end early, as `poll` allows.
#[cfg(all(evmux_selector_fd, not(evmux_selector = "shell")))]
pub(crate) fn wait_readable(
    fd: std::os::fd::BorrowedFd<'_>,
    timeout: Option<std::time::Duration>,
) -> io::Result<()> {
    use rustix::event::{PollFd, PollFlags};
    use std::time::Duration;
    let longest = Duration::from_millis(i32::MAX as u64);
    let timeout = timeout.map(|timeout| crate::sys::timeout::timespec(timeout.min(longest)));
    let mut fds = [PollFd::from_borrowed_fd(fd, PollFlags::IN)];
    rustix::event::poll(&mut fds, timeout.as_ref())?;
    Ok(())
}

/// Writes `token` to a wake-up descriptor, making it readable; a full one
/// (`EAGAIN`: a saturated eventfd counter, a pipe with 64 KiB of unread
/// wakes) is emptied with `drain` and written again.
#[cfg(any(evmux_wake_fd = "eventfd", evmux_wake_fd = "pipe"))]
pub(crate) fn write_wake(
    fd: &OwnedFd,
    token: &[u8],
    drain: impl Fn() -> io::Result<()>,
) -> io::Result<()> {
    use rustix::io::Errno;
    loop {
        match rustix::io::write(fd, token) {
            Ok(_) => return Ok(()),
            Err(Errno::AGAIN) => drain()?,
            Err(Errno::INTR) => continue,
            Err(error) => return Err(error.into()),
        }
    }
}
