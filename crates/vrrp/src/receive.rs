//! Whether an instance may act on an advertisement it received: keepalived 2.2.7's checks
//! (`vrrp_check_packet` in vrrp.c, with the VRID lookup and the IPv6 unicast/multicast
//! filter that `vrrp_dispatcher_read` in vrrp_scheduler.c does first), made in its order so
//! that a packet wrong in two ways is counted as keepalived counts it.
//!
//! Every failed check drops the advert: in 2.2.7 none is only logged. The caller logs the
//! [`Reason`], bumps its [`counter`](Reason::counter), and bumps `advert_rcvd` for accepted
//! adverts and for the drops keepalived counts as received
//! ([`Reason::counts_as_received`]); an accepted advert of priority 0 also counts
//! `pri_zero_rcvd`.
//!
//! Not here, as not per packet: ignoring adverts in FAULT or INIT, choosing among instances
//! sharing a VRID by unicast peer, and what to do with an advert from our own address
//! (keepalived's master logs it in `vrrp_state_master_rx` when the priorities are equal).

use std::fmt;
use std::net::IpAddr;

use crate::packet::{self, Advert, Auth, Fixed, Malformed, Version, TYPE_ADVERT};

/// What an instance expects of the adverts it receives.
#[derive(Clone, Copy, Debug)]
pub struct Expect<'a> {
    pub version: Version,
    pub vrid: u8,
    /// Only version 2 carries it.
    pub auth: Auth,
    /// Our advertisement interval in centiseconds; version 2 adverts must carry the same.
    pub interval: u16,
    /// Our virtual addresses, all of the instance's family.
    pub addresses: &'a [IpAddr],
    /// Whether to compare the advert's addresses with ours (and, for unicast, its source
    /// with our peers). keepalived skips this only for a backup with `skip_check_adv_addr`
    /// hearing the master it heard last; a master always checks.
    pub check_addresses: bool,
    /// `None` for a multicast instance.
    pub unicast: Option<Unicast<'a>>,
}

/// A unicast instance's peers.
#[derive(Clone, Copy, Debug)]
pub struct Unicast<'a> {
    pub peers: &'a [Peer],
    /// Whether an advert's source must be one of `peers`, with a TTL in its range:
    /// keepalived's global `vrrp_check_unicast_src`, or any peer given `min_ttl`/`max_ttl`.
    pub check_source: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer {
    pub address: IpAddr,
    /// keepalived's defaults are 0 and 255.
    pub min_ttl: u8,
    pub max_ttl: u8,
}

/// What came with the VRRP message besides its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    pub src: IpAddr,
    /// The IPv4 header's destination, or IPv6's from `IPV6_PKTINFO`.
    pub dst: IpAddr,
    /// The IPv4 TTL, or IPv6's hop limit from `IPV6_HOPLIMIT`.
    pub ttl: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept(Advert),
    /// Another VRID: not this instance's business, dropped uncounted (keepalived logs it
    /// only with `log_unknown_vrids`).
    NotMine,
    Drop(Reason),
}

/// Why an advert is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Not even a VRRP header, or a fault the checks below do not name.
    Malformed(Malformed),
    /// A multicast advert to a unicast instance, or the other way round.
    Cast {
        unicast_expected: bool,
        ipv6: bool,
    },
    Length {
        expected: usize,
        received: usize,
    },
    /// Multicast adverts must come with TTL (hop limit) 255: from the link itself.
    Ttl {
        received: u8,
    },
    Version {
        expected: Version,
        received: u8,
    },
    /// Neither none, password nor AH.
    AuthType(u8),
    AuthTypeMismatch {
        expected: u8,
        received: u8,
    },
    Password,
    /// Centiseconds; only version 2 checks it.
    Interval {
        mine: u16,
        theirs: u16,
    },
    Type(u8),
    AddressCount {
        expected: usize,
        received: u8,
    },
    Checksum {
        received: u16,
        expected: u16,
    },
    /// One of our addresses is not in the advert.
    AddressMissing(IpAddr),
    UnknownPeer(IpAddr),
    PeerTtl {
        received: u8,
        min: u8,
        max: u8,
    },
}

