//! `IPVS_DEST_ATTR_*`: a real server.

use std::net::IpAddr;

use super::{entry_counters, parse_attrs, Attribute, StatsAttr};
use crate::model::{
    addr_from_union, addr_to_union, Destination, Family, ForwardMethod, Stats, TunnelFlags,
    TunnelType,
};
use crate::wire::{be16_of, exact, u16_of, u32_of, u8_of, AttrWriter, DecodeError, RawAttr};

const ADDR: u16 = 1;
const PORT: u16 = 2;
const FWD_METHOD: u16 = 3;
const WEIGHT: u16 = 4;
const U_THRESH: u16 = 5;
const L_THRESH: u16 = 6;
const ACTIVE_CONNS: u16 = 7;
const INACT_CONNS: u16 = 8;
const PERSIST_CONNS: u16 = 9;
const STATS: u16 = 10;
const ADDR_FAMILY: u16 = 11;
const STATS64: u16 = 12;
const TUN_TYPE: u16 = 13;
const TUN_PORT: u16 = 14;
const TUN_FLAGS: u16 = 15;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DestAttr {
    Addr([u8; 16]),
    /// Host order here; network order on the wire.
    Port(u16),
    FwdMethod(u32),
    Weight(u32),
    UThresh(u32),
    LThresh(u32),
    ActiveConns(u32),
    InactConns(u32),
    PersistConns(u32),
    Stats(Vec<StatsAttr>),
    AddrFamily(u16),
    Stats64(Vec<StatsAttr>),
    TunType(u8),
    /// Host order here; network order on the wire.
    TunPort(u16),
    TunFlags(u16),
    Other(u16, Vec<u8>),
}

impl Attribute for DestAttr {
    fn parse(raw: RawAttr<'_>) -> Result<Self, DecodeError> {
        Ok(match raw.kind {
            ADDR => DestAttr::Addr(exact(raw)?),
            PORT => DestAttr::Port(be16_of(raw)?),
            FWD_METHOD => DestAttr::FwdMethod(u32_of(raw)?),
            WEIGHT => DestAttr::Weight(u32_of(raw)?),
            U_THRESH => DestAttr::UThresh(u32_of(raw)?),
            L_THRESH => DestAttr::LThresh(u32_of(raw)?),
            ACTIVE_CONNS => DestAttr::ActiveConns(u32_of(raw)?),
            INACT_CONNS => DestAttr::InactConns(u32_of(raw)?),
            PERSIST_CONNS => DestAttr::PersistConns(u32_of(raw)?),
            STATS => DestAttr::Stats(parse_attrs(raw.payload)?),
            ADDR_FAMILY => DestAttr::AddrFamily(u16_of(raw)?),
            STATS64 => DestAttr::Stats64(parse_attrs(raw.payload)?),
            TUN_TYPE => DestAttr::TunType(u8_of(raw)?),
            TUN_PORT => DestAttr::TunPort(be16_of(raw)?),
            TUN_FLAGS => DestAttr::TunFlags(u16_of(raw)?),
            kind => DestAttr::Other(kind, raw.payload.to_vec()),
        })
    }

    // Inlined where the variant is known (a batch's framing), so only its own arm remains.
    #[inline(always)]
    fn emit(&self, w: &mut AttrWriter) {
        match self {
            DestAttr::Addr(a) => w.put(ADDR, a),
            DestAttr::Port(p) => w.put(PORT, &p.to_be_bytes()),
            DestAttr::FwdMethod(v) => w.put(FWD_METHOD, &v.to_ne_bytes()),
            DestAttr::Weight(v) => w.put(WEIGHT, &v.to_ne_bytes()),
            DestAttr::UThresh(v) => w.put(U_THRESH, &v.to_ne_bytes()),
            DestAttr::LThresh(v) => w.put(L_THRESH, &v.to_ne_bytes()),
            DestAttr::ActiveConns(v) => w.put(ACTIVE_CONNS, &v.to_ne_bytes()),
            DestAttr::InactConns(v) => w.put(INACT_CONNS, &v.to_ne_bytes()),
            DestAttr::PersistConns(v) => w.put(PERSIST_CONNS, &v.to_ne_bytes()),
            DestAttr::Stats(s) => w.nest(STATS, |n| s.iter().for_each(|a| a.emit(n))),
            DestAttr::AddrFamily(v) => w.put(ADDR_FAMILY, &v.to_ne_bytes()),
            DestAttr::Stats64(s) => w.nest(STATS64, |n| s.iter().for_each(|a| a.emit(n))),
            DestAttr::TunType(v) => w.put(TUN_TYPE, &[*v]),
            DestAttr::TunPort(p) => w.put(TUN_PORT, &p.to_be_bytes()),
            DestAttr::TunFlags(v) => w.put(TUN_FLAGS, &v.to_ne_bytes()),
            DestAttr::Other(kind, payload) => w.put(*kind, payload),
        }
    }
}

/// The attributes that name a destination within its service, each given to `each` (a batch
/// emits them as they come, without an array to build and drop).
#[inline(always)]
pub(crate) fn each_dest_key_attr(addr: &IpAddr, port: u16, mut each: impl FnMut(DestAttr)) {
    each(DestAttr::AddrFamily(Family::of(addr).af()));
    each(DestAttr::Addr(addr_to_union(addr)));
    each(DestAttr::Port(port));
}

