//! The VRRP advertisement: version 2 (RFC 3768) and 3 (RFC 5798), IPv4 and IPv6.
//!
//! Only the VRRP message is handled here, the bytes after the IP header; [`split_ipv4`]
//! takes that header off what a raw IPv4 socket delivers (an IPv6 raw socket delivers the
//! message alone). The checks here are structural, those any reader must make; what an
//! instance further demands of an advert is in [`crate::receive`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IP protocol number of VRRP.
pub const PROTOCOL: u8 = 112;

/// Version, type, VRID, priority, count, the auth/interval word and the checksum.
pub(crate) const HEADER_LEN: usize = 8;
/// Version 2 over IPv4 always ends with 8 authentication bytes, zero when there is none.
pub(crate) const AUTH_LEN: usize = 8;
/// The only VRRP packet type.
pub(crate) const TYPE_ADVERT: u8 = 1;
pub(crate) const AUTH_NONE: u8 = 0;
pub(crate) const AUTH_PASS: u8 = 1;
/// Version 3's interval field is 12 bits of centiseconds; the top 4 are reserved.
const V3_INTERVAL_MASK: u16 = 0x0fff;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V2,
    V3,
}

impl Version {
    pub fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

/// Version 2's authentication; keepalived's AH (type 2) is not spoken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    None,
    /// A simple password: the configured text, NUL-padded (and cut) to 8 bytes.
    Pass([u8; 8]),
}

impl Auth {
    /// The auth type field's value.
    pub fn kind(&self) -> u8 {
        match self {
            Auth::None => AUTH_NONE,
            Auth::Pass(_) => AUTH_PASS,
        }
    }
}

/// One advertisement, as sent or as read off the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advert {
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    /// The advertisement interval in centiseconds; version 2 carries whole seconds, so its
    /// value is a multiple of 100.
    pub interval: u16,
    /// Always [`Auth::None`] for version 3.
    pub auth: Auth,
    /// The virtual addresses, all of the packet's family.
    pub addresses: Vec<IpAddr>,
}

/// Why bytes are not a VRRP advertisement (or an IPv4 datagram carrying one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// Shorter than the fixed VRRP header.
    Truncated {
        len: usize,
    },
    Version(u8),
    Type(u8),
    /// The length is not what the address count (and version 2's auth bytes) make it.
    Length {
        count: u8,
        expected: usize,
        received: usize,
    },
    /// An auth type other than none and password (keepalived's AH included).
    AuthType(u8),
    V2OverIpv6,
    /// Source and destination of different families: no pseudo-header can be built.
    MixedFamilies,
    Checksum {
        received: u16,
        expected: u16,
    },
    /// Shorter than an IPv4 header, or than the header length it claims.
    IpTruncated {
        len: usize,
    },
    IpVersion(u8),
    /// A header length field below the 20-byte minimum.
    IpHeaderLength(u8),
    /// The IPv4 total length disagrees with the bytes received.
    IpTotalLength {
        header: u16,
        received: usize,
    },
    Protocol(u8),
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Malformed::Truncated { len } => {
                write!(f, "packet too short: {len} bytes, less than a VRRP header")
            }
            Malformed::Version(v) => write!(f, "unknown VRRP version {v}"),
            Malformed::Type(t) => write!(f, "packet type {t} is not an advertisement (1)"),
            Malformed::Length {
                count,
                expected,
                received,
            } => write!(
                f,
                "length {received} does not fit {count} addresses: expected {expected} bytes"
            ),
            Malformed::AuthType(t) => write!(f, "unsupported auth type {t}"),
            Malformed::V2OverIpv6 => write!(f, "VRRP version 2 over IPv6"),
            Malformed::MixedFamilies => {
                write!(f, "source and destination of different address families")
            }
            Malformed::Checksum { received, expected } => {
                write!(f, "bad checksum {received:#06x}, expected {expected:#06x}")
            }
            Malformed::IpTruncated { len } => {
                write!(f, "IPv4 datagram too short: {len} bytes")
            }
            Malformed::IpVersion(v) => write!(f, "IP version {v} on an IPv4 socket"),
            Malformed::IpHeaderLength(ihl) => {
                write!(
                    f,
                    "IPv4 header length {} below 20 bytes",
                    usize::from(ihl) * 4
                )
            }
            Malformed::IpTotalLength { header, received } => write!(
                f,
                "IPv4 total length {header} but {received} bytes received"
            ),
            Malformed::Protocol(p) => write!(f, "IP protocol {p}, not VRRP ({PROTOCOL})"),
        }
    }
}

impl std::error::Error for Malformed {}

/// The IPv4 header fields a receiver needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Header {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
}

