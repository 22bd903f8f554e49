//! Batched UDP where evmux has no message calls (Windows, the shell): a
//! loop of std's `send_to` / `recv_from`, one system call per datagram,
//! with the semantics of the batched calls; no GSO, GRO or ancillary data.

use std::io::{self, IoSliceMut};
use std::net::{self, SocketAddr};

use super::udp_offload_none::unsupported;
pub(crate) use super::udp_offload_none::{
    gso_supported, send_gso, set_gro, set_recv_destination, set_recv_ecn,
};
use crate::net::{RecvMeta, SendDatagram, SendState};

/// Windows' `WSAEMSGSIZE`: the datagram was longer than the buffer, which
/// holds its beginning.
#[cfg(windows)]
const MESSAGE_TRUNCATED: Option<i32> = Some(10040);
#[cfg(not(windows))]
const MESSAGE_TRUNCATED: Option<i32> = None;

pub(crate) fn send_many(
    socket: &net::UdpSocket,
    _: &SendState,
    batch: &[SendDatagram<'_>],
) -> io::Result<usize> {
    for (sent, datagram) in batch.iter().enumerate() {
        let result = if datagram.ecn.is_some() || datagram.source.is_some() {
            Err(unsupported("sending the ECN bits or source address"))
        } else {
            match datagram.to {
                Some(to) => socket.send_to(datagram.data, to),
                None => socket.send(datagram.data),
            }
        };
        match result {
            Ok(_) => {}
            Err(_) if sent > 0 => return Ok(sent),
            Err(error) => return Err(error),
        }
    }
    Ok(batch.len())
}

pub(crate) fn recv_many(
    socket: &net::UdpSocket,
    bufs: &mut [IoSliceMut<'_>],
    meta: &mut [RecvMeta],
) -> io::Result<usize> {
    for (received, buf) in bufs.iter_mut().enumerate() {
        let (len, from, truncated) = match socket.recv_from(buf) {
            Ok((len, from)) => (len, from, false),
            // std drops the sender's address with the error.
            Err(error)
                if MESSAGE_TRUNCATED.is_some() && error.raw_os_error() == MESSAGE_TRUNCATED =>
            {
                (buf.len(), SocketAddr::from(([0, 0, 0, 0], 0)), true)
            }
            Err(_) if received > 0 => return Ok(received),
            Err(error) => return Err(error),
        };
        meta[received] = RecvMeta {
            len,
            stride: len,
            from,
            truncated,
            ecn: None,
            destination: None,
            ancillary_truncated: false,
        };
    }
    Ok(bufs.len())
}
