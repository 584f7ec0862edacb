//! A real server's side of NAT: its replies must go back through the director, whose inside
//! address (the DIP) is their gateway, or they reach the client from the real server's own
//! address and the client drops them. Set-up makes the DIP the gateway of the default route,
//! or of the routes to given client networks only, and keeps the routes it replaced for
//! teardown; status asks the kernel how a reply would leave.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Serialize;

use crate::realserver::Problem;
use crate::rtnl::{describe, Address, Route, Rtnl};
use crate::state::{self, Journal, ReturnRoute, State};
use crate::Error;

const NEEDS_GATEWAY: &str = "NAT mode needs the director's inside address: add --gateway DIP, \
     the director's address on this real server's network, so that replies go back through it";

/// The return routes `gateways` and `to` ask for: each client network through the gateway of
/// its family, or, with no networks named, the default route through each gateway.
pub fn return_routes(gateways: &[IpAddr], to: &[IpNet]) -> Result<Vec<ReturnRoute>, Error> {
    if gateways.is_empty() {
        return Err(Error::Refused(NEEDS_GATEWAY.to_string()));
    }
    for (i, gateway) in gateways.iter().enumerate() {
        if gateway.is_unspecified() || gateway.is_loopback() || gateway.is_multicast() {
            return Err(Error::Refused(format!("{gateway} cannot be a gateway")));
        }
        if gateways[..i]
            .iter()
            .any(|g| g.is_ipv4() == gateway.is_ipv4())
        {
            return Err(Error::Refused(
                "one --gateway per address family: a host has one way back to its clients"
                    .to_string(),
            ));
        }
    }
    let gateway_for = |net: &IpNet| {
        gateways
            .iter()
            .copied()
            .find(|g| g.is_ipv4() == net.addr().is_ipv4())
    };
    if to.is_empty() {
        return Ok(gateways
            .iter()
            .map(|&gateway| ReturnRoute {
                to: default_net(gateway),
                gateway,
            })
            .collect());
    }
    if let Some(gateway) = gateways
        .iter()
        .find(|g| !to.iter().any(|n| n.addr().is_ipv4() == g.is_ipv4()))
    {
        return Err(Error::Refused(format!(
            "--gateway {gateway} has no --to network of its family: name one, or leave out \
             --to to send every reply through the director"
        )));
    }
    let nets: BTreeSet<IpNet> = to.iter().map(IpNet::trunc).collect();
    nets.into_iter()
        .map(|net| match gateway_for(&net) {
            Some(gateway) => Ok(ReturnRoute { to: net, gateway }),
            None => Err(Error::Refused(format!(
                "--to {net} needs a --gateway of its family"
            ))),
        })
        .collect()
}

fn default_net(addr: IpAddr) -> IpNet {
    match addr {
        IpAddr::V4(_) => IpNet::V4(Ipv4Net::default()),
        IpAddr::V6(_) => IpNet::V6(Ipv6Net::default()),
    }
}

/// Routes replies to each `wanted` network through its gateway, replacing the routes to
/// that network. Idempotent: a route already through the gateway is left alone, and what
/// was replaced first is what teardown puts back.
pub fn setup(rtnl: &Rtnl, state: &mut State, wanted: &[ReturnRoute]) -> Result<(), Error> {
    let mut plan = Vec::new();
    for want in wanted {
        let dev = on_link_device(rtnl, want.gateway)?;
        let existing: Vec<Route> = rtnl
            .routes(want.to.addr())?
            .into_iter()
            .filter(|l| l.route.dst == want.to)
            .map(|l| match l.unrestorable {
                Some(why) => Err(Error::Refused(format!(
                    "cannot replace the route {}: {why}, which lvsadm could not put back at \
                     teardown; make it a single route first",
                    describe(&l.route)
                ))),
                None => Ok(l.route),
            })
            .collect::<Result<_, _>>()?;
        if let Some(connected) = existing.iter().find(|r| r.connected()) {
            return Err(Error::Refused(format!(
                "{} is a directly connected network of this host (on {}): replies to it \
                 take no gateway; name the clients' network with --to",
                want.to,
                connected.dev.as_deref().unwrap_or("no device")
            )));
        }
        let route = Route::via(want.to, want.gateway, &dev);
        let in_place = matches!(existing.as_slice(), [only] if only.gateway == Some(want.gateway));
        if !in_place {
            plan.push((existing, route));
        }
    }
    let ((), changes) = Journal::new(rtnl).run(|journal| {
        for (existing, route) in &plan {
            for old in existing {
                journal.remove_route(old)?;
            }
            journal.add_route(route)?;
        }
        Ok(())
    })?;
    state::merge(&mut state.realserver_changes, changes);
    for want in wanted {
        state.nat.retain(|r| r.to != want.to);
        state.nat.push(want.clone());
    }
    Ok(())
}

/// The device through which `gateway` is reached directly; refused when the kernel would
/// reach it through another gateway, or not at all.
fn on_link_device(rtnl: &Rtnl, gateway: IpAddr) -> Result<String, Error> {
    let off_link = |why: String| {
        Error::Refused(format!(
            "the gateway {gateway} is not on a directly connected network of this host: {why}; \
             --gateway takes the director's address on this real server's own network"
        ))
    };
    let Some(found) = rtnl.lookup(gateway)? else {
        return Err(off_link("there is no route to it".to_string()));
    };
    if found.local() {
        return Err(Error::Refused(format!(
            "{gateway} is an address of this host: --gateway takes the director's address"
        )));
    }
    match (found.unicast(), found.gateway, found.dev) {
        (true, None, Some(dev)) => Ok(dev),
        (_, Some(via), _) => Err(off_link(format!("the kernel reaches it through {via}"))),
        _ => Err(off_link("the kernel has no usable route to it".to_string())),
    }
}

