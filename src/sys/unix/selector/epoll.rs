//! The epoll selector: Linux, Android and illumos (which has epoll; its
//! event ports would silence raw descriptors, see `event_ports.rs`).
//!
//! # Trigger model
//!
//! Native edge triggering: every registration carries `EPOLLET`, so the
//! kernel reports a source once per readiness change and the application
//! drains it until an operation returns `WouldBlock`. `IoSourceState` is
//! stateless here.
//!
//! | `Interest`  | epoll flags                          |
//! |-------------|--------------------------------------|
//! | `READABLE`  | `EPOLLIN \| EPOLLRDHUP`              |
//! | `WRITABLE`  | `EPOLLOUT`                           |
//! | `PRIORITY`  | `EPOLLPRI`                           |
//! | (always)    | `EPOLLET` (`EPOLLERR`, `EPOLLHUP` are implied by the kernel) |
//!
//! `Registry::register_with` replaces `EPOLLET` with nothing (level),
//! `EPOLLONESHOT`, or adds `EPOLLEXCLUSIVE` without `EPOLLRDHUP` (see
//! `crate::trigger`).
//!
//! # Close and error mapping
//!
//! | `Event` query      | true when the kernel reported                      |
//! |--------------------|----------------------------------------------------|
//! | `is_readable`      | `EPOLLIN` or `EPOLLPRI`                             |
//! | `is_writable`      | `EPOLLOUT`                                          |
//! | `is_error`         | `EPOLLERR`                                          |
//! | `is_read_closed`   | `EPOLLHUP`, or `EPOLLIN` together with `EPOLLRDHUP` |
//! | `is_write_closed`  | `EPOLLHUP`, `EPOLLOUT` together with `EPOLLERR`, or `EPOLLERR` alone |
//! | `is_priority`      | `EPOLLPRI`                                          |
//! | `is_aio`, `is_lio` | never                                              |
//!
//! `EPOLLHUP` means both directions are shut (a socket whose peer closed
//! and that was shut down locally, a pipe whose other end closed); the
//! kernel reports it even without interest. `EPOLLRDHUP` means the peer
//! shut down its writing half, so it only counts as read-closed when it
//! comes with `EPOLLIN` (it is also set, alone, in the registration
//! flags). `EPOLLERR` alone is a failed socket (a refused connect, a reset)
//! or the read end of a pipe that closed: writing is over.
//!
//! # Timeouts
//!
//! Whole milliseconds go to `epoll_wait`. A timeout with a sub-millisecond
//! part goes to `epoll_pwait2` (Linux 5.11) with nanosecond precision; the
//! first `ENOSYS` (or `EPERM` from a seccomp filter that does not know the
//! call) switches the process to `epoll_wait` with the timeout rounded up.
//! Timeouts beyond `epoll_wait`'s `i32` milliseconds (24.8 days) are
//! clamped there, which may end the wait early; `epoll_pwait2` has no such
//! limit.
//!
//! # Timers
//!
//! `time::Timer`s keep their deadlines in one queue per selector, with one
//! timerfd set to the earliest, relayed into the set so that its event
//! can be told apart from any user's (`epoll_timers.rs`). While a timer
//! is registered, a wait that ends with only that event and no timer due
//! goes on for what is left of its timeout.
//!
//! # Man pages
//!
//! epoll(7), epoll_create1(2), epoll_ctl(2), epoll_wait(2) (and
//! `epoll_pwait2`), poll(2) for the zero-capacity wait, fcntl(2) for
//! `F_DUPFD_CLOEXEC`.
//!
//! libc makes the two waits (`epoll_wait`, `epoll_pwait2`); rustix
//! everything else.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
#[cfg(target_os = "linux")]
use std::sync::atomic::AtomicBool;
#[cfg(target_os = "linux")]
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rustix::event::epoll::{self, EventData, EventFlags};

use crate::flag_names::FlagNames;
use crate::sys::timeout::{is_whole_millis, millis_rounded_up, Deadline};
use crate::sys::RawSource;
use crate::trigger::{Kind, Trigger};
use crate::{Interest, Token};

