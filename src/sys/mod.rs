//! The platform layer: the one place that picks the backend.
//!
//! `build.rs` names the backend for the target in cfgs (`evmux_selector`,
//! `evmux_waker`, `evmux_wake_fd`), by a chain that covers every target and
//! ends in the shell; this module turns them into modules. The public types
//! never contain platform cfgs beyond choosing which methods exist.
//!
//! # The backend contract
//!
//! Every selector module exports the same names:
//!
//! - `Selector`:
//!   - `new() -> io::Result<Selector>` and `try_clone(&self)`: the clone
//!     shares the registrations and has the same `id()`;
//!   - `id(&self) -> usize`: unique per selector in the process, used (in
//!     debug builds) to catch a source registered with two `Poll`s;
//!   - `select(&self, &mut Events, Option<Duration>)`: clears the events,
//!     then waits for at most the timeout (never rounding a non-zero timeout
//!     down to zero, never overflowing on huge ones) and fills the events.
//!     An `Events` of capacity zero waits the same way but consumes
//!     nothing. A signal surfaces as `ErrorKind::Interrupted`;
//!   - `register(fd, Token, Interest, Trigger)`,
//!     `reregister(fd, Token, Interest, Trigger)`, `deregister(fd)`: the
//!     trigger mode is an argument of every call that sets one (never
//!     ambient state), already checked by `crate::trigger` against what
//!     the backend has; `AlreadyExists` for a second registration,
//!     `NotFound` for a source that is not registered, where the OS or the
//!     backend can tell (kqueue cannot tell a second `EV_ADD` from an
//!     update, and its `deregister` succeeds whatever it finds, as
//!     mio's). A descriptor closed without `deregister` is forgotten: its
//!     number can be registered again once reused (the table-based
//!     backends recognise the new file, see `registrations.rs`).
//! - `Event` (the OS record) and `Events` (a `Vec<Event>`), with the pure
//!   functions of module `event`: `token`, `is_readable`, `is_writable`,
//!   `is_error`, `is_read_closed`, `is_write_closed`, `is_priority`,
//!   `is_aio`, `is_lio`, and `os_flags`, which returns something whose
//!   `Debug` prints the OS's flags by name.
//! - `IoSourceState`: the per-source registration state behind `IoSource`.
//!   Its `do_io(f, io, waits_for)` runs every I/O operation, told which
//!   readiness the operation waits for; a backend that emulates edge
//!   triggering re-arms that interest after the operation, whatever its
//!   result (programs such as tokio wait for the next event after a short
//!   read or write), and only that one (re-arming writable after a read
//!   would report an idle socket as writable on every poll).
//!
//! Every waker module exports `Waker` with `new(&Selector, Token)` and
//! `wake(&self)`: the event carries the token and is readable, wakes
//! coalesce, and a wake issued before `poll` is not lost.
//!
//! Work shared by all backends is done once, above this layer: argument
//! checks and registration bookkeeping in `IoSource` and `Registry`, wake
//! de-duplication in `crate::wake_dedup`, timeout arithmetic in
//! `timeout`, flag names in `crate::flag_names`.
//! Every Unix backend returns descriptors as `OwnedFd`, created CLOEXEC.
//! The Windows backend (`iocp`) registers sockets (`RawSource` is a
//! `BorrowedSocket`), keeps its registrations itself and re-arms them
//! through `IoSourceState`, like poll(2); its sockets are created
//! overlapped and non-inheritable.
//! The WASI preview 1 backend (`wasi`) is table-based like poll(2), and
//! shares its table and re-arm model; its waker module only stands in for
//! the public `Waker`, which preview 1 does not have (`evmux_no_waker`).
//! WASI preview 2 runs the poll(2) selector itself, over wasi-libc, with no
//! wake-up descriptor (`evmux_wake_fd = "none"`, `wasi/no_wake_fd.rs`);
//! both previews create and use sockets through `wasi/net.rs`.

#[cfg(not(evmux_selector = "shell"))]
pub(crate) mod timeout;

#[cfg(unix)]
pub(crate) mod unix;
#[cfg(all(unix, feature = "net"))]
pub(crate) use self::unix::net;
#[cfg(all(unix, feature = "net"))]
pub(crate) use self::unix::udp_batch;
#[cfg(all(wasip2, feature = "os-ext"))]
#[path = "unix/sourcefd.rs"]
mod sourcefd;
#[cfg(all(not(unix), not(wasip1), feature = "net"))]
#[path = "udp_batch_std.rs"]
pub(crate) mod udp_batch;
#[cfg(all(not(linux_like), not(wasip1), feature = "net"))]
mod udp_offload_none;
#[cfg(evmux_selector = "iocp")]
pub(crate) mod windows;
#[cfg(all(wasip2, feature = "os-ext"))]
pub use self::sourcefd::SourceFd;
#[cfg(all(evmux_selector = "iocp", feature = "net"))]
pub(crate) use self::windows::net;
#[cfg(all(any(wasip1, wasip2), feature = "net"))]
#[path = "wasi/net.rs"]
pub(crate) mod net;
#[cfg(all(
    not(any(unix, wasip1, wasip2)),
    not(evmux_selector = "iocp"),
    feature = "net"
))]
#[path = "shell/net.rs"]
pub(crate) mod net;

