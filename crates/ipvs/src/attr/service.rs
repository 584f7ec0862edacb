//! `IPVS_SVC_ATTR_*`: a virtual service.

use super::{entry_counters, parse_attrs, stats_from_attrs, Attribute, StatsAttr};
use crate::model::{
    addr_from_union, addr_to_union, Family, Protocol, Service, ServiceFlags, ServiceKey,
};
use crate::wire::{be16_of, exact, string_of, u16_of, u32_of, AttrWriter, DecodeError, RawAttr};

const AF: u16 = 1;
const PROTOCOL: u16 = 2;
const ADDR: u16 = 3;
const PORT: u16 = 4;
const FWMARK: u16 = 5;
const SCHED_NAME: u16 = 6;
const FLAGS: u16 = 7;
const TIMEOUT: u16 = 8;
const NETMASK: u16 = 9;
const STATS: u16 = 10;
const PE_NAME: u16 = 11;
const STATS64: u16 = 12;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceAttr {
    Af(u16),
    Protocol(u16),
    /// A `union nf_inet_addr`: IPv4 in the first four bytes.
    Addr([u8; 16]),
    /// Host order here; network order on the wire.
    Port(u16),
    Fwmark(u32),
    SchedName(String),
    /// `struct ip_vs_flags`: the bits to set, and which bits the set touches.
    Flags {
        flags: u32,
        mask: u32,
    },
    Timeout(u32),
    /// The raw 32 bits: an IPv4 mask in network byte order, or an IPv6 prefix length.
    Netmask(u32),
    Stats(Vec<StatsAttr>),
    PeName(String),
    Stats64(Vec<StatsAttr>),
    Other(u16, Vec<u8>),
}

impl Attribute for ServiceAttr {
    fn parse(raw: RawAttr<'_>) -> Result<Self, DecodeError> {
        Ok(match raw.kind {
            AF => ServiceAttr::Af(u16_of(raw)?),
            PROTOCOL => ServiceAttr::Protocol(u16_of(raw)?),
            ADDR => ServiceAttr::Addr(exact(raw)?),
            PORT => ServiceAttr::Port(be16_of(raw)?),
            FWMARK => ServiceAttr::Fwmark(u32_of(raw)?),
            SCHED_NAME => ServiceAttr::SchedName(string_of(raw)),
            FLAGS => {
                let b: [u8; 8] = exact(raw)?;
                ServiceAttr::Flags {
                    flags: u32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
                    mask: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
                }
            }
            TIMEOUT => ServiceAttr::Timeout(u32_of(raw)?),
            NETMASK => ServiceAttr::Netmask(u32_of(raw)?),
            STATS => ServiceAttr::Stats(parse_attrs(raw.payload)?),
            PE_NAME => ServiceAttr::PeName(string_of(raw)),
            STATS64 => ServiceAttr::Stats64(parse_attrs(raw.payload)?),
            kind => ServiceAttr::Other(kind, raw.payload.to_vec()),
        })
    }

    // Inlined where the variant is known (a batch's framing), so only its own arm remains.
    #[inline(always)]
    fn emit(&self, w: &mut AttrWriter) {
        match self {
            ServiceAttr::Af(v) => w.put(AF, &v.to_ne_bytes()),
            ServiceAttr::Protocol(v) => w.put(PROTOCOL, &v.to_ne_bytes()),
            ServiceAttr::Addr(a) => w.put(ADDR, a),
            ServiceAttr::Port(p) => w.put(PORT, &p.to_be_bytes()),
            ServiceAttr::Fwmark(v) => w.put(FWMARK, &v.to_ne_bytes()),
            ServiceAttr::SchedName(s) => w.put_string(SCHED_NAME, s),
            ServiceAttr::Flags { flags, mask } => {
                let mut b = [0u8; 8];
                b[..4].copy_from_slice(&flags.to_ne_bytes());
                b[4..].copy_from_slice(&mask.to_ne_bytes());
                w.put(FLAGS, &b);
            }
            ServiceAttr::Timeout(v) => w.put(TIMEOUT, &v.to_ne_bytes()),
            ServiceAttr::Netmask(v) => w.put(NETMASK, &v.to_ne_bytes()),
            ServiceAttr::Stats(s) => w.nest(STATS, |n| s.iter().for_each(|a| a.emit(n))),
            ServiceAttr::PeName(s) => w.put_string(PE_NAME, s),
            ServiceAttr::Stats64(s) => w.nest(STATS64, |n| s.iter().for_each(|a| a.emit(n))),
            ServiceAttr::Other(kind, payload) => w.put(*kind, payload),
        }
    }
}

