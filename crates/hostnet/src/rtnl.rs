//! The rtnetlink requests set-up needs: list links and addresses, add and delete addresses,
//! create, delete and bring up links; routes are in [`route`]. neli frames the messages and runs the socket; the
//! attributes read back are walked here with bounds checks, and unknown ones are skipped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use neli::consts::nl::NlmF;
use neli::consts::rtnl::{Arphrd, Ifa, IfaF, Iff, Ifla, IflaInfo, RtAddrFamily, RtScope, Rtm};
use neli::consts::socket::NlFamily;
use neli::err::RouterError;
use neli::nl::NlPayload;
use neli::router::synchronous::{NlRouter, NlRouterReceiverHandle};
use neli::rtnl::{Ifaddrmsg, IfaddrmsgBuilder, Ifinfomsg, IfinfomsgBuilder, RtattrBuilder};
use neli::types::{Buffer, RtBuffer};
use neli::utils::Groups;

use crate::name::{IfName, Label};
use crate::Error;

mod route;

pub use route::{describe, Listed, Lookup, Route};

/// A network interface as rtnetlink reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub up: bool,
    pub loopback: bool,
    /// Set on devices that never answer ARP or neighbour solicitations (tunnels, dummies).
    pub noarp: bool,
    /// The hardware address of an Ethernet-like device.
    pub mac: Option<[u8; 6]>,
    /// `IFLA_INFO_KIND`: "dummy", "ipip", "bridge", … for devices made with `ip link add`.
    pub kind: Option<String>,
}

impl Link {
    /// Whether neighbours can resolve addresses on this device (ARP or IPv6 neighbour
    /// discovery).
    pub fn resolves_neighbours(&self) -> bool {
        !self.loopback && !self.noarp
    }
}

/// An address of an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub index: u32,
    pub net: IpNet,
    pub label: Option<String>,
    /// `IFA_F_DEPRECATED`: never chosen as a source address.
    pub deprecated: bool,
    pub scope: Scope,
    pub owner: Owner,
}

/// How far an address is valid, as `ip address add … scope`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Global,
    Link,
    Host,
    /// A scope number of the routing tables (`/etc/iproute2/rt_scopes`).
    Other(u8),
}

impl Scope {
    fn number(self) -> u8 {
        match self {
            Scope::Global => 0,
            Scope::Link => 253,
            Scope::Host => 254,
            Scope::Other(n) => n,
        }
    }

    fn from_number(n: u8) -> Scope {
        match n {
            0 => Scope::Global,
            253 => Scope::Link,
            254 => Scope::Host,
            n => Scope::Other(n),
        }
    }
}

/// Which program added an address, from the mark it carries (the kernel's `IFA_PROTO`,
/// Linux 6.1 and later; older kernels drop the mark and every address reads as unmarked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// No mark: added by hand, by an older lvsadm, or on a kernel without the attribute.
    Unmarked,
    Lvsadm,
    Lvsd,
    /// Another program's mark, or one of the kernel's own (1 to 3: loopback, router
    /// advertisement, link-local).
    Other(u8),
}

/// `IFA_PROTO`, which neli 0.7 does not name.
const IFA_PROTO: u16 = 11;
/// The marks of lvsadm's programs, clear of the kernel's values (0 to 3).
const PROTO_LVSADM: u8 = 0xa1;
const PROTO_LVSD: u8 = 0xa2;

impl Owner {
    fn proto(self) -> Option<u8> {
        match self {
            Owner::Unmarked => None,
            Owner::Lvsadm => Some(PROTO_LVSADM),
            Owner::Lvsd => Some(PROTO_LVSD),
            Owner::Other(n) => Some(n),
        }
    }

    fn from_proto(n: u8) -> Owner {
        match n {
            0 => Owner::Unmarked,
            PROTO_LVSADM => Owner::Lvsadm,
            PROTO_LVSD => Owner::Lvsd,
            n => Owner::Other(n),
        }
    }
}

/// How a new address is added.
#[derive(Clone, Debug)]
pub struct NewAddress<'a> {
    pub net: IpNet,
    pub label: Option<&'a Label>,
    /// IPv6 only: a preferred lifetime of 0, so the kernel never picks it as a source.
    pub deprecated: bool,
    /// IPv6 only: usable at once, without duplicate address detection.
    pub nodad: bool,
    pub scope: Scope,
    /// IPv4 only: the broadcast address (none unless given, as with `ip address add`).
    pub broadcast: Option<Ipv4Addr>,
    pub owner: Owner,
}

/// One rtnetlink socket.
pub struct Rtnl {
    router: NlRouter,
}

