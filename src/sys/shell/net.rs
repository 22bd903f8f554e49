//! Socket creation on targets without an evmux backend: every call returns
//! `Unsupported`, so the net types compile everywhere.

use std::io::{self, IoSlice};
use std::net::{self, SocketAddr};

use super::selector::unsupported;

pub(crate) fn tcp_bind(_: SocketAddr) -> io::Result<net::TcpListener> {
    Err(unsupported())
}

pub(crate) fn tcp_connect(_: SocketAddr) -> io::Result<net::TcpStream> {
    Err(unsupported())
}

pub(crate) fn tcp_accept(_: &net::TcpListener) -> io::Result<(net::TcpStream, SocketAddr)> {
    Err(unsupported())
}

pub(crate) fn udp_bind(_: SocketAddr) -> io::Result<net::UdpSocket> {
    Err(unsupported())
}

pub(crate) fn only_v6<T>(_: &T) -> io::Result<bool> {
    Err(unsupported())
}

pub(crate) fn send<T>(_: &T, _: &[u8]) -> io::Result<usize> {
    Err(unsupported())
}

pub(crate) fn send_vectored<T>(_: &T, _: &[IoSlice<'_>]) -> io::Result<usize> {
    Err(unsupported())
}