/// The attributes that name a service: what the kernel needs to find it (for
/// [`Client::raw`](crate::Client::raw) requests about one service).
pub fn service_key_attrs(key: &ServiceKey) -> Vec<ServiceAttr> {
    let mut attrs = Vec::with_capacity(4);
    each_service_key_attr(key, |a| attrs.push(a));
    attrs
}

/// [`service_key_attrs`], each given to `each` (a batch emits them as they come).
#[inline(always)]
pub(crate) fn each_service_key_attr(key: &ServiceKey, mut each: impl FnMut(ServiceAttr)) {
    match key {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => {
            each(ServiceAttr::Af(Family::of(addr).af()));
            each(ServiceAttr::Protocol(protocol.number()));
            each(ServiceAttr::Addr(addr_to_union(addr)));
            each(ServiceAttr::Port(*port));
        }
        ServiceKey::Fwmark { family, mark } => {
            each(ServiceAttr::Af(family.af()));
            each(ServiceAttr::Fwmark(*mark));
        }
    }
}

/// Every attribute of a service, as an add or edit sends it. The flags mask is all ones, as
/// ipvsadm sends it: an edit replaces every flag.
pub(crate) fn service_to_attrs(svc: &Service) -> Vec<ServiceAttr> {
    let mut attrs = Vec::with_capacity(9);
    each_service_attr(svc, |a| attrs.push(a));
    attrs
}

/// [`service_to_attrs`], each given to `each`.
#[inline(always)]
pub(crate) fn each_service_attr(svc: &Service, mut each: impl FnMut(ServiceAttr)) {
    each_service_key_attr(&svc.key, &mut each);
    each(ServiceAttr::SchedName(svc.scheduler.clone()));
    if let Some(pe) = &svc.pe_name {
        each(ServiceAttr::PeName(pe.clone()));
    }
    each(ServiceAttr::Flags {
        flags: svc.flags.0,
        mask: u32::MAX,
    });
    each(ServiceAttr::Timeout(svc.timeout));
    each(ServiceAttr::Netmask(netmask_to_raw(
        svc.key.family(),
        svc.netmask,
    )));
}

fn netmask_to_raw(family: Family, netmask: u32) -> u32 {
    match family {
        Family::V4 => netmask.to_be(),
        Family::V6 => netmask,
    }
}

fn netmask_from_raw(family: Family, raw: u32) -> u32 {
    match family {
        Family::V4 => u32::from_be(raw),
        Family::V6 => raw,
    }
}

/// A service from its nest in a dump. The counters are read in place, and only those used (the
/// 64-bit ones when both are sent): listing a large table decodes tens of thousands of
/// services.
pub(crate) fn service_from_bytes(nest: &[u8]) -> Result<Service, DecodeError> {
    let mut attrs = Vec::with_capacity(12);
    let stats = entry_counters(nest, (STATS, STATS64), |raw| {
        attrs.push(ServiceAttr::parse(raw)?);
        Ok(())
    })?;
    let mut svc = service_from_attrs(&attrs)?;
    svc.stats = stats;
    Ok(svc)
}