#[cfg_attr(evmux_uring, allow(unused_imports))]
pub(crate) use crate::sys::stateless_io_source::IoSourceState;

#[path = "epoll_timers.rs"]
mod timers;

/// What `time::Timer`s registered here hold on to: the deadline queue.
pub(crate) type TimerHost = timers::Timers;

/// The kernel's `struct epoll_event`, as rustix lays it out.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct Event(epoll::Event);

// SAFETY: rustix's event is neither `Send` nor `Sync` only because its
// data field may hold a pointer. evmux only ever stores a token, a plain
// integer, there (`token_data`), so sharing or moving events between
// threads shares nothing else.
unsafe impl Send for Event {}
// SAFETY: as for `Send`.
unsafe impl Sync for Event {}

pub(crate) type Events = Vec<Event>;

impl Event {
    /// An event with `flags` for `data` (a token), as the kernel makes
    /// them; the io_uring selector reports its poll results so.
    #[cfg_attr(not(evmux_uring), allow(dead_code))]
    pub(crate) fn new(flags: EventFlags, data: u64) -> Event {
        Event(epoll::Event {
            flags,
            data: EventData::new_u64(data),
        })
    }

    /// This event with `flags` (raw epoll bits) added.
    #[cfg_attr(not(evmux_uring), allow(dead_code))]
    pub(crate) fn with_flags(self, flags: u32) -> Event {
        // Copied out: the struct is packed on x86-64.
        let epoll::Event { flags: old, data } = self.0;
        let flags = old | EventFlags::from_bits_retain(flags);
        Event(epoll::Event { flags, data })
    }
}

/// An epoll instance.
#[derive(Debug)]
pub(crate) struct Selector {
    id: usize,
    ep: OwnedFd,
    /// Shared with the clones.
    timers: Arc<TimerHost>,
}

impl Selector {
    pub(crate) fn new() -> io::Result<Selector> {
        let ep = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        Ok(Selector {
            id: crate::sys::next_selector_id(),
            ep,
            timers: Arc::default(),
        })
    }

    pub(crate) fn try_clone(&self) -> io::Result<Selector> {
        let ep = rustix::io::fcntl_dupfd_cloexec(&self.ep, 0)?;
        Ok(Selector {
            id: self.id,
            ep,
            timers: Arc::clone(&self.timers),
        })
    }

    /// Where `time::Timer`s registered here keep their deadlines; the
    /// first call puts the timerfd into the set.
    pub(crate) fn timer_host(&self) -> io::Result<&Arc<TimerHost>> {
        let ep = self.ep.as_fd();
        self.timers.start(|nest| timers::add_relay(ep, nest))?;
        Ok(&self.timers)
    }

    pub(crate) fn id(&self) -> usize {
        self.id
    }

    // Inlined into `Poll::poll`: as a separate call it cost about 3% of a
    // poll that finds one event (measured by the dispatch benchmark).
    #[inline]
    pub(crate) fn select(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        if self.timers.is_active() {
            return self.select_with_timers(events, timeout);
        }
        self.select_once(events, timeout)?;
        // The first timer was registered from another thread during the
        // wait: its timerfd's event may be among these.
        if self.timers.is_active() && events.capacity() != 0 {
            self.timers.after_wait(events)?;
        }
        Ok(())
    }

    /// `select` once a timer was registered: each wait is followed by the
    /// timers that are due, and a wait that ended for the timerfd with
    /// nothing due goes on.
    fn select_with_timers(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        let mut deadline = Deadline::new(timeout);
        while let Some(wait) = deadline.next_wait() {
            self.select_once(events, wait)?;
            if events.capacity() == 0 {
                break;
            }
            let fired = self.timers.after_wait(events)?;
            if !fired || !events.is_empty() {
                break;
            }
        }
        Ok(())
    }

    /// One wait.
    #[inline]
    fn select_once(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.clear();
        if events.capacity() == 0 {
            // An epoll descriptor is readable while events are pending.
            return crate::sys::unix::wait_readable(self.ep.as_fd(), timeout);
        }
        let millis = match timeout {
            None => -1,
            Some(timeout) => match exact_millis(timeout) {
                Some(millis) => millis,
                None => return self.wait_precise(events, timeout),
            },
        };
        self.wait_millis(events, millis)
    }

