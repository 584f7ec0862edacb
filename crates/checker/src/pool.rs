//! The IPVS side of a configuration: each `virtual_server` as the kernel services it makes (a
//! group makes one per address and firewall mark) and its real and sorry servers as
//! destinations, with keepalived's rules for what is shared: a service two virtual servers
//! name belongs to the first (the kernel refuses the second), and so does a destination named
//! twice.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use ipvs::{
    Destination, ForwardMethod, Service, ServiceFlags, ServiceKey, TunnelFlags, TunnelType,
};
use keepalived::check::{
    Family, Forwarding, GroupEntry, Protocol, Service as Named, TunnelChecksum, TunnelKind,
    VirtualServer, MAX_RANGE,
};
use keepalived::script::Script;
use keepalived::Config;

/// A `virtual_server` as IPVS services.
#[derive(Clone, Debug)]
pub struct Pool {
    /// How keepalived names it in its logs, e.g. `[192.0.2.1]:tcp:80` or `FWM 7`.
    pub name: String,
    /// The services it makes and owns (those an earlier virtual server made are not here).
    pub keys: Vec<ServiceKey>,
    /// The settings of each service, with the key of the first.
    pub service: Service,
    pub quorum: u32,
    pub hysteresis: u32,
    pub real: Vec<Real>,
    pub sorry: Option<Sorry>,
}

/// A real server as a destination.
#[derive(Clone, Debug)]
pub struct Real {
    /// With the configured weight.
    pub dest: Destination,
    pub inhibit: bool,
    pub notify_up: Option<Script>,
    pub notify_down: Option<Script>,
}

#[derive(Clone, Debug)]
pub struct Sorry {
    pub dest: Destination,
    pub inhibit: bool,
    /// Whether a real server has the same address and port (keepalived then never adds the
    /// sorry server at weight 0 beside it).
    pub is_real: bool,
}

/// The virtual servers of `config` (as validated: those keepalived ignores are gone).
pub fn pools(config: &Config) -> Vec<Pool> {
    let mut taken = HashSet::new();
    config
        .check
        .virtual_servers
        .iter()
        .map(|vs| {
            let keys: Vec<ServiceKey> = keys(config, vs)
                .into_iter()
                .filter(|k| taken.insert(*k))
                .collect();
            pool(vs, keys)
        })
        .collect()
}

fn pool(vs: &VirtualServer, keys: Vec<ServiceKey>) -> Pool {
    let real: Vec<Real> = vs
        .real_servers
        .iter()
        .map(|rs| {
            let weight = rs.weight.unwrap_or(vs.weight);
            let mut dest = destination(rs.addr, rs.port, rs.forwarding, weight);
            dest.upper_threshold = rs.uthreshold;
            dest.lower_threshold = rs.lthreshold;
            Real {
                dest,
                inhibit: rs.inhibit_on_failure == Some(true),
                notify_up: rs.notify_up.clone(),
                notify_down: rs.notify_down.clone(),
            }
        })
        .collect();
    let sorry = vs.sorry_server.as_ref().map(|s| Sorry {
        is_real: vs
            .real_servers
            .iter()
            .any(|rs| rs.addr == s.addr && rs.port == s.port),
        dest: destination(s.addr, s.port, s.forwarding, 1),
        inhibit: s.inhibit,
    });
    let first = keys.first().copied().unwrap_or(ServiceKey::Fwmark {
        family: ipvs::Family::V4,
        mark: 0,
    });
    Pool {
        name: name(vs),
        service: service(vs, first),
        keys,
        quorum: vs.quorum,
        hysteresis: vs.hysteresis,
        real,
        sorry,
    }
}

/// keepalived's `FMT_VS`.
fn name(vs: &VirtualServer) -> String {
    match &vs.service {
        Named::Address { addr, port } => {
            let proto = vs.protocol.map_or("tcp", |p| match p {
                Protocol::Tcp => "tcp",
                Protocol::Udp => "udp",
                Protocol::Sctp => "sctp",
            });
            format!("[{addr}]:{proto}:{port}")
        }
        Named::Fwmark(m) => format!("FWM {m}"),
        Named::Group(g) => format!("[{g}]"),
    }
}

