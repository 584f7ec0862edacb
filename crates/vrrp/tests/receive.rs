//! keepalived's acceptance checks, one rule at a time, on its own captured adverts (see
//! captured.rs) forged where a rule needs it.
//!
//! The rules were read in keepalived 2.2.7's source and then tried on Debian's binary
//! (2026-12-01): config 1 as a priority 100 backup, sent forged adverts from a second
//! namespace, logged each drop and, in its SIGUSR2 stats, counted them as `counter()` says
//! (advertisement interval errors stay 0; the adverts missing a VIP count as received); a
//! priority 0 advert was accepted.

mod common;

use std::net::IpAddr;

use common::{addr, hex, resum};
use vrrp::packet::{Advert, Auth, Malformed, Version};
use vrrp::receive::{check, unicast_source, Expect, Peer, Reason, Received, Unicast, Verdict};

/// Config 1's advert: VRID 51, priority 150, password secret1, 1 s, two VIPs.
const V2: &str = "21339602010155b2c0000264c00002657365637265743100";
/// Config 2's: version 3, VRID 52, 0.5 s, 192.0.2.110.
const V3: &str = "3134640100320599c000026e";
/// Config 3's: version 3 over IPv6, VRID 53, 1 s, 2001:db8::100.
const V3_IPV6: &str = "3135640100643de120010db8000000000000000000000100";

const SRC4: &str = "192.0.2.1";
const GROUP4: &str = "224.0.0.18";
const SRC6: &str = "fe80::3416:abff:fec1:20d5";
const GROUP6: &str = "ff02::12";

fn vips() -> Vec<IpAddr> {
    vec![addr("192.0.2.100"), addr("192.0.2.101")]
}

fn config1(addresses: &[IpAddr]) -> Expect<'_> {
    Expect {
        version: Version::V2,
        vrid: 51,
        auth: Auth::Pass(*b"secret1\0"),
        interval: 100,
        addresses,
        check_addresses: true,
        unicast: None,
    }
}

fn multicast4() -> Received {
    Received {
        src: addr(SRC4),
        dst: addr(GROUP4),
        ttl: 255,
    }
}

/// Config 1's advert with byte `at` set to `value`, checksum made right again.
fn forged(at: usize, value: u8) -> Vec<u8> {
    let mut b = hex(V2);
    b[at] = value;
    resum(b, addr(SRC4), addr(GROUP4))
}

fn drop_reason(verdict: Verdict) -> Reason {
    match verdict {
        Verdict::Drop(reason) => reason,
        other => panic!("expected a drop, got {other:?}"),
    }
}

#[test]
fn keepalived_adverts_are_accepted() {
    let vips = vips();
    let Verdict::Accept(advert) = check(&config1(&vips), &multicast4(), &hex(V2)) else {
        panic!("config 1's advert refused");
    };
    assert_eq!((advert.vrid, advert.priority), (51, 150));

    let vip = [addr("192.0.2.110")];
    let expect = Expect {
        version: Version::V3,
        vrid: 52,
        auth: Auth::None,
        // Version 3 does not compare intervals: the backup learns the master's.
        interval: 100,
        addresses: &vip,
        check_addresses: true,
        unicast: None,
    };
    let Verdict::Accept(advert) = check(&expect, &multicast4(), &hex(V3)) else {
        panic!("config 2's advert refused");
    };
    assert_eq!(advert.interval, 50);

    let vip = [addr("2001:db8::100")];
    let expect = Expect {
        vrid: 53,
        addresses: &vip,
        ..expect
    };
    let rx = Received {
        src: addr(SRC6),
        dst: addr(GROUP6),
        ttl: 255,
    };
    assert!(matches!(
        check(&expect, &rx, &hex(V3_IPV6)),
        Verdict::Accept(_)
    ));
}

#[test]
fn another_vrid_is_not_mine() {
    let vips = vips();
    assert_eq!(
        check(&config1(&vips), &multicast4(), &hex(V3)),
        Verdict::NotMine
    );
}

#[test]
fn less_than_a_header_is_malformed_and_uncounted() {
    let vips = vips();
    let reason = drop_reason(check(&config1(&vips), &multicast4(), &hex(V2)[..7]));
    assert_eq!(reason, Reason::Malformed(Malformed::Truncated { len: 7 }));
    assert_eq!(reason.counter(), None);
}

