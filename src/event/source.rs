use std::io;

use crate::trigger::{self, Trigger};
use crate::{Interest, Registry, Token};

/// Something that can be registered with a [`Registry`] to receive
/// readiness events.
///
/// evmux's own I/O types implement it. To make your own type a source, wrap
/// an existing one and forward the three methods to it (see
/// `evmux::unix::SourceFd` for raw descriptors); to let it take a trigger
/// mode other than edge, forward [`register_with`](Source::register_with)
/// and [`reregister_with`](Source::reregister_with) too. Applications do not
/// call these methods; they call [`Registry::register`] and friends, which
/// forward here.
///
/// # Examples
///
/// A type that forwards to a socket it owns:
///
/// ```
/// # #[cfg(all(unix, feature = "os-ext"))]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::io;
/// use std::os::unix::net::UnixDatagram;
/// use std::os::fd::AsRawFd;
///
/// use evmux::event::Source;
/// use evmux::unix::SourceFd;
/// use evmux::{Interest, Poll, Registry, Token};
///
/// struct Channel {
///     socket: UnixDatagram,
/// }
///
/// impl Source for Channel {
///     fn register(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
///         SourceFd(&self.socket.as_raw_fd()).register(registry, token, interests)
///     }
///
///     fn reregister(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
///         SourceFd(&self.socket.as_raw_fd()).reregister(registry, token, interests)
///     }
///
///     fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
///         SourceFd(&self.socket.as_raw_fd()).deregister(registry)
///     }
/// }
///
/// let poll = Poll::new()?;
/// let (socket, _peer) = UnixDatagram::pair()?;
/// socket.set_nonblocking(true)?;
/// let mut channel = Channel { socket };
/// poll.registry().register(&mut channel, Token(0), Interest::READABLE)?;
/// poll.registry().deregister(&mut channel)?;
/// # Ok(())
/// # }
/// # #[cfg(not(all(unix, feature = "os-ext")))]
/// # fn main() {}
/// ```
pub trait Source {
    /// Registers `self` with `registry`; called by [`Registry::register`].
    ///
    /// # Errors
    ///
    /// `AlreadyExists` if the source is already registered.
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()>;

    /// Changes the token and interest of a registered source; called by
    /// [`Registry::reregister`].
    ///
    /// # Errors
    ///
    /// `NotFound` if the source is not registered.
    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()>;

    /// Removes the registration; called by [`Registry::deregister`].
    ///
    /// # Errors
    ///
    /// `NotFound` if the source is not registered.
    fn deregister(&mut self, registry: &Registry) -> io::Result<()>;

    /// Registers `self` in the trigger mode `trigger`; called by
    /// [`Registry::register_with`], which has already checked the mode
    /// against the backend.
    ///
    /// Not part of mio's trait. The provided version handles
    /// [`Trigger::EDGE`] by calling [`register`](Source::register) and
    /// refuses every other mode with `ErrorKind::Unsupported`: a source that
    /// wraps others forwards the mode by implementing this method (and
    /// [`reregister_with`](Source::reregister_with)), handing `trigger` to
    /// the wrapped source whose mode it is. See the [`trigger`](crate::trigger)
    /// module.
    ///
    /// # Errors
    ///
    /// Those of `register`; `Unsupported` for a mode the source cannot have.
    ///
    /// # Examples
    ///
    /// A source with a descriptor of its own, registered in the mode the
    /// application asks for, and an internal wake-up channel that it
    /// always registers edge-triggered under another token:
    ///
    /// ```
    /// # #[cfg(all(unix, feature = "os-ext"))]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io;
    /// use std::os::fd::AsRawFd;
    /// use std::os::unix::net::UnixDatagram;
    ///
    /// use evmux::event::Source;
    /// use evmux::trigger::Trigger;
    /// use evmux::unix::SourceFd;
    /// use evmux::{Interest, Poll, Registry, Token};
    ///
    /// struct Channel {
    ///     socket: UnixDatagram,
    ///     wake: UnixDatagram,
    /// }
    ///
    /// const WAKE: Token = Token(usize::MAX);
    ///
    /// impl Source for Channel {
    ///     fn register(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
    ///         self.register_with(registry, token, interests, Trigger::EDGE)
    ///     }
    ///
    ///     fn reregister(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
    ///         self.reregister_with(registry, token, interests, Trigger::EDGE)
    ///     }
    ///
    ///     fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
    ///         registry.deregister(&mut SourceFd(&self.wake.as_raw_fd()))?;
    ///         registry.deregister(&mut SourceFd(&self.socket.as_raw_fd()))
    ///     }
    ///
    ///     fn register_with(
    ///         &mut self,
    ///         registry: &Registry,
    ///         token: Token,
    ///         interests: Interest,
    ///         trigger: Trigger,
    ///     ) -> io::Result<()> {
    ///         // Plain `register`: edge-triggered, whatever `trigger` is.
    ///         registry.register(&mut SourceFd(&self.wake.as_raw_fd()), WAKE, Interest::READABLE)?;
    ///         let socket = &mut SourceFd(&self.socket.as_raw_fd());
    ///         registry.register_with(socket, token, interests, trigger)
    ///     }
    ///
    ///     fn reregister_with(
    ///         &mut self,
    ///         registry: &Registry,
    ///         token: Token,
    ///         interests: Interest,
    ///         trigger: Trigger,
    ///     ) -> io::Result<()> {
    ///         let socket = &mut SourceFd(&self.socket.as_raw_fd());
    ///         registry.reregister_with(socket, token, interests, trigger)
    ///     }
    /// }
    ///
    /// let poll = Poll::new()?;
    /// let (socket, _peer) = UnixDatagram::pair()?;
    /// let (wake, _waker) = UnixDatagram::pair()?;
    /// let mut channel = Channel { socket, wake };
    /// poll.registry()
    ///     .register_with(&mut channel, Token(0), Interest::READABLE, Trigger::LEVEL)?;
    /// poll.registry().deregister(&mut channel)?;
    /// # Ok(())
    /// # }
    /// # #[cfg(not(all(unix, feature = "os-ext")))]
    /// # fn main() {}
    /// ```
    fn register_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        if trigger != Trigger::EDGE {
            return Err(trigger::not_forwarded(trigger));
        }
        self.register(registry, token, interests)
    }

    /// Re-registers `self` in the trigger mode `trigger`; called by
    /// [`Registry::reregister_with`]. The provided version is as
    /// [`register_with`](Source::register_with)'s, over
    /// [`reregister`](Source::reregister).
    ///
    /// # Errors
    ///
    /// Those of `reregister`; `Unsupported` for a mode the source cannot
    /// have.
    fn reregister_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        if trigger != Trigger::EDGE {
            return Err(trigger::not_forwarded(trigger));
        }
        self.reregister(registry, token, interests)
    }
}

impl<T> Source for Box<T>
where
    T: Source + ?Sized,
{
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        (**self).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        (**self).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        (**self).deregister(registry)
    }

    fn register_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        (**self).register_with(registry, token, interests, trigger)
    }

    fn reregister_with(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        (**self).reregister_with(registry, token, interests, trigger)
    }
}
