//! # Getting started with evmux
//!
//! This guide builds an event loop step by step and explains the one rule
//! that makes it correct: **drain each source until `WouldBlock`**. Every
//! section has an example that runs as a test; the complete programs are
//! in the repository's `examples/` folder:
//!
//! - `examples/tcp_server.rs`: a TCP echo server for any number of
//!   clients (the loop of sections 3 and 4, with writes that wait for
//!   writability);
//! - `examples/tcp_client.rs`: a client for it that sends one message and
//!   waits for the echo (a non-blocking connect, then write and read until
//!   `WouldBlock`);
//! - `examples/udp_server.rs`: a UDP echo server, and
//!   `examples/udp_client.rs`, its client;
//! - `examples/waker.rs`: a worker thread that wakes the loop (section 6);
//! - `examples/trigger_modes.rs`: edge-triggered, level-triggered and
//!   one-shot registrations side by side (module
//!   [`trigger`](crate::trigger)).
//!
//! Run them with `cargo run --example NAME --features os-poll,net`. The two
//! servers take an optional address to listen on, `127.0.0.1:9000` when
//! none is given: `cargo run --example tcp_server --features os-poll,net
//! -- 0.0.0.0:7000`.
//!
//! The examples below need the `os-poll` and `net` features (see
//! [`features`](crate::features)).
//!
//! ## 1. A `Poll` and an `Events` buffer
//!
//! [`Poll`] is the waiting room. [`Events`] is where `poll` puts what it
//! found; its capacity bounds how many events one call returns (the rest
//! wait for the next call, nothing is dropped).
//!
//! ```
//! # #[cfg(all(feature = "os-poll", feature = "net"))]
//! # fn main() -> std::io::Result<()> {
//! use std::time::Duration;
//!
//! use evmux::{Events, Poll};
//!
//! let mut poll = Poll::new()?;
//! let mut events = Events::with_capacity(1024);
//!
//! // Nothing is registered yet: this returns empty-handed after 10 ms.
//! poll.poll(&mut events, Some(Duration::from_millis(10)))?;
//! assert!(events.is_empty());
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "os-poll", feature = "net")))]
//! # fn main() {}
//! ```
//!
//! ## 2. Registering sources
//!
//! A source is registered with a [`Token`], which comes back in every event
//! for it, and an [`Interest`]: readable, writable or both. Sources must be
//! non-blocking; evmux's own socket types always are.
//!
//! ```
//! # #[cfg(all(feature = "os-poll", feature = "net"))]
//! # fn main() -> std::io::Result<()> {
//! use std::time::Duration;
//!
//! use evmux::net::{TcpListener, TcpStream};
//! use evmux::{Events, Interest, Poll, Token};
//!
//! const SERVER: Token = Token(0);
//! const CLIENT: Token = Token(1);
//!
//! let mut poll = Poll::new()?;
//! let mut events = Events::with_capacity(16);
//!
//! let mut server = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
//! poll.registry().register(&mut server, SERVER, Interest::READABLE)?;
//!
//! // A non-blocking connect returns at once; the stream becomes writable
//! // when the connection is established.
//! let mut client = TcpStream::connect(server.local_addr()?)?;
//! poll.registry().register(&mut client, CLIENT, Interest::WRITABLE)?;
//!
//! let (mut accepted, mut connected) = (false, false);
//! while !(accepted && connected) {
//!     poll.poll(&mut events, Some(Duration::from_secs(10)))?;
//!     for event in &events {
//!         match event.token() {
//!             SERVER => accepted |= server.accept().is_ok(),
//!             CLIENT => connected |= client.peer_addr().is_ok(),
//!             _ => unreachable!(),
//!         }
//!     }
//! }
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "os-poll", feature = "net")))]
//! # fn main() {}
//! ```
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
//! The function below is the heart of every evmux program: it reads until
//! `WouldBlock` and tells whether the peer has closed.
//!
//! ```
//! use std::io::{self, Read};
//!
//! /// Reads everything available. Returns true when the peer has closed.
//! fn drain(source: &mut impl Read, received: &mut Vec<u8>) -> io::Result<bool> {
//!     let mut buf = [0; 4096];
//!     loop {
//!         match source.read(&mut buf) {
//!             Ok(0) => return Ok(true),
//!             Ok(n) => received.extend_from_slice(&buf[..n]),
//!             Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
//!             Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
//!             Err(e) => return Err(e),
//!         }
//!     }
//! }
//!
//! // A reader that has 5 bytes and then nothing for now.
//! struct Pending(&'static [u8]);
//! impl Read for Pending {
//!     fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
//!         if self.0.is_empty() {
//!             return Err(io::ErrorKind::WouldBlock.into());
//!         }
//!         let n = self.0.len().min(buf.len());
//!         buf[..n].copy_from_slice(&self.0[..n]);
//!         self.0 = &self.0[n..];
//!         Ok(n)
//!     }
//! }
//!
//! let mut received = Vec::new();
//! assert!(!drain(&mut Pending(b"hello"), &mut received).unwrap());
//! assert_eq!(received, b"hello");
//! ```
//!
//! ## 4. The loop
//!
//! A client sends 100 KiB and closes; the loop accepts until `WouldBlock`
//! and drains the accepted connection on every event until it sees the
//! close. (This client connects once; a server gives each connection a
//! token of its own, as `examples/tcp_server.rs` does.)
//! `examples/tcp_server.rs` is this loop for many clients, with the echo
//! written back.
//!
//! ```
//! # #[cfg(all(feature = "os-poll", feature = "net"))]
//! # fn main() -> std::io::Result<()> {
//! use std::io::{self, Read, Write};
//! use std::time::Duration;
//!
//! use evmux::net::TcpListener;
//! use evmux::{Events, Interest, Poll, Token};
//!
//! const SERVER: Token = Token(0);
//! const CONNECTION: Token = Token(1);
//! # fn drain(source: &mut impl Read, received: &mut Vec<u8>) -> io::Result<bool> {
//! #     let mut buf = [0; 4096];
//! #     loop {
//! #         match source.read(&mut buf) {
//! #             Ok(0) => return Ok(true),
//! #             Ok(n) => received.extend_from_slice(&buf[..n]),
//! #             Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
//! #             Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
//! #             Err(e) => return Err(e),
//! #         }
//! #     }
//! # }
//!
//! let mut poll = Poll::new()?;
//! let mut events = Events::with_capacity(64);
//! let mut server = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
//! poll.registry().register(&mut server, SERVER, Interest::READABLE)?;
//!
//! // The client is an ordinary blocking std socket on another thread.
//! let address = server.local_addr()?;
//! let client = std::thread::spawn(move || -> io::Result<()> {
//!     std::net::TcpStream::connect(address)?.write_all(&[7; 100 * 1024])
//! });
//!
//! let mut connection = None;
//! let mut received = Vec::new();
//! let mut closed = false;
//! while !closed {
//!     poll.poll(&mut events, Some(Duration::from_secs(10)))?;
//!     for event in &events {
//!         match event.token() {
//!             // Accept until WouldBlock, as section 3 says: one event may
//!             // stand for several connections, or (spurious) for none.
//!             SERVER => loop {
//!                 match server.accept() {
//!                     Ok((mut stream, _)) => {
//!                         poll.registry().register(&mut stream, CONNECTION, Interest::READABLE)?;
//!                         // Data may have arrived before the registration.
//!                         closed = drain(&mut stream, &mut received)?;
//!                         connection = Some(stream);
//!                     }
//!                     Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
//!                     Err(e) => return Err(e),
//!                 }
//!             },
//!             CONNECTION => {
//!                 let stream = connection.as_mut().expect("accepted");
//!                 closed = drain(stream, &mut received)?;
//!             }
//!             _ => unreachable!(),
//!         }
//!     }
//! }
//! client.join().unwrap()?;
//! assert_eq!(received.len(), 100 * 1024);
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "os-poll", feature = "net")))]
//! # fn main() {}
//! ```
//!
//! ## 5. Writing
//!
//! Writes follow the same rule from the other side. A non-blocking
//! `write` takes what fits in the socket's send buffer and returns how much
//! that was, which may be less than asked (a **partial write**): keep the
//! rest. When the buffer is full, `write` returns `WouldBlock`; the socket
//! reports **writable** once the peer has read enough to make room, so
//! register it with [`Interest::WRITABLE`](crate::Interest::WRITABLE) (alone, or with
//! `Interest::READABLE | Interest::WRITABLE`) and continue on that event.
//! A writable event with nothing to write is harmless: edge-triggered, it
//! does not repeat until the buffer fills and drains again.
//!
//! This is why [`Write::write_all`](std::io::Write::write_all) does not
//! work on a non-blocking socket: it calls `write` in a loop, and when the
//! buffer fills it returns the `WouldBlock` error, without saying how much
//! it had written. The part already sent is gone from the buffer, the rest
//! was not sent, and the caller cannot tell where to resume. Write with a
//! loop that remembers its position instead:
//!
//! ```
//! # #[cfg(all(feature = "os-poll", feature = "net"))]
//! # fn main() -> std::io::Result<()> {
//! use std::io::{self, Read, Write};
//! use std::time::Duration;
//!
//! use evmux::net::TcpStream;
//! use evmux::{Events, Interest, Poll, Token};
//!
//! /// Writes `data[*written..]` until done or `WouldBlock`. Returns true
//! /// when everything is written.
//! fn flush(sink: &mut impl Write, data: &[u8], written: &mut usize) -> io::Result<bool> {
//!     while *written < data.len() {
//!         match sink.write(&data[*written..]) {
//!             Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
//!             // A partial write: the loop offers the rest at once.
//!             Ok(n) => *written += n,
//!             // The send buffer is full: wait for a writable event.
//!             Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
//!             Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
//!             Err(e) => return Err(e),
//!         }
//!     }
//!     Ok(true)
//! }
//!
//! const STREAM: Token = Token(0);
//!
//! // The peer: a blocking std socket on another thread that reads until
//! // the connection closes. 8 MiB are more than the send buffer holds.
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let address = listener.local_addr()?;
//! let peer = std::thread::spawn(move || -> io::Result<usize> {
//!     let mut received = Vec::new();
//!     listener.accept()?.0.read_to_end(&mut received)?;
//!     Ok(received.len())
//! });
//!
//! let mut poll = Poll::new()?;
//! let mut events = Events::with_capacity(8);
//! let mut stream = TcpStream::connect(address)?;
//! poll.registry().register(&mut stream, STREAM, Interest::WRITABLE)?;
//!
//! let data = vec![7; 8 << 20];
//! let mut written = 0;
//! let mut done = false;
//! while !done {
//!     poll.poll(&mut events, Some(Duration::from_secs(10)))?;
//!     if events.is_empty() {
//!         return Err(io::Error::new(io::ErrorKind::TimedOut, "not writable for 10 s"));
//!     }
//!     // The first writable event also says the connect completed.
//!     for event in &events {
//!         if event.token() == STREAM {
//!             done = flush(&mut stream, &data, &mut written)?;
//!         }
//!     }
//! }
//! drop(stream); // closes the connection: the peer's read ends
//! assert_eq!(peer.join().unwrap()?, 8 << 20);
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "os-poll", feature = "net")))]
//! # fn main() {}
//! ```
//!
//! `examples/tcp_server.rs` does both directions: it keeps what a client's
//! socket did not take and re-registers it for `READABLE | WRITABLE` until
//! it is sent.
//!
//! ## 6. Waking the loop from another thread
//!
//! A [`Waker`] makes a blocked `poll` return an event with the waker's
//! token. Use it to tell the loop that work arrived through a channel, as
//! `examples/waker.rs` does.
//!
//! ```
//! # #[cfg(all(feature = "os-poll", feature = "net"))]
//! # fn main() -> std::io::Result<()> {
//! use std::sync::{mpsc, Arc};
//! use std::time::Duration;
//!
//! use evmux::{Events, Poll, Token, Waker};
//!
//! const WAKER: Token = Token(10);
//!
//! let mut poll = Poll::new()?;
//! let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
//! let (jobs, inbox) = mpsc::channel();
//!
//! let worker = {
//!     let waker = Arc::clone(&waker);
//!     std::thread::spawn(move || {
//!         jobs.send("job done").unwrap();
//!         waker.wake()
//!     })
//! };
//!
//! let mut events = Events::with_capacity(8);
//! let mut done = Vec::new();
//! while done.is_empty() {
//!     poll.poll(&mut events, Some(Duration::from_secs(10)))?;
//!     if events.iter().any(|event| event.token() == WAKER) {
//!         done.extend(inbox.try_iter());
//!     }
//! }
//! worker.join().unwrap()?;
//! assert_eq!(done, ["job done"]);
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "os-poll", feature = "net")))]
//! # fn main() {}
//! ```
//!
//! Each wake is a system call, as in mio. When many threads may wake the
//! loop between two polls (a job queue feeding a busy loop), create the
//! waker with [`Waker::new_coalescing`](crate::Waker::new_coalescing): a
//! wake that would only repeat one still on its way returns at once.
//!
//! ## 7. Deregistering
//!
//! Deregister a source before dropping it: the OS may otherwise report
//! events for a descriptor that a duplicate keeps open. After
//! `deregister`, no event for the source is returned, and it can be
//! registered again, with the same or another `Poll`.
//!
//! ```
//! # #[cfg(all(feature = "os-poll", feature = "net"))]
//! # fn main() -> std::io::Result<()> {
//! use std::time::Duration;
//!
//! use evmux::net::UdpSocket;
//! use evmux::{Events, Interest, Poll, Token};
//!
//! let mut poll = Poll::new()?;
//! let mut events = Events::with_capacity(8);
//! let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
//!
//! poll.registry().register(&mut socket, Token(0), Interest::WRITABLE)?;
//! poll.registry().deregister(&mut socket)?;
//!
//! // The socket is writable, but no longer watched.
//! poll.poll(&mut events, Some(Duration::from_millis(10)))?;
//! assert!(events.is_empty());
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "os-poll", feature = "net")))]
//! # fn main() {}
//! ```
//!
//! ## 8. Logging
//!
//! With the `log` feature (on by default) evmux writes trace records for
//! every registration change and wake, and warnings for failures it cannot
//! return to a caller, all under the **log target `evmux`**. The target
//! stays `evmux` when the dependency is renamed, so a program that depends
//! on evmux as `mio` (tokio, for example) selects them with
//! `RUST_LOG=evmux=trace`, not `RUST_LOG=mio=trace`.
//!
//! The records go to the logger the program installs; without one they go
//! nowhere, and `RUST_LOG` is read by the logger, not by evmux. With
//! [`env_logger`](https://docs.rs/env_logger), call `env_logger::init()`
//! at the start of `main`; a program that uses `tracing` receives them
//! through its `log` bridge (`tracing-subscriber`'s `fmt::init()` installs
//! it, and reads `RUST_LOG` with the `env-filter` feature).
//!
//! [`Poll`]: crate::Poll
//! [`Events`]: crate::Events
//! [`Token`]: crate::Token
//! [`Interest`]: crate::Interest
//! [`Waker`]: crate::Waker