/// Every settable attribute of a destination, as an add or edit sends it (an edit resets
/// whatever the caller left at its default), each given to `each`.
#[inline(always)]
pub(crate) fn each_dest_attr(d: &Destination, mut each: impl FnMut(DestAttr)) {
    each_dest_key_attr(&d.addr, d.port, &mut each);
    each(DestAttr::FwdMethod(d.forward.code()));
    each(DestAttr::Weight(d.weight));
    each(DestAttr::TunType(d.tunnel_type.code()));
    each(DestAttr::TunPort(d.tunnel_port));
    each(DestAttr::TunFlags(d.tunnel_flags.0));
    each(DestAttr::UThresh(d.upper_threshold));
    each(DestAttr::LThresh(d.lower_threshold));
}

/// [`each_dest_key_attr`], collected.
pub(crate) fn dest_key_attrs(addr: &IpAddr, port: u16) -> Vec<DestAttr> {
    let mut attrs = Vec::with_capacity(3);
    each_dest_key_attr(addr, port, |a| attrs.push(a));
    attrs
}

/// [`each_dest_attr`], collected.
pub(crate) fn dest_to_attrs(d: &Destination) -> Vec<DestAttr> {
    let mut attrs = Vec::with_capacity(10);
    each_dest_attr(d, |a| attrs.push(a));
    attrs
}

/// A destination from its nest in a dump. Old kernels send no address family: it is then the
/// service's. Read in place: no list of attributes is built, and only the counters used (the
/// 64-bit ones when both are sent) are read, since listing a large table decodes tens of
/// thousands of destinations.
pub(crate) fn dest_from_bytes(
    nest: &[u8],
    service_family: Family,
) -> Result<Destination, DecodeError> {
    let mut fold = DestFold::new(service_family);
    let stats = entry_counters(nest, (STATS, STATS64), |raw| {
        fold.add(&DestAttr::parse(raw)?)
    })?;
    fold.finish(stats)
}

/// A destination made from its attributes one at a time, the counters aside.
struct DestFold {
    family: Family,
    addr: Option<[u8; 16]>,
    port: Option<u16>,
    d: Destination,
}

impl DestFold {
    fn new(family: Family) -> Self {
        let mut d = Destination::new(std::net::Ipv4Addr::UNSPECIFIED.into(), 0);
        d.weight = 0;
        d.forward = ForwardMethod::Masquerade;
        DestFold {
            family,
            addr: None,
            port: None,
            d,
        }
    }

    fn add(&mut self, a: &DestAttr) -> Result<(), DecodeError> {
        let d = &mut self.d;
        match a {
            DestAttr::Addr(v) => self.addr = Some(*v),
            DestAttr::Port(v) => self.port = Some(*v),
            DestAttr::FwdMethod(v) => d.forward = ForwardMethod::from_code(*v),
            DestAttr::Weight(v) => d.weight = *v,
            DestAttr::UThresh(v) => d.upper_threshold = *v,
            DestAttr::LThresh(v) => d.lower_threshold = *v,
            DestAttr::ActiveConns(v) => d.active_conns = *v,
            DestAttr::InactConns(v) => d.inactive_conns = *v,
            DestAttr::PersistConns(v) => d.persistent_conns = *v,
            DestAttr::AddrFamily(v) => {
                self.family = Family::from_af(*v).ok_or_else(|| {
                    DecodeError::new(format!("destination with unknown address family {v}"))
                })?
            }
            DestAttr::TunType(v) => d.tunnel_type = TunnelType::from_code(*v),
            DestAttr::TunPort(v) => d.tunnel_port = *v,
            DestAttr::TunFlags(v) => d.tunnel_flags = TunnelFlags(*v),
            // The counters are read from their nests' bytes.
            DestAttr::Stats(_) | DestAttr::Stats64(_) | DestAttr::Other(..) => {}
        }
        Ok(())
    }

    fn finish(self, stats: Stats) -> Result<Destination, DecodeError> {
        let (Some(addr), Some(port)) = (self.addr, self.port) else {
            return Err(DecodeError::new("destination without address or port"));
        };
        let mut d = self.d;
        d.addr = addr_from_union(self.family, &addr);
        d.port = port;
        d.stats = stats;
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::emit_attrs;

    #[test]
    fn a_tunnel_destination_survives_encoding() {
        let mut d = Destination::new("192.0.2.9".parse().unwrap(), 443);
        d.forward = ForwardMethod::Tunnel;
        d.weight = 2_000_000_000;
        d.tunnel_type = TunnelType::Gue;
        d.tunnel_port = 6080;
        d.tunnel_flags = TunnelFlags(TunnelFlags::REMCSUM);
        d.upper_threshold = 100;
        d.lower_threshold = 10;
        let bytes = emit_attrs(&dest_to_attrs(&d));
        let back = dest_from_bytes(&bytes, Family::V6).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn ports_are_big_endian_on_the_wire() {
        let bytes = emit_attrs(&[DestAttr::Port(0x1234), DestAttr::TunPort(0x0102)]);
        assert_eq!(&bytes[4..6], &[0x12, 0x34]);
        assert_eq!(&bytes[12..14], &[0x01, 0x02]);
    }
}
