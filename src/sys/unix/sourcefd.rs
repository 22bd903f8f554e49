use std::io;
use std::os::fd::{BorrowedFd, RawFd};

use crate::event::Source;
use crate::trigger::Trigger;
use crate::{Interest, Registry, Token};

/// Registers any raw file descriptor with a [`Poll`].
///
/// `SourceFd` borrows the descriptor; it never closes it. Use it for
/// descriptors that evmux has no type for, or inside your own
/// [`Source`] implementation.
///
/// The descriptor must stay open while it is registered, and must be
/// deregistered before it is closed: the kernel removes a descriptor from
/// epoll only when its last duplicate closes, so a closed but duplicated
/// descriptor can keep producing events. A negative or closed descriptor
/// makes registration fail with `EBADF`.
///
/// # Which backends need `reregister`
///
/// evmux cannot see the I/O done on a raw descriptor, so a backend that
/// emulates edge triggering cannot re-arm it after an event by itself:
///
/// | Backend (systems)                               | A raw descriptor after an event |
/// |-------------------------------------------------|---------------------------------|
/// | epoll (Linux, Android, illumos)                 | keeps reporting new readiness: no `reregister` needed |
/// | kqueue (macOS, iOS, the BSDs)                   | keeps reporting new readiness: no `reregister` needed |
/// | event ports (Solaris)                           | reported at every `poll` while ready (level-triggered): no `reregister` needed |
/// | poll(2) (Haiku, other Unixes, WASI preview 2, `evmux_force_poll`) | silent until [`Registry::reregister`]: call it after an operation returns `WouldBlock` |
///
/// evmux's own types (`net`, `unix::pipe`) need no `reregister` anywhere.
///
/// [`Poll`]: crate::Poll
///
/// # Examples
///
/// Registering one end of a standard library socket pair:
///
/// ```
/// use std::io::{self, Write};
/// use std::os::fd::AsRawFd;
/// use std::os::unix::net::UnixStream;
/// use std::time::Duration;
///
/// use evmux::unix::SourceFd;
/// use evmux::{Events, Interest, Poll, Token};
///
/// # fn main() -> io::Result<()> {
/// let (reader, mut writer) = UnixStream::pair()?;
/// reader.set_nonblocking(true)?;
/// let mut poll = Poll::new()?;
/// let fd = reader.as_raw_fd();
/// poll.registry()
///     .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)?;
///
/// writer.write_all(b"hello")?;
/// let mut events = Events::with_capacity(8);
/// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
/// assert!(events.iter().any(|event| event.token() == Token(0) && event.is_readable()));
///
/// poll.registry().deregister(&mut SourceFd(&fd))?;
/// # Ok(())
/// # }
/// ```
///
/// Implementing [`Source`] for a type that owns a descriptor:
///
/// ```
/// use std::io;
/// use std::os::fd::{AsRawFd, OwnedFd};
///
/// use evmux::event::Source;
/// use evmux::unix::SourceFd;
/// use evmux::{Interest, Registry, Token};
///
/// struct MyIo {
///     fd: OwnedFd,
/// }
///
/// impl Source for MyIo {
///     fn register(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
///         SourceFd(&self.fd.as_raw_fd()).register(registry, token, interests)
///     }
///
///     fn reregister(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
///         SourceFd(&self.fd.as_raw_fd()).reregister(registry, token, interests)
///     }
///
///     fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
///         SourceFd(&self.fd.as_raw_fd()).deregister(registry)
///     }
/// }
/// ```
#[derive(Debug)]
pub struct SourceFd<'a>(pub &'a RawFd);

impl Source for SourceFd<'_> {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.register_with(registry, token, interests, Trigger::EDGE)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.reregister_with(registry, token, interests, Trigger::EDGE)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        registry.selector().deregister(borrow_raw_fd(self.0)?)
    }

    fn register_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        let fd = borrow_raw_fd(self.0)?;
        registry.selector().register(fd, token, interests, trigger)
    }

    fn reregister_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        let fd = borrow_raw_fd(self.0)?;
        registry
            .selector()
            .reregister(fd, token, interests, trigger)
    }
}

#[cfg(unix)]
const EBADF: i32 = rustix::io::Errno::BADF.raw_os_error();
/// WASI's `EBADF` (wasi-libc's errno.h).
#[cfg(wasi)]
const EBADF: i32 = 8;

/// Borrows a raw descriptor handed to evmux by the application.
///
/// Fails with `EBADF` for a negative descriptor instead of creating an
/// invalid `BorrowedFd`; any other closed descriptor is rejected by the
/// kernel with `EBADF` as well.
fn borrow_raw_fd(fd: &RawFd) -> io::Result<BorrowedFd<'_>> {
    if *fd < 0 {
        return Err(io::Error::from_raw_os_error(EBADF));
    }
    // SAFETY: the descriptor is not -1 (checked above), so the value is a
    // valid `BorrowedFd`. The borrow is tied to the caller's `&RawFd` and
    // only lives for one registration call; if the application passed a
    // descriptor that is not open, the syscall fails with EBADF, which
    // touches no memory.
    Ok(unsafe { BorrowedFd::borrow_raw(*fd) })
}
