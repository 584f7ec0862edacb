//! A real server's side of direct routing and tunnelling: it must accept packets addressed
//! to the VIP, so the VIP is one of its own addresses, but it must never answer ARP (or
//! neighbour solicitations) for it, or clients' packets would bypass the director.
//!
//! Direct routing puts the VIPs on `lo` (or a dummy device) and sets arp_ignore=1 and
//! arp_announce=2; tunnelling puts them on the ipip (or ip6tnl) fallback device, which
//! decapsulates what the director sends, and relaxes reverse-path filtering there, since
//! the inner packets' sources are reached through another interface.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::addr;
pub use crate::mode::Mode;
use crate::name::IfName;
use crate::rtnl::{Address, Link, NewAddress, Owner, Rtnl, Scope};
use crate::state::{self, Journal, RealServerVip, State};
use crate::sysctl::{self, Conf, ConfKey, Sysctl};
use crate::Error;

const ARP_IGNORE: i64 = 1;
const ARP_ANNOUNCE: i64 = 2;
/// Loose reverse-path filtering: a source must be reachable through some interface.
const RP_FILTER_LOOSE: i64 = 2;
const RP_FILTER_STRICT: i64 = 1;

/// The device a VIP goes on when none is named.
fn default_device(mode: Mode, vip: IpAddr) -> &'static str {
    match (mode, vip) {
        (Mode::Dr, _) => "lo",
        (Mode::Tun, IpAddr::V4(_)) => "tunl0",
        (Mode::Tun, IpAddr::V6(_)) => "ip6tnl0",
    }
}

fn tunnel_kind(vip: IpAddr) -> &'static str {
    match vip {
        IpAddr::V4(_) => "ipip",
        IpAddr::V6(_) => "ip6tnl",
    }
}

fn host_net(addr: IpAddr) -> IpNet {
    IpNet::from(addr)
}

/// Sets up `vips` for `mode`, on `dev` or the mode's default device. Idempotent: what is
/// already in place is left alone, and settings keep the values from before the first
/// set-up for teardown.
pub fn setup(
    rtnl: &Rtnl,
    state: &mut State,
    vips: &[IpAddr],
    mode: Mode,
    dev: Option<&IfName>,
) -> Result<(), Error> {
    let vips: Vec<IpAddr> = vips
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let placement = placement(state, &vips, mode, dev)?;
    let links = rtnl.links()?;
    let addresses = rtnl.addresses()?;
    for (vip, dev) in &placement {
        refuse_where_it_would_answer(*vip, dev, &links, &addresses)?;
    }
    let ((), changes) = Journal::new(rtnl).run(|journal| {
        let devices: BTreeSet<&IfName> = placement.iter().map(|(_, d)| d).collect();
        for dev in devices {
            let family_vip = placement.iter().find(|(_, d)| d == dev).map(|(v, _)| *v);
            let link = prepare_device(rtnl, journal, &links, dev, mode, family_vip)?;
            for (vip, _) in placement.iter().filter(|(_, d)| d == dev) {
                let net = host_net(*vip);
                // Read before any change: a device's addresses change only in its own turn.
                if !addresses
                    .iter()
                    .any(|a| a.index == link.index && a.net.addr() == *vip)
                {
                    journal.add_address(
                        &link,
                        &NewAddress {
                            net,
                            label: None,
                            deprecated: vip.is_ipv6(),
                            nodad: vip.is_ipv6(),
                            scope: Scope::Global,
                            broadcast: None,
                            owner: Owner::Lvsadm,
                        },
                    )?;
                }
            }
            if mode == Mode::Tun && family_vip.is_some_and(|v| v.is_ipv4()) {
                relax_rp_filter(journal, dev)?;
            }
        }
        if vips.iter().any(IpAddr::is_ipv4) {
            hide_from_arp(journal, &links)?;
        }
        Ok(())
    })?;
    state::merge(&mut state.realserver_changes, changes);
    for (addr, dev) in placement {
        state.realserver.retain(|r| r.addr != addr);
        state.realserver.push(RealServerVip { addr, dev, mode });
    }
    Ok(())
}

