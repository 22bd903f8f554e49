//! Process exit as readiness: [`ChildExit`].
//!
//! A [`ChildExit`] watches one process, given as a
//! [`std::process::Child`] or a process id, and is readable once that
//! process has exited. It never reaps the process (it never calls
//! `wait`): the exit status stays for the program to collect, with
//! [`Child::try_wait`](std::process::Child::try_wait) or
//! [`Child::wait`](std::process::Child::wait) (or `waitpid` for a child
//! known by its id), which returns at once after the event.
//!
//! # How it works
//!
//! | Systems                                   | Mechanism |
//! |-------------------------------------------|-----------|
//! | Linux 5.3 and later                       | a pidfd (`pidfd_open`), readable once the process has exited |
//! | Linux before 5.3 (`ENOSYS`), Android, illumos, Solaris, other Unixes | evmux's `SIGCHLD` handler (the one behind `unix::Signals`) makes the watch readable; `waitid(P_PID, pid, WEXITED \| WNOHANG \| WNOWAIT)` tells whether this child exited, without reaping it |
//! | macOS, iOS, FreeBSD, NetBSD, OpenBSD, DragonFly | `EVFILT_PROC` with `NOTE_EXIT`, in a private kqueue registered with `Poll` |
//! | Windows                                   | the process handle (`OpenProcess` with `SYNCHRONIZE`), waited on by the thread pool, which posts the exit to the completion port |
//! | WASI                                      | no processes: every call returns an `Unsupported` error |
//!
//! On Linux, the environment variable `EVMUX_CHILD_EXIT=sigchld` makes
//! every new `ChildExit` use the `SIGCHLD` fallback, for testing it on a
//! kernel that has pidfds.
//!
//! # Rules
//!
//! - Create the `ChildExit` before the process is reaped: the id of a
//!   reaped process means nothing any more (it can even have been reused).
//!   A child that has exited but is not reaped yet is fine: the watch is
//!   readable at once.
//! - On each event, call [`ChildExit::has_exited`]. On the `SIGCHLD`
//!   fallback the exit of *any* child wakes every watch, so an event can
//!   be spurious; `has_exited` says which, and re-arms the watch. (With a
//!   pidfd or kqueue, every event is the real exit.)
//! - The `SIGCHLD` fallback watches children only (ids of other processes
//!   are refused with `InvalidInput`); pidfds and kqueue watch any process
//!   the program may signal.
//!
//! # Examples
//!
//! ```
//! # #[cfg(any(unix, windows))]
//! # fn main() -> std::io::Result<()> {
//! use std::io;
//! use std::process::Command;
//! use std::time::Duration;
//!
//! use evmux::process::ChildExit;
//! use evmux::{Events, Interest, Poll, Token};
//!
//! let mut poll = Poll::new()?;
//! # #[cfg(windows)]
//! # let mut child = Command::new("cmd").args(["/c", "exit 0"]).spawn()?;
//! # #[cfg(unix)]
//! let mut child = Command::new("true").spawn()?;
//! let mut exit = ChildExit::new(&child)?;
//! poll.registry().register(&mut exit, Token(0), Interest::READABLE)?;
//!
//! let mut events = Events::with_capacity(8);
//! while !exit.has_exited()? {
//!     match poll.poll(&mut events, Some(Duration::from_secs(10))) {
//!         Ok(()) => {}
//!         // SIGCHLD may interrupt the wait on the fallback: poll again.
//!         Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
//!         Err(e) => return Err(e),
//!     }
//! }
//! // Exited, not reaped: the status is still there to collect.
//! let status = child.try_wait()?.expect("the child has exited");
//! assert!(status.success());
//! # Ok(())
//! # }
//! # #[cfg(not(any(unix, windows)))]
//! # fn main() {}
//! ```

use std::io;
use std::process::Child;

#[cfg(not(any(unix, windows)))]
use self::unsupported as imp;
#[cfg(unix)]
use crate::sys::unix::child_exit as imp;
#[cfg(windows)]
use crate::sys::windows::child_exit as imp;

/// The exit of a process, as readiness: an [`event::Source`](crate::event::Source) that is
/// readable once the process has exited. See the [module docs](self).
#[derive(Debug)]
pub struct ChildExit {
    inner: imp::ChildExit,
}

