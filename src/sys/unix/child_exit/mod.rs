//! `process::ChildExit` on Unix: which mechanism watches a process.
//!
//! - Linux: a pidfd (`pidfd_open`, Linux 5.3), readable once the process
//!   has exited; on an older kernel (`ENOSYS`), or one whose seccomp
//!   policy refuses the call (`EPERM`), the SIGCHLD fallback. The
//!   environment variable `EVMUX_CHILD_EXIT=sigchld` forces the fallback,
//!   so that it can be tested on any kernel.
//! - kqueue systems (and Linux with `--cfg evmux_force_kqueue`):
//!   `EVFILT_PROC` with `NOTE_EXIT`, in the selector's kqueue for the event
//!   and in a private one for the answer (`kqueue`).
//! - Every other Unix (Android, illumos, Solaris, ...): the SIGCHLD
//!   fallback (`sigchld`).
//!
//! None of them reaps the process. The exit status is offered without
//! reaping where the OS gives it so (`status`: `waitid(WNOWAIT)` by pidfd
//! or by id; on kqueue, the `data` of `NOTE_EXIT`).

use std::io;
use std::process::ExitStatus;

use rustix::process::Pid;

#[cfg(evmux_selector = "kqueue")]
mod kqueue;
#[cfg(all(target_os = "linux", not(evmux_selector = "kqueue")))]
mod pidfd;
#[cfg(not(evmux_selector = "kqueue"))]
mod sigchld;
#[cfg(not(evmux_selector = "kqueue"))]
mod status;

/// Watches one process for its exit.
#[derive(Debug)]
pub(crate) struct ChildExit {
    pid: Pid,
    watch: Watch,
}

#[derive(Debug)]
enum Watch {
    #[cfg(all(target_os = "linux", not(evmux_selector = "kqueue")))]
    Pidfd(pidfd::PidfdWatch),
    #[cfg(not(evmux_selector = "kqueue"))]
    Sigchld(sigchld::SigchldWatch),
    #[cfg(evmux_selector = "kqueue")]
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
            #[cfg(all(target_os = "linux", not(evmux_selector = "kqueue")))]
            Watch::Pidfd(watch) => watch.has_exited(),
            #[cfg(not(evmux_selector = "kqueue"))]
            Watch::Sigchld(watch) => watch.has_exited(self.pid),
            #[cfg(evmux_selector = "kqueue")]
            Watch::Kqueue(watch) => watch.has_exited(),
        }
    }

    pub(crate) fn exit_status(&self) -> io::Result<Option<ExitStatus>> {
        match &self.watch {
            #[cfg(all(target_os = "linux", not(evmux_selector = "kqueue")))]
            Watch::Pidfd(watch) => watch.exit_status(self.pid),
            #[cfg(not(evmux_selector = "kqueue"))]
            Watch::Sigchld(watch) => watch.exit_status(self.pid),
            #[cfg(evmux_selector = "kqueue")]
            Watch::Kqueue(watch) => watch.exit_status(),
        }
    }

    fn source(&mut self) -> &mut dyn crate::event::Source {
        match &mut self.watch {
            #[cfg(all(target_os = "linux", not(evmux_selector = "kqueue")))]
            Watch::Pidfd(watch) => watch,
            #[cfg(not(evmux_selector = "kqueue"))]
            Watch::Sigchld(watch) => watch,
            #[cfg(evmux_selector = "kqueue")]
            Watch::Kqueue(watch) => watch,
        }
    }
}

#[cfg(all(target_os = "linux", not(evmux_selector = "kqueue")))]
fn watch(pid: Pid) -> io::Result<Watch> {
    let forced = std::env::var_os("EVMUX_CHILD_EXIT").is_some_and(|value| value == "sigchld");
    if !forced {
        if let Some(watch) = pidfd::PidfdWatch::new(pid)? {
            return Ok(Watch::Pidfd(watch));
        }
    }
    Ok(Watch::Sigchld(sigchld::SigchldWatch::new(pid)?))
}

#[cfg(evmux_selector = "kqueue")]
fn watch(pid: Pid) -> io::Result<Watch> {
    Ok(Watch::Kqueue(kqueue::ProcWatch::new(pid)?))
}

#[cfg(not(any(target_os = "linux", evmux_selector = "kqueue")))]
fn watch(pid: Pid) -> io::Result<Watch> {
    Ok(Watch::Sigchld(sigchld::SigchldWatch::new(pid)?))
}

/// The error for a process that does not exist (any more), where the
/// mechanism tells (the SIGCHLD fallback only knows its children).
#[cfg(any(target_os = "linux", evmux_selector = "kqueue"))]
fn no_such_process(pid: Pid) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "no process {} (a child must be watched before it is reaped)",
            pid.as_raw_nonzero()
        ),
    )
}

/// The error for an exit status that is gone: the process was reaped by
/// someone else (or was never a child of this process).
#[cfg(not(evmux_selector = "kqueue"))]
fn status_gone(pid: Pid) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "process {} has exited, but its status is gone: reaped by someone else (a wait \
             elsewhere, or SIGCHLD ignored), or not a child of this process",
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
