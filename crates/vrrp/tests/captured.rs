//! keepalived's own adverts, byte for byte: each decodes to what its configuration says and
//! encodes back to the same bytes.
//!
//! Captured 2026-12-01 from Debian's keepalived 2.2.7 (`keepalived -P -n -l -D -f CONF`)
//! in a network namespace, over a veth pair to a second namespace where a Python AF_PACKET
//! socket recorded every frame of IP protocol 112. Interface addresses 192.0.2.1/24,
//! 2001:db8::1/64 and the link-local fe80::3416:abff:fec1:20d5. Each instance was started
//! with `state MASTER`, became master after the master-down interval, and sent priority 0
//! when stopped with SIGTERM. All were sent with TTL (hop limit) 255.

mod common;

use std::net::IpAddr;

use common::{addr, hex};
use vrrp::packet::{split_ipv4, Advert, Auth, Version};

const SRC4: &str = "192.0.2.1";
const GROUP4: &str = "224.0.0.18";
const SRC6: &str = "fe80::3416:abff:fec1:20d5";
const GROUP6: &str = "ff02::12";

/// Config 1: `virtual_router_id 51`, `priority 150`, `advert_int 1`,
/// `authentication { auth_type PASS auth_pass secret1 }`, VIPs 192.0.2.100/24 and
/// 192.0.2.101/24; version 2 by default. The whole IPv4 datagram, as a raw socket reads it.
const V2_PASS_DATAGRAM: &str =
    "45c0002c00010000ff70188dc0000201e000001221339602010155b2c0000264c00002657365637265743100";
/// Config 1 at SIGTERM: priority 0.
const V2_PASS_PRIO0: &str = "213300020101ebb2c0000264c00002657365637265743100";
/// Config 1 without the `authentication` block and with `virtual_router_id 54`: the 8
/// auth bytes are still sent, as zeros.
const V2_NONE: &str = "213696020001c3fbc0000264c00002650000000000000000";
/// Config 2: `vrrp_version 3` in global_defs, `virtual_router_id 52`, `priority 100`,
/// `advert_int 0.5`, VIP 192.0.2.110/24. The whole IPv4 datagram.
const V3_DATAGRAM: &str = "45c0002000010000ff701899c0000201e00000123134640100320599c000026e";
/// Config 2 at SIGTERM.
const V3_PRIO0: &str = "3134000100326999c000026e";
/// Config 3: `virtual_router_id 53`, `priority 100`, `advert_int 1`, VIP 2001:db8::100/64
/// (an IPv6 VIP makes the instance IPv6 and version 3). Sent from the link-local address.
const V3_IPV6: &str = "3135640100643de120010db8000000000000000000000100";
/// Config 3 at SIGTERM.
const V3_IPV6_PRIO0: &str = "313500010064a1e120010db8000000000000000000000100";

fn secret1() -> Auth {
    Auth::Pass(*b"secret1\0")
}

fn v2(vrid: u8, priority: u8, auth: Auth) -> Advert {
    Advert {
        version: Version::V2,
        vrid,
        priority,
        interval: 100,
        auth,
        addresses: vec![addr("192.0.2.100"), addr("192.0.2.101")],
    }
}

fn v3(vrid: u8, priority: u8, interval: u16, address: &str) -> Advert {
    Advert {
        version: Version::V3,
        vrid,
        priority,
        interval,
        auth: Auth::None,
        addresses: vec![addr(address)],
    }
}

/// Decodes `bytes` as sent from `src` to `dst`, compares with `expected`, and encodes back.
fn round_trip(bytes: &[u8], src: &str, dst: &str, expected: &Advert) {
    let (src, dst): (IpAddr, IpAddr) = (addr(src), addr(dst));
    let advert = Advert::decode(bytes, src, dst).expect("keepalived's advert decodes");
    assert_eq!(&advert, expected);
    assert_eq!(
        advert.encode(src, dst),
        bytes,
        "encoding gives keepalived's bytes back"
    );
}

#[test]
fn v2_password_datagram_splits_decodes_and_encodes_back() {
    let datagram = hex(V2_PASS_DATAGRAM);
    let (header, vrrp) = split_ipv4(&datagram).unwrap();
    assert_eq!(header.src.to_string(), SRC4);
    assert_eq!(header.dst.to_string(), GROUP4);
    assert_eq!(header.ttl, 255);
    round_trip(vrrp, SRC4, GROUP4, &v2(51, 150, secret1()));
}

#[test]
fn v2_password_priority_zero() {
    round_trip(&hex(V2_PASS_PRIO0), SRC4, GROUP4, &v2(51, 0, secret1()));
}

#[test]
fn v2_without_auth_sends_eight_zero_bytes() {
    round_trip(&hex(V2_NONE), SRC4, GROUP4, &v2(54, 150, Auth::None));
}

#[test]
fn v3_ipv4_fractional_interval_in_centiseconds() {
    let datagram = hex(V3_DATAGRAM);
    let (header, vrrp) = split_ipv4(&datagram).unwrap();
    assert_eq!(
        (header.src.to_string(), header.ttl),
        (SRC4.to_string(), 255)
    );
    round_trip(vrrp, SRC4, GROUP4, &v3(52, 100, 50, "192.0.2.110"));
    round_trip(&hex(V3_PRIO0), SRC4, GROUP4, &v3(52, 0, 50, "192.0.2.110"));
}

#[test]
fn v3_ipv6_checksum_covers_the_pseudo_header() {
    round_trip(
        &hex(V3_IPV6),
        SRC6,
        GROUP6,
        &v3(53, 100, 100, "2001:db8::100"),
    );
    round_trip(
        &hex(V3_IPV6_PRIO0),
        SRC6,
        GROUP6,
        &v3(53, 0, 100, "2001:db8::100"),
    );
    // The same bytes from another source fail: the source is in the sum.
    assert!(Advert::decode(&hex(V3_IPV6), addr("fe80::1"), addr(GROUP6)).is_err());
}
