//! Routes of the main table: list, add and delete them, and ask the kernel how a packet to an
//! address would leave (RTM_GETROUTE for one address, the kernel's own lookup).

use std::net::IpAddr;

use ipnet::IpNet;
use neli::consts::nl::NlmF;
use neli::consts::rtnl::{RtAddrFamily, RtScope, RtTable, Rta, Rtm, RtmF, Rtn, Rtprot};
use neli::err::RouterError;
use neli::nl::NlPayload;
use neli::router::synchronous::NlRouterReceiverHandle;
use neli::rtnl::{Rtmsg, RtmsgBuilder};
use neli::types::RtBuffer;
use serde::{Deserialize, Serialize};

use super::{addr_bytes, build_error, family, ip_of, kernel_error, rtattr, Rtnl};
use crate::Error;

const RT_TABLE_MAIN: u32 = 254;
/// `RTA_NH_ID` (nexthop objects), newer than neli's list of attributes.
const RTA_NH_ID: u16 = 30;
/// `RTNH_F_ONLINK`: the gateway is on the link even if no prefix says so.
const RTNH_F_ONLINK: u32 = 4;
/// The metric the kernel gives an IPv6 route added without one.
const IP6_RT_PRIO_USER: u32 = 1024;

/// A route of the main table, with what it takes to put it back as it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub dst: IpNet,
    pub gateway: Option<IpAddr>,
    /// The output device's name (its index may change if it is made again).
    pub dev: Option<String>,
    pub metric: u32,
    /// `rtm_protocol`: who made the route (boot, static, dhcp, ra, kernel, …).
    pub protocol: u8,
    pub scope: u8,
    /// `rtm_type`: unicast, blackhole, unreachable, …
    pub kind: u8,
    pub prefsrc: Option<IpAddr>,
    pub onlink: bool,
    /// `RTA_METRICS` as the kernel sent it (MTU, window, …), sent back unchanged.
    pub metrics: Option<Vec<u8>>,
    /// `RTA_PREF`: an IPv6 router's preference.
    pub pref: Option<u8>,
}

impl Route {
    /// A route lvsadm makes: through `gateway`, out of `dev`.
    pub fn via(dst: IpNet, gateway: IpAddr, dev: &str) -> Route {
        Route {
            dst,
            gateway: Some(gateway),
            dev: Some(dev.to_string()),
            // Spelled out so that the route reads back equal to the one recorded.
            metric: if dst.addr().is_ipv6() {
                IP6_RT_PRIO_USER
            } else {
                0
            },
            protocol: Rtprot::Static.into(),
            scope: RtScope::Universe.into(),
            kind: Rtn::Unicast.into(),
            prefsrc: None,
            onlink: false,
            metrics: None,
            pref: None,
        }
    }

    /// Made by the kernel for a network of one of this host's addresses.
    pub fn connected(&self) -> bool {
        self.protocol == u8::from(Rtprot::Kernel)
    }

    /// Whether `other` is this route as far as the kernel tells routes apart.
    pub fn same(&self, other: &Route) -> bool {
        self.dst == other.dst
            && self.gateway == other.gateway
            && self.dev == other.dev
            && self.metric == other.metric
            && self.kind == other.kind
    }
}

/// A route of the main table as a dump reports it.
#[derive(Clone, Debug)]
pub struct Listed {
    pub route: Route,
    /// Why this route could not be put back as it was, if it could not.
    pub unrestorable: Option<&'static str>,
}

/// How the kernel would send a packet to one address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    /// `rtm_type`: unicast for a route out, local for this host's own addresses, …
    pub kind: u8,
    /// The next hop; none when the address is on a directly connected network.
    pub gateway: Option<IpAddr>,
    pub dev: Option<String>,
}

impl Lookup {
    pub fn unicast(&self) -> bool {
        self.kind == u8::from(Rtn::Unicast)
    }

    pub fn local(&self) -> bool {
        self.kind == u8::from(Rtn::Local)
    }
}