#[test]
fn length_must_be_exact() {
    let vips = vips();
    let mut long = hex(V2);
    long.push(0);
    let reason = drop_reason(check(&config1(&vips), &multicast4(), &long));
    assert_eq!(
        reason,
        Reason::Length {
            expected: 24,
            received: 25
        }
    );
    assert_eq!(reason.counter(), Some("packet_len_err"));
    assert_eq!(reason.to_string(), "length 25, expected 24");
}

#[test]
fn multicast_needs_ttl_255_unicast_does_not() {
    let vips = vips();
    let rx = Received {
        ttl: 254,
        ..multicast4()
    };
    // A wrong checksum too: the TTL is checked first, and counted.
    let mut bad = hex(V2);
    bad[7] ^= 1;
    let reason = drop_reason(check(&config1(&vips), &rx, &bad));
    assert_eq!(reason, Reason::Ttl { received: 254 });
    assert_eq!(reason.counter(), Some("ip_ttl_err"));

    let unicast = Unicast {
        peers: &[],
        check_source: false,
    };
    let expect = Expect {
        unicast: Some(unicast),
        ..config1(&vips)
    };
    let advert = Advert::decode(&hex(V2), addr(SRC4), addr(GROUP4)).unwrap();
    let rx = Received {
        src: addr(SRC4),
        dst: addr("192.0.2.2"),
        ttl: 64,
    };
    let bytes = advert.encode(rx.src, rx.dst);
    assert_eq!(check(&expect, &rx, &bytes), Verdict::Accept(advert));
}

#[test]
fn version_must_match() {
    let vips = vips();
    // Config 2's advert as if for VRID 51.
    let mut b = hex(V3);
    b[1] = 51;
    let v3 = resum(b, addr(SRC4), addr(GROUP4));
    let reason = drop_reason(check(&config1(&vips), &multicast4(), &v3));
    assert_eq!(
        reason,
        Reason::Version {
            expected: Version::V2,
            received: 3
        }
    );
    assert_eq!(reason.counter(), Some("vers_err"));
    assert_eq!(reason.to_string(), "version 3, expected 2");

    // The length is checked first, against the version the packet claims: a version 2
    // advert relabelled 3 is 8 bytes too long for version 3.
    let reason = drop_reason(check(&config1(&vips), &multicast4(), &forged(0, 0x31)));
    assert_eq!(
        reason,
        Reason::Length {
            expected: 16,
            received: 24
        }
    );
}

#[test]
fn auth_type_must_be_known_then_ours_then_the_password_right() {
    let vips = vips();
    let expect = config1(&vips);
    let reason = drop_reason(check(&expect, &multicast4(), &forged(4, 3)));
    assert_eq!(
        (reason, reason.counter()),
        (Reason::AuthType(3), Some("invalid_authtype"))
    );

    let reason = drop_reason(check(&expect, &multicast4(), &forged(4, 0)));
    assert_eq!(
        reason,
        Reason::AuthTypeMismatch {
            expected: 1,
            received: 0
        }
    );
    assert_eq!(reason.counter(), Some("authtype_mismatch"));
    // AH is known to keepalived, so it is a mismatch, not an invalid type.
    let reason = drop_reason(check(&expect, &multicast4(), &forged(4, 2)));
    assert_eq!(
        reason,
        Reason::AuthTypeMismatch {
            expected: 1,
            received: 2
        }
    );

    let reason = drop_reason(check(&expect, &multicast4(), &forged(23, b'2')));
    assert_eq!(
        (reason, reason.counter()),
        (Reason::Password, Some("auth_failure"))
    );

    let none = Expect {
        auth: Auth::None,
        ..expect
    };
    let reason = drop_reason(check(&none, &multicast4(), &hex(V2)));
    assert_eq!(
        reason,
        Reason::AuthTypeMismatch {
            expected: 0,
            received: 1
        }
    );
}

#[test]
fn version_2_interval_must_match_and_is_not_counted() {
    let vips = vips();
    let reason = drop_reason(check(&config1(&vips), &multicast4(), &forged(5, 2)));
    assert_eq!(
        reason,
        Reason::Interval {
            mine: 100,
            theirs: 200
        }
    );
    assert_eq!(reason.counter(), None);
    assert_eq!(reason.to_string(), "advert interval 2 s, mine is 1 s");
}

