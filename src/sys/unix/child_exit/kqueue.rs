//! kqueue systems: `EVFILT_PROC` with `NOTE_EXIT`.
//!
//! Two filters watch the process. One is in the selector's kqueue, added
//! when the watch is registered, with the registration's token: its event
//! is the watch's event, like a descriptor's filters (no descriptor of its
//! own is registered). The other is in a private kqueue that is never
//! registered anywhere, only read without waiting: the selector's events go
//! to the program, so this is where `has_exited` and `exit_status` learn
//! of the exit, and its `data` is the wait(2) status (on macOS and iOS
//! with `NOTE_EXITSTATUS`, on children only).
//!
//! Some kernels (macOS, OpenBSD) refuse the filter for a process that has
//! already exited but is not reaped yet (a zombie) with `ESRCH`. A
//! process that still exists (`kill(pid, 0)` succeeds) is then known to
//! have exited, with its status unknown here, and its registration is a
//! pipe holding one byte: readable at once.
//!
//! Man pages: kqueue(2), kevent(2) (`EVFILT_PROC`), kill(2).

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::ExitStatus;
use std::sync::Mutex;

use rustix::io::Errno;
use rustix::process::Pid;

use crate::event::Source;
use crate::io_source::IoSource;
use crate::sys::selector::{add_with, apply, change, delete, filter, new_kqueue, Selector};
use crate::sys::unix::kevent as sys;
use crate::sys::RegisteredWith;
use crate::trigger::Trigger;
use crate::{Interest, Registry, Token};

#[derive(Debug)]
pub(super) struct ProcWatch {
    pid: Pid,
    /// The private kqueue; `None` for a process that had exited before it
    /// was watched.
    queue: Option<OwnedFd>,
    /// What the private kqueue reported: `Some(status)` once the process
    /// exited (`None` inside where the status is unknown).
    exit: Mutex<Option<Option<i32>>>,
    /// The private kqueue's event carries the status (see `new`).
    status_in_data: bool,
    registration: Registration,
    registered: RegisteredWith,
}

#[derive(Debug)]
enum Registration {
    None,
    /// The filter in this selector's kqueue.
    Filter(Selector),
    /// A pipe with one byte, for a process that had exited already.
    Ready(IoSource<OwnedFd>),
}

impl ProcWatch {
    pub(super) fn new(pid: Pid) -> io::Result<ProcWatch> {
        let queue = new_kqueue()?;
        let mut status_in_data = true;
        let mut result = apply(queue.as_fd(), &[add_proc(pid, sys::NOTE_EXIT_STATUS)]);
        // Apple's kernels give the status of children only.
        if result
            .as_ref()
            .is_err_and(|error| error.raw_os_error() == Some(Errno::ACCESS.raw_os_error()))
        {
            status_in_data = false;
            result = apply(queue.as_fd(), &[add_proc(pid, sys::NOTE_EXIT)]);
        }
        let (queue, exit) = match result {
            Ok(_) => (Some(queue), None),
            Err(error) if is_gone(&error) => (None, Some(exited_already(pid)?)),
            Err(error) => return Err(error),
        };
        Ok(ProcWatch {
            pid,
            queue,
            exit: Mutex::new(exit),
            status_in_data,
            registration: Registration::None,
            registered: RegisteredWith::default(),
        })
    }

    pub(super) fn has_exited(&self) -> io::Result<bool> {
        Ok(self.exit()?.is_some())
    }

    pub(super) fn exit_status(&self) -> io::Result<Option<ExitStatus>> {
        use std::os::unix::process::ExitStatusExt;
        match self.exit()? {
            None => Ok(None),
            Some(Some(status)) => Ok(Some(ExitStatus::from_raw(status))),
            Some(None) => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "process {} had exited before it was watched: its status is not known \
                     here (collect it with Child::try_wait)",
                    self.pid.as_raw_nonzero()
                ),
            )),
        }
    }

    /// The exit, once the private kqueue reported it.
    fn exit(&self) -> io::Result<Option<Option<i32>>> {
        let mut exit = self
            .exit
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if exit.is_none() {
            if let Some(queue) = &self.queue {
                *exit = take_exit(queue)?.map(|status| status.filter(|_| self.status_in_data));
            }
        }
        Ok(*exit)
    }

    /// Adds the filter to `selector` for `token`, or, for a process that
    /// exited already, the ready pipe.
    fn add(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        let selector = registry.selector();
        let result = match self.queue {
            Some(_) => apply(selector.as_fd(), &[watch_exit(self.pid, token, trigger)]),
            None => Err(Errno::SRCH.into()),
        };
        self.registration = match result {
            Ok(_) => Registration::Filter(selector.try_clone()?),
            Err(error) if is_gone(&error) => {
                let mut ready = ready_pipe()?;
                ready.register_with(registry, token, interests, trigger)?;
                Registration::Ready(ready)
            }
            Err(error) => return Err(error),
        };
        Ok(())
    }

    /// Removes the filter or the ready pipe.
    fn remove(&mut self, registry: &Registry) -> io::Result<()> {
        match std::mem::replace(&mut self.registration, Registration::None) {
            Registration::None => Ok(()),
            // A filter that fired is gone already: not an error.
            Registration::Filter(selector) => {
                let change = change(
                    ident(self.pid),
                    filter(sys::EVFILT_PROC),
                    delete(),
                    0,
                    Token(0),
                );
                apply(selector.as_fd(), &[change]).map(drop)
            }
            Registration::Ready(mut ready) => ready.deregister(registry),
        }
    }
}