#[cfg(any(
    evmux_selector = "poll",
    evmux_selector = "event_ports",
    evmux_selector = "wasi"
))]
// The table-based backends (poll(2), event ports): without the I/O types,
// nothing re-arms a registration, and the code that does is unused (WASI
// has no `os-ext` I/O types).
#[cfg_attr(
    not(any(feature = "net", all(unix, feature = "os-ext"))),
    allow(dead_code)
)]
#[path = "unix/selector/poll_events.rs"]
mod poll_events;
#[cfg(any(
    evmux_selector = "poll",
    evmux_selector = "event_ports",
    evmux_selector = "wasi"
))]
#[cfg_attr(
    not(any(feature = "net", all(unix, feature = "os-ext"))),
    allow(dead_code)
)]
#[path = "unix/selector/registrations.rs"]
mod registrations;
#[cfg(all(evmux_selector = "epoll", not(evmux_uring)))]
#[path = "unix/selector/epoll.rs"]
mod selector;
#[cfg(evmux_uring)]
#[path = "unix/selector/uring_or_epoll.rs"]
mod selector;
#[cfg(evmux_selector = "kqueue")]
#[path = "unix/selector/kqueue.rs"]
mod selector;
#[cfg(evmux_selector = "event_ports")]
#[cfg_attr(not(any(feature = "net", feature = "os-ext")), allow(dead_code))]
#[path = "unix/selector/event_ports.rs"]
mod selector;
#[cfg(evmux_selector = "poll")]
// WASI preview 2's `os-ext` has no I/O types, only `SourceFd`.
#[cfg_attr(
    not(any(feature = "net", all(unix, feature = "os-ext"))),
    allow(dead_code)
)]
#[path = "unix/selector/poll.rs"]
mod selector;
#[cfg(evmux_selector = "iocp")]
use self::windows::selector;
#[cfg(evmux_selector = "wasi")]
#[cfg_attr(not(feature = "net"), allow(dead_code))]
#[path = "wasi/selector.rs"]
mod selector;
#[cfg(evmux_selector = "shell")]
#[path = "shell/selector.rs"]
mod selector;

pub(crate) use self::selector::{event, Event, Events, Selector};

// `time::Timer`: a deadline in the selector's queue on every backend
// (see `crate::time`).
#[cfg(not(evmux_selector = "shell"))]
#[path = "unix/timer/queue.rs"]
pub(crate) mod timer;
#[cfg(evmux_selector = "shell")]
#[path = "shell/timer.rs"]
pub(crate) mod timer;
#[cfg(not(evmux_selector = "shell"))]
#[path = "unix/selector/timer_queue.rs"]
mod timer_queue;
// Only the I/O types (features `net`, `os-ext`) use the per-source state.
#[cfg_attr(
    not(any(feature = "net", all(unix, feature = "os-ext"))),
    allow(unused_imports)
)]
pub(crate) use self::selector::IoSourceState;

/// What a selector registers: a borrowed descriptor.
#[cfg(evmux_fd)]
pub(crate) type RawSource<'a> = std::os::fd::BorrowedFd<'a>;
/// What a selector registers: a borrowed socket.
#[cfg(evmux_selector = "iocp")]
pub(crate) type RawSource<'a> = std::os::windows::io::BorrowedSocket<'a>;
/// What a selector registers: nothing can be registered on a target that only
/// has the shell.
#[cfg(not(any(evmux_fd, evmux_selector = "iocp")))]
pub(crate) type RawSource<'a> = std::marker::PhantomData<&'a ()>;

/// The I/O types whose handle a selector can register.
#[cfg_attr(
    not(any(feature = "net", all(unix, feature = "os-ext"))),
    allow(dead_code)
)]
pub(crate) trait AsRawSource {
    fn as_raw_source(&self) -> RawSource<'_>;
}

#[cfg(evmux_fd)]
impl<T: std::os::fd::AsFd> AsRawSource for T {
    fn as_raw_source(&self) -> RawSource<'_> {
        self.as_fd()
    }
}

#[cfg(evmux_selector = "iocp")]
impl<T: std::os::windows::io::AsSocket> AsRawSource for T {
    fn as_raw_source(&self) -> RawSource<'_> {
        self.as_socket()
    }
}

#[cfg(not(any(evmux_fd, evmux_selector = "iocp")))]
impl<T> AsRawSource for T {
    fn as_raw_source(&self) -> RawSource<'_> {
        std::marker::PhantomData
    }
}

#[cfg(evmux_wake_fd = "eventfd")]
#[path = "unix/waker/eventfd.rs"]
mod wake_fd;
#[cfg(evmux_wake_fd = "pipe")]
#[path = "unix/waker/pipe.rs"]
mod wake_fd;
#[cfg(evmux_wake_fd = "none")]
#[path = "wasi/no_wake_fd.rs"]
mod wake_fd;
#[cfg(any(
    evmux_wake_fd = "eventfd",
    evmux_wake_fd = "pipe",
    evmux_wake_fd = "none"
))]
pub(crate) use self::wake_fd::WakeFd;

