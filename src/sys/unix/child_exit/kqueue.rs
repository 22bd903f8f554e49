//! kqueue systems: `EVFILT_PROC` with `NOTE_EXIT`, in a private kqueue
//! whose descriptor is registered with `Poll` (as `Signals` does on these
//! systems; the selector needs no filter of its own).
//!
//! Some kernels (macOS, OpenBSD) refuse the filter for a process that has
//! already exited but is not reaped yet (a zombie) with `ESRCH`. A
//! process that still exists (`kill(pid, 0)` succeeds) is then known to
//! have exited, and the watch is a pipe holding one byte: readable at once.
//!
//! Man pages: kqueue(2), kevent(2) (`EVFILT_PROC`), kill(2).

use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::event::kqueue::{Event, EventFilter, EventFlags, ProcessEvents};
use rustix::io::Errno;
use rustix::process::Pid;

use crate::io_source::IoSource;
use crate::sys::unix::signals::kqueue::{apply, new_kqueue, take_events};

#[derive(Debug)]
pub(super) struct ProcWatch {
    /// The private kqueue, or the pipe of an already exited process.
    inner: IoSource<OwnedFd>,
    /// `NOTE_EXIT` has been seen (it is reported only once).
    exited: AtomicBool,
}

impl ProcWatch {
    pub(super) fn new(pid: Pid) -> io::Result<ProcWatch> {
        let kq = new_kqueue()?;
        let filter = EventFilter::Proc {
            pid,
            flags: ProcessEvents::EXIT,
        };
        let change = Event::new(filter, EventFlags::ADD, std::ptr::null_mut());
        match apply(&kq, &[change]) {
            Ok(()) => Ok(ProcWatch {
                inner: IoSource::new(kq),
                exited: AtomicBool::new(false),
            }),
            Err(error) if error.raw_os_error() == Some(Errno::SRCH.raw_os_error()) => {
                match rustix::process::test_kill_process(pid) {
                    Ok(()) | Err(Errno::PERM) => exited_already(),
                    Err(_) => Err(super::no_such_process(pid)),
                }
            }
            Err(error) => Err(error),
        }
    }

    pub(super) fn has_exited(&self) -> io::Result<bool> {
        if self.exited.load(Ordering::Acquire) {
            return Ok(true);
        }
        let seen = self.inner.do_read(|kq| {
            let events = take_events(kq)?;
            Ok(events
                .iter()
                .any(|event| matches!(event.filter(), EventFilter::Proc { .. })))
        })?;
        if seen {
            self.exited.store(true, Ordering::Release);
        }
        Ok(seen)
    }
}

/// The watch of a process that has exited: a pipe with a byte in it.
fn exited_already() -> io::Result<ProcWatch> {
    let (reader, writer) = crate::sys::unix::new_pipe()?;
    rustix::io::write(&writer, b"x")?;
    Ok(ProcWatch {
        inner: IoSource::new(reader),
        exited: AtomicBool::new(true),
    })
}

impl_source!(ProcWatch);
