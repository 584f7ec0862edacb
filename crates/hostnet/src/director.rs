//! A director's VIPs: addresses on its interfaces that clients connect to, announced to the
//! neighbours when they arrive, with forwarding turned on for NAT mode if asked.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::announce;
use crate::name::{IfName, Label};
use crate::rtnl::{Link, NewAddress, Rtnl};
use crate::state::{self, DirectorVip, Journal, State};
use crate::sysctl::Sysctl;
use crate::Error;

/// What `vip add` asks for.
#[derive(Clone, Debug)]
pub struct VipSpec {
    pub net: IpNet,
    pub dev: IfName,
    pub label: Option<Label>,
    /// Turn on forwarding for the VIP's family (NAT mode routes the real servers' replies).
    pub forward: bool,
}

/// What `vip add` did.
#[derive(Debug)]
pub struct Added {
    /// False when the address was already there.
    pub added: bool,
    /// Why the neighbours could not be told, if they could not; the VIP is in place anyway.
    pub announce_failure: Option<String>,
}

pub fn add(rtnl: &Rtnl, state: &mut State, spec: &VipSpec) -> Result<Added, Error> {
    if spec.label.is_some() && spec.net.addr().is_ipv6() {
        return Err(Error::Refused(
            "labels are an IPv4 notion: IPv6 addresses have none".to_string(),
        ));
    }
    let link = existing_link(rtnl, &spec.dev)?;
    let on_link: Vec<IpNet> = rtnl
        .addresses()?
        .into_iter()
        .filter(|a| a.index == link.index && a.net.addr() == spec.net.addr())
        .map(|a| a.net)
        .collect();
    if let Some(other) = on_link
        .iter()
        .find(|n| n.prefix_len() != spec.net.prefix_len())
    {
        return Err(Error::Refused(format!(
            "{} is already on {} as {other}: delete it first to change its prefix",
            spec.net.addr(),
            spec.dev
        )));
    }
    let present = !on_link.is_empty();
    let ((), changes) = Journal::new(rtnl).run(|journal| {
        if !present {
            journal.add_address(
                &link,
                &NewAddress {
                    net: spec.net,
                    label: spec.label.as_ref(),
                    deprecated: false,
                    // A VIP that moves between directors is needed at once, not after DAD.
                    nodad: true,
                },
            )?;
        }
        if spec.forward {
            journal.set_sysctl(forwarding(spec.net.addr()), 1)?;
        }
        Ok(())
    })?;
    state::merge(&mut state.director_changes, changes);
    let record = DirectorVip {
        net: spec.net,
        dev: spec.dev.clone(),
        label: spec.label.as_ref().map(|l| l.as_str().to_string()),
        forward: spec.forward,
    };
    state
        .director
        .retain(|v| !(v.net.addr() == record.net.addr() && v.dev == record.dev));
    state.director.push(record);
    let announce_failure = if present {
        None
    } else {
        announce(&link, spec.net.addr()).err()
    };
    Ok(Added {
        added: !present,
        announce_failure,
    })
}

/// Removes the VIP (with whatever prefix it has on `dev` when `prefix` is None); when no
/// VIP is left, settings changed for them (forwarding) go back. Deleting a VIP that is not
/// there is not an error. Returns whether anything was removed.
pub fn delete(
    rtnl: &Rtnl,
    state: &mut State,
    addr: IpAddr,
    prefix: Option<u8>,
    dev: &IfName,
) -> Result<bool, Error> {
    let link = existing_link(rtnl, dev)?;
    let present: Vec<IpNet> = rtnl
        .addresses()?
        .into_iter()
        .filter(|a| a.index == link.index && a.net.addr() == addr)
        .map(|a| a.net)
        .collect();
    if let (Some(prefix), Some(net)) = (prefix, present.first()) {
        if net.prefix_len() != prefix {
            return Err(Error::Refused(format!(
                "{dev} has {net}, not {addr}/{prefix}: leave out the prefix to delete it"
            )));
        }
    }
    for net in &present {
        rtnl.delete_address(&link, *net)?;
    }
    let recorded = state.director.len();
    state
        .director
        .retain(|v| !(v.net.addr() == addr && v.dev == *dev));
    let removed = !present.is_empty() || state.director.len() != recorded;
    if state.director.is_empty() {
        state::restore(rtnl, &mut state.director_changes)?;
    }
    Ok(removed)
}

/// A recorded VIP and whether it is in place.
#[derive(Clone, Debug, Serialize)]
pub struct VipView {
    pub address: IpNet,
    pub dev: IfName,
    pub label: Option<String>,
    pub forward: bool,
    pub present: bool,
}

pub fn list(rtnl: &Rtnl, state: &State, dev: Option<&IfName>) -> Result<Vec<VipView>, Error> {
    let links = rtnl.links()?;
    let addresses = rtnl.addresses()?;
    Ok(state
        .director
        .iter()
        .filter(|v| dev.map_or(true, |d| *d == v.dev))
        .map(|v| {
            let index = links
                .iter()
                .find(|l| l.name == v.dev.as_str())
                .map(|l| l.index);
            VipView {
                address: v.net,
                dev: v.dev.clone(),
                label: v.label.clone(),
                forward: v.forward,
                present: addresses
                    .iter()
                    .any(|a| Some(a.index) == index && a.net == v.net),
            }
        })
        .collect())
}

pub(crate) fn existing_link(rtnl: &Rtnl, dev: &IfName) -> Result<Link, Error> {
    rtnl.link(dev)?
        .ok_or_else(|| Error::Refused(format!("there is no network interface named {dev}")))
}

fn forwarding(addr: IpAddr) -> Sysctl {
    match addr {
        IpAddr::V4(_) => Sysctl::Ipv4Forward,
        IpAddr::V6(_) => Sysctl::Ipv6Forward,
    }
}

fn announce(link: &Link, addr: IpAddr) -> Result<(), String> {
    // Loopback, tunnels and down devices have no neighbours to tell.
    let Some(mac) = link.mac.filter(|_| link.up && link.resolves_neighbours()) else {
        return Ok(());
    };
    let sent = match addr {
        IpAddr::V4(a) => announce::gratuitous_arp(link, mac, a),
        IpAddr::V6(a) => announce::unsolicited_na(link, mac, a),
    };
    sent.map_err(|e| format!("could not announce {addr} on {}: {e}", link.name))
}
