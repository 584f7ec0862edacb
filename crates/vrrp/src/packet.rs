//! The VRRP advertisement: version 2 (RFC 3768) and 3 (RFC 5798), IPv4 and IPv6.

use std::net::IpAddr;

/// IP protocol number of VRRP.
pub const PROTOCOL: u8 = 112;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V2,
    V3,
}

/// Version 2's authentication; keepalived's AH (type 2) is not spoken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    None,
    /// A simple password: the configured text, NUL-padded (and cut) to 8 bytes.
    Pass([u8; 8]),
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