/// How replies to one client network would leave.
#[derive(Clone, Debug, Serialize)]
pub struct RouteStatus {
    pub to: IpNet,
    pub gateway: IpAddr,
    /// The client address the kernel was asked about.
    pub probe: IpAddr,
    /// The next hop the kernel chose; none for a directly connected network or no route.
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub problems: Vec<Problem>,
}

impl RouteStatus {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Asks the kernel how a reply to a client in each network would leave.
pub fn status(rtnl: &Rtnl, routes: &[ReturnRoute]) -> Result<Vec<RouteStatus>, Error> {
    let addresses = rtnl.addresses()?;
    routes
        .iter()
        .map(|r| {
            let probe = probe(r.to, &addresses);
            let found = rtnl.lookup(probe)?;
            let default = r.to.prefix_len() == 0;
            let to = if default {
                format!("--gateway {}", r.gateway)
            } else {
                format!("--gateway {} --to {}", r.gateway, r.to)
            };
            let fix = format!("lvsadm realserver setup --mode nat {to}");
            let clients = if default {
                "clients".to_string()
            } else {
                format!("clients in {}", r.to)
            };
            let problem = match &found {
                None => Some(format!(
                    "there is no route to {probe}: replies to {clients} are dropped"
                )),
                Some(f) if f.gateway == Some(r.gateway) => None,
                Some(f) => Some(format!(
                    "replies to {probe} leave {}, not through the director {}: {clients} \
                     get them from this host's own address and drop them",
                    match (f.gateway, &f.dev) {
                        (Some(via), Some(dev)) => format!("via {via} on {dev}"),
                        (Some(via), None) => format!("via {via}"),
                        (None, Some(dev)) => format!("directly on {dev}"),
                        (None, None) => "by no gateway".to_string(),
                    },
                    r.gateway
                )),
            };
            Ok(RouteStatus {
                to: r.to,
                gateway: r.gateway,
                probe,
                via: found.as_ref().and_then(|f| f.gateway),
                dev: found.and_then(|f| f.dev),
                problems: problem
                    .map(|problem| Problem { problem, fix })
                    .into_iter()
                    .collect(),
            })
        })
        .collect()
}

/// A client address in `to` to ask the kernel about: its first host, or for the default route
/// a documentation address outside this host's own networks (one of those would be reached
/// directly, whatever the default route).
fn probe(to: IpNet, addresses: &[Address]) -> IpAddr {
    if to.prefix_len() > 0 {
        return to.hosts().next().unwrap_or(to.addr());
    }
    let candidates: [IpAddr; 3] = match to {
        IpNet::V4(_) => [
            Ipv4Addr::new(203, 0, 113, 1).into(),
            Ipv4Addr::new(198, 51, 100, 1).into(),
            Ipv4Addr::new(192, 0, 2, 1).into(),
        ],
        IpNet::V6(_) => [
            Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0xffff, 0, 0, 0, 1).into(),
            Ipv6Addr::new(0x2001, 0xdb8, 0xfffe, 0, 0, 0, 0, 1).into(),
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).into(),
        ],
    };
    candidates
        .into_iter()
        .find(|c| !addresses.iter().any(|a| a.net.contains(c)))
        .unwrap_or(candidates[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn each_network_goes_through_the_gateway_of_its_family() {
        let routes =
            return_routes(&[ip("192.0.2.1"), ip("2001:db8::1")], &[]).expect("default routes");
        assert_eq!(routes[0].to, net("0.0.0.0/0"));
        assert_eq!(routes[1].to, net("::/0"));
        let routes = return_routes(
            &[ip("192.0.2.1")],
            &[net("198.51.100.7/24"), net("203.0.113.0/24")],
        )
        .expect("two networks");
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[0].to, net("198.51.100.0/24"));
        assert!(routes.iter().all(|r| r.gateway == ip("192.0.2.1")));
    }

    #[test]
    fn what_cannot_be_routed_is_refused() {
        let says = |gateways: &[IpAddr], to: &[IpNet], text: &str| {
            let e = return_routes(gateways, to).expect_err(text).to_string();
            assert!(e.contains(text), "{e}");
        };
        says(&[], &[], "add --gateway DIP");
        says(&[ip("0.0.0.0")], &[], "cannot be a gateway");
        says(
            &[ip("192.0.2.1"), ip("192.0.2.9")],
            &[],
            "one --gateway per",
        );
        says(
            &[ip("192.0.2.1")],
            &[net("2001:db8::/64")],
            "no --to network",
        );
        says(
            &[ip("192.0.2.1"), ip("2001:db8::1")],
            &[net("198.51.100.0/24")],
            "--gateway 2001:db8::1 has no --to",
        );
    }

    #[test]
    fn the_default_route_is_probed_outside_the_hosts_networks() {
        let address = |s: &str| Address {
            index: 1,
            net: net(s),
            label: None,
            deprecated: false,
            scope: crate::rtnl::Scope::Global,
            owner: crate::rtnl::Owner::Unmarked,
        };
        let mine = [
            address("203.0.113.5/24"),
            address("2001:db8:ffff:ffff::5/64"),
        ];
        assert_eq!(probe(net("0.0.0.0/0"), &mine), ip("198.51.100.1"));
        assert_eq!(probe(net("::/0"), &mine), ip("2001:db8:fffe::1"));
        assert_eq!(probe(net("198.51.100.0/24"), &mine), ip("198.51.100.1"));
        assert_eq!(probe(net("198.51.100.9/32"), &mine), ip("198.51.100.9"));
    }
}