impl Rtnl {
    /// The main table's routes of `family`'s address family.
    pub fn routes(&self, family_of: IpAddr) -> Result<Vec<Listed>, Error> {
        let msg = header(
            family_of,
            0,
            RtTable::Unspec,
            Rtprot::Unspec,
            RtScope::Universe,
        )
        .rtm_type(Rtn::Unspec)
        .build()
        .map_err(build_error)?;
        let links = self.links()?;
        let routes = self
            .dump("listing routes", Rtm::Getroute, msg, parse)?
            .into_iter()
            .filter(|p| p.table == RT_TABLE_MAIN)
            .map(|p| Listed {
                route: Route {
                    dev: p
                        .oif
                        .and_then(|i| links.iter().find(|l| l.index == i))
                        .map(|l| l.name.clone()),
                    ..p.route
                },
                unrestorable: p.unrestorable,
            })
            .collect();
        Ok(routes)
    }

    pub fn add_route(&self, route: &Route) -> Result<(), Error> {
        let what = format!("adding the route {}", describe(route));
        let msg = self.route_message(route, &what)?;
        self.acked(&what, Rtm::Newroute, NlmF::CREATE | NlmF::EXCL, msg)
    }

    pub fn delete_route(&self, route: &Route) -> Result<(), Error> {
        let what = format!("removing the route {}", describe(route));
        let msg = self.route_message(route, &what)?;
        self.acked(&what, Rtm::Delroute, NlmF::empty(), msg)
    }

    fn route_message(&self, route: &Route, what: &str) -> Result<Rtmsg, Error> {
        let mut attrs = RtBuffer::new();
        if route.dst.prefix_len() > 0 {
            attrs.push(rtattr(Rta::Dst, addr_bytes(route.dst.addr()))?);
        }
        if let Some(gateway) = route.gateway {
            attrs.push(rtattr(Rta::Gateway, addr_bytes(gateway))?);
        }
        if let Some(dev) = &route.dev {
            let link = self
                .links()?
                .into_iter()
                .find(|l| l.name == *dev)
                .ok_or_else(|| Error::Refused(format!("{what}: there is no device {dev}")))?;
            attrs.push(rtattr(Rta::Oif, link.index.to_ne_bytes().to_vec())?);
        }
        attrs.push(rtattr(Rta::Priority, route.metric.to_ne_bytes().to_vec())?);
        if let Some(src) = route.prefsrc {
            attrs.push(rtattr(Rta::Prefsrc, addr_bytes(src))?);
        }
        if let Some(metrics) = &route.metrics {
            attrs.push(rtattr(Rta::Metrics, metrics.clone())?);
        }
        if let Some(pref) = route.pref {
            attrs.push(rtattr(Rta::Pref, vec![pref])?);
        }
        let flags = if route.onlink { RTNH_F_ONLINK } else { 0 };
        header(
            route.dst.addr(),
            route.dst.prefix_len(),
            RtTable::Main,
            Rtprot::from(route.protocol),
            RtScope::from(route.scope),
        )
        .rtm_type(Rtn::from(route.kind))
        .rtm_flags(RtmF::from_bits_retain(flags))
        .rtattrs(attrs)
        .build()
        .map_err(build_error)
    }

    /// How the kernel would send a packet to `addr`; None when it has no route there.
    pub fn lookup(&self, addr: IpAddr) -> Result<Option<Lookup>, Error> {
        let what = format!("looking up the route to {addr}");
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        let mut attrs = RtBuffer::new();
        attrs.push(rtattr(Rta::Dst, addr_bytes(addr))?);
        let msg = header(
            addr,
            bits,
            RtTable::Unspec,
            Rtprot::Unspec,
            RtScope::Universe,
        )
        .rtm_type(Rtn::Unspec)
        .rtattrs(attrs)
        .build()
        .map_err(build_error)?;
        let replies: NlRouterReceiverHandle<Rtm, Rtmsg> = self
            .router
            .send(Rtm::Getroute, NlmF::empty(), NlPayload::Payload(msg))
            .map_err(|e| kernel_error(&what, e))?;
        for reply in replies {
            let reply = match reply {
                Err(RouterError::Nlmsgerr(e))
                    if [libc::ENETUNREACH, libc::EHOSTUNREACH].contains(&e.error().abs()) =>
                {
                    return Ok(None)
                }
                other => other.map_err(|e| kernel_error(&what, e))?,
            };
            if let Some(parsed) = reply.get_payload().and_then(parse) {
                let dev = match parsed.oif {
                    Some(i) => self
                        .links()?
                        .into_iter()
                        .find(|l| l.index == i)
                        .map(|l| l.name),
                    None => None,
                };
                return Ok(Some(Lookup {
                    kind: parsed.route.kind,
                    gateway: parsed.route.gateway,
                    dev,
                }));
            }
        }
        Err(Error::Netlink(format!("{what}: the kernel sent no route")))
    }
}

