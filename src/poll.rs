use std::fmt;
use std::io;
#[cfg(evmux_selector_fd)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use crate::event::Source;
use crate::wake_dedup::{WakeDedup, WakeState};
use crate::{sys, Events, Interest, Token};

/// The event loop's core: waits for readiness of registered sources.
///
/// A `Poll` owns one OS readiness queue (an epoll instance on Linux, a
/// kqueue on macOS and the BSDs, ...). Sources are added through its
/// [`Registry`], from any thread; one thread at a time calls
/// [`poll`](Poll::poll) and receives [`Events`].
///
/// # Readiness is edge-triggered
///
/// evmux reports a change of readiness once. After an event, the application
/// must perform the operation (read, write, accept) until it returns
/// [`io::ErrorKind::WouldBlock`]; only then is the next event guaranteed.
/// Stopping earlier can leave data waiting with no event to announce it.
/// The [`guide`](crate::guide) shows the pattern.
///
/// # Portability notes
///
/// - Events are hints: a spurious event, or one whose operation returns
///   `WouldBlock`, must be handled. Sources must be non-blocking; evmux's own
///   types are.
/// - Read- and write-closed, error and priority flags differ between OSes;
///   see [`Event`](crate::event::Event).
/// - A descriptor must be deregistered before it is closed, or it may keep
///   producing events while a duplicate of it is open.
/// - Where the OS has no edge-triggered mechanism (the poll(2) backend,
///   and Windows, whose AFD poll requests are one-shot), evmux emulates
///   it: an interest that fired is re-armed by `reregister`, and by evmux's
///   own I/O calls on the source: on poll(2) by the next call whatever its
///   result, on Windows by a call that returns `WouldBlock` or fails (as
///   mio does). I/O done on the raw descriptor or socket behind evmux's
///   back re-arms nothing, so a raw descriptor registered through
///   `SourceFd` needs `reregister` on poll(2); the table in
///   `unix::SourceFd`'s docs lists every backend.
/// - Several `Poll`s may exist; a source belongs to at most one at a time.
///
/// # Examples
///
/// A waker as the only source:
///
/// ```
/// # #[cfg(feature = "os-poll")]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use std::thread;
/// use std::time::Duration;
///
/// use evmux::{Events, Poll, Token, Waker};
///
/// let mut poll = Poll::new()?;
/// // Shared, so that it outlives the wake: dropping a waker removes it,
/// // along with an event not yet collected.
/// let waker = Arc::new(Waker::new(poll.registry(), Token(0))?);
///
/// let remote = Arc::clone(&waker);
/// let handle = thread::spawn(move || remote.wake());
///
/// let mut events = Events::with_capacity(16);
/// loop {
///     poll.poll(&mut events, Some(Duration::from_secs(10)))?;
///     if events.iter().any(|event| event.token() == Token(0)) {
///         break;
///     }
/// }
/// handle.join().unwrap()?;
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "os-poll"))]
/// # fn main() {}
/// ```
pub struct Poll {
    registry: Registry,
    /// `poll`'s copy of the wakers' states (see `crate::wake_dedup`).
    wakers: Vec<(Token, Arc<WakeState>)>,
}

/// Registers [`Source`]s with a [`Poll`].
///
/// Obtained from [`Poll::registry`]; [`try_clone`](Registry::try_clone)
/// makes an owned handle for other threads. A `Registry` is `Send` and
/// `Sync`: other threads may register, reregister and deregister while
/// `poll` blocks, and their changes apply to that call.
pub struct Registry {
    selector: sys::Selector,
    wake_dedup: Arc<WakeDedup>,
}

impl Poll {
    /// Creates a `Poll` with its own OS readiness queue.
    ///
    /// # Errors
    ///
    /// The OS's errors for creating the queue (for example `EMFILE` when the
    /// process is out of descriptors), or `Unsupported` on a target without
    /// a backend.
    ///
    /// Like mio's, this function exists only with the `os-poll` feature:
    /// forgetting the feature fails at compile time.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use evmux::Poll;
    ///
    /// let poll = Poll::new()?;
    /// # let _ = poll;
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    #[cfg(feature = "os-poll")]
    #[cfg_attr(docsrs, doc(cfg(feature = "os-poll")))]
    pub fn new() -> io::Result<Poll> {
        let selector = sys::Selector::new()?;
        Ok(Poll {
            registry: Registry {
                selector,
                wake_dedup: Arc::default(),
            },
            wakers: Vec::new(),
        })
    }

