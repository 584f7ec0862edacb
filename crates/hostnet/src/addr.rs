//! Addresses on a device for any program, with no records kept: make one present (with a
//! label, a scope and its owner's mark) or absent, and see whose an address is. lvsadm's VIPs (the
//! `director` module) keep their records on top of this; a daemon can call it as it is.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use crate::name::{IfName, Label};
use crate::rtnl::{Address, Link, NewAddress, Rtnl};
use crate::Error;

pub use crate::rtnl::{Owner, Scope};

/// An address as it should be on a device.
#[derive(Clone, Debug)]
pub struct AddressSpec {
    pub net: IpNet,
    pub dev: IfName,
    /// IPv4 only.
    pub label: Option<Label>,
    /// IPv4 only: the kernel gives IPv6 addresses the scope of the address (link-local,
    /// global); a secondary IPv4 address must have its network's primary's scope.
    pub scope: Scope,
    /// IPv4 only.
    pub broadcast: Option<Ipv4Addr>,
    /// The mark the address carries, so that other programs can tell it is the caller's.
    pub owner: Owner,
}

/// What [`ensure_present`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    Added,
    /// The address was there already, added by `owner`; it is left as it is.
    AlreadyThere {
        owner: Owner,
    },
}

/// The device named `dev`.
pub fn device(rtnl: &Rtnl, dev: &IfName) -> Result<Link, Error> {
    rtnl.link(dev)?
        .ok_or_else(|| Error::Refused(format!("there is no network interface named {dev}")))
}

/// The entries of `addr` on `link` (one, unless added with several prefixes by hand).
pub fn on_link(rtnl: &Rtnl, link: &Link, addr: IpAddr) -> Result<Vec<Address>, Error> {
    Ok(rtnl
        .addresses()?
        .into_iter()
        .filter(|a| a.index == link.index && a.net.addr() == addr)
        .collect())
}

/// Puts the address on its device unless it is there. IPv6 addresses are usable at once,
/// without duplicate address detection: an address that moves between machines is needed
/// at once. Refused (nothing changed) for a label, a scope or a broadcast address on IPv6, or
/// the address there already with another prefix.
pub fn ensure_present(rtnl: &Rtnl, spec: &AddressSpec) -> Result<Presence, Error> {
    let link = device(rtnl, &spec.dev)?;
    ensure_present_on(rtnl, &link, spec)
}

/// [`ensure_present`] on `link`, the device `spec.dev` names, already looked up (a daemon
/// that keeps the links at hand saves a dump).
pub fn ensure_present_on(rtnl: &Rtnl, link: &Link, spec: &AddressSpec) -> Result<Presence, Error> {
    let v6 = spec.net.addr().is_ipv6();
    if v6 && spec.label.is_some() {
        return Err(Error::Refused(
            "labels are an IPv4 notion: IPv6 addresses have none".to_string(),
        ));
    }
    if v6 && spec.scope != Scope::Global {
        return Err(Error::Refused(
            "an IPv6 address takes its scope from the address itself: ask for Scope::Global"
                .to_string(),
        ));
    }
    if v6 && spec.broadcast.is_some() {
        return Err(Error::Refused(
            "broadcast addresses are an IPv4 notion: leave it out for IPv6".to_string(),
        ));
    }
    let present = on_link(rtnl, link, spec.net.addr())?;
    if let Some(other) = present
        .iter()
        .find(|a| a.net.prefix_len() != spec.net.prefix_len())
    {
        return Err(Error::Refused(format!(
            "{} is already on {} as {}: delete it first to change its prefix",
            spec.net.addr(),
            spec.dev,
            other.net
        )));
    }
    if let Some(there) = present.first() {
        return Ok(Presence::AlreadyThere { owner: there.owner });
    }
    rtnl.add_address(
        link,
        &NewAddress {
            net: spec.net,
            label: spec.label.as_ref(),
            deprecated: false,
            nodad: v6,
            scope: spec.scope,
            broadcast: spec.broadcast,
            owner: spec.owner,
        },
    )?;
    Ok(Presence::Added)
}

/// Takes `addr` off `dev` (with whatever prefix it has when `prefix` is None); an address
/// that is not there is not an error. Returns what was removed.
pub fn ensure_absent(
    rtnl: &Rtnl,
    addr: IpAddr,
    prefix: Option<u8>,
    dev: &IfName,
) -> Result<Vec<Address>, Error> {
    let link = device(rtnl, dev)?;
    ensure_absent_on(rtnl, &link, addr, prefix)
}

/// [`ensure_absent`] on `link`, already looked up.
pub fn ensure_absent_on(
    rtnl: &Rtnl,
    link: &Link,
    addr: IpAddr,
    prefix: Option<u8>,
) -> Result<Vec<Address>, Error> {
    let present = on_link(rtnl, link, addr)?;
    if let (Some(prefix), Some(there)) = (prefix, present.first()) {
        if there.net.prefix_len() != prefix {
            return Err(Error::Refused(format!(
                "{} has {}, not {addr}/{prefix}: leave out the prefix to delete it",
                link.name, there.net
            )));
        }
    }
    for a in &present {
        rtnl.delete_address(link, a.net)?;
    }
    Ok(present)
}
