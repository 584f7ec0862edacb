//! Telling the neighbours about an address that just arrived, as keepalived does on
//! takeover: a gratuitous ARP request for IPv4, an unsolicited neighbour advertisement for
//! IPv6. Without it a neighbour keeps the old MAC for the VIP until its cache entry expires.
//! [`announce`] is the mechanism any program calls; the packet builders and senders are its
//! parts.

use std::io;
use std::mem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV6};
use std::thread;
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::rtnl::Link;
use crate::Error;

const ETH_P_ARP: u16 = 0x0806;
const ARPHRD_ETHER: u16 = 1;
const ARPOP_REQUEST: u16 = 1;
const ND_NEIGHBOR_ADVERT: u8 = 136;
const ND_NA_FLAG_OVERRIDE: u8 = 0x20;
const ND_OPT_TARGET_LINKADDR: u8 = 2;

/// Tells the neighbours on `link` that `addr` is here, `count` times `interval` apart (a
/// neighbour that missed one hears the next, as with keepalived's repeated gratuitous ARPs).
/// Devices with no neighbours to tell (loopback, tunnels, devices that are down) are left
/// alone.
pub fn announce(link: &Link, addr: IpAddr, count: u32, interval: Duration) -> Result<(), Error> {
    let Some(mac) = link.mac.filter(|_| link.up && link.resolves_neighbours()) else {
        return Ok(());
    };
    for n in 0..count {
        if n > 0 {
            thread::sleep(interval);
        }
        let sent = match addr {
            IpAddr::V4(a) => gratuitous_arp(link, mac, a),
            IpAddr::V6(a) => unsolicited_na(link, mac, a),
        };
        sent.map_err(|source| Error::Kernel {
            what: format!("could not announce {addr} on {}", link.name),
            source,
        })?;
    }
    Ok(())
}

/// The ARP announcement of RFC 5227: a request whose sender and target are both `addr`.
pub fn arp_packet(mac: [u8; 6], addr: Ipv4Addr) -> [u8; 28] {
    let mut p = [0u8; 28];
    p[0..2].copy_from_slice(&ARPHRD_ETHER.to_be_bytes());
    p[2..4].copy_from_slice(&0x0800u16.to_be_bytes());
    p[4] = 6;
    p[5] = 4;
    p[6..8].copy_from_slice(&ARPOP_REQUEST.to_be_bytes());
    p[8..14].copy_from_slice(&mac);
    p[14..18].copy_from_slice(&addr.octets());
    // Target hardware address stays zero: it is ignored in a request.
    p[24..28].copy_from_slice(&addr.octets());
    p
}

/// An unsolicited neighbour advertisement (RFC 4861 §7.2.6) with the override flag and the
/// target link-layer address option; the kernel fills in the checksum.
pub fn na_packet(mac: [u8; 6], addr: Ipv6Addr) -> [u8; 32] {
    let mut p = [0u8; 32];
    p[0] = ND_NEIGHBOR_ADVERT;
    p[4] = ND_NA_FLAG_OVERRIDE;
    p[8..24].copy_from_slice(&addr.octets());
    p[24] = ND_OPT_TARGET_LINKADDR;
    p[25] = 1; // in units of 8 bytes
    p[26..32].copy_from_slice(&mac);
    p
}

pub fn gratuitous_arp(link: &Link, mac: [u8; 6], addr: Ipv4Addr) -> io::Result<()> {
    let protocol = Protocol::from(i32::from(ETH_P_ARP.to_be()));
    let sock = Socket::new(Domain::PACKET, Type::DGRAM, Some(protocol))?;
    let to = link_broadcast(link, ETH_P_ARP)?;
    sock.send_to(&arp_packet(mac, addr), &to).map(drop)
}

/// The link layer's broadcast address on `link`, for frames of type `ethertype`.
fn link_broadcast(link: &Link, ethertype: u16) -> io::Result<SockAddr> {
    let index = i32::try_from(link.index).map_err(|_| io::ErrorKind::InvalidInput)?;
    // SAFETY: an all-zero sockaddr_storage is valid and large enough for a sockaddr_ll, which
    // is written whole into it; the length given is the sockaddr_ll's. Neither socket2 nor nix
    // builds a link-layer address.
    let ((), to) = unsafe {
        SockAddr::try_init(|storage, len| {
            let mut ll: libc::sockaddr_ll = mem::zeroed();
            ll.sll_family = libc::AF_PACKET as u16;
            ll.sll_protocol = ethertype.to_be();
            ll.sll_ifindex = index;
            ll.sll_halen = 6;
            ll.sll_addr[..6].copy_from_slice(&[0xff; 6]);
            storage.cast::<libc::sockaddr_ll>().write(ll);
            *len = mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            Ok(())
        })
    }?;
    Ok(to)
}

pub fn unsolicited_na(link: &Link, mac: [u8; 6], addr: Ipv6Addr) -> io::Result<()> {
    let sock = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
    // Neighbour discovery messages are only accepted with a hop limit of 255.
    sock.set_multicast_hops_v6(255)?;
    sock.set_multicast_if_v6(link.index)?;
    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    let to = SocketAddrV6::new(all_nodes, 0, 0, link.index);
    sock.send_to(&na_packet(mac, addr), &to.into()).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x02, 0, 0x5e, 0x10, 0x20, 0x30];

    #[test]
    fn arp_announcement_layout() {
        let p = arp_packet(MAC, "192.0.2.60".parse().unwrap());
        assert_eq!(&p[..8], &[0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(&p[8..14], &MAC);
        assert_eq!(&p[14..18], &[192, 0, 2, 60]);
        assert_eq!(&p[18..24], &[0; 6]);
        assert_eq!(&p[24..28], &[192, 0, 2, 60]);
    }

    #[test]
    fn neighbour_advertisement_layout() {
        let addr: Ipv6Addr = "2001:db8::60".parse().unwrap();
        let p = na_packet(MAC, addr);
        assert_eq!(&p[..8], &[136, 0, 0, 0, 0x20, 0, 0, 0]);
        assert_eq!(&p[8..24], &addr.octets());
        assert_eq!(&p[24..26], &[2, 1]);
        assert_eq!(&p[26..], &MAC);
    }
}
