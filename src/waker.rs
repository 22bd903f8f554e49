use std::io;

use std::sync::Arc;

use crate::wake_dedup::{WakeDedup, WakeState};
use crate::{sys, Registry, Token};

/// Wakes a [`Poll`] from another thread.
///
/// A `Waker` is registered with a `Poll` when it is created. Calling
/// [`wake`](Waker::wake), from any thread, makes the `Poll` return an event
/// that carries the waker's token and is readable. If `poll` is not
/// blocked at that moment, the next call returns the event at once: a wake
/// is never lost. Several wakes before the next `poll` coalesce into one
/// event.
///
/// Each wake makes one system call, as mio's does: nothing is shared
/// between the waking thread and `poll` but the OS's own queue, so a wake
/// costs what the system call costs, whichever processors the two threads
/// run on. A program that wakes many times between two polls can create
/// its waker with [`Waker::new_coalescing`] instead: a wake that would
/// only coalesce with one still on its way to `poll` then returns without
/// a system call.
///
/// A `Waker` is `Send` and `Sync`; share it with an `Arc`. Dropping it
/// removes it from the `Poll`, together with a wake that `poll` has not
/// yet returned (except on Windows, where, as with mio, a wake already
/// posted is still delivered): keep the waker alive until the event is
/// handled. A `Poll` may have several wakers with different tokens.
///
/// # Platform notes
///
/// On Windows (a completion-port post) and Solaris (`port_send`) each
/// system call queues an event of its own, so every waker there skips the
/// call while one of its wakes is still queued, as a coalescing one does.
///
/// On io_uring (`--cfg evmux_io_uring`) a wake made while a thread waits
/// in `poll` is one system call (a no-op request on the ring); one made
/// while none does makes none: it is noted, and the next `poll` returns
/// with it at once.
///
/// There is no `Waker` on WASI preview 1 (nor on any WASI target in mio).
/// On WASI preview 2, which has no threads, `Waker` is evmux's addition: a
/// wake made from the polling thread itself (a callback, a task scheduler
/// between two polls) is queued and ends the next `poll` at once, even one
/// without a timeout; nothing can interrupt a `poll` already waiting.
///
/// [`Poll`]: crate::Poll
///
/// # Examples
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
/// const WAKE: Token = Token(10);
///
/// let mut poll = Poll::new()?;
/// let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
///
/// let remote = Arc::clone(&waker);
/// let handle = thread::spawn(move || remote.wake());
///
/// let mut events = Events::with_capacity(8);
/// loop {
///     poll.poll(&mut events, Some(Duration::from_secs(10)))?;
///     if let Some(event) = events.iter().find(|event| event.token() == WAKE) {
///         assert!(event.is_readable());
///         break;
///     }
/// }
/// handle.join().unwrap()?;
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "os-poll"))]
/// # fn main() {}
/// ```
#[derive(Debug)]
pub struct Waker {
    inner: sys::Waker,
    /// Set for a waker made by `new_coalescing`.
    coalescing: Option<Coalescing>,
}

/// A coalescing waker's state and the list `poll` finds it in.
#[derive(Debug)]
struct Coalescing {
    state: Arc<WakeState>,
    dedup: Arc<WakeDedup>,
}

impl Waker {
    /// Creates a waker registered with `registry`'s `Poll` under `token`.
    ///
    /// # Errors
    ///
    /// The OS's errors for creating and registering the wake-up descriptor
    /// (e.g. `EMFILE`), or `Unsupported` without a backend.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use evmux::{Poll, Token, Waker};
    ///
    /// let poll = Poll::new()?;
    /// // The waker's events carry Token(10).
    /// let waker = Waker::new(poll.registry(), Token(10))?;
    /// # let _ = waker;
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn new(registry: &Registry, token: Token) -> io::Result<Waker> {
        Ok(Waker {
            inner: sys::Waker::new(registry.selector(), token)?,
            coalescing: None,
        })
    }

    /// Creates a waker, like [`Waker::new`], whose wakes skip the system
    /// call while an earlier wake's event is still on its way to `poll`:
    /// a storm of wakes between two polls costs two system calls, then an
    /// atomic operation each. (Not in mio.)
    ///
    /// The price: the waking thread and `poll` share a word of state, so
    /// when each wake is followed by the `poll` that returns it, on another
    /// processor, the word's cache line crosses between the two processors
    /// twice per wake. Prefer [`Waker::new`] when wakes are already rare
    /// between polls (as in tokio, which wakes its driver only when it
    /// sleeps), and this when many threads or tasks may wake a busy loop.
    ///
    /// Every wake, skipped or not, happens before the `poll` that returns
    /// its event, as a system call would make it.
    ///
    /// # Errors
    ///
    /// As [`Waker::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> std::io::Result<()> {
    /// use std::time::Duration;
    ///
    /// use evmux::{Events, Poll, Token, Waker};
    ///
    /// let mut poll = Poll::new()?;
    /// let waker = Waker::new_coalescing(poll.registry(), Token(0))?;
    /// for _ in 0..1000 {
    ///     waker.wake()?; // two system calls in all
    /// }
    /// let mut events = Events::with_capacity(8);
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// assert_eq!(events.iter().count(), 1);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn new_coalescing(registry: &Registry, token: Token) -> io::Result<Waker> {
        if sys::WAKER_COALESCES {
            return Waker::new(registry, token);
        }
        let inner = sys::Waker::new(registry.selector(), token)?;
        let dedup = Arc::clone(registry.wake_dedup());
        let state = dedup.add(token);
        Ok(Waker {
            inner,
            coalescing: Some(Coalescing { state, dedup }),
        })
    }

    /// Wakes the `Poll`: its current or next `poll` call returns an event
    /// with this waker's token.
    ///
    /// # Errors
    ///
    /// The OS's errors for signalling the wake-up descriptor; they do not
    /// occur in normal operation.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// use evmux::{Events, Poll, Token, Waker};
    ///
    /// let mut poll = Poll::new()?;
    /// let waker = Arc::new(Waker::new(poll.registry(), Token(10))?);
    /// let handle = std::thread::spawn({
    ///     let waker = Arc::clone(&waker);
    ///     move || waker.wake()
    /// });
    ///
    /// // Returns as soon as the other thread has woken it.
    /// let mut events = Events::with_capacity(8);
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// assert_eq!(events.iter().next().unwrap().token(), Token(10));
    /// handle.join().unwrap()?;
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn wake(&self) -> io::Result<()> {
        trace!("waking poll");
        match &self.coalescing {
            None => self.inner.wake(),
            Some(coalescing) => coalescing.state.wake_with(|| self.inner.wake()),
        }
    }
}

impl Drop for Coalescing {
    fn drop(&mut self) {
        self.dedup.remove(&self.state);
    }
}
