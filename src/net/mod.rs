//! Non-blocking TCP, UDP and Unix-domain sockets.
//!
//! Each type wraps the std type of the same name, created non-blocking and
//! close-on-exec, and implements [`event::Source`](crate::event::Source) so
//! that it can be registered with a [`Poll`](crate::Poll). Operations never
//! block: when one would, it returns
//! [`io::ErrorKind::WouldBlock`](std::io::ErrorKind::WouldBlock), and the
//! application waits for the next event. Perform each operation until it
//! returns `WouldBlock` before waiting again (see the [`guide`](crate::guide)).
//!
//! Writes never raise `SIGPIPE`: writing to a connection the peer closed
//! returns an error (`BrokenPipe`) instead of killing the process.
//!
//! Conversions from std types (`from_std`, `From<OwnedFd>`, `FromRawFd`)
//! keep the descriptor as it is: it should already be non-blocking, or
//! operations on it will block the event loop.

mod tcp;
// WASI preview 1 cannot create sockets (see `sys::wasi::net`).
#[cfg(not(wasip1))]
mod udp;
#[cfg(not(wasip1))]
mod udp_batch;
#[cfg(unix)]
mod uds;

pub use self::tcp::{TcpListener, TcpStream};
#[cfg(not(wasip1))]
pub use self::udp::UdpSocket;
#[cfg(not(wasip1))]
pub(crate) use self::udp_batch::SendState;
#[cfg(not(wasip1))]
pub use self::udp_batch::{Ecn, RecvMeta, SendDatagram};
#[cfg(unix)]
pub use self::uds::{UnixDatagram, UnixListener, UnixStream};
