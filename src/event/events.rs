use std::fmt;
use std::iter::FusedIterator;

use crate::event::Event;
use crate::sys;

/// The buffer [`Poll::poll`] fills with events.
///
/// Its capacity, fixed at creation, is the most events one `poll` call
/// returns; the rest stay queued in the OS for the next call, so a small
/// buffer loses nothing. `poll` clears the buffer before filling it.
///
/// With a capacity of zero, `poll` still waits (until an event is pending,
/// a wake, or the timeout) but takes no events: it returns at once while
/// events are pending, and leaves them queued for a call with a non-zero
/// capacity. This is useful to wait for readiness without handling it.
///
/// [`Poll::poll`]: crate::Poll::poll
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
/// let mut events = Events::with_capacity(1024);
/// assert_eq!(events.capacity(), 1024);
///
/// poll.poll(&mut events, Some(Duration::from_millis(1)))?;
/// for event in &events {
///     println!("{:?}", event.token());
/// }
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "os-poll"))]
/// # fn main() {}
/// ```
pub struct Events {
    inner: sys::Events,
}

impl Events {
    /// Creates a buffer for at most `capacity` events per `poll`.
    ///
    /// # Panics
    ///
    /// If the memory for `capacity` events cannot be allocated, as
    /// `Vec::with_capacity`.
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::Events;
    ///
    /// // At most 256 events per `poll`; the rest wait for the next call.
    /// let events = Events::with_capacity(256);
    /// assert!(events.is_empty());
    /// ```
    pub fn with_capacity(capacity: usize) -> Events {
        Events {
            inner: sys::Events::with_capacity(capacity),
        }
    }

    /// The most events one `poll` call returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::Events;
    ///
    /// let events = Events::with_capacity(256);
    /// assert_eq!(events.capacity(), 256);
    /// ```
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// Returns true if the last `poll` returned no events.
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
    /// let mut events = Events::with_capacity(8);
    /// // Nothing registered: the poll times out with no events.
    /// poll.poll(&mut events, Some(Duration::from_millis(1)))?;
    /// assert!(events.is_empty());
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Iterates over the events of the last `poll`.
    ///
    /// ```
    /// # #[cfg(feature = "os-poll")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// use evmux::{Events, Poll, Token, Waker};
    ///
    /// let mut poll = Poll::new()?;
    /// let waker = Waker::new(poll.registry(), Token(9))?;
    /// waker.wake()?;
    ///
    /// let mut events = Events::with_capacity(8);
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// let tokens: Vec<_> = events.iter().map(|event| event.token()).collect();
    /// assert_eq!(tokens, [Token(9)]);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: self.inner.iter(),
        }
    }

    /// Removes all events; the capacity stays.
    ///
    /// `poll` does this itself, so this is only needed to drop the events
    /// early.
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
    /// let waker = Waker::new(poll.registry(), Token(0))?;
    /// waker.wake()?;
    /// poll.poll(&mut events, Some(Duration::from_secs(10)))?;
    /// assert!(!events.is_empty());
    ///
    /// // `poll` clears the buffer itself; `clear` drops the events earlier.
    /// events.clear();
    /// assert!(events.is_empty());
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "os-poll"))]
    /// # fn main() {}
    /// ```
    pub fn clear(&mut self) {
        self.inner.clear();
    }

    /// The backend's buffer, for `Poll::poll`.
    pub(crate) fn sys(&mut self) -> &mut sys::Events {
        &mut self.inner
    }
}

impl<'a> IntoIterator for &'a Events {
    type Item = &'a Event;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self).finish()
    }
}

/// Iterator over the events in an [`Events`], from [`Events::iter`].
#[derive(Clone)]
pub struct Iter<'a> {
    inner: std::slice::Iter<'a, sys::Event>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Event;

    fn next(&mut self) -> Option<&'a Event> {
        self.inner.next().map(Event::from_sys_event_ref)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }

    fn count(self) -> usize {
        self.inner.len()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl fmt::Debug for Iter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl FusedIterator for Iter<'_> {}