    /// `epoll_wait` for `millis` milliseconds (-1: no timeout).
    ///
    /// Through libc: rustix always makes the `epoll_pwait` system call,
    /// whose signal-mask handling costs about 1% of a poll that finds one
    /// event (measured by the dispatch benchmark).
    fn wait_millis(&self, events: &mut Events, millis: libc::c_int) -> io::Result<()> {
        let capacity = events.capacity().min(libc::c_int::MAX as usize) as libc::c_int;
        // SAFETY: the buffer pointer and `capacity` describe the Vec's
        // allocation, which the kernel fills with up to `capacity`
        // `epoll_event`s (`Event` has the kernel's layout, checked by a
        // test).
        let n = unsafe {
            libc::epoll_wait(
                self.ep.as_raw_fd(),
                events.as_mut_ptr().cast(),
                capacity,
                millis,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `events` was empty, and the kernel initialised its first
        // `n` entries, `n <= capacity`.
        unsafe { events.set_len(n as usize) };
        Ok(())
    }

    /// A timeout `epoll_wait` cannot express: sub-millisecond or longer than
    /// 24.8 days.
    fn wait_precise(&self, events: &mut Events, timeout: Duration) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        if let Some(result) = pwait2::wait(self.ep.as_fd(), events, timeout) {
            return result;
        }
        let millis = millis_rounded_up(timeout, libc::c_int::MAX as u32);
        self.wait_millis(events, millis as libc::c_int)
    }

    pub(crate) fn register(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        let flags = interest_flags(interests, trigger);
        epoll::add(&self.ep, fd, token_data(token), flags)?;
        Ok(())
    }

    pub(crate) fn reregister(
        &self,
        fd: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        let flags = interest_flags(interests, trigger);
        epoll::modify(&self.ep, fd, token_data(token), flags)?;
        Ok(())
    }

    pub(crate) fn deregister(&self, fd: RawSource<'_>) -> io::Result<()> {
        epoll::delete(&self.ep, fd)?;
        Ok(())
    }
}

impl AsFd for Selector {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.ep.as_fd()
    }
}

impl AsRawFd for Selector {
    fn as_raw_fd(&self) -> RawFd {
        self.ep.as_raw_fd()
    }
}

/// `timeout` in milliseconds, if `epoll_wait` can wait for exactly that
/// long: a whole number of them that fits in its `int`.
fn exact_millis(timeout: Duration) -> Option<libc::c_int> {
    if !is_whole_millis(timeout) {
        return None;
    }
    let millis = timeout.as_secs().checked_mul(1000)?;
    let millis = millis.checked_add(u64::from(timeout.subsec_millis()))?;
    libc::c_int::try_from(millis).ok()
}

fn token_data(token: Token) -> EventData {
    EventData::new_u64(token.0 as u64)
}

/// The flags of a registration for `interests` in the mode `trigger`
/// (`crate::trigger` has already refused what epoll forbids).
fn interest_flags(interests: Interest, trigger: Trigger) -> EventFlags {
    let mut flags = match trigger.kind() {
        Kind::Edge => EventFlags::ET,
        Kind::Level => EventFlags::empty(),
        Kind::OneShot => EventFlags::ONESHOT,
    };
    if trigger.is_exclusive() {
        // Only EPOLLIN, EPOLLOUT, EPOLLWAKEUP and EPOLLET may come with it.
        flags |= EventFlags::EXCLUSIVE;
    } else if interests.is_readable() {
        flags |= EventFlags::RDHUP;
    }
    if interests.is_readable() {
        flags |= EventFlags::IN;
    }
    if interests.is_writable() {
        flags |= EventFlags::OUT;
    }
    if interests.is_priority() {
        flags |= EventFlags::PRI;
    }
    flags
}

/// `epoll_pwait2`, which rustix only calls when built for Linux 5.11; evmux
/// detects it at run time instead.
#[cfg(target_os = "linux")]
mod pwait2 {
    use super::*;
    use crate::sys::timeout::timespec;

