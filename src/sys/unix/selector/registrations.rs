//! The registration table of the selectors that keep registrations
//! themselves (poll(2), on Unix and WASI preview 2, event ports, WASI
//! preview 1), written once.
//!
//! # Closed descriptors and reused numbers
//!
//! epoll forgets a registration when its descriptor is closed, and a new
//! descriptor that gets the same number can be registered. A table keyed by
//! number cannot see the close, so each registration remembers which open
//! file it was made for: its device and inode, from fstat(2). When a number
//! is registered, re-registered or deregistered and the table holds an
//! entry for a different file under it, that entry is stale (the number was
//! closed without `deregister` and reused) and is dropped: the call then
//! behaves as on epoll. The poll(2) selector also drops an entry when the
//! kernel reports its number closed (`POLLNVAL`), or when a raw
//! registration reports and its number now names another file.
//!
//! Descriptors without an inode of their own (Linux's eventfd, timerfd,
//! signalfd and epoll share one anonymous inode) cannot be told apart
//! this way: deregister those before closing them. On WASI the identity
//! comes from `fd_filestat_get` (preview 1) or wasi-libc's fstat (preview
//! 2); a descriptor the host cannot describe (some hosts' sockets) gets
//! none, and its number alone identifies it.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, RawFd};

use crate::sys::poll_events::{
    closed_by, disarmed, rearmed, reported, Event, Flags, FAILURE, POLLNVAL,
};
use crate::sys::RawSource;
use crate::trigger::Kind;
use crate::Token;

/// Which open file a descriptor number names: (device, inode).
pub(crate) type Identity = (u64, u64);

/// The open file behind the number `fd`; `EBADF` if it is closed.
///
/// Takes a number, not a `BorrowedFd`: it is also asked about numbers that
/// may have been closed, which fstat(2) answers safely.
#[cfg(unix)]
pub(crate) fn identity(fd: RawFd) -> io::Result<Identity> {
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes one `stat` into the buffer and reads nothing of
    // ours; a closed or invalid number makes it fail with EBADF.
    if unsafe { libc::fstat(fd, stat.as_mut_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fstat succeeded, so it initialised the struct.
    let stat = unsafe { stat.assume_init() };
    // The field types differ between systems.
    #[allow(clippy::unnecessary_cast)]
    Ok((stat.st_dev as u64, stat.st_ino as u64))
}

/// The open file behind the number `fd`, from wasi-libc's fstat (WASI
/// preview 2); `EBADF` if it is closed, (0, 0) if the host cannot describe
/// it. wasi-libc's fstat knows files only: a socket's number is checked
/// with getsockopt(2) (`SO_DOMAIN`) instead, and has no identity.
#[cfg(wasip2)]
pub(crate) fn identity(fd: RawFd) -> io::Result<Identity> {
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes one `stat` into the buffer and reads nothing of
    // ours; a closed or invalid number makes it fail with EBADF.
    if unsafe { libc::fstat(fd, stat.as_mut_ptr()) } == 0 {
        // SAFETY: fstat succeeded, so it initialised the struct.
        let stat = unsafe { stat.assume_init() };
        return Ok((stat.st_dev, stat.st_ino));
    }
    let mut domain: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the pointer and length describe `domain`, an exclusively
    // borrowed `c_int` that getsockopt writes at most `len` bytes of; a
    // closed number makes it fail with EBADF.
    let result = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_DOMAIN,
            (&raw mut domain).cast(),
            &mut len,
        )
    };
    let error = io::Error::last_os_error();
    if result < 0 && error.raw_os_error() == Some(libc::EBADF) {
        Err(error)
    } else {
        Ok((0, 0))
    }
}

/// The open file behind the number `fd`, from WASI's `fd_filestat_get`;
/// `EBADF` if it is closed, (0, 0) if the host cannot describe it.
#[cfg(wasip1)]
pub(crate) fn identity(fd: RawFd) -> io::Result<Identity> {
    let Ok(number) = wasi::Fd::try_from(fd) else {
        return Err(io::Error::from_raw_os_error(wasi::ERRNO_BADF.raw().into()));
    };
    // SAFETY: fd_filestat_get only reads the number, which it checks (a
    // closed one fails with EBADF), and returns the record by value.
    match unsafe { wasi::fd_filestat_get(number) } {
        Ok(stat) => Ok((stat.dev, stat.ino)),
        Err(errno) if errno == wasi::ERRNO_BADF => {
            Err(io::Error::from_raw_os_error(errno.raw().into()))
        }
        Err(_) => Ok((0, 0)),
    }
}

