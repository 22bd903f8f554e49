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
//! | Systems                                   | Mechanism | Cost per watch |
//! |-------------------------------------------|-----------|----------------|
//! | Linux 5.3 and later                       | a pidfd (`pidfd_open`), readable once the process has exited | one descriptor |
//! | Linux before 5.3 (`ENOSYS`), Android, illumos, Solaris, other Unixes | evmux's `SIGCHLD` handler (the one behind `unix::Signals`) makes the watch readable; `waitid(P_PID, pid, WEXITED \| WNOHANG \| WNOWAIT)` tells whether this child exited, without reaping it | one descriptor (an eventfd on Linux and Android, a pipe's two elsewhere); every child's exit wakes every watch |
//! | macOS, iOS, FreeBSD, NetBSD, OpenBSD, DragonFly | `EVFILT_PROC` with `NOTE_EXIT`, in a private kqueue registered with `Poll` | one descriptor (the kqueue) |
//! | Windows                                   | the process handle (`OpenProcess` with `SYNCHRONIZE`), waited on by the thread pool, which posts the exit to the completion port | one handle and a thread-pool wait |
//! | WASI                                      | no processes: every call returns an `Unsupported` error | — |
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
//! - A child reaped by someone else (a `wait` elsewhere in the program, or
//!   the kernel where `SIGCHLD` is ignored) has exited: `has_exited` says
//!   `true`, and its status is gone ([`ChildExit::exit_status`] says
//!   `NotFound`, and so does `Child::try_wait`). A pidfd or a kqueue
//!   names its process, never a later one with the same id. The `SIGCHLD`
//!   fallback knows the id only: once it saw the child exit it says so
//!   for good, and on Linux and Android it checks the process's start
//!   time too (in clock ticks; the kernel hands an id out again only after
//!   cycling through the others, far later than a tick), so a new process
//!   that took the id is not watched in its place. On illumos and Solaris
//!   a child reaped elsewhere *before* its watch saw it exit, whose id a
//!   new child then takes, would be: there, reap a watched child only
//!   after `has_exited` said so.
//! - The `SIGCHLD` fallback changes `SIGCHLD`'s disposition (evmux's
//!   handler, shared with `unix::Signals`) while a watch exists, and
//!   restores it when the last one goes. A program that ignores `SIGCHLD`
//!   (`SIG_IGN`, or `SA_NOCLDWAIT`), so that the kernel reaps its children,
//!   loses that while a watch exists: the fallback needs the exited
//!   child's status, so children that exit meanwhile stay zombies until
//!   collected; when the disposition is restored, evmux reaps the zombies
//!   left, as the kernel would have. pidfds and kqueue leave `SIGCHLD`
//!   alone.
//! - On the `SIGCHLD` fallback every exit of a child wakes every watch,
//!   each of which asks `waitid` about its own child: N children exiting
//!   one by one cost N² such calls. A signal cannot say which children
//!   exited (standard signals merge: one `SIGCHLD` may stand for several
//!   exits), so no watch can be skipped safely; pidfds (Linux 5.3) and
//!   kqueue wake only the watch of the child that exited.
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
use std::process::{Child, ExitStatus};

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
    /// This is [`from_pid`](ChildExit::from_pid)`(child.id())`: on stable
    /// Rust (1.85, evmux's minimum) a `Child` gives nothing else. (On
    /// Linux, std's `Child` holds a pidfd only when spawned with the
    /// unstable `CommandExt::create_pidfd`, and hands it out through the
    /// unstable `ChildExt::pidfd`.) The id is safe to use while the child
    /// is unreaped, which a `Child` that has not returned a status from
    /// `wait` or `try_wait` is: its id cannot have been reused. After that
    /// call, it may name another process.
    ///
    /// # Errors
    ///
    /// `NotFound` if the child has already been reaped (on some systems,
    /// `InvalidInput`); `Unsupported` on WASI; the OS's
    /// errors, e.g. when out of descriptors.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::process::Command;
    ///
    /// use evmux::process::ChildExit;
    /// use evmux::{Interest, Poll, Token};
    ///
    /// let poll = Poll::new()?;
    /// let mut child = Command::new("sleep").arg("0.1").spawn()?;
    /// let mut exit = ChildExit::new(&child)?;
    /// poll.registry().register(&mut exit, Token(0), Interest::READABLE)?;
    /// # child.wait()?;
    /// # Ok(())
    /// # }
    /// # #[cfg(not(unix))]
    /// # fn main() {}
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::process::Command;
    ///
    /// use evmux::process::ChildExit;
    ///
    /// let mut child = Command::new("true").spawn()?;
    /// // By id, for a process known only by its number.
    /// let exit = ChildExit::from_pid(child.id())?;
    /// assert_eq!(exit.pid(), child.id());
    /// child.wait()?;
    /// # Ok(())
    /// # }
    /// # #[cfg(not(unix))]
    /// # fn main() {}
    /// ```
    pub fn from_pid(pid: u32) -> io::Result<ChildExit> {
        Ok(ChildExit {
            inner: imp::ChildExit::new(pid)?,
        })
    }

    /// The id of the watched process.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::process::Command;
    ///
    /// use evmux::process::ChildExit;
    ///
    /// let mut child = Command::new("true").spawn()?;
    /// let exit = ChildExit::new(&child)?;
    /// assert_eq!(exit.pid(), child.id());
    /// child.wait()?;
    /// # Ok(())
    /// # }
    /// # #[cfg(not(unix))]
    /// # fn main() {}
    /// ```
    pub fn pid(&self) -> u32 {
        self.inner.pid()
    }

    /// Whether the process has exited (it is not reaped by this). Call it
    /// on each event: it also re-arms the watch where an event can be
    /// spurious (see the [module docs](self)).
    ///
    /// A child that someone else reaped (a `wait` elsewhere in the
    /// program, or the kernel where `SIGCHLD` is ignored) has exited too:
    /// this says `true`, but its status is gone (see
    /// [`exit_status`](ChildExit::exit_status)).
    ///
    /// # Errors
    ///
    /// The OS's errors; none is expected.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io;
    /// use std::process::Command;
    /// use std::time::Duration;
    ///
    /// use evmux::process::ChildExit;
    /// use evmux::{Events, Interest, Poll, Token};
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let mut child = Command::new("sleep").arg("0.05").spawn()?;
    /// let mut exit = ChildExit::new(&child)?;
    /// poll.registry().register(&mut exit, Token(0), Interest::READABLE)?;
    ///
    /// // On each event ask: on the SIGCHLD fallback another child's exit wakes
    /// // this watch too.
    /// while !exit.has_exited()? {
    ///     match poll.poll(&mut events, Some(Duration::from_secs(10))) {
    ///         Ok(()) => {}
    ///         Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
    ///         Err(e) => return Err(e.into()),
    ///     }
    /// }
    /// // Not reaped by evmux: the status is there to collect.
    /// assert!(child.try_wait()?.is_some());
    /// # Ok(())
    /// # }
    /// # #[cfg(not(unix))]
    /// # fn main() {}
    /// ```
    pub fn has_exited(&self) -> io::Result<bool> {
        self.inner.has_exited()
    }

    /// The exit status of the watched child, read without reaping it:
    /// `None` while it runs. The status stays for
    /// [`Child::try_wait`](std::process::Child::try_wait) or
    /// [`Child::wait`](std::process::Child::wait) to collect (which reap).
    /// Unlike [`has_exited`](ChildExit::has_exited), this does not re-arm
    /// the watch.
    ///
    /// | Systems | How |
    /// |---|---|
    /// | Linux 5.4 and later | `waitid(P_PIDFD, fd, WEXITED \| WNOHANG \| WNOWAIT)`: names this process, never a later one with its id |
    /// | Linux 5.3 | the pidfd for the exit, then `waitid(P_PID, ..., WNOWAIT)` |
    /// | the `SIGCHLD` fallback | `waitid(P_PID, ..., WNOWAIT)`, checked against the start time on Linux and Android (see the [module docs](self)) |
    /// | macOS, iOS, the BSDs (kqueue) | the wait(2) status that `EVFILT_PROC`'s `NOTE_EXIT` carries (with `NOTE_EXITSTATUS` on macOS and iOS, for children), recorded by the kernel at the exit: it stays readable after the child is reaped |
    /// | Windows | not yet: `Unsupported` |
    ///
    /// # Errors
    ///
    /// `NotFound` once the status is gone: the child was reaped by someone
    /// else, or the process is not a child of this one (only a parent
    /// can read a status); on kqueue, for a process that had exited before
    /// it was watched (the status is then unknown here). `Unsupported` where the table says so. The
    /// OS's other errors.
    pub fn exit_status(&self) -> io::Result<Option<ExitStatus>> {
        #[cfg(unix)]
        return self.inner.exit_status();
        #[cfg(not(unix))]
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the exit status without reaping is not available on this system yet \
             (collect it with Child::try_wait after has_exited)",
        ))
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
