//! `unix::Signals`: POSIX signals as readiness.
//!
//! The receiver: `pipe` (a self-pipe, an eventfd on Linux and Android, fed
//! by evmux's handler) on every Unix; `handler` owns the process-wide
//! disposition, `slots` the self-pipes.
//!
//! The kqueue systems use it too, rather than `EVFILT_SIGNAL`: evmux's
//! handler must be installed there anyway (the filter records a signal
//! only after its delivery, which would otherwise kill the process), the
//! filter's ident is the signal, so two `Signals` for one signal could not
//! share one kqueue (each needed a private kqueue, whose readiness some
//! kqueues cannot report), and the code that runs on those systems is then
//! the code the Linux suite runs (the pipe with `--cfg
//! evmux_force_pipe_waker`).

use std::fmt;
use std::io;

mod fork_lock;
pub(crate) mod handler;
pub mod names;
pub(crate) mod pipe;
mod slots;

use self::pipe::SignalPipe as Receiver;

/// A set of signal numbers, 1 to `handler::MAX_SIGNAL`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SignalSet(u128);

impl SignalSet {
    pub(crate) const EMPTY: SignalSet = SignalSet(0);

    // The self-pipes keep sets as two atomic words.
    pub(crate) fn from_bits(bits: u128) -> SignalSet {
        SignalSet(bits)
    }

    pub(crate) fn bits(self) -> u128 {
        self.0
    }

    /// Adds `signal`, which must be in range (see [`check`]).
    pub(crate) fn insert(&mut self, signal: i32) {
        self.0 |= 1 << signal;
    }

    pub(crate) fn contains(self, signal: i32) -> bool {
        (1..=handler::MAX_SIGNAL).contains(&signal) && self.0 & (1 << signal) != 0
    }

    /// The signals in the set, lowest first.
    pub(crate) fn iter(self) -> impl Iterator<Item = i32> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let signal = bits.trailing_zeros();
            bits &= bits - 1;
            Some(signal as i32)
        })
    }
}

/// Checks that a handler may be installed for `signal` through evmux.
fn check(signal: i32) -> io::Result<()> {
    let refuse = |why: &str| {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal {signal} cannot be received as readiness: {why}"),
        ))
    };
    if !(1..=handler::MAX_SIGNAL).contains(&signal) {
        return refuse("not a signal number");
    }
    if signal == libc::SIGKILL || signal == libc::SIGSTOP {
        return refuse("SIGKILL and SIGSTOP cannot be caught");
    }
    let faults = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];
    if faults.contains(&signal) {
        return refuse("a fault signal must be handled where the fault happens");
    }
    Ok(())
}

