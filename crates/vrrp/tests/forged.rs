//! Forged and arbitrary bytes: every fault is an error, and nothing panics.

mod common;

use std::net::IpAddr;

use common::{addr, hex, resum};
use proptest::prelude::*;
use vrrp::packet::{split_ipv4, Advert, Auth, Malformed, Version};

/// keepalived's version 2 advert with password (see captured.rs), 192.0.2.1 to 224.0.0.18.
const V2: &str = "21339602010155b2c0000264c00002657365637265743100";
/// keepalived's version 3 IPv6 advert, fe80::3416:abff:fec1:20d5 to ff02::12.
const V3_IPV6: &str = "3135640100643de120010db8000000000000000000000100";
const DATAGRAM: &str =
    "45c0002c00010000ff70188dc0000201e000001221339602010155b2c0000264c00002657365637265743100";

fn v4() -> (IpAddr, IpAddr) {
    (addr("192.0.2.1"), addr("224.0.0.18"))
}

fn v6() -> (IpAddr, IpAddr) {
    (addr("fe80::3416:abff:fec1:20d5"), addr("ff02::12"))
}

#[test]
fn a_flipped_bit_anywhere_fails_the_checksum_or_a_field() {
    for (text, (src, dst)) in [(V2, v4()), (V3_IPV6, v6())] {
        let good = hex(text);
        for bit in 0..good.len() * 8 {
            let mut bad = good.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(
                Advert::decode(&bad, src, dst).is_err(),
                "bit {bit} of {text}"
            );
        }
    }
}

#[test]
fn a_wrong_checksum_names_the_right_one() {
    let (src, dst) = v4();
    let mut bad = hex(V2);
    bad[7] ^= 0xff;
    assert_eq!(
        Advert::decode(&bad, src, dst),
        Err(Malformed::Checksum {
            received: 0x554d,
            expected: 0x55b2
        })
    );
}

#[test]
fn truncated_at_every_length() {
    for (text, (src, dst)) in [(V2, v4()), (V3_IPV6, v6())] {
        let good = hex(text);
        for len in 0..good.len() {
            let got = Advert::decode(&good[..len], src, dst);
            if len < 8 {
                assert_eq!(got, Err(Malformed::Truncated { len }));
            } else {
                assert!(
                    matches!(got, Err(Malformed::Length { .. })),
                    "{len}: {got:?}"
                );
            }
        }
    }
    let datagram = hex(DATAGRAM);
    for len in 0..datagram.len() {
        assert!(
            split_ipv4(&datagram[..len]).is_err(),
            "datagram cut to {len}"
        );
    }
}

#[test]
fn a_longer_message_is_refused_too() {
    let (src, dst) = v4();
    let mut long = hex(V2);
    long.extend_from_slice(&[0, 0]);
    assert!(matches!(
        Advert::decode(&long, src, dst),
        Err(Malformed::Length { .. })
    ));
}

#[test]
fn wrong_version_type_count_and_auth_type() {
    let (src, dst) = v4();
    let forge = |at: usize, value: u8| {
        let mut b = hex(V2);
        b[at] = value;
        Advert::decode(&resum(b, src, dst), src, dst)
    };
    assert_eq!(forge(0, 0x11), Err(Malformed::Version(1)));
    assert_eq!(forge(0, 0x41), Err(Malformed::Version(4)));
    assert_eq!(forge(0, 0x22), Err(Malformed::Type(2)));
    assert_eq!(
        forge(3, 3),
        Err(Malformed::Length {
            count: 3,
            expected: 28,
            received: 24
        })
    );
    assert_eq!(
        forge(3, 255),
        Err(Malformed::Length {
            count: 255,
            expected: 1036,
            received: 24
        })
    );
    assert_eq!(forge(4, 2), Err(Malformed::AuthType(2)));
}

#[test]
fn version_2_over_ipv6_is_malformed() {
    let (src, dst) = v6();
    let mut b = hex(V3_IPV6);
    b[0] = 0x21;
    assert_eq!(Advert::decode(&b, src, dst), Err(Malformed::V2OverIpv6));
    let v2 = Advert {
        version: Version::V2,
        vrid: 1,
        priority: 100,
        interval: 100,
        auth: Auth::None,
        addresses: vec![addr("2001:db8::100")],
    };
    assert_eq!(
        Advert::decode(&v2.encode(src, dst), src, dst),
        Err(Malformed::V2OverIpv6)
    );
}

#[test]
fn mixed_families_cannot_be_summed() {
    let (src, _) = v4();
    let (_, dst) = v6();
    let b = hex("3134640100320599c000026e");
    assert_eq!(Advert::decode(&b, src, dst), Err(Malformed::MixedFamilies));
}

