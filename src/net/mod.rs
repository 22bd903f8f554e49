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
//!
//! # Batched UDP
//!
//! Beyond mio, [`UdpSocket`] moves many datagrams per system call
//! ([`send_many`](UdpSocket::send_many), [`recv_many`](UdpSocket::recv_many)),
//! hands the kernel a run of equal datagrams at once (segmentation offload,
//! GSO: [`send_segments`](UdpSocket::send_segments)), receives them
//! coalesced (GRO: [`set_gro`](UdpSocket::set_gro)), and carries the
//! ancillary data a QUIC stack needs: ECN bits ([`Ecn`]) and the
//! destination address of a received datagram ([`RecvMeta`]). Each method's
//! docs have an example; `examples/udp_batch.rs` in the repository uses
//! them all.
//!
//! Where each part comes from:
//!
//! | | Linux, Android | other Unix | Windows |
//! |---|---|---|---|
//! | [`UdpSocket::send_many`], [`UdpSocket::recv_many`] | `sendmmsg(2)`, `recvmmsg(2)`: one call per 64 datagrams (FreeBSD, NetBSD and OpenBSD too) | a loop of `sendmsg(2)` / `recvmsg(2)`: one call per datagram | a loop of `sendto` / `recvfrom` |
//! | [`UdpSocket::send_segments`] | `UDP_SEGMENT` (GSO) if the kernel has it (4.18+), checked at run time | split in user space, sent as a batch | split in user space |
//! | [`UdpSocket::set_gro`] | `UDP_GRO` (5.0+) | `Ok(false)`: datagrams arrive one by one | `Ok(false)` |
//! | ECN, destination address | `IP_TOS`/`IPV6_TCLASS`, `IP_PKTINFO`/`IPV6_PKTINFO`, sent and received | received on macOS, iOS and the BSDs (`IP_RECVTOS` where it exists: macOS, iOS, FreeBSD; `IP_RECVDSTADDR`; `IPV6_RECVTCLASS`, `IPV6_RECVPKTINFO`); sending them `Unsupported`; elsewhere `Unsupported` | `Unsupported` |
//!
//! What a socket learns from the kernel's refusals is kept per socket (as
//! in quinn-udp): a GSO send refused with `EIO` or `EINVAL` makes that
//! socket cut its own segments from then on; a send refused with `EINVAL`
//! while it carried `IP_TOS` (Linux before 3.13 refuses that message) is
//! sent again without it, and the socket's datagrams over IPv4 go
//! unmarked from then on. Unlike quinn-udp, evmux turns `IP_TOS` back on
//! when the second try is refused the same way (it was not the cause).
//! Ancillary data the kernel had to cut is reported
//! ([`RecvMeta::ancillary_truncated`]; quinn-udp does not check
//! `MSG_CTRUNC` on receives).
//!
//! The loop has the same semantics as the batched calls, at the cost of one
//! system call per datagram. Building evmux with
//! `RUSTFLAGS="--cfg evmux_force_udp_loop"` makes Linux take the loop and
//! the user-space splitting too (and report GRO as unavailable), so that
//! those paths are tested on Linux.
//!
//! All of it goes through the socket's readiness bookkeeping: a call that
//! ends in `WouldBlock`, or in a partial batch, re-arms the interest it
//! waits for on backends that emulate edge triggering (poll(2), Windows),
//! like [`UdpSocket::recv_from`] does.

mod tcp;
// WASI preview 1 cannot create sockets (see `sys::wasi::net`).
#[cfg(not(wasip1))]
mod udp;
#[cfg(not(wasip1))]
mod udp_batch;
#[cfg(unix)]
mod uds;

pub use self::tcp::{TcpListener, TcpStream};
// Their availability note names the feature only (WASI preview 1's
// absence is said in prose: `wasip1` is evmux's own cfg).
#[cfg(not(wasip1))]
#[cfg_attr(docsrs, doc(cfg(feature = "net")))]
pub use self::udp::UdpSocket;
#[cfg(not(wasip1))]
pub(crate) use self::udp_batch::SendState;
#[cfg(not(wasip1))]
#[cfg_attr(docsrs, doc(cfg(feature = "net")))]
pub use self::udp_batch::{Ecn, RecvMeta, SendDatagram};
#[cfg(unix)]
pub use self::uds::{UnixDatagram, UnixListener, UnixStream};
