//! `IoSource<T>`: the one place that turns a non-blocking std I/O type into
//! an [`event::Source`].
//!
//! Every I/O call of the public types goes through [`IoSource::do_read`],
//! [`IoSource::do_write`] or [`IoSource::do_io`], so that a backend that
//! emulates edge triggering can re-arm the interest the call waits for
//! (readable, writable, or both) when it returns `WouldBlock`.
//!
//! In debug builds the wrapper also remembers which `Poll` the source is
//! registered with and answers as mio does, with mio's messages: a second
//! registration is `AlreadyExists`, a `reregister` through another `Poll`
//! `AlreadyExists`, a `deregister` through another `Poll` `NotFound`.
//! Release builds leave that word out, so that a source costs what the std
//! type costs; the OS's own answers then apply: epoll reports a double
//! registration with the same `Poll` (`AlreadyExists`) or a missing one
//! (`NotFound`) itself, the table-based backends (poll(2), event ports)
//! answer as the debug check does, and kqueue cannot tell a second
//! registration from an update.

use std::ops::{Deref, DerefMut};
use std::{fmt, io};

use crate::trigger::Trigger;
use crate::{event, sys, Interest, Registry, Token};

pub(crate) struct IoSource<T> {
    // Field order matters: Rust drops fields in declaration order, so the
    // state (which removes a registration kept in evmux's own table, on
    // poll(2) and event ports) goes before `inner` closes the descriptor.
    // The other way round, another thread could open a new descriptor with
    // the same number in between, and the table would still watch it.
    state: sys::IoSourceState,
    inner: T,
    registered: Registered,
}

impl<T> IoSource<T> {
    pub(crate) fn new(io: T) -> IoSource<T> {
        IoSource {
            state: sys::IoSourceState::new(),
            inner: io,
            registered: Registered::default(),
        }
    }

    /// Runs an operation that waits for readable readiness: a read, a
    /// receive, a peek, an accept.
    pub(crate) fn do_read<F, R>(&self, f: F) -> io::Result<R>
    where
        F: FnOnce(&T) -> io::Result<R>,
    {
        self.state.do_io(f, &self.inner, Interest::READABLE)
    }

    /// Runs an operation that waits for writable readiness: a write, a
    /// send.
    pub(crate) fn do_write<F, R>(&self, f: F) -> io::Result<R>
    where
        F: FnOnce(&T) -> io::Result<R>,
    {
        self.state.do_io(f, &self.inner, Interest::WRITABLE)
    }

    /// Runs an operation that may wait for either readiness (`try_io`).
    pub(crate) fn do_io<F, R>(&self, f: F) -> io::Result<R>
    where
        F: FnOnce(&T) -> io::Result<R>,
    {
        self.state
            .do_io(f, &self.inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Unwraps the inner type. A registration the kernel keeps (epoll,
    /// kqueue) stays; one evmux keeps in a table (poll(2), event ports) ends
    /// here, as when the source is dropped.
    pub(crate) fn into_inner(self) -> T {
        self.inner
    }
}

/// The `Poll` a source is registered with, in debug builds; nothing in
/// release builds (see the module docs).
#[derive(Default)]
struct Registered {
    #[cfg(debug_assertions)]
    with: Option<usize>,
}

#[cfg(debug_assertions)]
impl Registered {
    fn check_unregistered(&self) -> io::Result<()> {
        match self.with {
            None => Ok(()),
            Some(_) => Err(sys::already_registered()),
        }
    }

    /// For `reregister`: mio's answers, `AlreadyExists` if the source is
    /// registered with another `Poll`.
    fn check_registered_with(&self, registry: &Registry) -> io::Result<()> {
        match self.with {
            Some(id) if id == registry.selector().id() => Ok(()),
            Some(_) => Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "I/O source already registered with a different `Registry`",
            )),
            None => Err(sys::not_registered()),
        }
    }

    /// For `deregister`: mio's answer, `NotFound` unless registered with
    /// this `Poll`.
    fn check_deregister(&self, registry: &Registry) -> io::Result<()> {
        match self.with {
            Some(id) if id == registry.selector().id() => Ok(()),
            _ => Err(sys::not_registered()),
        }
    }

    fn set(&mut self, registry: Option<&Registry>) {
        self.with = registry.map(|registry| registry.selector().id());
    }
}

#[cfg(not(debug_assertions))]
impl Registered {
    fn check_unregistered(&self) -> io::Result<()> {
        Ok(())
    }

    fn check_registered_with(&self, _: &Registry) -> io::Result<()> {
        Ok(())
    }

    fn check_deregister(&self, _: &Registry) -> io::Result<()> {
        Ok(())
    }

    fn set(&mut self, _: Option<&Registry>) {}
}

impl<T> Deref for IoSource<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> DerefMut for IoSource<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

/// `register` and `reregister` are mio's: edge-triggered. The mode travels
/// as an argument down to the selector (see `crate::trigger`).
impl<T: sys::AsRawSource> event::Source for IoSource<T> {
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
        self.registered.check_deregister(registry)?;
        let source = self.inner.as_raw_source();
        self.state.deregister(registry.selector(), source)?;
        self.registered.set(None);
        Ok(())
    }

    fn register_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        self.registered.check_unregistered()?;
        let source = self.inner.as_raw_source();
        self.state
            .register(registry.selector(), source, token, interests, trigger)?;
        self.registered.set(Some(registry));
        Ok(())
    }

    fn reregister_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        self.registered.check_registered_with(registry)?;
        self.state.reregister(
            registry.selector(),
            self.inner.as_raw_source(),
            token,
            interests,
            trigger,
        )
    }
}

impl<T: fmt::Debug> fmt::Debug for IoSource<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
