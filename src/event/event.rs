use std::fmt;

use crate::{sys, Token};

/// One readiness report from [`Poll::poll`].
///
/// An event says that its source is, or was recently, ready; it is a hint,
/// not a promise. The operation it suggests can still return `WouldBlock`,
/// and the application must then wait for the next event. Spurious events
/// are possible, so code must not assume that an event means data.
///
/// Which flags an OS reports, and when, differs: each query below lists the
/// portable meaning, and the backend's module docs list the exact mapping.
///
/// [`Poll::poll`]: crate::Poll::poll
#[derive(Clone)]
#[repr(transparent)]
pub struct Event {
    inner: sys::Event,
}

impl Event {
    /// Reinterprets the backend's record as an `Event`.
    pub(crate) fn from_sys_event_ref(sys_event: &sys::Event) -> &Event {
        // SAFETY: `Event` is `repr(transparent)` over `sys::Event`, so both
        // have the same layout and the reference stays valid for as long as
        // the borrowed record.
        unsafe { &*(sys_event as *const sys::Event as *const Event) }
    }

    /// The token the source was registered with.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use evmux::{Events, Poll, Token, Waker};
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let waker = Waker::new(poll.registry(), Token(7))?;
    /// waker.wake()?;
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// let event = events.iter().next().expect("the wake");
    /// assert_eq!(event.token(), Token(7));
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn token(&self) -> Token {
        sys::event::token(&self.inner)
    }

    /// Readable: data (or priority data) to read, a connection to accept,
    /// or a peer that closed (then a read returns 0).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use evmux::{Events, Poll, Token, Waker};
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let waker = Waker::new(poll.registry(), Token(7))?;
    /// waker.wake()?;
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// let event = events.iter().next().expect("the wake");
    /// // A wake is reported as readable.
    /// assert!(event.is_readable());
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn is_readable(&self) -> bool {
        sys::event::is_readable(&self.inner)
    }

    /// Writable: room to write, or a non-blocking connect that finished
    /// (check its outcome with `take_error` or `peer_addr`).
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
    /// let mut events = Events::with_capacity(8);
    /// let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// poll.registry().register(&mut socket, Token(0), Interest::WRITABLE)?;
    ///
    /// // A new socket has room in its send buffer.
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// assert!(events.iter().any(|event| event.token() == Token(0) && event.is_writable()));
    /// # Ok(())
    /// # }
    /// # #[cfg(not(all(feature = "os-poll", feature = "net")))]
    /// # fn main() {}
    /// ```
    pub fn is_writable(&self) -> bool {
        sys::event::is_writable(&self.inner)
    }

    /// An error is pending on the source; sockets report it through
    /// `take_error`.
    ///
    /// Not every OS reports errors as such: kqueue and poll(2) may report
    /// them as read- or write-closed instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(feature = "os-poll", feature = "net"))]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io;
    /// use std::time::Duration;
    ///
    /// use evmux::net::{TcpListener, TcpStream};
    /// use evmux::{Events, Interest, Poll, Token};
    ///
    /// // An address where nothing listens any more.
    /// let address = TcpListener::bind("127.0.0.1:0".parse().unwrap())?.local_addr()?;
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let mut stream = TcpStream::connect(address)?;
    /// poll.registry().register(&mut stream, Token(0), Interest::WRITABLE)?;
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    ///
    /// // The refused connect comes as an error (or, on some systems, as
    /// // write-closed); the socket holds the reason.
    /// let failed = events.iter().any(|event| event.is_error() || event.is_write_closed());
    /// assert!(failed);
    /// let error = stream.take_error()?;
    /// # // libkqueue (the kqueue backend on Linux, for tests) clears it as it reports it.
    /// # if cfg!(evmux_force_kqueue) { return Ok(()) }
    /// assert_eq!(error.expect("the connect's error").kind(), io::ErrorKind::ConnectionRefused);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(all(feature = "os-poll", feature = "net")))]
    /// # fn main() {}
    /// ```
    pub fn is_error(&self) -> bool {
        sys::event::is_error(&self.inner)
    }