/// The services a virtual server names, in keepalived's order.
fn keys(config: &Config, vs: &VirtualServer) -> Vec<ServiceKey> {
    let protocol = match vs.protocol {
        Some(Protocol::Udp) => ipvs::Protocol::Udp,
        Some(Protocol::Sctp) => ipvs::Protocol::Sctp,
        _ => ipvs::Protocol::Tcp,
    };
    let fwmark = |mark: u32, family: Option<Family>| ServiceKey::Fwmark {
        family: match family.or(vs.family) {
            Some(Family::Inet6) => ipvs::Family::V6,
            _ => ipvs::Family::V4,
        },
        mark,
    };
    match &vs.service {
        Named::Address { addr, port } => vec![ServiceKey::Addr {
            protocol,
            addr: *addr,
            port: *port,
        }],
        Named::Fwmark(m) => vec![fwmark(*m, None)],
        Named::Group(g) => {
            let Some(group) = config.check.groups.iter().find(|x| &x.name == g) else {
                return Vec::new();
            };
            let mut out = Vec::new();
            for e in &group.entries {
                match e {
                    GroupEntry::Fwmark { mark, family, .. } => out.push(fwmark(*mark, *family)),
                    GroupEntry::Range {
                        first, last, port, ..
                    } => {
                        let (a, b) = (bits(first), bits(last));
                        for n in a..=b.min(a.saturating_add(MAX_RANGE - 1)) {
                            let addr = match first {
                                IpAddr::V4(_) => IpAddr::V4((n as u32).into()),
                                IpAddr::V6(_) => IpAddr::V6(n.into()),
                            };
                            out.push(ServiceKey::Addr {
                                protocol,
                                addr,
                                port: *port,
                            });
                        }
                    }
                }
            }
            out
        }
    }
}

fn bits(a: &IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(*v)),
        IpAddr::V6(v) => u128::from(*v),
    }
}

fn service(vs: &VirtualServer, key: ServiceKey) -> Service {
    let mut s = Service::new(key);
    if let Some(sched) = &vs.scheduler {
        s.scheduler.clone_from(sched);
    }
    if let Some(t) = vs.persistence_timeout {
        s.flags.set(ServiceFlags::PERSISTENT, true);
        s.timeout = t;
        if let Some(g) = &vs.persistence_granularity {
            s.netmask = match g.parse::<Ipv4Addr>() {
                Ok(mask) => u32::from(mask),
                Err(_) => g.parse().unwrap_or(s.netmask),
            };
        }
    }
    s.pe_name.clone_from(&vs.persistence_engine);
    for f in &vs.flags {
        let bit = match *f {
            "ops" => ServiceFlags::ONEPACKET,
            "flag-1" | "sh-fallback" | "mh-fallback" => ServiceFlags::SCHED1,
            "flag-2" | "sh-port" | "mh-port" => ServiceFlags::SCHED2,
            "flag-3" => ServiceFlags::SCHED3,
            _ => 0,
        };
        s.flags.set(bit, true);
    }
    s
}

/// A destination as keepalived programs it into service `key`: a firewall-mark service
/// forwards to a real server's port only by NAT.
pub fn into_service(key: &ServiceKey, d: &Destination) -> Destination {
    let mut d = d.clone();
    if matches!(key, ServiceKey::Fwmark { .. }) && d.forward != ForwardMethod::Masquerade {
        d.port = 0;
    }
    d
}

fn destination(
    addr: IpAddr,
    port: u16,
    forwarding: Option<Forwarding>,
    weight: u32,
) -> Destination {
    let mut d = Destination::new(addr, port);
    d.weight = weight;
    d.forward = match forwarding {
        Some(Forwarding::Dr) => ForwardMethod::DirectRoute,
        Some(Forwarding::Tun { .. }) => ForwardMethod::Tunnel,
        _ => ForwardMethod::Masquerade,
    };
    if let Some(Forwarding::Tun {
        kind,
        port,
        checksum,
    }) = forwarding
    {
        d.tunnel_type = match kind {
            TunnelKind::Ipip => TunnelType::Ipip,
            TunnelKind::Gue => TunnelType::Gue,
            TunnelKind::Gre => TunnelType::Gre,
        };
        d.tunnel_port = port;
        d.tunnel_flags = TunnelFlags(match checksum {
            TunnelChecksum::NoCsum => TunnelFlags::NOCSUM,
            TunnelChecksum::Csum => TunnelFlags::CSUM,
            TunnelChecksum::RemCsum => TunnelFlags::REMCSUM,
        });
    }
    d
}