    /// The registry that adds sources to this `Poll`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(feature = "os-poll", feature = "net"))]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use evmux::net::UdpSocket;
    /// use evmux::{Interest, Poll, Token};
    ///
    /// let poll = Poll::new()?;
    /// let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// // Sources are added through the registry.
    /// poll.registry().register(&mut socket, Token(0), Interest::READABLE)?;
    /// # Ok(())
    /// # }
    /// # #[cfg(not(all(feature = "os-poll", feature = "net")))]
    /// # fn main() {}
    /// ```
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Waits for readiness events and stores them in `events`.
    ///
    /// `events` is cleared first. The call returns when at least one event
    /// is available, a [`Waker`](crate::Waker) wakes it, or `timeout`
    /// passes; it may also return early with no events, so callers loop.
    ///
    /// - `None` waits as long as it takes.
    /// - `Some(Duration::ZERO)` returns at once with what is ready.
    /// - Any other timeout is never rounded down to zero. Where the OS
    ///   takes milliseconds, sub-millisecond parts round up; on Linux 5.11
    ///   and later the timeout is honoured to the nanosecond
    ///   (`epoll_pwait2`). Very long timeouts (weeks, `Duration::MAX`)
    ///   neither overflow nor panic; the OS may end them early.
    ///
    /// At most `events.capacity()` events are returned; the rest wait for the
    /// next call. With a capacity of zero, the call waits as above but takes
    /// no events (see [`Events`]).
    ///
    /// # Errors
    ///
    /// - [`io::ErrorKind::Interrupted`] if a signal arrived during the wait;
    ///   no event is lost, call `poll` again.
    /// - The OS's other errors, which do not occur in normal operation.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use evmux::{Events, Poll};
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(64);
    ///
    /// // Nothing is registered, so this returns after about 10 ms.
    /// poll.poll(&mut events, Some(Duration::from_millis(10)))?;
    /// assert!(events.is_empty());
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn poll(&mut self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        self.registry.selector.select(events.sys(), timeout)?;
        if !events.is_empty() {
            let returned = |token| events.iter().any(|event| event.token() == token);
            self.registry
                .wake_dedup
                .events_returned(&mut self.wakers, returned);
        }
        Ok(())
    }
}

impl Registry {
    /// Registers `source` for the readiness in `interests`; its events will
    /// carry `token`.
    ///
    /// Readiness is edge-triggered: after an event, perform the operation
    /// until it returns `WouldBlock` (see [`Poll`]). A source that is
    /// already ready when it is registered produces an event at once.
    ///
    /// # Errors
    ///
    /// - `AlreadyExists` if the source is already registered with this
    ///   `Poll` (kqueue cannot tell a raw descriptor's second registration
    ///   from an update), or, in debug builds, one of evmux's own types with
    ///   another `Poll`.
    /// - The OS's errors, e.g. `EBADF` for a closed descriptor or `EPERM`
    ///   for a regular file, which epoll cannot watch.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(unix, feature = "os-ext"))]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::os::fd::AsRawFd;
    /// use std::os::unix::net::UnixStream;
    ///
    /// use evmux::unix::SourceFd;
    /// use evmux::{Interest, Poll, Token};
    ///
    /// let poll = Poll::new()?;
    /// let (stream, _peer) = UnixStream::pair()?;
    /// stream.set_nonblocking(true)?;
    ///
    /// let fd = stream.as_raw_fd();
    /// poll.registry()
    ///     .register(&mut SourceFd(&fd), Token(0), Interest::READABLE | Interest::WRITABLE)?;
    /// # Ok(())
    /// # }
    /// # #[cfg(not(all(unix, feature = "os-ext")))]
    /// # fn main() {}
    /// ```
    pub fn register<S>(&self, source: &mut S, token: Token, interests: Interest) -> io::Result<()>
    where
        S: Source + ?Sized,
    {
        trace!(
            "registering source: token={:?}, interests={:?}",
            token,
            interests
        );
        source.register(self, token, interests)
    }

    /// Changes the token and interest of a registered source.
    ///
    /// The new interest replaces the old one. Re-registering also re-arms
    /// the source: if it is ready now, an event follows. As in mio, the
    /// registration is edge-triggered afterwards, even one made with
    /// [`register_with`](Registry::register_with): the trigger mode belongs
    /// to each call ([`reregister_with`](Registry::reregister_with) keeps
    /// another one; see the [`trigger`](crate::trigger) module).
    ///
    /// # Errors
    ///
    /// - `NotFound` if the source is not registered with this `Poll`
    ///   (kqueue cannot tell, for a raw descriptor: it registers it).
    /// - In debug builds, `AlreadyExists` if one of evmux's own types is
    ///   registered with another `Poll`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(unix, feature = "os-ext"))]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::os::fd::AsRawFd;
    /// use std::os::unix::net::UnixStream;
    ///
    /// use evmux::unix::SourceFd;
    /// use evmux::{Interest, Poll, Token};
    ///
    /// let poll = Poll::new()?;
    /// let (stream, _peer) = UnixStream::pair()?;
    /// stream.set_nonblocking(true)?;
    ///
    /// let fd = stream.as_raw_fd();
    /// poll.registry().register(&mut SourceFd(&fd), Token(0), Interest::READABLE)?;
    /// poll.registry().reregister(&mut SourceFd(&fd), Token(1), Interest::WRITABLE)?;
    /// # Ok(())
    /// # }
    /// # #[cfg(not(all(unix, feature = "os-ext")))]
    /// # fn main() {}
    /// ```
    pub fn reregister<S>(&self, source: &mut S, token: Token, interests: Interest) -> io::Result<()>
    where
        S: Source + ?Sized,
    {
        trace!(
            "reregistering source: token={:?}, interests={:?}",
            token,
            interests
        );
        source.reregister(self, token, interests)
    }