/// A set of POSIX signals, received as readiness: a [`Source`] that is
/// readable when one of its signals has arrived.
///
/// Register it for [`Interest::READABLE`]; on its event, call
/// [`pending`](Signals::pending) and handle the signals it returns. Several
/// arrivals of one signal between two calls are reported once (the OS
/// itself merges pending standard signals): `Signals` tells *which*
/// signals arrived, not how many times. No signal number is lost, however
/// fast signals come.
///
/// # How it works
///
/// | Systems                                   | Mechanism |
/// |-------------------------------------------|-----------|
/// | Linux, Android | evmux's handler writes to an eventfd per `Signals` (one descriptor) |
/// | macOS, iOS, the BSDs, illumos, Solaris, other Unixes | evmux's handler writes to a pipe per `Signals` (a self-pipe: two descriptors) |
///
/// evmux installs one handler per signal for the whole process, when the
/// first `Signals` for that signal is created. It is async-signal-safe
/// (it sets atomic flags and writes to an eventfd or a pipe), carries
/// `SA_ONSTACK` (so it may live in a program whose runtime, like Go's,
/// requires it), and it *chains*: a handler installed before it is still
/// called, with the arguments it expects. An ignored signal (`SIG_IGN`)
/// or one with its default action (`SIG_DFL`) is not chained to: while a
/// `Signals` listens, `SIGINT` and `SIGTERM` no longer terminate the
/// process, they are reported. When the last `Signals` for a signal is
/// dropped, the disposition it replaced is restored, unless another
/// handler has been installed over evmux's in the meantime (that handler
/// may chain to evmux's, which then stays and keeps chaining).
/// signal-hook, by contrast, never uninstalls its handler once installed;
/// evmux restores, so that a program that stops listening gets the
/// signal's previous behaviour back.
///
/// # The signal mask
///
/// Nothing to do. The handler runs in whichever thread the OS delivers the
/// signal to, so `Signals` works whatever each thread's mask is. The one
/// requirement: the signal must not be blocked in *every* thread, or it is
/// never delivered (it stays pending; a program that blocks a signal
/// everywhere to read it with `sigwait` or `signalfd` receives it there
/// instead). evmux does not use `signalfd`: it only receives signals
/// blocked in every thread of the process, which a library cannot arrange
/// for threads it did not create, and a thread that leaves the signal
/// unblocked would get the default action instead (termination, for most).
///
/// A signal that arrives while a thread waits in [`Poll::poll`] may
/// interrupt that wait: `poll` then returns an error of kind
/// [`Interrupted`](io::ErrorKind::Interrupted), and the program polls
/// again (the readiness is not lost).
///
/// # Limits
///
/// - Signal numbers 1 to 127. `SIGKILL` and `SIGSTOP` cannot be caught;
///   the fault signals (`SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`) are
///   refused, since a handler that returns from a fault runs the faulting
///   instruction again; the C library's reserved real-time signals are
///   refused by the OS. Each gives an `InvalidInput` error.
/// - Installing a handler changes `SIGCHLD`'s special case: while a
///   `Signals` listens for it, an ignored `SIGCHLD` (or one with
///   `SA_NOCLDWAIT`) no longer reaps children automatically. When the
///   last listener goes and that disposition is restored, evmux reaps the
///   children that exited meanwhile, as the kernel would have.
/// - A child process created by `fork` without `exec` inherits the handler
///   and the parent's `Signals`, but not their readiness: the child's
///   signals are never reported to the parent's `Signals`, and in the
///   child an inherited `Signals` reports nothing (`pending` is empty and
///   leaves the parent's wake-ups alone); the child creates its own. A
///   child forked while another thread was creating or dropping a
///   `Signals` can still create its own.
/// - The self-pipe bookkeeping grows in chunks of 32 listeners that are
///   reused but never freed (a few kilobytes per chunk).
///
/// [`Source`]: crate::event::Source
/// [`Interest::READABLE`]: crate::Interest::READABLE
/// [`Poll::poll`]: crate::Poll::poll
///
/// # Examples
///
/// ```
/// use std::io;
/// use std::time::Duration;
///
/// use evmux::unix::signal::{SIGUSR1, SIGUSR2};
/// use evmux::unix::Signals;
/// use evmux::{Events, Interest, Poll, Token};
///
/// # fn main() -> io::Result<()> {
/// let mut poll = Poll::new()?;
/// let mut signals = Signals::new(&[SIGUSR1, SIGUSR2])?;
/// poll.registry().register(&mut signals, Token(0), Interest::READABLE)?;
///
/// // Send this process SIGUSR2. std has no call for it; this uses the
/// // `rustix` crate (feature `process`): `libc::kill` would do as well.
/// use rustix::process::{getpid, kill_process, Signal};
/// kill_process(getpid(), Signal::USR2)?;
///
/// let mut events = Events::with_capacity(8);
/// let mut received = Vec::new();
/// while received.is_empty() {
///     match poll.poll(&mut events, Some(Duration::from_secs(10))) {
///         Ok(()) => {}
///         // The signal may interrupt the wait: poll again.
///         Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
///         Err(e) => return Err(e),
///     }
///     for event in &events {
///         if event.token() == Token(0) {
///             received.extend(signals.pending()?);
///         }
///     }
/// }
/// assert_eq!(received, [SIGUSR2]);
/// # Ok(())
/// # }
/// ```
pub struct Signals {
    inner: Receiver,
}