/// One registration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Registration {
    pub(crate) fd: RawFd,
    pub(crate) token: Token,
    /// What the registration asked for, as poll(2) flags.
    pub(crate) interests: Flags,
    /// What is armed now: the interests minus what fired and was not
    /// re-armed since.
    pub(crate) armed: Flags,
    /// Sides reported closed since the last (re)registration (`closed_by`).
    pub(crate) closed: Flags,
    /// A failure was reported and nothing was re-armed since.
    pub(crate) failed: bool,
    /// Distinguishes successive registrations of one number.
    pub(crate) generation: u64,
    /// Registered through `SourceFd`: no evmux I/O call re-arms it.
    pub(crate) raw: bool,
    /// The trigger mode (`crate::trigger`): edge is emulated as described
    /// above; level disarms nothing; one-shot disarms everything.
    pub(crate) trigger: Kind,
    /// A one-shot registration delivered its event: nothing but
    /// `reregister` arms it again, and it is left out of the wait.
    pub(crate) spent: bool,
    identity: Identity,
}

impl Registration {
    /// Changes the token, interests and trigger mode, and arms all the
    /// interests.
    pub(crate) fn rearm_all(&mut self, token: Token, interests: Flags, trigger: Kind) {
        self.trigger = trigger;
        self.spent = false;
        self.token = token;
        self.interests = interests;
        self.armed = interests;
        self.closed = 0;
        self.failed = false;
    }

    /// Arms the sides among `flags` after an I/O call that `succeeded` or
    /// not (see `rearmed`); returns true if anything changed.
    pub(crate) fn rearm(&mut self, flags: Flags, succeeded: bool) -> bool {
        if self.trigger != Kind::Edge {
            // Level: nothing was disarmed; one-shot: only `reregister`.
            return false;
        }
        let flags = rearmed(flags, self.closed, succeeded) & self.interests;
        let armed = self.armed | flags;
        let changed = armed != self.armed || (self.failed && flags != 0);
        self.armed = armed;
        self.failed &= flags == 0;
        changed
    }

    /// Records that `fired` was reported: disarms it (`disarmed`) and
    /// remembers closed sides. Returns true for a raw registration that
    /// lost an armed flag, which nothing but the selector will re-arm.
    pub(crate) fn delivered(&mut self, fired: Flags) -> bool {
        match self.trigger {
            Kind::Edge => {}
            Kind::Level => return false,
            Kind::OneShot => {
                self.armed = 0;
                self.spent = true;
                return false;
            }
        }
        let was_armed = self.armed;
        self.closed |= closed_by(fired);
        self.failed |= fired & FAILURE != 0;
        self.armed = disarmed(self.armed, fired);
        self.raw && self.armed != was_armed
    }

    /// The flags of `revents` this registration reports: what is armed,
    /// and failures, which the kernel reports unasked.
    // Only the selectors that poll the descriptors themselves.
    #[cfg_attr(
        not(any(evmux_selector = "poll", evmux_selector = "wasi")),
        allow(dead_code)
    )]
    pub(crate) fn reportable(&self, revents: Flags) -> Flags {
        if self.spent {
            return 0;
        }
        revents & (self.armed | FAILURE)
    }

    /// Whether the descriptor is still in the poll(2) set: while anything
    /// is armed, and with nothing armed until a failure is reported (the
    /// kernel reports one unasked), so that a hung-up descriptor cannot
    /// make `poll` spin.
    // Only the poll(2) selector watches for failures alone.
    #[cfg_attr(not(evmux_selector = "poll"), allow(dead_code))]
    pub(crate) fn watched(&self) -> bool {
        !self.spent && (self.armed != 0 || !self.failed)
    }

    /// Whether `fd`'s number still names the file this was registered for.
    // Only the selectors that poll the descriptors themselves.
    #[cfg_attr(
        not(any(evmux_selector = "poll", evmux_selector = "wasi")),
        allow(dead_code)
    )]
    pub(crate) fn is_current(&self) -> bool {
        identity(self.fd).is_ok_and(|identity| identity == self.identity)
    }
}

/// Where a registration lives, for `IoSourceState` to re-arm or drop it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Handle {
    fd: RawFd,
    generation: u64,
}

/// The registrations, dense (so that poll(2) is handed only live ones), with
/// an index by descriptor number.
#[derive(Default)]
pub(crate) struct Registrations {
    entries: Vec<Registration>,
    by_fd: HashMap<RawFd, usize>,
    next_generation: u64,
}

impl Registrations {
    pub(crate) fn entries(&self) -> &[Registration] {
        &self.entries
    }