/// Which device each VIP goes on.
fn placement(
    state: &State,
    vips: &[IpAddr],
    mode: Mode,
    dev: Option<&IfName>,
) -> Result<Vec<(IpAddr, IfName)>, Error> {
    if vips.is_empty() {
        return Err(Error::Refused("name at least one VIP".to_string()));
    }
    if mode == Mode::Tun
        && dev.is_some()
        && vips.iter().any(IpAddr::is_ipv4)
        && vips.iter().any(IpAddr::is_ipv6)
    {
        return Err(Error::Refused(
            "IPv4 and IPv6 VIPs need different tunnel devices (ipip and ip6tnl): \
             set them up separately, or leave out --dev"
                .to_string(),
        ));
    }
    let mut placement = Vec::new();
    for &vip in vips {
        if vip.is_unspecified() || vip.is_loopback() || vip.is_multicast() {
            return Err(Error::Refused(format!("{vip} cannot be a VIP")));
        }
        let dev = match dev {
            Some(d) => d.clone(),
            None => IfName::new(default_device(mode, vip))?,
        };
        if let Some(r) = state.realserver.iter().find(|r| r.addr == vip) {
            if r.dev != dev || r.mode != mode {
                return Err(Error::Refused(format!(
                    "{vip} is set up on {} for {} mode: tear it down first",
                    r.dev,
                    r.mode.as_str()
                )));
            }
        }
        placement.push((vip, dev));
    }
    Ok(placement)
}

/// A VIP already on an interface with neighbours would be answered for there, whatever the
/// ARP settings say.
fn refuse_where_it_would_answer(
    vip: IpAddr,
    dev: &IfName,
    links: &[Link],
    addresses: &[Address],
) -> Result<(), Error> {
    for a in addresses.iter().filter(|a| a.net.addr() == vip) {
        if let Some(link) = links.iter().find(|l| l.index == a.index) {
            if link.name != dev.as_str() && link.resolves_neighbours() {
                return Err(Error::Refused(format!(
                    "{vip} is on {}, where this host answers ARP for it: \
                     remove it from {} first (a real server must not own the VIP on its network)",
                    link.name, link.name
                )));
            }
        }
    }
    Ok(())
}

/// Finds or creates the device, checks it suits the mode, and brings it up.
fn prepare_device(
    rtnl: &Rtnl,
    journal: &mut Journal,
    links: &[Link],
    dev: &IfName,
    mode: Mode,
    family_vip: Option<IpAddr>,
) -> Result<Link, Error> {
    let wanted_kind = match (mode, family_vip) {
        (Mode::Tun, Some(vip)) => tunnel_kind(vip),
        _ => "dummy",
    };
    let link = match links.iter().find(|l| l.name == dev.as_str()) {
        Some(link) => link.clone(),
        None => {
            match journal.create_link(dev, wanted_kind) {
                // Loading the tunnel module to create tunl0 creates tunl0 itself.
                Err(e) if is_errno(&e, libc::EEXIST) => {}
                Err(e) if is_errno(&e, libc::EOPNOTSUPP) => {
                    return Err(Error::Refused(format!(
                        "there is no device {dev}, and this kernel cannot make {wanted_kind} \
                         devices (is its module available?)"
                    )))
                }
                other => other?,
            }
            addr::device(rtnl, dev)?
        }
    };
    let suits = match mode {
        Mode::Dr => link.loopback || link.kind.as_deref() == Some("dummy"),
        Mode::Tun => link.kind.as_deref() == Some(wanted_kind),
    };
    if !suits {
        let needs = match mode {
            Mode::Dr => "lo or a dummy device".to_string(),
            Mode::Tun => format!("an {wanted_kind} tunnel device"),
        };
        return Err(Error::Refused(format!(
            "{dev} does not suit {} mode, which needs {needs}",
            mode.as_str()
        )));
    }
    if !link.up {
        journal.bring_up(&link)?;
    }
    Ok(link)
}

fn is_errno(e: &Error, errno: i32) -> bool {
    matches!(e, Error::Kernel { source, .. } if source.raw_os_error() == Some(errno))
}

/// arp_ignore=1 and arp_announce=2 on `all`, which the kernel combines with each
/// interface's own value by taking the larger; an interface whose own value would still
/// win with a wrong one gets its own set too. Devices set-up creates never answer ARP, so
/// `links` from before it are the ones to look at.
fn hide_from_arp(journal: &mut Journal, links: &[Link]) -> Result<(), Error> {
    let all_ignore = Sysctl::Ipv4Conf(Conf::All, ConfKey::ArpIgnore);
    if !sysctl::arp_ignore_hides_other_interfaces(all_ignore.read()?) {
        journal.set_sysctl(all_ignore, ARP_IGNORE)?;
    }
    let all_announce = Sysctl::Ipv4Conf(Conf::All, ConfKey::ArpAnnounce);
    if all_announce.read()? < ARP_ANNOUNCE {
        journal.set_sysctl(all_announce, ARP_ANNOUNCE)?;
    }
    for link in links.iter().filter(|l| l.resolves_neighbours()) {
        let dev = IfName::new(&link.name)?;
        let effective = sysctl::effective(ConfKey::ArpIgnore, &dev)?;
        if !sysctl::arp_ignore_hides_other_interfaces(effective.value()) {
            journal.set_sysctl(
                Sysctl::Ipv4Conf(Conf::Dev(dev), ConfKey::ArpIgnore),
                ARP_IGNORE,
            )?;
        }
    }
    Ok(())
}

