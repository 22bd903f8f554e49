//! # Getting started with evmux
//!
//! This guide builds an event loop step by step and explains the one rule
//! that makes it correct: **drain each source until `WouldBlock`**.
//!
//! ## 1. A `Poll` and an `Events` buffer
//!
//! [`Poll`] is the waiting room. [`Events`] is where `poll` puts what it
//! found; its capacity bounds how many events one call returns (the rest
//! wait for the next call, nothing is dropped).
//!
//! ```
//! use evmux::{Events, Poll};
//!
//! # fn main() -> std::io::Result<()> {
//! let poll = Poll::new()?;
//! let events = Events::with_capacity(1024);
//! # let _ = (poll, events);
//! # Ok(())
//! # }
//! ```
//!
//! ## 2. Registering sources
//!
//! A source is registered with a [`Token`], which comes back in every event
//! for it, and an [`Interest`]: readable, writable or both. Sources must be
//! non-blocking.
//!
//! ## 3. Edge-triggered readiness
//!
//! evmux reports **changes**: a socket becoming readable produces one
//! event. If the application reads only part of the data and waits again,
//! there may never be another event for what is left, because nothing
//! changed. So, on an event, repeat the operation until it returns
//! [`WouldBlock`](std::io::ErrorKind::WouldBlock): that is the proof that
//! the source is empty (or full, for writes), and the next change will be
//! reported.
//!
//! Two more rules follow from events being hints:
//!
//! - An event may be spurious, and an operation after an event may still
//!   return `WouldBlock`. Treat it as "nothing to do yet".
//! - A read that returns `Ok(0)` means the peer closed; stop reading.
//!
//! ## 4. The loop
//!
//! Here a Unix socket pair stands in for a network connection; TCP
//! streams work the same way.
//!
//! ```
//! use std::io::{self, Read, Write};
//! use std::time::Duration;
//!
//! use evmux::net::UnixStream;
//! use evmux::{Events, Interest, Poll, Token};
//!
//! const CONNECTION: Token = Token(1);
//!
//! /// Reads everything available. Returns true when the peer has closed.
//! fn drain(stream: &mut UnixStream, received: &mut Vec<u8>) -> io::Result<bool> {
//!     let mut buf = [0; 4096];
//!     loop {
//!         match stream.read(&mut buf) {
//!             Ok(0) => return Ok(true),
//!             Ok(n) => received.extend_from_slice(&buf[..n]),
//!             Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
//!             Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
//!             Err(e) => return Err(e),
//!         }
//!     }
//! }
//!
//! fn main() -> io::Result<()> {
//!     let mut poll = Poll::new()?;
//!     let mut events = Events::with_capacity(64);
//!
//!     let (peer, mut stream) = UnixStream::pair()?;
//!     poll.registry().register(&mut stream, CONNECTION, Interest::READABLE)?;
//!
//!     // The peer sends 100 KiB in one go, then closes. (evmux's sockets are
//!     // non-blocking, so it gets a blocking std socket.)
//!     let peer = std::os::unix::net::UnixStream::from(std::os::fd::OwnedFd::from(peer));
//!     peer.set_nonblocking(false)?;
//!     let sender = std::thread::spawn(move || (&peer).write_all(&[7; 100 * 1024]));
//!
//!     let mut received = Vec::new();
//!     let mut closed = false;
//!     while !closed {
//!         poll.poll(&mut events, Some(Duration::from_secs(10)))?;
//!         for event in &events {
//!             if event.token() == CONNECTION {
//!                 closed = drain(&mut stream, &mut received)?;
//!             }
//!         }
//!     }
//!     sender.join().unwrap()?;
//!     assert_eq!(received.len(), 100 * 1024);
//!     poll.registry().deregister(&mut stream)?;
//!     Ok(())
//! }
//! ```
//!
//! ## 5. Waking the loop from another thread
//!
//! A [`Waker`] makes a blocked `poll` return an event with the waker's
//! token. Use it to tell the loop that work arrived through a channel.
//!
//! ## 6. Deregistering
//!
//! Deregister a source before dropping it: the OS may otherwise report
//! events for a descriptor that a duplicate keeps open.
//!
//! [`Poll`]: crate::Poll
//! [`Events`]: crate::Events
//! [`Token`]: crate::Token
//! [`Interest`]: crate::Interest
//! [`Waker`]: crate::Waker