    /// False once the kernel has refused the syscall.
    pub(super) static AVAILABLE: AtomicBool = AtomicBool::new(true);

    /// The kernel's `struct __kernel_timespec`: 64-bit on every
    /// architecture, unlike libc's `timespec` on 32-bit targets.
    #[repr(C)]
    pub(super) struct KernelTimespec {
        pub(super) tv_sec: i64,
        pub(super) tv_nsec: i64,
    }

    /// Waits with `epoll_pwait2`, or returns `None` if the kernel lacks it.
    pub(super) fn wait(
        ep: BorrowedFd<'_>,
        events: &mut Events,
        timeout: Duration,
    ) -> Option<io::Result<()>> {
        if !AVAILABLE.load(Ordering::Relaxed) {
            return None;
        }
        let ts = timespec(timeout);
        let ts = KernelTimespec {
            tv_sec: ts.tv_sec,
            tv_nsec: ts.tv_nsec,
        };
        let capacity = events.capacity().min(i32::MAX as usize) as libc::c_int;
        // SAFETY: the buffer pointer and `capacity` describe the Vec's
        // allocation, which the kernel fills with up to `capacity`
        // `epoll_event`s (rustix's `Event` has the kernel's layout, checked
        // by a test); `ts` outlives the call; a null sigmask means the
        // signal mask is left alone.
        let n = unsafe {
            libc::syscall(
                libc::SYS_epoll_pwait2,
                ep.as_raw_fd(),
                events.as_mut_ptr(),
                capacity,
                &ts as *const KernelTimespec,
                std::ptr::null::<libc::sigset_t>(),
                0usize,
            )
        };
        if n < 0 {
            let error = io::Error::last_os_error();
            if matches!(error.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) {
                AVAILABLE.store(false, Ordering::Relaxed);
                return None;
            }
            return Some(Err(error));
        }
        // SAFETY: the kernel initialised the first `n` entries, and `n` is at
        // most `capacity`.
        unsafe { events.set_len(n as usize) };
        Some(Ok(()))
    }
}

pub(crate) mod event {
    use super::*;

    /// epoll's flags by name, for `Debug`.
    static NAMES: [(u64, &str); 11] = [
        (EventFlags::IN.bits() as u64, "EPOLLIN"),
        (EventFlags::PRI.bits() as u64, "EPOLLPRI"),
        (EventFlags::OUT.bits() as u64, "EPOLLOUT"),
        (EventFlags::ERR.bits() as u64, "EPOLLERR"),
        (EventFlags::HUP.bits() as u64, "EPOLLHUP"),
        (EventFlags::RDNORM.bits() as u64, "EPOLLRDNORM"),
        (EventFlags::RDBAND.bits() as u64, "EPOLLRDBAND"),
        (EventFlags::WRNORM.bits() as u64, "EPOLLWRNORM"),
        (EventFlags::WRBAND.bits() as u64, "EPOLLWRBAND"),
        (EventFlags::MSG.bits() as u64, "EPOLLMSG"),
        (EventFlags::RDHUP.bits() as u64, "EPOLLRDHUP"),
    ];

    fn flags(event: &Event) -> EventFlags {
        // Copied out: the struct is packed on x86-64.
        let epoll::Event { flags, .. } = event.0;
        flags
    }

    pub(crate) fn token(event: &Event) -> Token {
        let epoll::Event { data, .. } = event.0;
        Token(data.u64() as usize)
    }

    pub(crate) fn is_readable(event: &Event) -> bool {
        flags(event).intersects(EventFlags::IN | EventFlags::PRI)
    }

    pub(crate) fn is_writable(event: &Event) -> bool {
        flags(event).contains(EventFlags::OUT)
    }

    pub(crate) fn is_error(event: &Event) -> bool {
        flags(event).contains(EventFlags::ERR)
    }

    pub(crate) fn is_read_closed(event: &Event) -> bool {
        let flags = flags(event);
        flags.contains(EventFlags::HUP) || flags.contains(EventFlags::IN | EventFlags::RDHUP)
    }