/// Strict reverse-path filtering drops what the tunnel delivers: the clients' addresses are
/// routed through another interface. Loose filtering on the tunnel device is enough, since
/// the kernel applies the larger of `all` and the device's value.
fn relax_rp_filter(journal: &mut Journal, dev: &IfName) -> Result<(), Error> {
    if sysctl::effective(ConfKey::RpFilter, dev)?.value() == RP_FILTER_STRICT {
        journal.set_sysctl(
            Sysctl::Ipv4Conf(Conf::Dev(dev.clone()), ConfKey::RpFilter),
            RP_FILTER_LOOSE,
        )?;
    }
    Ok(())
}

/// Removes the VIPs (all recorded ones, and NAT's return routes, if none are named); once
/// none is left, every route, setting and device set-up changed goes back to what it was.
/// Returns the VIPs removed.
pub fn teardown(rtnl: &Rtnl, state: &mut State, vips: &[IpAddr]) -> Result<Vec<IpAddr>, Error> {
    let targets: Vec<IpAddr> = if vips.is_empty() {
        state.nat.clear();
        state.realserver.iter().map(|r| r.addr).collect()
    } else {
        vips.to_vec()
    };
    let links = rtnl.links()?;
    let addresses = rtnl.addresses()?;
    let mut removed = Vec::new();
    for vip in targets {
        let recorded = state
            .realserver
            .iter()
            .find(|r| r.addr == vip)
            .map(|r| r.dev.clone());
        let holders = addresses
            .iter()
            .filter(|a| a.net == host_net(vip))
            .filter_map(|a| {
                let link = links.iter().find(|l| l.index == a.index)?;
                let ours = match &recorded {
                    Some(dev) => link.name == dev.as_str(),
                    // Not recorded: only where set-up would have put it.
                    None => !link.resolves_neighbours(),
                };
                ours.then_some(link)
            });
        for link in holders {
            rtnl.delete_address(link, host_net(vip))?;
            removed.push(vip);
        }
        if recorded.is_some() {
            state.realserver.retain(|r| r.addr != vip);
            if !removed.contains(&vip) {
                removed.push(vip);
            }
        }
    }
    if state.realserver.is_empty() && state.nat.is_empty() {
        state::restore(rtnl, &mut state.realserver_changes)?;
    }
    Ok(removed)
}

/// Something wrong with a VIP, and what to do about it.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    pub problem: String,
    pub fix: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct VipStatus {
    pub vip: IpAddr,
    pub mode: Mode,
    /// The devices that hold the VIP.
    pub devices: Vec<String>,
    /// Interfaces on which this host would answer ARP (or neighbour solicitations) for the
    /// VIP: there must be none.
    pub answers_on: Vec<String>,
    pub problems: Vec<Problem>,
}

