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
    pub fn token(&self) -> Token {
        sys::event::token(&self.inner)
    }

    /// Readable: data (or priority data) to read, a connection to accept,
    /// or a peer that closed (then a read returns 0).
    pub fn is_readable(&self) -> bool {
        sys::event::is_readable(&self.inner)
    }

    /// Writable: room to write, or a non-blocking connect that finished
    /// (check its outcome with `take_error` or `peer_addr`).
    pub fn is_writable(&self) -> bool {
        sys::event::is_writable(&self.inner)
    }

    /// An error is pending on the source; sockets report it through
    /// `take_error`.
    ///
    /// Not every OS reports errors as such: kqueue and poll(2) may report
    /// them as read- or write-closed instead.
    pub fn is_error(&self) -> bool {
        sys::event::is_error(&self.inner)
    }

    /// The reading half is closed: the peer shut down its write side or the
    /// connection is gone, so reads return 0 once the buffer is drained.
    ///
    /// Only reliable with `Interest::READABLE`; whether a shutdown shows up
    /// here or only as a 0-byte read varies by OS.
    pub fn is_read_closed(&self) -> bool {
        sys::event::is_read_closed(&self.inner)
    }

    /// The writing half is closed: the peer is gone or the socket failed,
    /// so writes will fail.
    ///
    /// Only reliable with `Interest::WRITABLE`; varies by OS like
    /// [`is_read_closed`](Event::is_read_closed).
    pub fn is_write_closed(&self) -> bool {
        sys::event::is_write_closed(&self.inner)
    }

    /// Priority (out-of-band) data is ready: `EPOLLPRI`. Always false on
    /// systems without `Interest::PRIORITY`.
    pub fn is_priority(&self) -> bool {
        sys::event::is_priority(&self.inner)
    }

    /// A POSIX AIO operation completed (`EVFILT_AIO`). Always false on
    /// systems without `Interest::AIO`.
    pub fn is_aio(&self) -> bool {
        sys::event::is_aio(&self.inner)
    }

    /// An `lio_listio` operation completed (`EVFILT_LIO`). Always false on
    /// systems without `Interest::LIO`.
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
