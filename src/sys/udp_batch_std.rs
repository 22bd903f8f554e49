//! Batched UDP where evmux has no message calls (Windows, the shell): a
//! loop of std's `send_to` / `recv_from`, one system call per datagram,
//! with the semantics of the batched calls; no GSO, GRO or ancillary data.

use std::io::{self, IoSliceMut};
use std::net::{self, SocketAddr};

use crate::net::{RecvMeta, SendDatagram};

/// Windows' `WSAEMSGSIZE`: the datagram was longer than the buffer, which
/// holds its beginning.
#[cfg(windows)]
const MESSAGE_TRUNCATED: Option<i32> = Some(10040);
#[cfg(not(windows))]
const MESSAGE_TRUNCATED: Option<i32> = None;

fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("{what} of UDP datagrams needs Linux or Android"),
    )
}

pub(crate) fn send_many(socket: &net::UdpSocket, batch: &[SendDatagram<'_>]) -> io::Result<usize> {
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
        };
    }
    Ok(bufs.len())
}

/// No GSO here: evmux splits the segments.
pub(crate) fn gso_supported() -> bool {
    false
}

pub(crate) fn send_gso(
    _: &net::UdpSocket,
    _: SendDatagram<'_>,
    _: usize,
) -> Option<io::Result<usize>> {
    None
}

/// No GRO here: datagrams arrive one by one.
pub(crate) fn set_gro(_: &net::UdpSocket, _: bool) -> io::Result<bool> {
    Ok(false)
}

pub(crate) fn set_recv_ecn(_: &net::UdpSocket, _: bool) -> io::Result<()> {
    Err(unsupported("receiving the ECN bits"))
}

pub(crate) fn set_recv_destination(_: &net::UdpSocket, _: bool) -> io::Result<()> {
    Err(unsupported("receiving the destination address"))
}
