//! `process::ChildExit` on Unix: which mechanism watches a process.
//!
//! - Linux: a pidfd (`pidfd_open`, Linux 5.3), readable once the process
//!   has exited; on an older kernel (`ENOSYS`), or one whose seccomp
//!   policy refuses the call (`EPERM`), the SIGCHLD fallback. The
//!   environment variable `EVMUX_CHILD_EXIT=sigchld` forces the fallback,
//!   so that it can be tested on any kernel.
//! - kqueue systems: `EVFILT_PROC` with `NOTE_EXIT` in a private kqueue
//!   (`kqueue`).
//! - Every other Unix (Android, illumos, Solaris, ...): the SIGCHLD
//!   fallback (`sigchld`).
//!
//! None of them reaps the process.

use std::io;

use rustix::process::Pid;

#[cfg(any(apple, bsd))]
mod kqueue;
#[cfg(target_os = "linux")]
mod pidfd;
#[cfg(not(any(apple, bsd)))]
mod sigchld;

/// Watches one process for its exit.
#[derive(Debug)]
pub(crate) struct ChildExit {
    pid: Pid,
    watch: Watch,
}

#[derive(Debug)]
enum Watch {
    #[cfg(target_os = "linux")]
    Pidfd(pidfd::PidfdWatch),
    #[cfg(not(any(apple, bsd)))]
    Sigchld(sigchld::SigchldWatch),
    #[cfg(any(apple, bsd))]
    Kqueue(kqueue::ProcWatch),
}

impl ChildExit {
    pub(crate) fn new(pid: u32) -> io::Result<ChildExit> {
        let pid = i32::try_from(pid)
            .ok()
            .and_then(Pid::from_raw)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{pid} is not a process id"),
                )
            })?;
        Ok(ChildExit {
            pid,
            watch: watch(pid)?,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid.as_raw_nonzero().get().unsigned_abs()
    }

    pub(crate) fn has_exited(&self) -> io::Result<bool> {
        match &self.watch {
            #[cfg(target_os = "linux")]
            Watch::Pidfd(watch) => watch.has_exited(),
            #[cfg(not(any(apple, bsd)))]
            Watch::Sigchld(watch) => watch.has_exited(self.pid),
            #[cfg(any(apple, bsd))]
            Watch::Kqueue(watch) => watch.has_exited(),
        }
    }

    fn source(&mut self) -> &mut dyn crate::event::Source {
        match &mut self.watch {
            #[cfg(target_os = "linux")]
            Watch::Pidfd(watch) => watch,
            #[cfg(not(any(apple, bsd)))]
            Watch::Sigchld(watch) => watch,
            #[cfg(any(apple, bsd))]
            Watch::Kqueue(watch) => watch,
        }
    }
}

#[cfg(target_os = "linux")]
fn watch(pid: Pid) -> io::Result<Watch> {
    let forced = std::env::var_os("EVMUX_CHILD_EXIT").is_some_and(|value| value == "sigchld");
    if !forced {
        if let Some(watch) = pidfd::PidfdWatch::new(pid)? {
            return Ok(Watch::Pidfd(watch));
        }
    }
    Ok(Watch::Sigchld(sigchld::SigchldWatch::new(pid)?))
}

#[cfg(any(apple, bsd))]
fn watch(pid: Pid) -> io::Result<Watch> {
    Ok(Watch::Kqueue(kqueue::ProcWatch::new(pid)?))
}

#[cfg(not(any(target_os = "linux", apple, bsd)))]
fn watch(pid: Pid) -> io::Result<Watch> {
    Ok(Watch::Sigchld(sigchld::SigchldWatch::new(pid)?))
}

/// The error for a process that does not exist (any more), where the
/// mechanism tells (the SIGCHLD fallback only knows its children).
#[cfg(any(target_os = "linux", apple, bsd))]
fn no_such_process(pid: Pid) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "no process {} (a child must be watched before it is reaped)",
            pid.as_raw_nonzero()
        ),
    )
}

impl crate::event::Source for ChildExit {
    fn register(
        &mut self,
        registry: &crate::Registry,
        token: crate::Token,
        interests: crate::Interest,
    ) -> io::Result<()> {
        self.source().register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &crate::Registry,
        token: crate::Token,
        interests: crate::Interest,
    ) -> io::Result<()> {
        self.source().reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &crate::Registry) -> io::Result<()> {
        self.source().deregister(registry)
    }

    fn register_with(
        &mut self,
        registry: &crate::Registry,
        token: crate::Token,
        interests: crate::Interest,
        trigger: crate::trigger::Trigger,
    ) -> io::Result<()> {
        self.source()
            .register_with(registry, token, interests, trigger)
    }

    fn reregister_with(
        &mut self,
        registry: &crate::Registry,
        token: crate::Token,
        interests: crate::Interest,
        trigger: crate::trigger::Trigger,
    ) -> io::Result<()> {
        self.source()
            .reregister_with(registry, token, interests, trigger)
    }
}