/// What multicast adverts carry as TTL, and must (RFC 3768 5.2.3, RFC 5798 5.1.1.3).
const MULTICAST_TTL: u8 = 255;

impl Reason {
    /// The keepalived statistics counter (as `vrrp_stats` names it) the drop increments;
    /// `None` where 2.2.7 counts nothing.
    pub fn counter(&self) -> Option<&'static str> {
        match self {
            Reason::Malformed(_) | Reason::Interval { .. } | Reason::UnknownPeer(_) => None,
            // The IPv6 filter runs before the checks and only logs in detail mode.
            Reason::Cast { ipv6: true, .. } => None,
            Reason::Cast { ipv6: false, .. }
            | Reason::AddressCount { .. }
            | Reason::AddressMissing(_) => Some("addr_list_err"),
            Reason::Length { .. } => Some("packet_len_err"),
            Reason::Ttl { .. } | Reason::PeerTtl { .. } => Some("ip_ttl_err"),
            Reason::Version { .. } => Some("vers_err"),
            Reason::AuthType(_) => Some("invalid_authtype"),
            Reason::AuthTypeMismatch { .. } => Some("authtype_mismatch"),
            Reason::Password => Some("auth_failure"),
            Reason::Type(_) => Some("invalid_type_rcvd"),
            Reason::Checksum { .. } => Some("chk_err"),
        }
    }

    /// Whether keepalived has already counted the advert in `advert_rcvd` when it drops it:
    /// it counts once type, version, length and checksum are right, before the address
    /// and peer checks.
    pub fn counts_as_received(&self) -> bool {
        matches!(
            self,
            Reason::AddressMissing(_) | Reason::UnknownPeer(_) | Reason::PeerTtl { .. }
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cast = |unicast: bool| if unicast { "unicast" } else { "multicast" };
        match *self {
            Reason::Malformed(m) => write!(f, "malformed: {m}"),
            Reason::Cast {
                unicast_expected, ..
            } => write!(
                f,
                "received a {} advert, expected {}",
                cast(!unicast_expected),
                cast(unicast_expected)
            ),
            Reason::Length { expected, received } => {
                write!(f, "length {received}, expected {expected}")
            }
            Reason::Ttl { received } => {
                write!(f, "TTL/hop limit {received}, expected {MULTICAST_TTL}")
            }
            Reason::Version { expected, received } => {
                write!(f, "version {received}, expected {}", expected.number())
            }
            Reason::AuthType(t) => write!(f, "invalid auth type {t}"),
            Reason::AuthTypeMismatch { expected, received } => {
                write!(f, "auth type {received}, expected {expected}")
            }
            Reason::Password => write!(f, "wrong password"),
            Reason::Interval { mine, theirs } => write!(
                f,
                "advert interval {} s, mine is {} s",
                theirs / 100,
                mine / 100
            ),
            Reason::Type(t) => write!(f, "packet type {t}, expected {TYPE_ADVERT}"),
            Reason::AddressCount { expected, received } => {
                write!(f, "{received} addresses, expected {expected}")
            }
            Reason::Checksum { received, expected } => {
                write!(f, "bad checksum {received:#06x}, expected {expected:#06x}")
            }
            Reason::AddressMissing(a) => write!(f, "our address {a} is not in the advert"),
            Reason::UnknownPeer(a) => write!(f, "unicast source {a} is not a peer"),
            Reason::PeerTtl { received, min, max } => {
                write!(f, "TTL/hop limit {received} outside {min}-{max}")
            }
        }
    }
}

/// Judges the VRRP message `vrrp` (after any IP header) for the instance `expect`.
pub fn check(expect: &Expect, rx: &Received, vrrp: &[u8]) -> Verdict {
    match judge(expect, rx, vrrp) {
        Ok(Some(advert)) => Verdict::Accept(advert),
        Ok(None) => Verdict::NotMine,
        Err(reason) => Verdict::Drop(reason),
    }
}