    // Event ports change entries in place; the others go through the
    // methods below.
    #[cfg_attr(
        not(any(all(test, unix), evmux_selector = "event_ports")),
        allow(dead_code)
    )]
    pub(crate) fn get_mut(&mut self, index: usize) -> &mut Registration {
        &mut self.entries[index]
    }

    /// Adds a registration of `fd`: `AlreadyExists` if the same file is
    /// registered, `EBADF` if `fd` is closed. A stale entry for the number
    /// is replaced. Returns the new entry's index and handle.
    pub(crate) fn insert(
        &mut self,
        fd: RawSource<'_>,
        token: Token,
        interests: Flags,
        raw: bool,
        trigger: Kind,
    ) -> io::Result<(usize, Handle)> {
        let fd = fd.as_raw_fd();
        let identity = identity(fd)?;
        if let Some(&index) = self.by_fd.get(&fd) {
            if self.entries[index].identity == identity {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "the descriptor is already registered",
                ));
            }
            self.remove(index);
        }
        let generation = self.next_generation;
        self.next_generation += 1;
        self.entries.push(Registration {
            fd,
            token,
            interests,
            armed: interests,
            closed: 0,
            failed: false,
            generation,
            raw,
            trigger,
            spent: false,
            identity,
        });
        let index = self.entries.len() - 1;
        self.by_fd.insert(fd, index);
        Ok((index, Handle { fd, generation }))
    }

    /// The index of `fd`'s registration: `NotFound` if there is none (or
    /// only a stale one, which is dropped), `EBADF` if `fd` is closed, as
    /// epoll reports.
    pub(crate) fn find(&mut self, fd: RawSource<'_>) -> io::Result<usize> {
        let fd = fd.as_raw_fd();
        let identity = identity(fd)?;
        match self.by_fd.get(&fd) {
            Some(&index) if self.entries[index].identity == identity => Ok(index),
            found => {
                if let Some(&stale) = found {
                    self.remove(stale);
                }
                Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "the descriptor is not registered",
                ))
            }
        }
    }

    /// The index of `handle`'s registration, if it still exists.
    pub(crate) fn index_of(&self, handle: Handle) -> Option<usize> {
        self.index_of_generation(handle.fd, handle.generation)
    }

    /// The index of the registration of `fd` made as `generation`.
    pub(crate) fn index_of_generation(&self, fd: RawFd, generation: u64) -> Option<usize> {
        let index = *self.by_fd.get(&fd)?;
        (self.entries[index].generation == generation).then_some(index)
    }

    /// Removes the registration at `index`; the last one takes its place.
    pub(crate) fn remove(&mut self, index: usize) -> Registration {
        let removed = self.entries.swap_remove(index);
        self.by_fd.remove(&removed.fd);
        if let Some(moved) = self.entries.get(index) {
            self.by_fd.insert(moved.fd, index);
        }
        removed
    }

    /// `reregister`: changes `fd`'s registration and arms all of it. Errors
    /// as `find`, which may have dropped a stale entry (a change too).
    // Event ports keep their own bookkeeping around the table.
    #[cfg_attr(evmux_selector = "event_ports", allow(dead_code))]
    pub(crate) fn modify(
        &mut self,
        fd: RawSource<'_>,
        token: Token,
        interests: Flags,
        trigger: Kind,
    ) -> io::Result<()> {
        let index = self.find(fd)?;
        self.entries[index].rearm_all(token, interests, trigger);
        Ok(())
    }

    /// `deregister`: removes `fd`'s registration. Errors as `find`.
    // Event ports keep their own bookkeeping around the table.
    #[cfg_attr(evmux_selector = "event_ports", allow(dead_code))]
    pub(crate) fn remove_fd(&mut self, fd: RawSource<'_>) -> io::Result<()> {
        let index = self.find(fd)?;
        self.remove(index);
        Ok(())
    }

    /// Re-arms `handle`'s registration, if it still exists, after an I/O
    /// call (`Registration::rearm`); returns true if anything changed.
    // Event ports keep their own bookkeeping around the table.
    #[cfg_attr(evmux_selector = "event_ports", allow(dead_code))]
    pub(crate) fn rearm(&mut self, handle: Handle, flags: Flags, succeeded: bool) -> bool {
        self.index_of(handle)
            .is_some_and(|index| self.entries[index].rearm(flags, succeeded))
    }

    /// Removes the registration of a source being dropped, if it still
    /// exists; returns true if it did.
    // Event ports keep their own bookkeeping around the table.
    #[cfg_attr(evmux_selector = "event_ports", allow(dead_code))]
    pub(crate) fn forget(&mut self, handle: Handle) -> bool {
        let index = self.index_of(handle);
        if let Some(index) = index {
            self.remove(index);
        }
        index.is_some()
    }

    /// Handles what the registration at `index` reported (`revents`): an
    /// event (the flags that fired are disarmed), nothing (a flag no longer
    /// armed), or the removal of a registration whose descriptor was closed
    /// (`POLLNVAL`, or a raw registration whose number now names another
    /// file): epoll reports nothing for those.
    // Only the selectors that poll the descriptors themselves.
    #[cfg_attr(
        not(any(evmux_selector = "poll", evmux_selector = "wasi")),
        allow(dead_code)
    )]
    pub(crate) fn report(&mut self, index: usize, revents: Flags) -> Report {
        let registration = &self.entries[index];
        let gone = revents & POLLNVAL != 0 || (registration.raw && !registration.is_current());
        if gone {
            self.remove(index);
            return Report::Removed;
        }
        let flags = reported(registration.reportable(revents));
        if flags == 0 {
            return Report::Nothing;
        }
        let registration = &mut self.entries[index];
        registration.delivered(flags);
        Report::Event(Event {
            token: registration.token,
            flags: flags & (registration.interests | FAILURE),
        })
    }
}