const IFA_CACHEINFO_LEN: usize = 16;
const INFINITY_LIFE_TIME: u32 = u32::MAX;

impl Rtnl {
    pub fn open() -> Result<Rtnl, Error> {
        let (router, _) = NlRouter::connect(NlFamily::Route, None, Groups::empty())
            .map_err(|e| Error::Netlink(format!("cannot open an rtnetlink socket: {e}")))?;
        Ok(Rtnl { router })
    }

    pub fn links(&self) -> Result<Vec<Link>, Error> {
        let msg = IfinfomsgBuilder::default()
            .ifi_family(RtAddrFamily::Unspecified)
            .build()
            .map_err(build_error)?;
        self.dump("listing interfaces", Rtm::Getlink, msg, link_of)
    }

    pub fn link(&self, name: &IfName) -> Result<Option<Link>, Error> {
        Ok(self.links()?.into_iter().find(|l| l.name == name.as_str()))
    }

    pub fn addresses(&self) -> Result<Vec<Address>, Error> {
        let msg = IfaddrmsgBuilder::default()
            .ifa_family(RtAddrFamily::Unspecified)
            .ifa_prefixlen(0)
            .ifa_scope(RtScope::Universe)
            .ifa_index(0)
            .build()
            .map_err(build_error)?;
        self.dump("listing addresses", Rtm::Getaddr, msg, address_of)
    }

    /// A dump request; each reply that `parse` understands becomes an item.
    fn dump<P, T>(
        &self,
        what: &str,
        kind: Rtm,
        msg: P,
        parse: fn(&P) -> Option<T>,
    ) -> Result<Vec<T>, Error>
    where
        P: neli::Size + neli::ToBytes + neli::FromBytesWithInput<Input = usize> + std::fmt::Debug,
    {
        let replies: NlRouterReceiverHandle<Rtm, P> = self
            .router
            .send(kind, NlmF::DUMP, NlPayload::Payload(msg))
            .map_err(|e| kernel_error(what, e))?;
        let mut items = Vec::new();
        for reply in replies {
            let reply = reply.map_err(|e| kernel_error(what, e))?;
            if let Some(item) = reply.get_payload().and_then(parse) {
                items.push(item);
            }
        }
        Ok(items)
    }

    pub fn add_address(&self, link: &Link, new: &NewAddress) -> Result<(), Error> {
        let what = format!("adding {} to {}", new.net, link.name);
        let mut attrs = RtBuffer::new();
        let bytes = addr_bytes(new.net.addr());
        let mut flags = IfaF::empty();
        match new.net {
            IpNet::V4(_) => {
                attrs.push(rtattr(Ifa::Local, bytes.clone())?);
                attrs.push(rtattr(Ifa::Address, bytes)?);
                let label = new.label.map_or(link.name.as_str(), Label::as_str);
                let mut label = label.as_bytes().to_vec();
                label.push(0);
                attrs.push(rtattr(Ifa::Label, label)?);
                if let Some(brd) = new.broadcast {
                    attrs.push(rtattr(Ifa::Broadcast, brd.octets().to_vec())?);
                }
            }
            IpNet::V6(_) => {
                attrs.push(rtattr(Ifa::Address, bytes)?);
                if new.nodad {
                    flags |= IfaF::NODAD;
                }
                if new.deprecated {
                    let mut cacheinfo = Vec::with_capacity(IFA_CACHEINFO_LEN);
                    cacheinfo.extend_from_slice(&0u32.to_ne_bytes()); // preferred
                    cacheinfo.extend_from_slice(&INFINITY_LIFE_TIME.to_ne_bytes()); // valid
                    cacheinfo.extend_from_slice(&[0; 8]); // timestamps, ignored
                    attrs.push(rtattr(Ifa::Cacheinfo, cacheinfo)?);
                }
            }
        }
        if let Some(proto) = new.owner.proto() {
            attrs.push(rtattr(Ifa::from(IFA_PROTO), vec![proto])?);
        }
        let msg = IfaddrmsgBuilder::default()
            .ifa_family(family(new.net.addr()))
            .ifa_prefixlen(new.net.prefix_len())
            .ifa_flags(flags)
            .ifa_scope(RtScope::from(new.scope.number()))
            .ifa_index(link.index)
            .rtattrs(attrs)
            .build()
            .map_err(build_error)?;
        self.acked(&what, Rtm::Newaddr, NlmF::CREATE | NlmF::EXCL, msg)
    }