impl Source for ProcWatch {
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

    fn register_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        self.registered.check_unregistered()?;
        self.add(registry, token, interests, trigger)?;
        self.registered.set(Some(registry.selector().id()));
        Ok(())
    }

    fn reregister_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        self.registered.check(registry.selector().id())?;
        self.remove(registry)?;
        self.add(registry, token, interests, trigger)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        self.registered.check(registry.selector().id())?;
        self.remove(registry)?;
        self.registered.set(None);
        Ok(())
    }
}

impl Drop for ProcWatch {
    fn drop(&mut self) {
        if let Registration::Filter(selector) = &self.registration {
            let change = change(
                ident(self.pid),
                filter(sys::EVFILT_PROC),
                delete(),
                0,
                Token(0),
            );
            if let Err(error) = apply(selector.as_fd(), &[change]) {
                warn!("failed to remove a process filter: {}", error);
            }
        }
    }
}

/// The private kqueue's filter for `pid`'s exit, with `fflags`.
fn add_proc(pid: Pid, fflags: u32) -> sys::kevent {
    let add = add_with(Trigger::EDGE);
    change(ident(pid), filter(sys::EVFILT_PROC), add, fflags, Token(0))
}

/// The selector's filter for `pid`'s exit, reporting `token`: one-shot by
/// nature (the kernel removes it once it fired).
fn watch_exit(pid: Pid, token: Token, trigger: Trigger) -> sys::kevent {
    let add = add_with(trigger);
    change(
        ident(pid),
        filter(sys::EVFILT_PROC),
        add,
        sys::NOTE_EXIT,
        token,
    )
}

fn ident(pid: Pid) -> usize {
    pid.as_raw_nonzero().get().unsigned_abs() as usize
}

/// `ESRCH`: no such process, or (macOS, OpenBSD) one that exited already.
fn is_gone(error: &io::Error) -> bool {
    error.raw_os_error() == Some(Errno::SRCH.raw_os_error())
}

/// The exit of a process that the kernel refused to watch: it exited
/// already if it still exists (a zombie), and does not exist otherwise.
fn exited_already(pid: Pid) -> io::Result<Option<i32>> {
    match rustix::process::test_kill_process(pid) {
        Ok(()) | Err(Errno::PERM) => Ok(None),
        Err(_) => Err(super::no_such_process(pid)),
    }
}

/// A pipe with a byte in it: readable at once.
fn ready_pipe() -> io::Result<IoSource<OwnedFd>> {
    let (reader, writer) = crate::sys::unix::new_pipe()?;
    rustix::io::write(&writer, b"x")?;
    Ok(IoSource::new(reader))
}

/// Takes the private kqueue's `NOTE_EXIT` event, if it came: the process's
/// wait status.
fn take_exit(queue: &OwnedFd) -> io::Result<Option<Option<i32>>> {
    // SAFETY: `kevent` is plain data for which all zeroes is valid.
    let mut event: sys::kevent = unsafe { MaybeUninit::zeroed().assume_init() };
    let zero = sys::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    loop {
        // SAFETY: no changes; room for one event, which is all the kqueue
        // holds (one filter); the zero timeout keeps it from waiting.
        let n =
            unsafe { sys::kevent(queue.as_raw_fd(), std::ptr::null(), 0, &mut event, 1, &zero) };
        match n {
            0 => return Ok(None),
            n if n > 0 => return Ok(Some(i32::try_from(event.data).ok())),
            _ => {
                let error = io::Error::last_os_error();
                if error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        }
    }
}