/// Splits what a raw IPv4 socket for protocol 112 delivers into its header and the VRRP
/// message. AH (keepalived's auth type 2) is not spoken, so only protocol 112 passes.
pub fn split_ipv4(datagram: &[u8]) -> Result<(Ipv4Header, &[u8]), Malformed> {
    let too_short = Malformed::IpTruncated {
        len: datagram.len(),
    };
    let header: [u8; 20] = datagram
        .get(..20)
        .and_then(|h| h.try_into().ok())
        .ok_or(too_short)?;
    let [version_ihl, _, len_hi, len_lo, _, _, _, _, ttl, protocol, _, _, addresses @ ..] = header;
    let [s0, s1, s2, s3, d0, d1, d2, d3] = addresses;
    if version_ihl >> 4 != 4 {
        return Err(Malformed::IpVersion(version_ihl >> 4));
    }
    let ihl = version_ihl & 0x0f;
    if ihl < 5 {
        return Err(Malformed::IpHeaderLength(ihl));
    }
    // Linux trims a datagram to its total length before a raw socket sees it, so any
    // difference means the read was cut short or the header lies.
    let total = u16::from_be_bytes([len_hi, len_lo]);
    if usize::from(total) != datagram.len() {
        return Err(Malformed::IpTotalLength {
            header: total,
            received: datagram.len(),
        });
    }
    let vrrp = datagram.get(usize::from(ihl) * 4..).ok_or(too_short)?;
    if protocol != PROTOCOL {
        return Err(Malformed::Protocol(protocol));
    }
    let header = Ipv4Header {
        src: Ipv4Addr::new(s0, s1, s2, s3),
        dst: Ipv4Addr::new(d0, d1, d2, d3),
        ttl,
    };
    Ok((header, vrrp))
}

/// The fixed header's fields, read but not yet judged.
pub(crate) struct Fixed {
    pub version: u8,
    pub kind: u8,
    pub vrid: u8,
    pub priority: u8,
    pub count: u8,
    /// Version 2: auth type and interval in seconds; version 3: reserved bits and centiseconds.
    pub word: [u8; 2],
}

impl Fixed {
    pub fn read(vrrp: &[u8]) -> Result<Fixed, Malformed> {
        let header: &[u8; HEADER_LEN] = vrrp
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(Malformed::Truncated { len: vrrp.len() })?;
        let [version_type, vrid, priority, count, w0, w1, _, _] = *header;
        Ok(Fixed {
            version: version_type >> 4,
            kind: version_type & 0x0f,
            vrid,
            priority,
            count,
            word: [w0, w1],
        })
    }

    /// The message length the count implies, with the auth bytes only when the version
    /// field says 2 and the family is IPv4, as keepalived reckons it.
    pub fn expected_len(&self, ipv6: bool) -> usize {
        let (address_len, auth_len) = match (ipv6, self.version) {
            (true, _) => (16, 0),
            (false, 2) => (4, AUTH_LEN),
            (false, _) => (4, 0),
        };
        HEADER_LEN + usize::from(self.count) * address_len + auth_len
    }
}

impl Advert {
    /// The VRRP message (what follows the IP header) from `src` to `dst`, checksum filled in.
    /// The addresses written are those of `src`'s family, at most 255 (the count is a byte);
    /// the interval is clamped to what the field holds (255 s for version 2, 40.95 s for 3).
    pub fn encode(&self, src: IpAddr, dst: IpAddr) -> Vec<u8> {
        let addresses: Vec<&IpAddr> = self
            .addresses
            .iter()
            .filter(|a| a.is_ipv6() == src.is_ipv6())
            .take(usize::from(u8::MAX))
            .collect();
        let count = u8::try_from(addresses.len()).unwrap_or(u8::MAX);
        let word = match self.version {
            Version::V2 => {
                let seconds = u8::try_from(self.interval / 100).unwrap_or(u8::MAX);
                [self.auth.kind(), seconds]
            }
            Version::V3 => self.interval.min(V3_INTERVAL_MASK).to_be_bytes(),
        };
        let mut out = vec![
            self.version.number() << 4 | TYPE_ADVERT,
            self.vrid,
            self.priority,
            count,
            word[0],
            word[1],
            0,
            0,
        ];
        for address in addresses {
            match address {
                IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
            }
        }
        if self.version == Version::V2 {
            match self.auth {
                Auth::None => out.extend_from_slice(&[0; AUTH_LEN]),
                Auth::Pass(password) => out.extend_from_slice(&password),
            }
        }
        let sum = fold(sum_words(
            pseudo_header_sum(self.version, src, dst, out.len()),
            &out,
        ));
        if let Some(field) = out.get_mut(6..8) {
            field.copy_from_slice(&(!sum).to_be_bytes());
        }
        out
    }

