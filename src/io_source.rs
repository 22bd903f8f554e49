//! `IoSource<T>`: the one place that turns a non-blocking std I/O type into
//! an [`event::Source`].
//!
//! Every I/O call of the public types goes through [`IoSource::do_read`],
//! [`IoSource::do_write`] or [`IoSource::do_io`], so that a backend that
//! emulates edge triggering can re-arm the interest the call waits for
//! (readable, writable, or both) when it returns `WouldBlock`. The wrapper also remembers which
//! `Poll` the source is registered with, so that every backend reports a
//! double registration (`AlreadyExists`) or a missing one (`NotFound`) the
//! same way.

use std::ops::{Deref, DerefMut};
use std::{fmt, io};

use crate::{event, sys, Interest, Registry, Token};

pub(crate) struct IoSource<T> {
    state: sys::IoSourceState,
    inner: T,
    /// The id of the selector this source is registered with.
    registered_with: Option<usize>,
}

impl<T> IoSource<T> {
    pub(crate) fn new(io: T) -> IoSource<T> {
        IoSource {
            state: sys::IoSourceState::new(),
            inner: io,
            registered_with: None,
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

    /// Unwraps the inner type; the registration is not removed.
    pub(crate) fn into_inner(self) -> T {
        self.inner
    }

    fn check_unregistered(&self) -> io::Result<()> {
        match self.registered_with {
            None => Ok(()),
            Some(_) => Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the source is already registered with a Poll",
            )),
        }
    }

    fn check_registered_with(&self, registry: &Registry) -> io::Result<()> {
        match self.registered_with {
            Some(id) if id == registry.selector().id() => Ok(()),
            Some(_) => Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the source is registered with a different Poll",
            )),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                "the source is not registered",
            )),
        }
    }
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

impl<T: sys::AsRawSource> event::Source for IoSource<T> {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.check_unregistered()?;
        let selector = registry.selector();
        self.state
            .register(selector, self.inner.as_raw_source(), token, interests)?;
        self.registered_with = Some(selector.id());
        Ok(())
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.check_registered_with(registry)?;
        self.state.reregister(
            registry.selector(),
            self.inner.as_raw_source(),
            token,
            interests,
        )
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        self.check_registered_with(registry)?;
        self.state
            .deregister(registry.selector(), self.inner.as_raw_source())?;
        self.registered_with = None;
        Ok(())
    }
}

impl<T: fmt::Debug> fmt::Debug for IoSource<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
