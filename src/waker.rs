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
/// A wake that would only coalesce with one still on its way to `poll`
/// returns without a system call, so waking often is cheap.
///
/// A `Waker` is `Send` and `Sync`; share it with an `Arc`. Dropping it
/// removes it from the `Poll`, together with a wake that `poll` has not
/// yet returned: keep the waker alive until the event is handled. A `Poll`
/// may have several wakers with different tokens.
///
/// # Platform notes
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
    pub fn new(registry: &Registry, token: Token) -> io::Result<Waker> {
        let inner = sys::Waker::new(registry.selector(), token)?;
        let dedup = Arc::clone(registry.wake_dedup());
        let state = dedup.add(token);
        Ok(Waker {
            inner,
            state,
            dedup,
        })
    }

    /// Wakes the `Poll`: its current or next `poll` call returns an event
    /// with this waker's token.
    ///
    /// # Errors
    ///
    /// The OS's errors for signalling the wake-up descriptor; they do not
    /// occur in normal operation.
    pub fn wake(&self) -> io::Result<()> {
        trace!("waking poll");
        self.state.wake_with(|| self.inner.wake())
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        self.dedup.remove(&self.state);
    }
}
