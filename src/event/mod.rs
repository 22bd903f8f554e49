//! Readiness events and the trait for things that produce them.
//!
//! - [`Source`]: anything that can be registered with a [`Registry`].
//! - [`Events`]: the buffer [`Poll::poll`] fills.
//! - [`Event`]: one readiness report, read through [`Events::iter`].
//!
//! [`Registry`]: crate::Registry
//! [`Poll::poll`]: crate::Poll::poll

#[allow(clippy::module_inception)]
mod event;
mod events;
mod source;

pub use self::event::Event;
pub use self::events::{Events, Iter};
pub use self::source::Source;