#[test]
fn type_must_be_advertisement() {
    let vips = vips();
    let reason = drop_reason(check(&config1(&vips), &multicast4(), &forged(0, 0x22)));
    assert_eq!(
        (reason, reason.counter()),
        (Reason::Type(2), Some("invalid_type_rcvd"))
    );
}

#[test]
fn address_count_must_match_unless_addresses_go_unchecked() {
    let three = [vips(), vec![addr("192.0.2.102")]].concat();
    let reason = drop_reason(check(&config1(&three), &multicast4(), &hex(V2)));
    assert_eq!(
        reason,
        Reason::AddressCount {
            expected: 3,
            received: 2
        }
    );
    assert_eq!(reason.counter(), Some("addr_list_err"));
    assert!(!reason.counts_as_received());

    let unchecked = Expect {
        check_addresses: false,
        ..config1(&three)
    };
    assert!(matches!(
        check(&unchecked, &multicast4(), &hex(V2)),
        Verdict::Accept(_)
    ));
}

#[test]
fn checksum_must_be_right_for_both_families() {
    let vips = vips();
    let mut bad = hex(V2);
    bad[7] ^= 1;
    let reason = drop_reason(check(&config1(&vips), &multicast4(), &bad));
    assert_eq!(
        reason,
        Reason::Checksum {
            received: 0x55b3,
            expected: 0x55b2
        }
    );
    assert_eq!(reason.counter(), Some("chk_err"));

    let vip = [addr("2001:db8::100")];
    let expect = Expect {
        version: Version::V3,
        vrid: 53,
        auth: Auth::None,
        interval: 100,
        addresses: &vip,
        check_addresses: true,
        unicast: None,
    };
    let rx = Received {
        src: addr("fe80::1"),
        dst: addr(GROUP6),
        ttl: 255,
    };
    let reason = drop_reason(check(&expect, &rx, &hex(V3_IPV6)));
    assert!(matches!(reason, Reason::Checksum { .. }), "{reason:?}");
}

#[test]
fn multicast_and_unicast_do_not_mix() {
    let vips = vips();
    // A multicast instance hearing an IPv4 unicast advert: checked late, and counted.
    let rx = Received {
        dst: addr("192.0.2.2"),
        ..multicast4()
    };
    let advert = Advert::decode(&hex(V2), addr(SRC4), addr(GROUP4)).unwrap();
    let bytes = advert.encode(rx.src, rx.dst);
    let reason = drop_reason(check(&config1(&vips), &rx, &bytes));
    assert_eq!(
        reason,
        Reason::Cast {
            unicast_expected: false,
            ipv6: false
        }
    );
    assert_eq!(reason.counter(), Some("addr_list_err"));
    assert_eq!(
        reason.to_string(),
        "received a unicast advert, expected multicast"
    );

    // A unicast IPv6 instance hearing multicast: dropped before any check, uncounted, so a
    // broken length does not matter.
    let vip = [addr("2001:db8::100")];
    let peers = [Peer {
        address: addr(SRC6),
        min_ttl: 0,
        max_ttl: 255,
    }];
    let expect = Expect {
        version: Version::V3,
        vrid: 53,
        auth: Auth::None,
        interval: 100,
        addresses: &vip,
        check_addresses: true,
        unicast: Some(Unicast {
            peers: &peers,
            check_source: false,
        }),
    };
    let rx = Received {
        src: addr(SRC6),
        dst: addr(GROUP6),
        ttl: 255,
    };
    let reason = drop_reason(check(&expect, &rx, &hex(V3_IPV6)[..20]));
    assert_eq!(
        reason,
        Reason::Cast {
            unicast_expected: true,
            ipv6: true
        }
    );
    assert_eq!(reason.counter(), None);
}

#[test]
fn each_of_our_addresses_must_be_listed() {
    let other = [addr("192.0.2.100"), addr("192.0.2.102")];
    let reason = drop_reason(check(&config1(&other), &multicast4(), &hex(V2)));
    assert_eq!(reason, Reason::AddressMissing(addr("192.0.2.102")));
    assert_eq!(reason.counter(), Some("addr_list_err"));
    assert!(reason.counts_as_received());
    // The order does not matter.
    let swapped = [addr("192.0.2.101"), addr("192.0.2.100")];
    assert!(matches!(
        check(&config1(&swapped), &multicast4(), &hex(V2)),
        Verdict::Accept(_)
    ));
}