    pub fn delete_address(&self, link: &Link, net: IpNet) -> Result<(), Error> {
        let what = format!("removing {net} from {}", link.name);
        let mut attrs = RtBuffer::new();
        let kind = match net {
            IpNet::V4(_) => Ifa::Local,
            IpNet::V6(_) => Ifa::Address,
        };
        attrs.push(rtattr(kind, addr_bytes(net.addr()))?);
        let msg = IfaddrmsgBuilder::default()
            .ifa_family(family(net.addr()))
            .ifa_prefixlen(net.prefix_len())
            .ifa_scope(RtScope::Universe)
            .ifa_index(link.index)
            .rtattrs(attrs)
            .build()
            .map_err(build_error)?;
        self.acked(&what, Rtm::Deladdr, NlmF::empty(), msg)
    }

    pub fn set_up(&self, link: &Link, up: bool) -> Result<(), Error> {
        let what = format!("setting {} {}", link.name, if up { "up" } else { "down" });
        let builder = IfinfomsgBuilder::default()
            .ifi_family(RtAddrFamily::Unspecified)
            .ifi_index(link.index as libc::c_int);
        let builder = if up { builder.up() } else { builder.down() };
        let msg = builder.build().map_err(build_error)?;
        self.acked(&what, Rtm::Newlink, NlmF::empty(), msg)
    }

    /// Creates a device of a kind that needs no parameters (`dummy`, or a tunnel's fallback
    /// device such as `tunl0`).
    pub fn create_link(&self, name: &IfName, kind: &str) -> Result<(), Error> {
        let what = format!("creating {kind} device {name}");
        let mut kind_bytes = kind.as_bytes().to_vec();
        kind_bytes.push(0);
        let info = RtattrBuilder::default()
            .rta_type(Ifla::Linkinfo)
            .rta_payload(Buffer::new())
            .build()
            .map_err(build_error)?
            .nest(&rtattr(IflaInfo::Kind, kind_bytes)?)
            .map_err(build_error)?;
        let mut name_bytes = name.as_str().as_bytes().to_vec();
        name_bytes.push(0);
        let mut attrs = RtBuffer::new();
        attrs.push(rtattr(Ifla::Ifname, name_bytes)?);
        attrs.push(info);
        let msg = IfinfomsgBuilder::default()
            .ifi_family(RtAddrFamily::Unspecified)
            .rtattrs(attrs)
            .build()
            .map_err(build_error)?;
        self.acked(&what, Rtm::Newlink, NlmF::CREATE | NlmF::EXCL, msg)
    }

    pub fn delete_link(&self, link: &Link) -> Result<(), Error> {
        let what = format!("deleting device {}", link.name);
        let msg = IfinfomsgBuilder::default()
            .ifi_family(RtAddrFamily::Unspecified)
            .ifi_index(link.index as libc::c_int)
            .build()
            .map_err(build_error)?;
        self.acked(&what, Rtm::Dellink, NlmF::empty(), msg)
    }

    fn acked<P>(&self, what: &str, kind: Rtm, flags: NlmF, msg: P) -> Result<(), Error>
    where
        P: neli::Size + neli::ToBytes + neli::FromBytesWithInput<Input = usize> + std::fmt::Debug,
    {
        let replies: NlRouterReceiverHandle<Rtm, P> = self
            .router
            .send(kind, flags | NlmF::ACK, NlPayload::Payload(msg))
            .map_err(|e| kernel_error(what, e))?;
        for reply in replies {
            reply.map_err(|e| kernel_error(what, e))?;
        }
        Ok(())
    }
}

fn family(addr: IpAddr) -> RtAddrFamily {
    match addr {
        IpAddr::V4(_) => RtAddrFamily::Inet,
        IpAddr::V6(_) => RtAddrFamily::Inet6,
    }
}