    /// Removes a source: later `poll` calls return no events for it, even
    /// ones the OS had queued. Events already returned in an `Events` stay
    /// there.
    ///
    /// Deregister a source before closing it.
    ///
    /// # Errors
    ///
    /// `NotFound` if the source is not registered with this `Poll`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(unix, feature = "os-ext"))]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::os::fd::AsRawFd;
    /// use std::os::unix::net::UnixStream;
    ///
    /// use evmux::unix::SourceFd;
    /// use evmux::{Interest, Poll, Token};
    ///
    /// let poll = Poll::new()?;
    /// let (stream, _peer) = UnixStream::pair()?;
    /// stream.set_nonblocking(true)?;
    ///
    /// let fd = stream.as_raw_fd();
    /// poll.registry().register(&mut SourceFd(&fd), Token(0), Interest::READABLE)?;
    /// poll.registry().deregister(&mut SourceFd(&fd))?;
    /// # Ok(())
    /// # }
    /// # #[cfg(not(all(unix, feature = "os-ext")))]
    /// # fn main() {}
    /// ```
    pub fn deregister<S>(&self, source: &mut S) -> io::Result<()>
    where
        S: Source + ?Sized,
    {
        trace!("deregistering source");
        source.deregister(self)
    }

    /// Creates another handle to the same `Poll`, for another thread.
    ///
    /// # Errors
    ///
    /// The OS's errors for duplicating a descriptor (e.g. `EMFILE`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(feature = "os-poll", feature = "net"))]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use evmux::net::UdpSocket;
    /// use evmux::{Events, Interest, Poll, Token};
    ///
    /// let mut poll = Poll::new()?;
    /// // A registry of its own for another thread, registering with this `Poll`.
    /// let registry = poll.registry().try_clone()?;
    /// let socket = std::thread::spawn(move || -> std::io::Result<UdpSocket> {
    ///     let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    ///     registry.register(&mut socket, Token(0), Interest::WRITABLE)?;
    ///     Ok(socket)
    /// })
    /// .join()
    /// .unwrap()?;
    ///
    /// let mut events = Events::with_capacity(8);
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// assert!(events.iter().any(|event| event.token() == Token(0)));
    /// # drop(socket);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(all(feature = "os-poll", feature = "net")))]
    /// # fn main() {}
    /// ```
    pub fn try_clone(&self) -> io::Result<Registry> {
        let selector = self.selector.try_clone()?;
        let wake_dedup = Arc::clone(&self.wake_dedup);
        Ok(Registry {
            selector,
            wake_dedup,
        })
    }

    /// The wakers' states, which let them skip redundant wakes.
    pub(crate) fn wake_dedup(&self) -> &Arc<WakeDedup> {
        &self.wake_dedup
    }

    /// The backend, for sources and wakers.
    pub(crate) fn selector(&self) -> &sys::Selector {
        &self.selector
    }
}

impl fmt::Debug for Poll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poll")
            .field("backend", &sys::backend_name(self.registry.selector()))
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The id tells which `Poll` a registry (or a clone of it) serves.
        f.debug_struct("Registry")
            .field("poll_id", &self.selector.id())
            .finish()
    }
}

/// The descriptor of the OS readiness queue (epoll, kqueue, event ports).
///
/// On every Unix whose backend is one descriptor: not where `Poll` runs on
/// poll(2) (Haiku, GNU/Hurd, `--cfg evmux_force_poll`).
#[cfg(evmux_selector_fd)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
impl AsRawFd for Poll {
    fn as_raw_fd(&self) -> RawFd {
        self.registry.as_raw_fd()
    }
}

/// The descriptor of the OS readiness queue (epoll, kqueue, event ports).
///
/// On every Unix whose backend is one descriptor: not where `Poll` runs on
/// poll(2) (Haiku, GNU/Hurd, `--cfg evmux_force_poll`).
#[cfg(evmux_selector_fd)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
impl AsFd for Poll {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.registry.as_fd()
    }
}

/// The descriptor of the OS readiness queue (epoll, kqueue, event ports).
///
/// On every Unix whose backend is one descriptor: not where `Poll` runs on
/// poll(2) (Haiku, GNU/Hurd, `--cfg evmux_force_poll`).
#[cfg(evmux_selector_fd)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
impl AsRawFd for Registry {
    fn as_raw_fd(&self) -> RawFd {
        self.selector.as_raw_fd()
    }
}

/// The descriptor of the OS readiness queue (epoll, kqueue, event ports).
///
/// On every Unix whose backend is one descriptor: not where `Poll` runs on
/// poll(2) (Haiku, GNU/Hurd, `--cfg evmux_force_poll`).
#[cfg(evmux_selector_fd)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
impl AsFd for Registry {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.selector.as_fd()
    }
}