#[test]
fn a_checked_unicast_source_must_be_a_peer_within_its_ttls() {
    let vips = vips();
    let peers = [Peer {
        address: addr("192.0.2.3"),
        min_ttl: 250,
        max_ttl: 255,
    }];
    let advert = Advert::decode(&hex(V2), addr(SRC4), addr(GROUP4)).unwrap();
    let send_checked = |check_source: bool, src: &str, ttl: u8| {
        let unicast = Some(Unicast {
            peers: &peers,
            check_source,
        });
        let expect = Expect {
            unicast,
            ..config1(&vips)
        };
        let rx = Received {
            src: addr(src),
            dst: addr("192.0.2.2"),
            ttl,
        };
        check(&expect, &rx, &advert.encode(rx.src, rx.dst))
    };
    let send = |src: &str, ttl: u8| send_checked(true, src, ttl);

    let reason = drop_reason(send(SRC4, 255));
    assert_eq!(reason, Reason::UnknownPeer(addr(SRC4)));
    assert_eq!(reason.counter(), None);
    assert!(reason.counts_as_received());

    let reason = drop_reason(send("192.0.2.3", 64));
    assert_eq!(
        reason,
        Reason::PeerTtl {
            received: 64,
            min: 250,
            max: 255
        }
    );
    assert_eq!(reason.counter(), Some("ip_ttl_err"));
    assert!(matches!(send("192.0.2.3", 250), Verdict::Accept(_)));

    // Unchecked sources pass whoever sent them.
    assert!(matches!(send_checked(false, SRC4, 64), Verdict::Accept(_)));
}

/// A caller that follows an advert listing other addresses than ours (lvsd, for #1603) checks
/// without the address list, which also leaves out the sources: unicast_source still refuses
/// a stranger and a peer out of its TTLs, and passes a peer within them.
#[test]
fn unicast_source_alone_refuses_strangers() {
    let vips = vips();
    let peers = [Peer {
        address: addr("192.0.2.3"),
        min_ttl: 250,
        max_ttl: 255,
    }];
    let expect = Expect {
        unicast: Some(Unicast {
            peers: &peers,
            check_source: true,
        }),
        check_addresses: false,
        ..config1(&vips)
    };
    let rx = |src: &str, ttl: u8| Received {
        src: addr(src),
        dst: addr("192.0.2.2"),
        ttl,
    };
    // Without the address check, check() passes the stranger...
    let advert = Advert::decode(&hex(V2), addr(SRC4), addr(GROUP4)).unwrap();
    let stranger = rx(SRC4, 255);
    let bytes = advert.encode(stranger.src, stranger.dst);
    assert!(matches!(
        check(&expect, &stranger, &bytes),
        Verdict::Accept(_)
    ));
    // ...and unicast_source does not.
    assert_eq!(
        unicast_source(&expect, &stranger),
        Err(Reason::UnknownPeer(addr(SRC4)))
    );
    assert!(matches!(
        unicast_source(&expect, &rx("192.0.2.3", 64)),
        Err(Reason::PeerTtl { .. })
    ));
    assert_eq!(unicast_source(&expect, &rx("192.0.2.3", 255)), Ok(()));
}

#[test]
fn priority_zero_is_accepted() {
    let vips = vips();
    let bytes = forged(2, 0);
    let Verdict::Accept(advert) = check(&config1(&vips), &multicast4(), &bytes) else {
        panic!("priority 0 refused");
    };
    assert_eq!(advert.priority, 0);
}

#[test]
fn version_2_for_an_ipv6_instance_is_malformed() {
    let vip = [addr("2001:db8::100")];
    let expect = Expect {
        version: Version::V2,
        vrid: 53,
        auth: Auth::None,
        interval: 100,
        addresses: &vip,
        check_addresses: true,
        unicast: None,
    };
    let rx = Received {
        src: addr(SRC6),
        dst: addr(GROUP6),
        ttl: 255,
    };
    let mut b = hex(V3_IPV6);
    b[0] = 0x21;
    b[4..6].copy_from_slice(&[0, 1]);
    let bytes = resum(b, rx.src, rx.dst);
    let reason = drop_reason(check(&expect, &rx, &bytes));
    assert_eq!(reason, Reason::Malformed(Malformed::V2OverIpv6));
}
