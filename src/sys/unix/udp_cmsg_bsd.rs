//! macOS, iOS and the BSDs: the ECN bits and the destination address of
//! received UDP datagrams, as ancillary data (sending them is Linux's
//! only, see `udp_cmsg`).
//!
//! | | IPv4 (and IPv4-mapped peers of a dual-stack socket) | IPv6 |
//! |---|---|---|
//! | ECN bits | `IP_RECVTOS` (macOS, iOS, FreeBSD; the others lack it: `Unsupported` on an IPv4 socket) | `IPV6_RECVTCLASS` (RFC 3542) |
//! | destination | `IP_RECVDSTADDR` (an `in_addr`) | `IPV6_RECVPKTINFO` (RFC 3542) |
//!
//! On an IPv6 socket the IPv4 options are set too where they exist, for
//! IPv4-mapped peers, and their failure is ignored (macOS refuses
//! `IP_RECVTOS` on a dual-stack socket, as quinn-udp notes).
//!
//! Man pages: ip(4), ip6(4) (FreeBSD, macOS), recvmsg(2), RFC 3542.

use std::io;
use std::net::{self, IpAddr, Ipv4Addr, Ipv6Addr};

use super::cmsg;
use crate::net::{Ecn, RecvMeta};

/// `IP_RECVTOS` and its ancillary message type where the system has it:
/// FreeBSD reports the byte under `IP_RECVTOS`, macOS and iOS under
/// `IP_RECVTOS` or `IP_TOS` depending on the release (both are read).
#[cfg(any(apple, target_os = "freebsd"))]
const RECVTOS: Option<libc::c_int> = Some(libc::IP_RECVTOS);
#[cfg(not(any(apple, target_os = "freebsd")))]
const RECVTOS: Option<libc::c_int> = None;

/// `IP_RECVTOS` (where the system has it), and on an IPv6 socket
/// `IPV6_RECVTCLASS` too.
pub(crate) fn set_recv_ecn(socket: &net::UdpSocket, on: bool) -> io::Result<()> {
    let value = on.into();
    if socket.local_addr()?.is_ipv4() {
        let Some(option) = RECVTOS else {
            return Err(crate::sys::udp_offload_none::unsupported(
                "receiving the ECN bits (over IPv4, on NetBSD, OpenBSD and DragonFly)",
            ));
        };
        return cmsg::set_option(socket, libc::IPPROTO_IP, option, value);
    }
    cmsg::set_option(socket, libc::IPPROTO_IPV6, libc::IPV6_RECVTCLASS, value)?;
    if let Some(option) = RECVTOS {
        let _ = cmsg::set_option(socket, libc::IPPROTO_IP, option, value);
    }
    Ok(())
}

/// `IP_RECVDSTADDR`, and on an IPv6 socket `IPV6_RECVPKTINFO` too.
pub(crate) fn set_recv_destination(socket: &net::UdpSocket, on: bool) -> io::Result<()> {
    let value = on.into();
    if socket.local_addr()?.is_ipv4() {
        return cmsg::set_option(socket, libc::IPPROTO_IP, libc::IP_RECVDSTADDR, value);
    }
    cmsg::set_option(socket, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, value)?;
    let _ = cmsg::set_option(socket, libc::IPPROTO_IP, libc::IP_RECVDSTADDR, value);
    Ok(())
}

/// Fills in what the ancillary data of a received message tells: the ECN
/// bits, the destination address.
pub(crate) fn decode_recv(header: &libc::msghdr, meta: &mut RecvMeta) {
    cmsg::for_each(header, |level, kind, data| {
        if level == libc::IPPROTO_IP && (kind == libc::IP_TOS || Some(kind) == RECVTOS) {
            meta.ecn = cmsg::read::<u8>(data).map(Ecn::from_bits);
        } else if level == libc::IPPROTO_IPV6 && kind == libc::IPV6_TCLASS {
            // An int by RFC 3542; some macOS releases send one byte.
            meta.ecn = match data.len() {
                1 => cmsg::read::<u8>(data),
                _ => cmsg::read::<libc::c_int>(data).map(|tclass| tclass as u8),
            }
            .map(Ecn::from_bits);
        } else if level == libc::IPPROTO_IP && kind == libc::IP_RECVDSTADDR {
            meta.destination = cmsg::read::<libc::in_addr>(data)
                .map(|addr| IpAddr::V4(Ipv4Addr::from(addr.s_addr.to_ne_bytes())));
        } else if level == libc::IPPROTO_IPV6 && kind == libc::IPV6_PKTINFO {
            meta.destination = cmsg::read::<libc::in6_pktinfo>(data)
                .map(|info| IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
        }
    });
}
