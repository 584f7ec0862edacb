//! lvsadm's VIPs on a director: addresses put on its interfaces through [`crate::addr`],
//! marked as lvsadm's and announced to the neighbours when they arrive, with forwarding
//! turned on for NAT mode if asked; recorded in [`State`] so that `vip list` and `vip del`
//! know which VIPs are lvsadm's. Addresses marked as lvsd's are never taken or removed.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use serde::Serialize;

use crate::addr::{self, AddressSpec, Owner, Presence, Scope};
use crate::announce::announce;
use crate::name::{IfName, Label};
use crate::rtnl::Rtnl;
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
    /// Why the neighbours could not be told, if they could not; the VIP is in place anyway.
    pub announce_failure: Option<Error>,
}

pub fn add(rtnl: &Rtnl, state: &mut State, spec: &VipSpec) -> Result<Added, Error> {
    refuse_lvsds(rtnl, spec.net.addr(), &spec.dev)?;
    let address = AddressSpec {
        net: spec.net,
        dev: spec.dev.clone(),
        label: spec.label.clone(),
        scope: Scope::Global,
        broadcast: None,
        owner: Owner::Lvsadm,
    };
    let (presence, changes) = Journal::new(rtnl).run(|journal| {
        let presence = journal.ensure_address(&address)?;
        if spec.forward {
            journal.set_sysctl(forwarding(spec.net.addr()), 1)?;
        }
        Ok(presence)
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
    let announce_failure = match presence {
        // The VIP is in place and recorded: a failure from here on is only reported.
        Presence::Added => addr::device(rtnl, &spec.dev)
            .and_then(|link| announce(&link, spec.net.addr(), 1, Duration::ZERO))
            .err(),
        Presence::AlreadyThere { .. } => None,
    };
    Ok(Added { announce_failure })
}

/// Removes the VIP (with whatever prefix it has on `dev` when `prefix` is None); when no
/// VIP is left, settings changed for them (forwarding) go back. Deleting a VIP that is not
/// there is not an error; one that lvsd holds is refused.
pub fn delete(
    rtnl: &Rtnl,
    state: &mut State,
    addr: IpAddr,
    prefix: Option<u8>,
    dev: &IfName,
) -> Result<(), Error> {
    refuse_lvsds(rtnl, addr, dev)?;
    addr::ensure_absent(rtnl, addr, prefix, dev)?;
    state
        .director
        .retain(|v| !(v.net.addr() == addr && v.dev == *dev));
    if state.director.is_empty() {
        state::restore(rtnl, &mut state.director_changes)?;
    }
    Ok(())
}

/// Refused when `addr` on `dev` carries lvsd's mark: lvsd holds it and would fight over it.
fn refuse_lvsds(rtnl: &Rtnl, addr: IpAddr, dev: &IfName) -> Result<(), Error> {
    let link = addr::device(rtnl, dev)?;
    let theirs = addr::on_link(rtnl, &link, addr)?
        .into_iter()
        .find(|a| a.owner == Owner::Lvsd);
    match theirs {
        Some(a) => Err(Error::Refused(format!(
            "{} on {dev} was added by lvsd: lvsadm leaves it alone; stop lvsd or change its \
             configuration",
            a.net
        ))),
        None => Ok(()),
    }
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

/// lvsadm's VIPs, from its records; one is present only if its address is on its device and
/// is not another program's (an address lvsd added at the same place is lvsd's).
pub fn list(rtnl: &Rtnl, state: &State, dev: Option<&IfName>) -> Result<Vec<VipView>, Error> {
    let links = rtnl.links()?;
    let addresses = rtnl.addresses()?;
    let in_place = |v: &DirectorVip| {
        // The device's index, looked up once per VIP.
        let index = links
            .iter()
            .find(|l| l.name == v.dev.as_str())
            .map(|l| l.index);
        addresses.iter().any(|a| {
            Some(a.index) == index
                && a.net == v.net
                && matches!(a.owner, Owner::Lvsadm | Owner::Unmarked)
        })
    };
    Ok(state
        .director
        .iter()
        .filter(|v| dev.is_none_or(|d| *d == v.dev))
        .map(|v| VipView {
            address: v.net,
            dev: v.dev.clone(),
            label: v.label.clone(),
            forward: v.forward,
            present: in_place(v),
        })
        .collect())
}

fn forwarding(addr: IpAddr) -> Sysctl {
    match addr {
        IpAddr::V4(_) => Sysctl::Ipv4Forward,
        IpAddr::V6(_) => Sysctl::Ipv6Forward,
    }
}