impl VipStatus {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks `vips`, or, if none are named, those set up here and any other address on `lo`
/// or a tunnel device.
pub fn status(rtnl: &Rtnl, state: &State, vips: &[IpAddr]) -> Result<Vec<VipStatus>, Error> {
    let links = rtnl.links()?;
    let addresses = rtnl.addresses()?;
    let targets: BTreeSet<IpAddr> = if vips.is_empty() {
        let found = addresses.iter().filter(|a| {
            let addr = a.net.addr();
            a.net == host_net(addr)
                && !addr.is_loopback()
                && links
                    .iter()
                    .any(|l| l.index == a.index && !l.resolves_neighbours())
        });
        state
            .realserver
            .iter()
            .map(|r| r.addr)
            .chain(found.map(|a| a.net.addr()))
            .collect()
    } else {
        vips.iter().copied().collect()
    };
    let lan: Vec<&Link> = links
        .iter()
        .filter(|l| l.up && l.resolves_neighbours())
        .collect();
    targets
        .into_iter()
        .map(|vip| {
            let holders: Vec<&Link> = addresses
                .iter()
                .filter(|a| a.net.addr() == vip)
                .filter_map(|a| links.iter().find(|l| l.index == a.index))
                .collect();
            let recorded = state.realserver.iter().find(|r| r.addr == vip);
            let mode = recorded.map(|r| r.mode).unwrap_or_else(|| {
                let tunnel = holders
                    .iter()
                    .any(|l| l.kind.as_deref() == Some(tunnel_kind(vip)));
                if tunnel {
                    Mode::Tun
                } else {
                    Mode::Dr
                }
            });
            check(vip, mode, &holders, &addresses, &lan)
        })
        .collect()
}

fn check(
    vip: IpAddr,
    mode: Mode,
    holders: &[&Link],
    addresses: &[Address],
    lan: &[&Link],
) -> Result<VipStatus, Error> {
    let setup = format!("lvsadm realserver setup {vip} --mode {}", mode.as_str());
    let mut problems = Vec::new();
    let mut answers_on = Vec::new();
    if holders.is_empty() {
        problems.push(Problem {
            problem: format!(
                "{vip} is not an address of this host, so it drops the director's packets"
            ),
            fix: setup.clone(),
        });
    }
    for link in holders {
        if link.resolves_neighbours() {
            answers_on.push(link.name.clone());
            problems.push(Problem {
                problem: format!("{vip} is on {}, which answers ARP for it", link.name),
                fix: format!("remove {vip} from {}, then {setup}", link.name),
            });
        } else if !link.up {
            problems.push(Problem {
                problem: format!("{} is down", link.name),
                fix: setup.clone(),
            });
        }
    }
    match vip {
        IpAddr::V4(_) => {
            for link in lan
                .iter()
                .filter(|l| !holders.iter().any(|h| h.index == l.index))
            {
                let dev = IfName::new(&link.name)?;
                let ignore = sysctl::effective(ConfKey::ArpIgnore, &dev)?;
                if !sysctl::arp_ignore_hides_other_interfaces(ignore.value()) {
                    answers_on.push(link.name.clone());
                    problems.push(Problem {
                        problem: format!(
                            "answers ARP for {vip} on {}: arp_ignore is {} (all={}, {}={})",
                            link.name,
                            ignore.value(),
                            ignore.all,
                            link.name,
                            ignore.own
                        ),
                        fix: fix_setting(ConfKey::ArpIgnore, &dev, ignore, ARP_IGNORE),
                    });
                }
                let announce = sysctl::effective(ConfKey::ArpAnnounce, &dev)?;
                if announce.value() < ARP_ANNOUNCE {
                    problems.push(Problem {
                        problem: format!(
                            "may use {vip} as the source of its ARP requests on {}: arp_announce is {} (all={}, {}={})",
                            link.name,
                            announce.value(),
                            announce.all,
                            link.name,
                            announce.own
                        ),
                        fix: fix_setting(ConfKey::ArpAnnounce, &dev, announce, ARP_ANNOUNCE),
                    });
                }
            }
            if mode == Mode::Tun {
                for link in holders.iter().filter(|l| !l.resolves_neighbours()) {
                    let dev = IfName::new(&link.name)?;
                    let rp = sysctl::effective(ConfKey::RpFilter, &dev)?;
                    if rp.value() == RP_FILTER_STRICT {
                        problems.push(Problem {
                            problem: format!(
                                "strict reverse-path filtering on {} drops the tunnelled packets",
                                link.name
                            ),
                            fix: format!(
                                "sysctl -w net.ipv4.conf.{}.rp_filter={RP_FILTER_LOOSE}",
                                link.name
                            ),
                        });
                    }
                }
            }
        }
        IpAddr::V6(_) => {
            let on_holders = addresses
                .iter()
                .filter(|a| a.net.addr() == vip && holders.iter().any(|h| h.index == a.index));
            if on_holders.clone().any(|a| !a.deprecated) {
                problems.push(Problem {
                    problem: format!("{vip} may be chosen as a source address"),
                    fix: format!("lvsadm realserver teardown {vip}, then {setup}"),
                });
            }
        }
    }
    Ok(VipStatus {
        vip,
        mode,
        devices: holders.iter().map(|l| l.name.clone()).collect(),
        answers_on,
        problems,
    })
}

/// The sysctl command that fixes a setting the kernel takes as max(all, own).
fn fix_setting(key: ConfKey, dev: &IfName, now: sysctl::Effective, wanted: i64) -> String {
    // Raising `all` fixes every interface unless this one's own value is the culprit.
    let conf = if now.own > now.all && now.all >= wanted {
        Conf::Dev(dev.clone())
    } else {
        Conf::All
    };
    format!("sysctl -w {}={wanted}", Sysctl::Ipv4Conf(conf, key))
}