    pub(crate) fn is_write_closed(event: &Event) -> bool {
        let flags = flags(event);
        flags.contains(EventFlags::HUP)
            || flags.contains(EventFlags::OUT | EventFlags::ERR)
            || flags == EventFlags::ERR
    }

    pub(crate) fn is_priority(event: &Event) -> bool {
        flags(event).contains(EventFlags::PRI)
    }

    pub(crate) fn is_aio(_: &Event) -> bool {
        false
    }

    pub(crate) fn is_lio(_: &Event) -> bool {
        false
    }

    pub(crate) fn os_flags(event: &Event) -> FlagNames {
        FlagNames::new(u64::from(flags(event).bits()), &NAMES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_millis_only_for_what_epoll_wait_takes() {
        assert_eq!(exact_millis(Duration::ZERO), Some(0));
        assert_eq!(exact_millis(Duration::from_millis(1500)), Some(1500));
        assert_eq!(exact_millis(Duration::from_micros(1500)), None);
        assert_eq!(
            exact_millis(Duration::from_millis(i32::MAX as u64)),
            Some(i32::MAX)
        );
        assert_eq!(
            exact_millis(Duration::from_millis(i32::MAX as u64 + 1)),
            None
        );
        assert_eq!(exact_millis(Duration::from_secs(u64::MAX)), None);
    }

    #[test]
    fn event_has_the_kernel_layout() {
        assert_eq!(
            std::mem::size_of::<Event>(),
            std::mem::size_of::<libc::epoll_event>()
        );
        assert_eq!(
            std::mem::align_of::<Event>(),
            std::mem::align_of::<libc::epoll_event>()
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn kernel_timespec_is_two_64_bit_fields() {
        assert_eq!(std::mem::size_of::<pwait2::KernelTimespec>(), 16);
        assert_eq!(
            std::mem::align_of::<pwait2::KernelTimespec>(),
            std::mem::align_of::<i64>()
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn without_epoll_pwait2_sub_millisecond_timeouts_round_up() {
        // As on a kernel older than 5.11. Only this test in the library's
        // unit tests polls with a sub-millisecond timeout.
        pwait2::AVAILABLE.store(false, Ordering::Relaxed);
        let selector = Selector::new().unwrap();
        let mut events = Events::with_capacity(4);
        let start = std::time::Instant::now();
        selector
            .select(&mut events, Some(Duration::from_micros(100)))
            .unwrap();
        assert!(
            start.elapsed() >= Duration::from_millis(1),
            "{:?}",
            start.elapsed()
        );
        pwait2::AVAILABLE.store(true, Ordering::Relaxed);
    }

    fn event(flags: EventFlags) -> Event {
        Event(epoll::Event {
            flags,
            data: EventData::new_u64(7),
        })
    }

    #[test]
    fn close_and_error_mapping() {
        use event::*;
        let e = event(EventFlags::IN | EventFlags::RDHUP);
        assert!(is_readable(&e) && is_read_closed(&e) && !is_write_closed(&e));
        let e = event(EventFlags::RDHUP);
        assert!(!is_read_closed(&e));
        let e = event(EventFlags::HUP);
        assert!(is_read_closed(&e) && is_write_closed(&e) && !is_error(&e));
        let e = event(EventFlags::ERR);
        assert!(is_error(&e) && is_write_closed(&e) && !is_read_closed(&e));
        let e = event(EventFlags::OUT | EventFlags::ERR);
        assert!(is_writable(&e) && is_write_closed(&e));
        let e = event(EventFlags::IN | EventFlags::ERR);
        assert!(is_error(&e) && !is_write_closed(&e));
        let e = event(EventFlags::PRI);
        assert!(is_priority(&e) && is_readable(&e));
        assert_eq!(token(&e), Token(7));
        assert!(!is_aio(&e) && !is_lio(&e));
    }

    #[test]
    fn debug_names_the_flags() {
        let e = event(EventFlags::IN | EventFlags::RDHUP);
        assert_eq!(format!("{:?}", event::os_flags(&e)), "EPOLLIN | EPOLLRDHUP");
    }
}