    /// Reads the VRRP message `vrrp` that came from `src` to `dst` (the family is theirs).
    /// The length must be exact, and the checksum right for the IPv6 family too, although
    /// keepalived leaves that one to the kernel.
    pub fn decode(vrrp: &[u8], src: IpAddr, dst: IpAddr) -> Result<Advert, Malformed> {
        let fixed = Fixed::read(vrrp)?;
        let version = match fixed.version {
            2 => Version::V2,
            3 => Version::V3,
            v => return Err(Malformed::Version(v)),
        };
        if fixed.kind != TYPE_ADVERT {
            return Err(Malformed::Type(fixed.kind));
        }
        let ipv6 = src.is_ipv6();
        if version == Version::V2 && ipv6 {
            return Err(Malformed::V2OverIpv6);
        }
        let expected = fixed.expected_len(ipv6);
        if vrrp.len() != expected {
            return Err(Malformed::Length {
                count: fixed.count,
                expected,
                received: vrrp.len(),
            });
        }
        verify_checksum(vrrp, version, src, dst)?;
        let (interval, auth) = match version {
            Version::V2 => {
                let [kind, seconds] = fixed.word;
                let auth = match kind {
                    AUTH_NONE => Auth::None,
                    AUTH_PASS => Auth::Pass(password(vrrp)),
                    other => return Err(Malformed::AuthType(other)),
                };
                (u16::from(seconds) * 100, auth)
            }
            // keepalived ignores the reserved bits, and so does RFC 5798.
            Version::V3 => (
                u16::from_be_bytes(fixed.word) & V3_INTERVAL_MASK,
                Auth::None,
            ),
        };
        let listed = vrrp.get(HEADER_LEN..).unwrap_or_default();
        let addresses = if ipv6 {
            listed
                .chunks_exact(16)
                .take(usize::from(fixed.count))
                .filter_map(|c| <[u8; 16]>::try_from(c).ok())
                .map(|o| IpAddr::V6(Ipv6Addr::from(o)))
                .collect()
        } else {
            listed
                .chunks_exact(4)
                .take(usize::from(fixed.count))
                .filter_map(|c| <[u8; 4]>::try_from(c).ok())
                .map(|o| IpAddr::V4(Ipv4Addr::from(o)))
                .collect()
        };
        Ok(Advert {
            version,
            vrid: fixed.vrid,
            priority: fixed.priority,
            interval,
            auth,
            addresses,
        })
    }
}

/// Version 2's last 8 bytes (all zero when the message is shorter, which a length check
/// before rules out).
pub(crate) fn password(vrrp: &[u8]) -> [u8; AUTH_LEN] {
    vrrp.len()
        .checked_sub(AUTH_LEN)
        .and_then(|start| vrrp.get(start..))
        .and_then(|tail| tail.try_into().ok())
        .unwrap_or([0; AUTH_LEN])
}

/// Checks the message's checksum: version 2's covers the message alone, version 3's a
/// pseudo-header too. As keepalived does, the sum is taken with the field in place, so
/// either ones'-complement zero passes.
pub(crate) fn verify_checksum(
    vrrp: &[u8],
    version: Version,
    src: IpAddr,
    dst: IpAddr,
) -> Result<(), Malformed> {
    if src.is_ipv6() != dst.is_ipv6() {
        return Err(Malformed::MixedFamilies);
    }
    let start = pseudo_header_sum(version, src, dst, vrrp.len());
    if fold(sum_words(start, vrrp)) == 0xffff {
        return Ok(());
    }
    let (received, rest) = match vrrp {
        [a, b, c, d, e, f, hi, lo, rest @ ..] => {
            let without_field = sum_words(start, &[*a, *b, *c, *d, *e, *f]);
            (
                u16::from_be_bytes([*hi, *lo]),
                sum_words(without_field, rest),
            )
        }
        _ => (0, sum_words(start, vrrp)),
    };
    Err(Malformed::Checksum {
        received,
        expected: !fold(rest),
    })
}

/// The pseudo-header's part of version 3's sum; nothing for version 2.
fn pseudo_header_sum(version: Version, src: IpAddr, dst: IpAddr, len: usize) -> u64 {
    if version == Version::V2 {
        return 0;
    }
    // The length field is 16 bits for IPv4 and 32 for IPv6; a VRRP message fits either.
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    let mut sum = 0;
    for address in [src, dst] {
        sum = match address {
            IpAddr::V4(a) => sum_words(sum, &a.octets()),
            IpAddr::V6(a) => sum_words(sum, &a.octets()),
        };
    }
    sum + u64::from(PROTOCOL) + u64::from(len >> 16) + u64::from(len & 0xffff)
}

/// Adds big-endian 16-bit words to `sum`, an odd last byte padded with zero.
fn sum_words(sum: u64, bytes: &[u8]) -> u64 {
    bytes.chunks(2).fold(sum, |sum, word| match *word {
        [hi, lo] => sum + u64::from(u16::from_be_bytes([hi, lo])),
        [hi] => sum + u64::from(hi) * 256,
        _ => sum,
    })
}

/// Folds the carries back in: the ones'-complement sum.
fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum >> 16) + (sum & 0xffff);
    }
    u16::try_from(sum).unwrap_or(u16::MAX)
}