#[cfg(evmux_waker = "fd")]
#[path = "unix/waker/fd.rs"]
mod waker;
#[cfg(evmux_waker = "uring")]
#[path = "unix/waker/uring.rs"]
mod waker;
#[cfg(evmux_waker = "kqueue")]
#[path = "unix/waker/kqueue.rs"]
mod waker;
#[cfg(evmux_waker = "poll")]
#[path = "unix/waker/poll.rs"]
mod waker;
#[cfg(evmux_waker = "port")]
#[path = "unix/waker/port.rs"]
mod waker;
#[cfg(evmux_waker = "wasi")]
use self::selector as waker;
#[cfg(evmux_waker = "iocp")]
use self::windows::waker;
#[cfg(evmux_waker = "shell")]
#[path = "shell/waker.rs"]
mod waker;

pub(crate) use self::waker::Waker;
/// The wakers that coalesce with `crate::wake_dedup` themselves, since each
/// of their system calls queues an event of its own (event ports, IOCP):
/// `Waker::new_coalescing` has nothing to add there.
pub(crate) const WAKER_COALESCES: bool = cfg!(any(evmux_waker = "port", evmux_waker = "iocp"));

// Unused without the I/O types, and by the backends that keep per-source
// state (poll(2), event ports, io_uring); Windows' has a different
// registration.
#[cfg(not(evmux_selector = "iocp"))]
#[allow(dead_code)]
mod stateless_io_source;

/// The backend's name, for messages and `Poll`'s `Debug`.
pub(crate) fn backend_name(selector: &Selector) -> &'static str {
    #[cfg(evmux_uring)]
    return selector.name();
    #[cfg(not(evmux_uring))]
    {
        let _ = selector;
        if cfg!(evmux_selector = "epoll") {
            "epoll"
        } else if cfg!(evmux_selector = "kqueue") {
            "kqueue"
        } else if cfg!(evmux_selector = "poll") {
            "poll(2)"
        } else if cfg!(evmux_selector = "event_ports") {
            "event ports"
        } else if cfg!(evmux_selector = "wasi") {
            "WASI preview 1"
        } else if cfg!(evmux_selector = "iocp") {
            "Windows (IOCP + AFD)"
        } else {
            "this target (no backend)"
        }
    }
}

/// Whether the backend has `Trigger::exclusive` (`EPOLLEXCLUSIVE`).
pub(crate) fn has_exclusive(selector: &Selector) -> bool {
    #[cfg(evmux_uring)]
    return selector.has_exclusive();
    #[cfg(not(evmux_uring))]
    {
        let _ = selector;
        cfg!(evmux_selector = "epoll")
    }
}

/// Locks a mutex, ignoring poisoning: no code panics while holding evmux's
/// locks, and the data stays consistent if one ever did.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Gives every selector created in this process a distinct id.
#[cfg(not(evmux_selector = "shell"))]
pub(crate) fn next_selector_id() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT_ID: AtomicUsize = AtomicUsize::new(1);
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// mio's error for registering one of evmux's I/O types that already is.
/// Used by the debug-build check in `IoSource`, and by the backends that
/// keep registrations themselves (poll(2), event ports, Windows, WASI) in
/// every build.
#[cfg_attr(
    not(any(
        evmux_selector = "poll",
        evmux_selector = "event_ports",
        evmux_selector = "iocp",
        all(evmux_selector = "wasi", feature = "net"),
        all(debug_assertions, any(feature = "net", all(unix, feature = "os-ext")))
    )),
    allow(dead_code)
)]
pub(crate) fn already_registered() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "I/O source already registered with a `Registry`",
    )
}

/// mio's error for re-registering or deregistering one of evmux's I/O
/// types that is not registered (with this `Poll`).
#[cfg_attr(
    not(any(
        evmux_selector = "iocp",
        evmux_selector = "poll",
        all(debug_assertions, any(feature = "net", all(unix, feature = "os-ext")))
    )),
    allow(dead_code)
)]
pub(crate) fn not_registered() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::NotFound,
        "I/O source not registered with `Registry`",
    )
}

/// Which selector a source without a descriptor of its own (a `Timer`, a
/// Windows `ChildExit`) is registered with, and mio's checks over it:
/// `AlreadyExists` for a second registration, `NotFound` for a source not
/// registered with this `Poll`.
#[derive(Debug, Default)]
pub(crate) struct RegisteredWith(Option<usize>);

impl RegisteredWith {
    /// Fails if the source is registered already.
    pub(crate) fn check_unregistered(&self) -> std::io::Result<()> {
        match self.0 {
            Some(_) => Err(already_registered()),
            None => Ok(()),
        }
    }

    /// Fails unless the source is registered with the selector `id`.
    pub(crate) fn check(&self, id: usize) -> std::io::Result<()> {
        if self.0 == Some(id) {
            Ok(())
        } else {
            Err(not_registered())
        }
    }

    /// Records a registration with the selector `id`, or none.
    pub(crate) fn set(&mut self, id: Option<usize>) {
        self.0 = id;
    }
}