fn header(
    addr: IpAddr,
    dst_len: u8,
    table: RtTable,
    protocol: Rtprot,
    scope: RtScope,
) -> RtmsgBuilder {
    RtmsgBuilder::default()
        .rtm_family(family(addr))
        .rtm_dst_len(dst_len)
        .rtm_src_len(0)
        .rtm_tos(0)
        .rtm_table(table)
        .rtm_protocol(protocol)
        .rtm_scope(scope)
}

/// As `ip route` would print it, for messages.
pub fn describe(route: &Route) -> String {
    let mut text = if route.dst.prefix_len() == 0 {
        "default".to_string()
    } else {
        route.dst.to_string()
    };
    if let Some(gateway) = route.gateway {
        text += &format!(" via {gateway}");
    }
    if let Some(dev) = &route.dev {
        text += &format!(" dev {dev}");
    }
    text + &format!(" metric {}", route.metric)
}

/// A dumped route before its device is named.
struct Parsed {
    route: Route,
    oif: Option<u32>,
    table: u32,
    unrestorable: Option<&'static str>,
}

fn parse(msg: &Rtmsg) -> Option<Parsed> {
    let mut dst = None;
    let mut route = Route {
        dst: IpNet::new(unspecified(*msg.rtm_family())?, 0).ok()?,
        gateway: None,
        dev: None,
        metric: 0,
        protocol: (*msg.rtm_protocol()).into(),
        scope: (*msg.rtm_scope()).into(),
        kind: (*msg.rtm_type()).into(),
        prefsrc: None,
        onlink: u32::from(*msg.rtm_flags()) & RTNH_F_ONLINK != 0,
        metrics: None,
        pref: None,
    };
    let mut oif = None;
    let mut table = u32::from(u8::from(*msg.rtm_table()));
    let mut unrestorable = None;
    for attr in msg.rtattrs().iter() {
        let payload = attr.rta_payload().as_ref();
        let word = <[u8; 4]>::try_from(payload).ok().map(u32::from_ne_bytes);
        match attr.rta_type() {
            Rta::Dst => dst = ip_of(payload),
            Rta::Gateway => route.gateway = ip_of(payload),
            Rta::Oif => oif = word,
            Rta::Priority => route.metric = word?,
            Rta::Prefsrc => route.prefsrc = ip_of(payload),
            Rta::Table => table = word?,
            Rta::Metrics => route.metrics = Some(payload.to_vec()),
            Rta::Pref => route.pref = payload.first().copied(),
            Rta::Multipath => unrestorable = Some("it has several next hops"),
            Rta::UnrecognizedConst(RTA_NH_ID) => unrestorable = Some("it uses a nexthop object"),
            _ => {}
        }
    }
    if let Some(dst) = dst {
        route.dst = IpNet::new(dst, *msg.rtm_dst_len()).ok()?;
    }
    Some(Parsed {
        route,
        oif,
        table,
        unrestorable,
    })
}

fn unspecified(family: RtAddrFamily) -> Option<IpAddr> {
    match family {
        RtAddrFamily::Inet => Some(IpAddr::from([0u8; 4])),
        RtAddrFamily::Inet6 => Some(IpAddr::from([0u8; 16])),
        _ => None,
    }
}