/// What one ready registration gave (`Registrations::report`).
#[cfg_attr(
    not(any(evmux_selector = "poll", evmux_selector = "wasi")),
    allow(dead_code)
)]
pub(crate) enum Report {
    Event(Event),
    Nothing,
    /// Removed: the table moved its last registration into the hole.
    Removed,
}

// The tests make pipes, which WASI preview 1 cannot.
#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::sys::poll_events::interest_flags;
    use crate::Interest;
    use std::os::fd::{AsFd, OwnedFd};

    fn pipe() -> (OwnedFd, OwnedFd) {
        rustix::pipe::pipe().unwrap()
    }

    #[test]
    fn a_number_closed_without_deregister_can_be_registered_again() {
        let mut table = Registrations::default();
        let read = interest_flags(Interest::READABLE);
        let (mut a, _a_writer) = pipe();
        table
            .insert(a.as_fd(), Token(1), read, true, Kind::Edge)
            .unwrap();
        let twice = table
            .insert(a.as_fd(), Token(1), read, true, Kind::Edge)
            .unwrap_err();
        assert_eq!(twice.kind(), io::ErrorKind::AlreadyExists);
        assert!(table.entries()[0].is_current());
        // The number now names another file, as after close and reuse.
        let (b, _b_writer) = pipe();
        rustix::io::dup2(&b, &mut a).unwrap();
        assert!(!table.entries()[0].is_current());
        let missing = table.find(a.as_fd()).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        assert!(table.entries().is_empty());
        table
            .insert(a.as_fd(), Token(2), read, true, Kind::Edge)
            .unwrap();
        // And a registration can replace a stale entry directly.
        let (c, _c_writer) = pipe();
        rustix::io::dup2(&c, &mut a).unwrap();
        table
            .insert(a.as_fd(), Token(3), read, true, Kind::Edge)
            .unwrap();
        assert_eq!(table.entries().len(), 1);
        assert_eq!(table.entries()[0].token, Token(3));
    }

    #[test]
    fn removal_keeps_the_table_dense_and_handles_valid() {
        let mut table = Registrations::default();
        let read = interest_flags(Interest::READABLE);
        let pipes: Vec<_> = (0..3).map(|_| pipe()).collect();
        let handles: Vec<Handle> = pipes
            .iter()
            .enumerate()
            .map(|(i, (r, _))| {
                table
                    .insert(r.as_fd(), Token(i), read, false, Kind::Edge)
                    .unwrap()
                    .1
            })
            .collect();
        let first = table.index_of(handles[0]).unwrap();
        table.remove(first);
        assert_eq!(table.entries().len(), 2);
        assert!(table.index_of(handles[0]).is_none());
        for (i, handle) in handles.iter().enumerate().skip(1) {
            let index = table.index_of(*handle).unwrap();
            assert_eq!(table.entries()[index].token, Token(i));
        }
    }

    #[test]
    fn a_failure_leaves_the_set_until_rearmed() {
        let both = interest_flags(Interest::READABLE | Interest::WRITABLE);
        let (r, _w) = pipe();
        let mut table = Registrations::default();
        let (index, _) = table
            .insert(r.as_fd(), Token(0), both, false, Kind::Edge)
            .unwrap();
        let entry = table.get_mut(index);
        assert!(!entry.delivered(libc::POLLOUT));
        assert!(entry.watched());
        entry.delivered(libc::POLLHUP);
        assert!(!entry.watched());
        // A successful read does not bring the hangup back...
        assert!(!entry.rearm(libc::POLLIN, true));
        assert!(!entry.watched());
        // ...WouldBlock does.
        assert!(entry.rearm(libc::POLLIN, false));
        assert!(entry.watched());
    }
}