fn addr_bytes(addr: IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn rtattr<T: neli::consts::rtnl::RtaType>(
    kind: T,
    payload: Vec<u8>,
) -> Result<neli::rtnl::Rtattr<T, Buffer>, Error> {
    RtattrBuilder::default()
        .rta_type(kind)
        .rta_payload(Buffer::from(payload))
        .build()
        .map_err(build_error)
}

fn build_error(e: impl std::fmt::Display) -> Error {
    Error::Netlink(format!("cannot build an rtnetlink request: {e}"))
}

fn kernel_error<T: std::fmt::Debug, P: std::fmt::Debug>(what: &str, e: RouterError<T, P>) -> Error {
    match e {
        RouterError::Nlmsgerr(err) => Error::Kernel {
            what: what.to_string(),
            source: std::io::Error::from_raw_os_error(err.error().abs()),
        },
        other => Error::Netlink(format!("{what}: {other}")),
    }
}

fn link_of(info: &Ifinfomsg) -> Option<Link> {
    let mut name = None;
    let mut mac = None;
    let mut kind = None;
    for attr in info.rtattrs().iter() {
        let payload = attr.rta_payload().as_ref();
        match attr.rta_type() {
            Ifla::Ifname => name = Some(c_string(payload)),
            Ifla::Address => mac = <[u8; 6]>::try_from(payload).ok(),
            Ifla::Linkinfo => {
                kind = nested(payload)
                    .find(|(t, _)| *t == u16::from(IflaInfo::Kind))
                    .map(|(_, p)| c_string(p))
            }
            _ => {}
        }
    }
    let flags = *info.ifi_flags();
    Some(Link {
        index: u32::try_from(*info.ifi_index()).ok()?,
        name: name?,
        up: flags.contains(Iff::UP),
        loopback: flags.contains(Iff::LOOPBACK) || *info.ifi_type() == Arphrd::Loopback,
        noarp: flags.contains(Iff::NOARP),
        mac: mac.filter(|_| *info.ifi_type() == Arphrd::Ether),
        kind,
    })
}

fn address_of(msg: &Ifaddrmsg) -> Option<Address> {
    let mut local = None;
    let mut address = None;
    let mut label = None;
    let mut owner = Owner::Unmarked;
    let mut flags = u32::from(msg.ifa_flags().bits());
    for attr in msg.rtattrs().iter() {
        let payload = attr.rta_payload().as_ref();
        match attr.rta_type() {
            Ifa::Local => local = ip_of(payload),
            Ifa::Address => address = ip_of(payload),
            Ifa::Label => label = Some(c_string(payload)),
            Ifa::UnrecognizedConst(IFA_PROTO) => {
                if let Some(proto) = payload.first() {
                    owner = Owner::from_proto(*proto);
                }
            }
            // IFA_FLAGS supersedes the header's 8 bits when present.
            Ifa::Flags => {
                if let Ok(bytes) = <[u8; 4]>::try_from(payload) {
                    flags = u32::from_ne_bytes(bytes);
                }
            }
            _ => {}
        }
    }
    // For IPv4 IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer's on
    // point-to-point links); IPv6 sends only IFA_ADDRESS unless there is a peer.
    let addr = local.or(address)?;
    Some(Address {
        index: *msg.ifa_index(),
        net: IpNet::new(addr, *msg.ifa_prefixlen()).ok()?,
        label,
        deprecated: flags & u32::from(IfaF::DEPRECATED.bits()) != 0,
        scope: Scope::from_number(u8::from(*msg.ifa_scope())),
        owner,
    })
}

fn ip_of(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(b) = <[u8; 4]>::try_from(bytes) {
        return Some(IpAddr::V4(Ipv4Addr::from(b)));
    }
    <[u8; 16]>::try_from(bytes)
        .ok()
        .map(|b| IpAddr::V6(Ipv6Addr::from(b)))
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// The attributes nested in one attribute's payload; stops at the first malformed one.
fn nested(mut bytes: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let header = bytes.get(..4)?;
        let len = usize::from(u16::from_ne_bytes([header[0], header[1]]));
        let kind = u16::from_ne_bytes([header[2], header[3]]) & 0x3fff;
        let payload = bytes.get(4..len)?;
        bytes = bytes.get((len + 3) & !3..).unwrap_or(&[]);
        Some((kind, payload))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_attributes_are_walked_with_bounds_checks() {
        // IFLA_INFO_KIND "ipip\0" (len 9, padded to 12), then a truncated attribute.
        let mut bytes = vec![9, 0, 1, 0, b'i', b'p', b'i', b'p', 0, 0, 0, 0];
        bytes.extend_from_slice(&[200, 0, 2, 0, 1]);
        let attrs: Vec<_> = nested(&bytes).collect();
        assert_eq!(attrs, vec![(1, &b"ipip\0"[..])]);
        assert_eq!(nested(&[3, 0, 1]).count(), 0);
        assert_eq!(nested(&[2, 0, 1, 0]).count(), 0);
    }

    #[test]
    fn addresses_and_names_decode_from_raw_payloads() {
        assert_eq!(ip_of(&[192, 0, 2, 1]), Some("192.0.2.1".parse().unwrap()));
        assert_eq!(ip_of(&[0; 16]), Some("::".parse().unwrap()));
        assert_eq!(ip_of(&[1, 2, 3]), None);
        assert_eq!(c_string(b"eth0\0junk"), "eth0");
        assert_eq!(c_string(b"eth0"), "eth0");
    }
}
