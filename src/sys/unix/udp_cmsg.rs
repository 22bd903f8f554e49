//! Linux and Android: UDP segmentation offload (GSO, `UDP_SEGMENT`),
//! receive coalescing (GRO, `UDP_GRO`), and the ancillary data a QUIC
//! stack reads and writes: the ECN bits (`IP_TOS`, `IPV6_TCLASS`) and the
//! local address of a datagram (`IP_PKTINFO`, `IPV6_PKTINFO`).
//!
//! `libc` for all of it: rustix has no UDP-level socket options and parses
//! no IP-level ancillary messages; it does set `IP_RECVTOS` and
//! `IPV6_RECVTCLASS`, which it is used for.
//!
//! Man pages: udp(7) (`UDP_SEGMENT` since Linux 4.18, `UDP_GRO` since
//! 5.0), ip(7), ipv6(7), cmsg(3).

use std::io;
use std::mem::{self, size_of};
use std::net::{self, IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::ptr;
use std::sync::atomic::{AtomicU8, Ordering};

use rustix::net::{sockopt, AddressFamily, SocketType};

use super::cmsg;
use super::udp_batch::{send_all, Control};
use crate::net::{Ecn, RecvMeta, SendDatagram, SendState};

/// The kernel's limit on segments in one GSO send (`UDP_MAX_SEGMENTS`).
const MAX_SEGMENTS: usize = 64;

/// The largest UDP payload of one IPv4 packet: 65,535 bytes less the IPv4
/// and UDP headers; one GSO send carries at most this much.
const MAX_PAYLOAD: usize = 65_507;

const UNKNOWN: u8 = 0;
const YES: u8 = 1;
const NO: u8 = 2;

/// Whether the kernel has GSO: probed once per process. Whether a socket
/// may use it is that socket's (`SendState::NO_GSO`).
static GSO: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Whether `UDP_SEGMENT` works for a socket with `state`: Linux 4.18 and
/// later answer `getsockopt(UDP_SEGMENT)` (older kernels would ignore the
/// ancillary message and send one oversized datagram, so it is never
/// tried there), and the socket's GSO sends have not been refused.
pub(crate) fn gso_supported(state: &SendState) -> bool {
    if cfg!(evmux_force_udp_loop) || state.has(SendState::NO_GSO) {
        return false;
    }
    match GSO.load(Ordering::Relaxed) {
        YES => true,
        NO => false,
        _ => {
            let supported = super::net::new_socket(AddressFamily::INET, SocketType::DGRAM)
                .and_then(|socket| getsockopt_int(&socket, libc::SOL_UDP, libc::UDP_SEGMENT))
                .is_ok();
            GSO.store(if supported { YES } else { NO }, Ordering::Relaxed);
            supported
        }
    }
}

/// Sends `datagram` cut into `segment_size` pieces by the kernel, as
/// messages of up to 64 segments (and 65,507 bytes), all in one
/// `sendmmsg`. `None` if GSO cannot be used: the caller cuts them.
///
/// The kernel refuses a GSO send with `EIO` where the route's device
/// cannot segment (or checksum) UDP, or goes through IPsec, and with
/// `EINVAL` e.g. on a socket with UDP checksums off (`SO_NO_CHECK`): that
/// socket then cuts its own segments from now on (as quinn-udp does, on
/// the same two errors).
pub(crate) fn send_gso(
    socket: &net::UdpSocket,
    state: &SendState,
    datagram: SendDatagram<'_>,
    segment_size: usize,
) -> Option<io::Result<usize>> {
    let per_message = MAX_SEGMENTS.min(MAX_PAYLOAD / segment_size);
    if !gso_supported(state) || per_message < 2 {
        return None;
    }
    let messages: Vec<SendDatagram<'_>> = datagram
        .data
        .chunks(per_message * segment_size)
        .map(|data| SendDatagram { data, ..datagram })
        .collect();
    match send_all(socket, state, &messages, Some(segment_size as u16)) {
        Ok(n) => Some(Ok(messages[..n].iter().map(|m| m.data.len()).sum())),
        Err(error) if matches!(error.raw_os_error(), Some(libc::EIO | libc::EINVAL)) => {
            state.set(SendState::NO_GSO);
            None
        }
        Err(error) => Some(Err(error)),
    }
}

/// Turns `UDP_GRO` on or off; `Ok(false)` where the kernel lacks it.
pub(crate) fn set_gro(socket: &net::UdpSocket, on: bool) -> io::Result<bool> {
    if cfg!(evmux_force_udp_loop) {
        return Ok(false);
    }
    match cmsg::set_option(socket, libc::SOL_UDP, libc::UDP_GRO, on.into()) {
        Ok(()) => Ok(on),
        Err(error) if error.raw_os_error() == Some(libc::ENOPROTOOPT) => Ok(false),
        Err(error) => Err(error),
    }
}

/// `IP_RECVTOS`, and on an IPv6 socket `IPV6_RECVTCLASS` too (the IPv4
/// option then serves IPv4-mapped peers, where the socket takes them).
pub(crate) fn set_recv_ecn(socket: &net::UdpSocket, on: bool) -> io::Result<()> {
    if socket.local_addr()?.is_ipv4() {
        return Ok(sockopt::set_ip_recvtos(socket, on)?);
    }
    sockopt::set_ipv6_recvtclass(socket, on)?;
    let _ = sockopt::set_ip_recvtos(socket, on);
    Ok(())
}

/// `IP_PKTINFO`, and on an IPv6 socket `IPV6_RECVPKTINFO` too.
pub(crate) fn set_recv_destination(socket: &net::UdpSocket, on: bool) -> io::Result<()> {
    let on = on.into();
    if socket.local_addr()?.is_ipv4() {
        return cmsg::set_option(socket, libc::IPPROTO_IP, libc::IP_PKTINFO, on);
    }
    cmsg::set_option(socket, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, on)?;
    let _ = cmsg::set_option(socket, libc::IPPROTO_IP, libc::IP_PKTINFO, on);
    Ok(())
}

/// The ancillary data of each datagram of `chunk`, with the bytes used,
/// and whether an `IP_TOS` message is among it (sent only if `tos`: see
/// `udp_batch::send_chunk`).
pub(crate) fn encode_send(
    socket: &net::UdpSocket,
    chunk: &[SendDatagram<'_>],
    gso: Option<u16>,
    tos: bool,
) -> io::Result<(Vec<(Control, usize)>, bool)> {
    let mut carried_tos = false;
    let mut peer_is_v4 = None;
    let mut controls = Vec::with_capacity(chunk.len());
    for datagram in chunk {
        let mut control = Writer {
            control: Control([0; 128]),
            used: 0,
        };
        if let Some(segment_size) = gso {
            control.push(libc::SOL_UDP, libc::UDP_SEGMENT, segment_size);
        }
        if datagram.ecn.is_some() || datagram.source.is_some() {
            // The family of the path the datagram takes: its destination's
            // (an IPv4-mapped peer of an IPv6 socket is reached over IPv4,
            // whose path reads `IP_TOS` and ignores `IPV6_TCLASS`).
            let v4 = match datagram.to {
                Some(to) => goes_over_ipv4(to),
                None => match peer_is_v4 {
                    Some(v4) => v4,
                    None => *peer_is_v4.insert(connected_over_ipv4(socket)?),
                },
            };
            match datagram.ecn {
                Some(ecn) if v4 && tos => {
                    control.push(
                        libc::IPPROTO_IP,
                        libc::IP_TOS,
                        libc::c_int::from(ecn.bits()),
                    );
                    carried_tos = true;
                }
                // Refused by this kernel: the datagram goes unmarked.
                Some(_) if v4 => {}
                Some(ecn) => {
                    let tclass = libc::c_int::from(ecn.bits());
                    control.push(libc::IPPROTO_IPV6, libc::IPV6_TCLASS, tclass);
                }
                None => {}
            }
            if let Some(source) = datagram.source {
                control.push_source(source);
            }
        }
        controls.push((control.control, control.used));
    }
    Ok((controls, carried_tos))
}

/// Whether a datagram to `to` travels over IPv4.
fn goes_over_ipv4(to: SocketAddr) -> bool {
    match to {
        SocketAddr::V4(_) => true,
        SocketAddr::V6(to) => to.ip().to_ipv4_mapped().is_some(),
    }
}

/// Whether a connected socket's datagrams travel over IPv4: its peer's
/// family, not its own (a dual-stack IPv6 socket may be connected to an
/// IPv4-mapped address). Unconnected, the local family: the send fails
/// anyway (`EDESTADDRREQ`), with the OS's error.
fn connected_over_ipv4(socket: &net::UdpSocket) -> io::Result<bool> {
    match socket.peer_addr() {
        Ok(peer) => Ok(goes_over_ipv4(peer)),
        Err(_) => Ok(socket.local_addr()?.is_ipv4()),
    }
}

/// Fills in what the ancillary data of a received message tells: the GRO
/// segment size, the ECN bits, the destination address.
pub(crate) fn decode_recv(header: &libc::msghdr, meta: &mut RecvMeta) {
    cmsg::for_each(header, |level, kind, data| match (level, kind) {
        (libc::SOL_UDP, libc::UDP_GRO) => {
            if let Some(size) = cmsg::read::<libc::c_int>(data) {
                meta.stride = usize::try_from(size).unwrap_or(0).max(1);
            }
        }
        (libc::IPPROTO_IP, libc::IP_TOS) => meta.ecn = cmsg::read::<u8>(data).map(Ecn::from_bits),
        (libc::IPPROTO_IPV6, libc::IPV6_TCLASS) => {
            meta.ecn = cmsg::read::<libc::c_int>(data).map(|tclass| Ecn::from_bits(tclass as u8));
        }
        (libc::IPPROTO_IP, libc::IP_PKTINFO) => {
            meta.destination = cmsg::read::<libc::in_pktinfo>(data)
                .map(|info| IpAddr::V4(Ipv4Addr::from(info.ipi_addr.s_addr.to_ne_bytes())));
        }
        (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) => {
            meta.destination = cmsg::read::<libc::in6_pktinfo>(data)
                .map(|info| IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
        }
        _ => {}
    });
}

/// Appends ancillary messages to a `Control`.
struct Writer {
    control: Control,
    used: usize,
}

impl Writer {
    fn push<T: Copy>(&mut self, level: libc::c_int, kind: libc::c_int, value: T) {
        // SAFETY: pure arithmetic on a length.
        let (space, len) = unsafe {
            (
                libc::CMSG_SPACE(size_of::<T>() as u32) as usize,
                libc::CMSG_LEN(size_of::<T>() as u32) as usize,
            )
        };
        // Three messages of at most 32 bytes each fit by construction.
        assert!(
            self.used + space <= self.control.0.len(),
            "ancillary buffer overflow"
        );
        // SAFETY: all zeroes is a valid `cmsghdr` (integers, and on some
        // libcs padding).
        let mut header: libc::cmsghdr = unsafe { mem::zeroed() };
        header.cmsg_len = len as _;
        header.cmsg_level = level;
        header.cmsg_type = kind;
        let at = self.control.0[self.used..].as_mut_ptr();
        // SAFETY: `space` bytes from `at` lie within the buffer (checked
        // above), enough for the header and, from `CMSG_LEN(0)`, the value.
        unsafe {
            ptr::write_unaligned(at.cast::<libc::cmsghdr>(), header);
            ptr::write_unaligned(at.add(cmsg::data_offset()).cast::<T>(), value);
        }
        self.used += space;
    }

    fn push_source(&mut self, source: IpAddr) {
        match source {
            IpAddr::V4(ip) => {
                let info = libc::in_pktinfo {
                    ipi_ifindex: 0,
                    ipi_spec_dst: libc::in_addr {
                        s_addr: u32::from_ne_bytes(ip.octets()),
                    },
                    ipi_addr: libc::in_addr { s_addr: 0 },
                };
                self.push(libc::IPPROTO_IP, libc::IP_PKTINFO, info);
            }
            IpAddr::V6(ip) => {
                let info = libc::in6_pktinfo {
                    ipi6_addr: libc::in6_addr {
                        s6_addr: ip.octets(),
                    },
                    ipi6_ifindex: 0,
                };
                self.push(libc::IPPROTO_IPV6, libc::IPV6_PKTINFO, info);
            }
        }
    }
}

fn getsockopt_int(socket: &impl AsFd, level: libc::c_int, name: libc::c_int) -> io::Result<()> {
    let mut value: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid for writes of their sizes.
    let result = unsafe {
        libc::getsockopt(
            socket.as_fd().as_raw_fd(),
            level,
            name,
            ptr::addr_of_mut!(value).cast(),
            &mut len,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