#[test]
fn the_ipv4_header_is_checked() {
    let datagram = hex(DATAGRAM);
    let forge = |at: usize, value: u8| {
        let mut d = datagram.clone();
        d[at] = value;
        split_ipv4(&d).map(|_| ())
    };
    assert_eq!(forge(0, 0x65), Err(Malformed::IpVersion(6)));
    assert_eq!(forge(0, 0x44), Err(Malformed::IpHeaderLength(4)));
    assert_eq!(forge(9, 51), Err(Malformed::Protocol(51)));
    assert_eq!(
        forge(3, 0x2d),
        Err(Malformed::IpTotalLength {
            header: 45,
            received: 44
        })
    );
    // A header length past the end: a lying header, not a panic.
    let mut options = datagram.clone();
    options[0] = 0x4f;
    options.truncate(40);
    options[2..4].copy_from_slice(&40u16.to_be_bytes());
    assert_eq!(
        split_ipv4(&options),
        Err(Malformed::IpTruncated { len: 40 })
    );
}

#[test]
fn ipv4_options_are_skipped() {
    let datagram = hex(DATAGRAM);
    let mut with_options = datagram[..20].to_vec();
    with_options[0] = 0x46;
    with_options.extend_from_slice(&[1, 1, 1, 0]); // NOP NOP NOP EOL
    with_options.extend_from_slice(&datagram[20..]);
    let total = u16::try_from(with_options.len()).unwrap();
    with_options[2..4].copy_from_slice(&total.to_be_bytes());
    let (_, vrrp) = split_ipv4(&with_options).unwrap();
    assert_eq!(vrrp, &datagram[20..]);
}

#[test]
fn display_is_a_short_phrase() {
    let text = Malformed::Checksum {
        received: 0xb24d,
        expected: 0xb255,
    }
    .to_string();
    assert_eq!(text, "bad checksum 0xb24d, expected 0xb255");
}

fn any_advert() -> impl Strategy<Value = (Advert, bool)> {
    let v4s = prop::collection::vec(any::<[u8; 4]>().prop_map(IpAddr::from), 0..=255);
    let v6s = prop::collection::vec(any::<[u8; 16]>().prop_map(IpAddr::from), 0..=255);
    let v2 = (
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<Option<[u8; 8]>>(),
        v4s.clone(),
    )
        .prop_map(|(vrid, priority, seconds, pass, addresses)| {
            let auth = pass.map_or(Auth::None, Auth::Pass);
            let interval = u16::from(seconds) * 100;
            (
                Advert {
                    version: Version::V2,
                    vrid,
                    priority,
                    interval,
                    auth,
                    addresses,
                },
                false,
            )
        });
    let v3 = (
        any::<u8>(),
        any::<u8>(),
        0..=0x0fffu16,
        prop_oneof![v4s.prop_map(|a| (a, false)), v6s.prop_map(|a| (a, true))],
    )
        .prop_map(|(vrid, priority, interval, (addresses, ipv6))| {
            let auth = Auth::None;
            (
                Advert {
                    version: Version::V3,
                    vrid,
                    priority,
                    interval,
                    auth,
                    addresses,
                },
                ipv6,
            )
        });
    prop_oneof![v2, v3]
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = split_ipv4(&bytes);
        for (src, dst) in [v4(), v6()] {
            if let Ok(advert) = Advert::decode(&bytes, src, dst) {
                prop_assert_eq!(Advert::decode(&advert.encode(src, dst), src, dst), Ok(advert));
            }
        }
    }

    #[test]
    fn every_advert_survives_the_wire((advert, ipv6) in any_advert()) {
        let (src, dst) = if ipv6 { v6() } else { v4() };
        let bytes = advert.encode(src, dst);
        prop_assert_eq!(Advert::decode(&bytes, src, dst), Ok(advert));
    }
}

#[test]
fn either_zero_of_the_checksum_passes() {
    let (src, dst) = v4();
    // VRID and priority move the sum through every value: find the advert whose checksum
    // is 0x0000, and send it as 0xffff, the other zero, which keepalived's sum accepts.
    let advert = (0..=255u8)
        .flat_map(|vrid| (0..=255u8).map(move |priority| (vrid, priority)))
        .map(|(vrid, priority)| Advert {
            version: Version::V2,
            vrid,
            priority,
            interval: 100,
            auth: Auth::None,
            addresses: vec![addr("192.0.2.100")],
        })
        .find(|a| a.encode(src, dst)[6..8] == [0, 0])
        .unwrap();
    let mut other = advert.encode(src, dst);
    other[6..8].copy_from_slice(&[0xff, 0xff]);
    assert_eq!(Advert::decode(&other, src, dst), Ok(advert));
}
