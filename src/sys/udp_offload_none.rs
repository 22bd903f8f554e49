//! Batched UDP's extras where the OS lacks them (every system but Linux
//! and Android): no GSO (evmux cuts the segments), no GRO (datagrams
//! arrive one by one), no ancillary data to send (`Unsupported`), and none
//! received except on macOS, iOS and the BSDs (`unix/udp_cmsg_bsd.rs`).

use std::io;
use std::net;

use crate::net::SendDatagram;
use crate::net::SendState;

/// The error for ancillary data this system does not carry: `what` is
/// e.g. "receiving the ECN bits".
pub(crate) fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "{what} of UDP datagrams is not supported on this system (sending: Linux and \
             Android; receiving: those, macOS, iOS and the BSDs)"
        ),
    )
}

pub(crate) fn gso_supported(_: &SendState) -> bool {
    false
}

pub(crate) fn send_gso(
    _: &net::UdpSocket,
    _: &SendState,
    _: SendDatagram<'_>,
    _: usize,
) -> Option<io::Result<usize>> {
    None
}

pub(crate) fn set_gro(_: &net::UdpSocket, _: bool) -> io::Result<bool> {
    Ok(false)
}

#[cfg(not(any(apple, bsd)))]
pub(crate) fn set_recv_ecn(_: &net::UdpSocket, _: bool) -> io::Result<()> {
    Err(unsupported("receiving the ECN bits"))
}

#[cfg(not(any(apple, bsd)))]
pub(crate) fn set_recv_destination(_: &net::UdpSocket, _: bool) -> io::Result<()> {
    Err(unsupported("receiving the destination address"))
}