pub(crate) fn service_from_attrs(attrs: &[ServiceAttr]) -> Result<Service, DecodeError> {
    let mut af = None;
    let mut protocol = None;
    let mut addr = None;
    let mut port = None;
    let mut fwmark = None;
    let mut sched = None;
    let mut flags = None;
    let mut timeout = 0;
    let mut netmask = None;
    let mut pe_name = None;
    let mut stats32 = None;
    let mut stats64 = None;
    for a in attrs {
        match a {
            ServiceAttr::Af(v) => af = Some(*v),
            ServiceAttr::Protocol(v) => protocol = Some(*v),
            ServiceAttr::Addr(v) => addr = Some(*v),
            ServiceAttr::Port(v) => port = Some(*v),
            ServiceAttr::Fwmark(v) => fwmark = Some(*v),
            ServiceAttr::SchedName(v) => sched = Some(v.clone()),
            ServiceAttr::Flags { flags: f, mask } => flags = Some(f & mask),
            ServiceAttr::Timeout(v) => timeout = *v,
            ServiceAttr::Netmask(v) => netmask = Some(*v),
            ServiceAttr::Stats(s) => stats32 = Some(s),
            ServiceAttr::PeName(v) => pe_name = Some(v.clone()).filter(|s| !s.is_empty()),
            ServiceAttr::Stats64(s) => stats64 = Some(s),
            ServiceAttr::Other(..) => {}
        }
    }
    let af = af.ok_or_else(|| DecodeError::new("service without an address family"))?;
    let family = Family::from_af(af)
        .ok_or_else(|| DecodeError::new(format!("service with unknown address family {af}")))?;
    // The kernel reports fwmark 0 for address services; an address service has a protocol.
    let key = match (fwmark, protocol, addr, port) {
        (Some(mark), _, _, _) if mark != 0 => ServiceKey::Fwmark { family, mark },
        (_, Some(protocol), Some(addr), Some(port)) => ServiceKey::Addr {
            protocol: Protocol::from_number(protocol),
            addr: addr_from_union(family, &addr),
            port,
        },
        (Some(mark), _, _, _) => ServiceKey::Fwmark { family, mark },
        _ => {
            return Err(DecodeError::new(
                "service with neither a firewall mark nor protocol, address and port",
            ))
        }
    };
    Ok(Service {
        key,
        scheduler: sched.unwrap_or_default(),
        flags: ServiceFlags(flags.unwrap_or(0)),
        timeout,
        netmask: netmask
            .map(|raw| netmask_from_raw(family, raw))
            .unwrap_or_else(|| Service::host_netmask(family)),
        pe_name,
        stats: stats64
            .or(stats32)
            .map(|s| stats_from_attrs(s))
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::emit_attrs;
    use std::net::IpAddr;

    #[test]
    fn a_service_survives_encoding() {
        let mut svc = Service::new(ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: "2001:db8::1".parse::<IpAddr>().unwrap(),
            port: 53,
        });
        svc.scheduler = "rr".into();
        svc.flags = ServiceFlags(ServiceFlags::PERSISTENT | ServiceFlags::ONEPACKET);
        svc.timeout = 60;
        svc.netmask = 96;
        svc.pe_name = Some("sip".into());
        let bytes = emit_attrs(&service_to_attrs(&svc));
        let back = service_from_attrs(&parse_attrs(&bytes).unwrap()).unwrap();
        assert_eq!(back, svc);
    }

    #[test]
    fn ipv4_netmask_goes_out_in_network_order() {
        let mut svc = Service::new(ServiceKey::Fwmark {
            family: Family::V4,
            mark: 1,
        });
        svc.netmask = 0xffff_ff00;
        let bytes = emit_attrs(&service_to_attrs(&svc));
        let netmask = crate::wire::Attrs::new(&bytes)
            .map(Result::unwrap)
            .find(|a| a.kind == NETMASK)
            .unwrap();
        assert_eq!(netmask.payload, &[255, 255, 255, 0]);
    }

    #[test]
    fn unknown_attributes_are_kept_and_ignored() {
        let mut w = AttrWriter::default();
        for a in service_key_attrs(&ServiceKey::Fwmark {
            family: Family::V6,
            mark: 9,
        }) {
            a.emit(&mut w);
        }
        w.put(99, &[1, 2, 3]);
        let attrs: Vec<ServiceAttr> = parse_attrs(&w.buf).unwrap();
        assert_eq!(attrs.last(), Some(&ServiceAttr::Other(99, vec![1, 2, 3])));
        assert_eq!(emit_attrs(&attrs), w.buf);
        let svc = service_from_attrs(&attrs).unwrap();
        assert_eq!(
            svc.key,
            ServiceKey::Fwmark {
                family: Family::V6,
                mark: 9
            }
        );
    }
}