impl ChildExit {
    /// Watches `child` for its exit.
    ///
    /// # Errors
    ///
    /// `NotFound` if the child has already been reaped (on some systems,
    /// `InvalidInput`); `Unsupported` on WASI; the OS's
    /// errors, e.g. when out of descriptors.
    pub fn new(child: &Child) -> io::Result<ChildExit> {
        ChildExit::from_pid(child.id())
    }

    /// Watches the process `pid` for its exit. On the `SIGCHLD` fallback
    /// (see the [module docs](self)) it must be a child of this process.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an id that is not a process id (0, or too large),
    /// and on the `SIGCHLD` fallback for a process that is not an unreaped
    /// child; `NotFound` for a process that does not exist; `Unsupported`
    /// on WASI; the OS's errors.
    pub fn from_pid(pid: u32) -> io::Result<ChildExit> {
        Ok(ChildExit {
            inner: imp::ChildExit::new(pid)?,
        })
    }

    /// The id of the watched process.
    pub fn pid(&self) -> u32 {
        self.inner.pid()
    }

    /// Whether the process has exited (it is not reaped by this). Call it
    /// on each event: it also re-arms the watch where an event can be
    /// spurious (see the [module docs](self)).
    ///
    /// # Errors
    ///
    /// The OS's errors; none is expected.
    pub fn has_exited(&self) -> io::Result<bool> {
        self.inner.has_exited()
    }
}

#[cfg(unix)]
impl_source!(ChildExit);

/// Registration checks and the wait are the Windows layer's.
#[cfg(windows)]
impl crate::event::Source for ChildExit {
    fn register(
        &mut self,
        registry: &crate::Registry,
        token: crate::Token,
        interests: crate::Interest,
    ) -> io::Result<()> {
        self.inner.register(registry.selector(), token, interests)
    }

    fn reregister(
        &mut self,
        registry: &crate::Registry,
        token: crate::Token,
        interests: crate::Interest,
    ) -> io::Result<()> {
        self.inner.reregister(registry.selector(), token, interests)
    }

    fn deregister(&mut self, registry: &crate::Registry) -> io::Result<()> {
        self.inner.deregister(registry.selector())
    }

    /// Edge and one-shot are the same here: one event per exit until
    /// `reregister`. Level (an event at every poll) is not offered.
    fn register_with(
        &mut self,
        registry: &crate::Registry,
        token: crate::Token,
        interests: crate::Interest,
        trigger: crate::trigger::Trigger,
    ) -> io::Result<()> {
        not_level(trigger)?;
        crate::event::Source::register(self, registry, token, interests)
    }

    fn reregister_with(
        &mut self,
        registry: &crate::Registry,
        token: crate::Token,
        interests: crate::Interest,
        trigger: crate::trigger::Trigger,
    ) -> io::Result<()> {
        not_level(trigger)?;
        crate::event::Source::reregister(self, registry, token, interests)
    }
}

/// A process watch on Windows reports an exit once per (re)registration.
#[cfg(windows)]
fn not_level(trigger: crate::trigger::Trigger) -> io::Result<()> {
    if !trigger.is_level() {
        return Ok(());
    }
    let message = "a process watch cannot be level-triggered on Windows";
    Err(io::Error::new(io::ErrorKind::Unsupported, message))
}

/// Where evmux cannot watch a process (WASI): every call is `Unsupported`.
#[cfg(not(any(unix, windows)))]
mod unsupported {
    use std::convert::Infallible;
    use std::io;

    use crate::{event, Interest, Registry, Token};

    #[derive(Debug)]
    pub(super) struct ChildExit {
        never: Infallible,
    }

    impl ChildExit {
        pub(super) fn new(_pid: u32) -> io::Result<ChildExit> {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "evmux cannot watch a process for its exit on this platform yet \
                 (process::ChildExit works on Unix and Windows)",
            ))
        }

        pub(super) fn pid(&self) -> u32 {
            match self.never {}
        }

        pub(super) fn has_exited(&self) -> io::Result<bool> {
            match self.never {}
        }
    }

    /// No `ChildExit` exists here to register.
    impl event::Source for super::ChildExit {
        fn register(&mut self, _: &Registry, _: Token, _: Interest) -> io::Result<()> {
            match self.inner.never {}
        }

        fn reregister(&mut self, _: &Registry, _: Token, _: Interest) -> io::Result<()> {
            match self.inner.never {}
        }

        fn deregister(&mut self, _: &Registry) -> io::Result<()> {
            match self.inner.never {}
        }
    }
}