impl Signals {
    /// Starts receiving `signals`: signal numbers, by name from
    /// [`unix::signal`](crate::unix::signal) (`SIGINT`, `SIGTERM`, ...) or
    /// any other number (such as `libc::SIGRTMIN() + 1` on Linux). From now on, until this
    /// `Signals` is dropped, they are handled by evmux (see
    /// [How it works](Signals#how-it-works)).
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::unix::signal::{SIGINT, SIGTERM};
    /// use evmux::unix::Signals;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// // Ctrl-C and `kill` no longer end the process: they are reported.
    /// let signals = Signals::new(&[SIGINT, SIGTERM])?;
    /// assert!(signals.pending()?.is_empty());
    ///
    /// // SIGKILL cannot be caught.
    /// let refused = Signals::new(&[9]).unwrap_err();
    /// assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a signal that cannot be received this way (see
    /// [Limits](Signals#limits)); the OS's errors, e.g. when out of
    /// descriptors. On an error no disposition is changed.
    pub fn new(signals: &[i32]) -> io::Result<Signals> {
        let mut set = SignalSet::EMPTY;
        for &signal in signals {
            check(signal)?;
            set.insert(signal);
        }
        Ok(Signals {
            inner: Receiver::new(set)?,
        })
    }

    /// The signals that arrived since the last call, each once, lowest
    /// number first; empty if none did (a spurious wake-up). Call it on
    /// every readable event, and until it is empty if you want to be sure:
    /// the source is only readable again after this has been called.
    ///
    /// # Errors
    ///
    /// The OS's errors in reading the receiver; none is expected.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::io;
    /// use std::time::Duration;
    ///
    /// use evmux::unix::signal::SIGUSR2;
    /// use evmux::unix::Signals;
    /// use evmux::{Events, Interest, Poll, Token};
    ///
    /// let mut poll = Poll::new()?;
    /// let mut signals = Signals::new(&[SIGUSR2])?;
    /// poll.registry().register(&mut signals, Token(0), Interest::READABLE)?;
    /// // Nothing yet (a spurious wake-up would find this too).
    /// assert!(signals.pending()?.is_empty());
    ///
    /// // Send this process SIGUSR2 (with the `rustix` crate: std has no call).
    /// rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::USR2)?;
    /// let mut events = Events::with_capacity(8);
    /// match poll.poll(&mut events, Some(Duration::from_secs(10))) {
    ///     Ok(()) => {}
    ///     // The signal may interrupt the wait; its readiness stays.
    ///     Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
    ///     Err(e) => return Err(e),
    /// }
    /// assert_eq!(signals.pending()?.collect::<Vec<_>>(), [SIGUSR2]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn pending(&self) -> io::Result<Pending> {
        Ok(Pending {
            set: self.inner.take()?,
        })
    }
}

impl fmt::Debug for Signals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signals").finish_non_exhaustive()
    }
}

impl_source!(Signals);

/// The signals that arrived, from [`Signals::pending`]: an iterator of
/// signal numbers, lowest first.
#[derive(Clone, Debug)]
pub struct Pending {
    set: SignalSet,
}

impl Pending {
    /// No signal arrived.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::unix::signal::SIGHUP;
    /// use evmux::unix::Signals;
    ///
    /// let signals = Signals::new(&[SIGHUP])?;
    /// let pending = signals.pending()?;
    /// if pending.is_empty() {
    ///     println!("a spurious wake-up: no signal arrived");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.set == SignalSet::EMPTY
    }

    /// `signal` is among those that arrived (and not yet iterated over).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use evmux::unix::signal::{SIGTERM, SIGUSR1};
    /// use evmux::unix::Signals;
    ///
    /// let signals = Signals::new(&[SIGUSR1, SIGTERM])?;
    /// // (No signal was sent here: nothing is pending.)
    /// let pending = signals.pending()?;
    /// if pending.contains(SIGTERM) {
    ///     println!("stopping");
    /// }
    /// assert!(!pending.contains(SIGUSR1));
    /// # Ok(())
    /// # }
    /// ```
    pub fn contains(&self, signal: i32) -> bool {
        self.set.contains(signal)
    }
}

impl Iterator for Pending {
    type Item = i32;

    fn next(&mut self) -> Option<i32> {
        let signal = self.set.iter().next()?;
        self.set.0 &= !(1 << signal);
        Some(signal)
    }
}