fn judge(expect: &Expect, rx: &Received, vrrp: &[u8]) -> Result<Option<Advert>, Reason> {
    let fixed = Fixed::read(vrrp).map_err(Reason::Malformed)?;
    if fixed.vrid != expect.vrid {
        return Ok(None);
    }
    let ipv6 = rx.src.is_ipv6();
    let unicast_expected = expect.unicast.is_some();
    let cast = Reason::Cast {
        unicast_expected,
        ipv6,
    };
    if ipv6 && rx.dst.is_multicast() == unicast_expected {
        return Err(cast);
    }
    let expected = fixed.expected_len(ipv6);
    if vrrp.len() != expected {
        return Err(Reason::Length {
            expected,
            received: vrrp.len(),
        });
    }
    if !unicast_expected && rx.ttl != MULTICAST_TTL {
        return Err(Reason::Ttl { received: rx.ttl });
    }
    if fixed.version != expect.version.number() {
        return Err(Reason::Version {
            expected: expect.version,
            received: fixed.version,
        });
    }
    if expect.version == Version::V2 {
        check_v2(expect, &fixed, vrrp)?;
    }
    if fixed.kind != TYPE_ADVERT {
        return Err(Reason::Type(fixed.kind));
    }
    if expect.check_addresses && usize::from(fixed.count) != expect.addresses.len() {
        return Err(Reason::AddressCount {
            expected: expect.addresses.len(),
            received: fixed.count,
        });
    }
    // keepalived leaves IPv6's checksum to the kernel (IPV6_CHECKSUM), which drops a bad one
    // unseen; checking it again here costs nothing and covers a socket without the option.
    packet::verify_checksum(vrrp, expect.version, rx.src, rx.dst).map_err(|m| match m {
        Malformed::Checksum { received, expected } => Reason::Checksum { received, expected },
        other => Reason::Malformed(other),
    })?;
    if !ipv6 && rx.dst.is_multicast() == unicast_expected {
        return Err(cast);
    }
    let advert = Advert::decode(vrrp, rx.src, rx.dst).map_err(Reason::Malformed)?;
    if expect.check_addresses {
        address_list(expect, &advert)?;
        unicast_source(expect, rx)?;
    }
    Ok(Some(advert))
}

/// Version 2's auth and interval, in keepalived's order.
fn check_v2(expect: &Expect, fixed: &Fixed, vrrp: &[u8]) -> Result<(), Reason> {
    let [kind, seconds] = fixed.word;
    // keepalived knows AH (2) even though it is not spoken here.
    if kind > 2 {
        return Err(Reason::AuthType(kind));
    }
    if kind != expect.auth.kind() {
        return Err(Reason::AuthTypeMismatch {
            expected: expect.auth.kind(),
            received: kind,
        });
    }
    if let Auth::Pass(password) = expect.auth {
        // Compared in constant time, as keepalived does, though the password crossed the
        // link in clear.
        let differ = packet::password(vrrp)
            .iter()
            .zip(password)
            .fold(0, |acc, (a, b)| acc | (a ^ b));
        if differ != 0 {
            return Err(Reason::Password);
        }
    }
    let theirs = u16::from(seconds) * 100;
    if theirs != expect.interval {
        return Err(Reason::Interval {
            mine: expect.interval,
            theirs,
        });
    }
    Ok(())
}

/// Our addresses all listed.
fn address_list(expect: &Expect, advert: &Advert) -> Result<(), Reason> {
    match expect
        .addresses
        .iter()
        .find(|a| !advert.addresses.contains(a))
    {
        Some(missing) => Err(Reason::AddressMissing(*missing)),
        None => Ok(()),
    }
}

/// A unicast advert's source among our peers, with a TTL in the peer's range, when the
/// instance checks sources. Part of [`check`]; on its own for a caller that accepts an advert
/// whose address list differs from ours but must still refuse a stranger's.
pub fn unicast_source(expect: &Expect, rx: &Received) -> Result<(), Reason> {
    let Some(unicast) = expect.unicast.filter(|u| u.check_source) else {
        return Ok(());
    };
    let peer = unicast
        .peers
        .iter()
        .find(|p| p.address == rx.src)
        .ok_or(Reason::UnknownPeer(rx.src))?;
    if !(peer.min_ttl..=peer.max_ttl).contains(&rx.ttl) {
        return Err(Reason::PeerTtl {
            received: rx.ttl,
            min: peer.min_ttl,
            max: peer.max_ttl,
        });
    }
    Ok(())
}
