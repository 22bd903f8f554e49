//! Batched UDP on loopback: datagrams per second sent and received by
//! evmux's batched calls (`send_many` / `recv_many`, `send_segments` with
//! GSO, `recv_many` with GRO), by mio's per-datagram `send_to` /
//! `recv_from`, and by the raw batched system calls (the floor).
//!
//! Each operation moves `count` datagrams. A send row times the sending
//! only, and empties the receiver untimed; a receive row fills the
//! receiver untimed (the same way for every competitor: `sendmmsg`, or
//! one GSO send for the GRO rows) and times the receiving only.

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use evmux::net::{RecvMeta, SendDatagram};

use crate::harness::Bench;
use crate::udp_raw;

/// How the datagrams of one operation move.
#[derive(Clone, Copy, Debug)]
pub enum Way {
    /// `count` datagrams per batched call.
    Batch,
    /// One buffer cut into `count` datagrams (GSO), or received coalesced
    /// (GRO).
    Offload,
}

/// Who moves them.
#[derive(Clone, Copy, Debug)]
pub enum Who {
    Evmux,
    Mio,
    Floor,
}

/// The datagrams of one operation.
struct Load {
    payload: Vec<u8>,
    /// `count` payloads back to back, for GSO.
    run: Vec<u8>,
    count: usize,
    way: Way,
}

impl Load {
    fn new(size: usize, count: usize, way: Way) -> Load {
        let payload: Vec<u8> = (0..size).map(|i| i as u8).collect();
        Load {
            run: payload.repeat(count),
            payload,
            count,
            way,
        }
    }
}

/// Sending `count` datagrams to a receiver that is emptied between
/// operations.
pub struct Send {
    who: Who,
    load: Load,
    evmux: evmux::net::UdpSocket,
    mio: mio::net::UdpSocket,
    floor: std::net::UdpSocket,
    sink: std::net::UdpSocket,
    to: SocketAddr,
}

impl Send {
    pub fn new(who: Who, size: usize, count: usize, way: Way) -> Send {
        let sink = udp_raw::socket();
        let to = sink.local_addr().expect("local_addr");
        Send {
            who,
            load: Load::new(size, count, way),
            evmux: evmux::net::UdpSocket::from_std(udp_raw::socket()),
            mio: mio::net::UdpSocket::from_std(udp_raw::socket()),
            floor: udp_raw::socket(),
            sink,
            to,
        }
    }

    fn send(&self) {
        let load = &self.load;
        match (self.who, load.way) {
            (Who::Evmux, Way::Batch) => {
                let batch = vec![SendDatagram::to(&load.payload, self.to); load.count];
                assert_eq!(self.evmux.send_many(&batch).expect("send_many"), load.count);
            }
            (Who::Evmux, Way::Offload) => {
                let run = SendDatagram::to(&load.run, self.to);
                let sent = self
                    .evmux
                    .send_segments(run, load.payload.len())
                    .expect("send_segments");
                assert_eq!(sent, load.run.len());
            }
            (Who::Mio, _) => {
                for _ in 0..load.count {
                    self.mio.send_to(&load.payload, self.to).expect("send_to");
                }
            }
            (Who::Floor, way) => udp_raw::send(
                self.floor.as_raw_fd(),
                &load.payload,
                &load.run,
                load.count,
                self.to,
                matches!(way, Way::Offload),
            ),
        }
    }
}

impl Bench for Send {
    fn run(&mut self, iters: u64) -> Duration {
        let mut timed = Duration::ZERO;
        for _ in 0..iters {
            let start = Instant::now();
            self.send();
            timed += start.elapsed();
            udp_raw::drain(&self.sink);
        }
        timed
    }
}

/// Receiving `count` datagrams that a feeder queued before.
pub struct Recv {
    who: Who,
    load: Load,
    evmux: evmux::net::UdpSocket,
    mio: mio::net::UdpSocket,
    floor: std::net::UdpSocket,
    feeder: std::net::UdpSocket,
    bufs: Vec<Vec<u8>>,
    meta: Vec<RecvMeta>,
}

impl Recv {
    pub fn new(who: Who, size: usize, count: usize, way: Way) -> Recv {
        let evmux = evmux::net::UdpSocket::from_std(udp_raw::socket());
        let floor = udp_raw::socket();
        // A GRO buffer takes a whole run; otherwise one per datagram.
        let (buffers, len) = match way {
            Way::Batch => (count, size),
            Way::Offload => {
                assert!(evmux.set_gro(true).expect("set_gro"), "no GRO here");
                udp_raw::gro(&floor);
                (4, 65_536)
            }
        };
        Recv {
            who,
            load: Load::new(size, count, way),
            evmux,
            mio: mio::net::UdpSocket::from_std(udp_raw::socket()),
            floor,
            feeder: udp_raw::socket(),
            bufs: vec![vec![0; len]; buffers],
            meta: vec![RecvMeta::default(); buffers],
        }
    }

    fn local(&self) -> SocketAddr {
        match self.who {
            Who::Evmux => self.evmux.local_addr(),
            Who::Mio => self.mio.local_addr(),
            Who::Floor => self.floor.local_addr(),
        }
        .expect("local_addr")
    }

    fn receive(&mut self) {
        let count = self.load.count;
        match self.who {
            Who::Evmux => {
                let mut got = 0;
                while got < count {
                    let mut bufs: Vec<IoSliceMut<'_>> = self
                        .bufs
                        .iter_mut()
                        .map(|buf| IoSliceMut::new(buf))
                        .collect();
                    let n = match self.evmux.recv_many(&mut bufs, &mut self.meta) {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        Err(e) => panic!("recv_many: {e}"),
                    };
                    for meta in &self.meta[..n] {
                        got += meta.len().div_ceil(meta.stride().max(1)).max(1);
                    }
                }
            }
            Who::Mio => {
                let buf = &mut self.bufs[0];
                let mut got = 0;
                while got < count {
                    match self.mio.recv_from(buf) {
                        Ok(_) => got += 1,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        Err(e) => panic!("recv_from: {e}"),
                    }
                }
            }
            Who::Floor => {
                udp_raw::receive(self.floor.as_raw_fd(), &mut self.bufs, count);
            }
        }
    }
}

impl Bench for Recv {
    fn run(&mut self, iters: u64) -> Duration {
        let to = self.local();
        let gso = matches!(self.load.way, Way::Offload);
        let mut timed = Duration::ZERO;
        for _ in 0..iters {
            let load = &self.load;
            let fd = self.feeder.as_raw_fd();
            udp_raw::send(fd, &load.payload, &load.run, load.count, to, gso);
            let start = Instant::now();
            self.receive();
            timed += start.elapsed();
        }
        timed
    }
}