    /// The reading half is closed: the peer shut down its write side or the
    /// connection is gone, so reads return 0 once the buffer is drained.
    ///
    /// Only reliable with `Interest::READABLE`; whether a shutdown shows up
    /// here or only as a 0-byte read varies by OS.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(feature = "os-poll", feature = "net"))]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::{Duration, Instant};
    ///
    /// use evmux::net::TcpStream;
    /// use evmux::{Events, Interest, Poll, Token};
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let client = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let accepted = listener.accept()?.0;
    /// accepted.set_nonblocking(true)?;
    /// let mut server = TcpStream::from_std(accepted);
    /// poll.registry().register(&mut server, Token(0), Interest::READABLE)?;
    ///
    /// // The client closes: the server's reading half is done.
    /// drop(client);
    /// let deadline = Instant::now() + Duration::from_secs(10);
    /// let mut closed = false;
    /// while !closed && Instant::now() < deadline {
    ///     poll.poll(&mut events, Some(Duration::from_secs(1)))?;
    ///     closed = events.iter().any(|event| event.is_read_closed());
    /// }
    /// assert!(closed);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(all(feature = "os-poll", feature = "net")))]
    /// # fn main() {}
    /// ```
    pub fn is_read_closed(&self) -> bool {
        sys::event::is_read_closed(&self.inner)
    }

    /// The writing half is closed: the peer is gone or the socket failed,
    /// so writes will fail.
    ///
    /// Only reliable with `Interest::WRITABLE`; varies by OS like
    /// [`is_read_closed`](Event::is_read_closed).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(all(feature = "os-poll", feature = "net"))]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::net::Shutdown;
    /// use std::time::Duration;
    ///
    /// use evmux::net::{TcpListener, TcpStream};
    /// use evmux::{Events, Interest, Poll, Token};
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    /// let mut stream = TcpStream::connect(listener.local_addr()?)?;
    /// poll.registry().register(&mut stream, Token(0), Interest::WRITABLE)?;
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    ///
    /// // Both halves shut down: nothing can be written any more.
    /// stream.shutdown(Shutdown::Both)?;
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// assert!(events.iter().any(|event| event.is_write_closed()));
    /// # Ok(())
    /// # }
    /// # #[cfg(not(all(feature = "os-poll", feature = "net")))]
    /// # fn main() {}
    /// ```
    pub fn is_write_closed(&self) -> bool {
        sys::event::is_write_closed(&self.inner)
    }

    /// Priority (out-of-band) data is ready: `EPOLLPRI`. Always false on
    /// systems without `Interest::PRIORITY`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use evmux::{Events, Poll, Token, Waker};
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let waker = Waker::new(poll.registry(), Token(7))?;
    /// waker.wake()?;
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// let event = events.iter().next().expect("the wake");
    /// // Only a source registered with `Interest::PRIORITY` (Linux, Android)
    /// // reports it, for out-of-band data.
    /// assert!(!event.is_priority());
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn is_priority(&self) -> bool {
        sys::event::is_priority(&self.inner)
    }

    /// A POSIX AIO operation completed (`EVFILT_AIO`). Always false on
    /// systems without `Interest::AIO`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use evmux::{Events, Poll, Token, Waker};
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let waker = Waker::new(poll.registry(), Token(7))?;
    /// waker.wake()?;
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// let event = events.iter().next().expect("the wake");
    /// // Only `Interest::AIO` registrations (macOS, iOS, FreeBSD, DragonFly)
    /// // report it.
    /// assert!(!event.is_aio());
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn is_aio(&self) -> bool {
        sys::event::is_aio(&self.inner)
    }

    /// An `lio_listio` operation completed (`EVFILT_LIO`). Always false on
    /// systems without `Interest::LIO`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use evmux::{Events, Poll, Token, Waker};
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// let waker = Waker::new(poll.registry(), Token(7))?;
    /// waker.wake()?;
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// let event = events.iter().next().expect("the wake");
    /// // Only `Interest::LIO` registrations (FreeBSD) report it.
    /// assert!(!event.is_lio());
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn is_lio(&self) -> bool {
        sys::event::is_lio(&self.inner)
    }
}

/// Prints the portable queries and, as `os_flags`, the flags the OS set,
/// by name.
impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("token", &self.token())
            .field("readable", &self.is_readable())
            .field("writable", &self.is_writable())
            .field("error", &self.is_error())
            .field("read_closed", &self.is_read_closed())
            .field("write_closed", &self.is_write_closed())
            .field("priority", &self.is_priority())
            .field("aio", &self.is_aio())
            .field("lio", &self.is_lio())
            .field("os_flags", &sys::event::os_flags(&self.inner))
            .finish()
    }
}
