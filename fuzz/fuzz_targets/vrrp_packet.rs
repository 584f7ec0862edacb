//! Arbitrary bytes as a received VRRP packet. The first byte's bits pick the path and the
//! instance: bit 0 an IPv6 message (else an IPv4 datagram with its header), bit 1 a
//! checksum made right before reading (so mutations reach the checks behind it), bit 2
//! version 3, bit 3 a unicast instance, bit 4 addresses compared, bit 5 a password
//! (`secret1`), bit 6 the other address list (IPv4) or a unicast destination (IPv6), bit 7
//! unicast sources checked. The second byte is the instance's VRID, the third the IPv6 hop
//! limit. Nothing may panic; an accepted advert is the decoded one, and any decoded advert
//! must survive encoding.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use vrrp::packet::{split_ipv4, Advert, Auth, Version};
use vrrp::receive::{check, Expect, Peer, Received, Unicast, Verdict};

const SRC6: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x3416, 0xabff, 0xfec1, 0x20d5);

fuzz_target!(|data: &[u8]| {
    let [flags, vrid, hop_limit, packet @ ..] = data else {
        return;
    };
    let bit = |n: u8| flags & (1 << n) != 0;
    let (rx, vrrp) = if bit(0) {
        let dst = if bit(6) {
            Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2)
        } else {
            Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12)
        };
        let rx = Received { src: SRC6.into(), dst: dst.into(), ttl: *hop_limit };
        (rx, packet)
    } else {
        let Ok((header, vrrp)) = split_ipv4(packet) else {
            return;
        };
        let rx = Received { src: header.src.into(), dst: header.dst.into(), ttl: header.ttl };
        (rx, vrrp)
    };
    let mut vrrp = vrrp.to_vec();
    if bit(1) {
        resum(&mut vrrp, rx.src, rx.dst);
    }

    let v4 = |a, b, c, d| IpAddr::V4(Ipv4Addr::new(a, b, c, d));
    let addresses = match (bit(0), bit(6)) {
        (true, _) => vec![IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100))],
        (false, false) => vec![v4(192, 0, 2, 100), v4(192, 0, 2, 101)],
        (false, true) => vec![v4(192, 0, 2, 110)],
    };
    let peers = [Peer { address: rx.src, min_ttl: 64, max_ttl: 255 }];
    let expect = Expect {
        version: if bit(2) { Version::V3 } else { Version::V2 },
        vrid: *vrid,
        auth: if bit(5) { Auth::Pass(*b"secret1\0") } else { Auth::None },
        interval: 100,
        addresses: &addresses,
        check_addresses: bit(4),
        unicast: bit(3).then_some(Unicast { peers: &peers, check_source: bit(7) }),
    };
    let verdict = check(&expect, &rx, &vrrp);

    let decoded = Advert::decode(&vrrp, rx.src, rx.dst);
    if let Verdict::Accept(advert) = &verdict {
        assert_eq!(decoded.as_ref(), Ok(advert));
    }
    if let Ok(advert) = decoded {
        let again = Advert::decode(&advert.encode(rx.src, rx.dst), rx.src, rx.dst);
        assert_eq!(again, Ok(advert));
    }
});

/// Sets the internet checksum at bytes 6..8, over a pseudo-header when the version field
/// says 3.
fn resum(vrrp: &mut [u8], src: IpAddr, dst: IpAddr) {
    let Some(field) = vrrp.get_mut(6..8) else {
        return;
    };
    field.fill(0);
    let mut summed = Vec::new();
    if vrrp.first().is_some_and(|b| b >> 4 == 3) {
        for address in [src, dst] {
            match address {
                IpAddr::V4(a) => summed.extend(a.octets()),
                IpAddr::V6(a) => summed.extend(a.octets()),
            }
        }
        let len = u32::try_from(vrrp.len()).unwrap_or(0);
        if src.is_ipv6() {
            summed.extend(len.to_be_bytes());
            summed.extend([0, 0, 0, 112]);
        } else {
            summed.extend([0, 112]);
            summed.extend((len as u16).to_be_bytes());
        }
    }
    summed.extend_from_slice(vrrp);
    let mut sum: u64 = summed
        .chunks(2)
        .map(|w| u64::from(w[0]) << 8 | u64::from(w.get(1).copied().unwrap_or(0)))
        .sum();
    while sum > 0xffff {
        sum = (sum >> 16) + (sum & 0xffff);
    }
    if let Some(field) = vrrp.get_mut(6..8) {
        field.copy_from_slice(&(!(sum as u16)).to_be_bytes());
    }
}
