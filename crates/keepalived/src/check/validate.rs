//! What keepalived's checker does once a block or the whole file is read: address families
//! settled, groups linked, defaults filled in (protocol, scheduler, forwarding method, ports,
//! weights, quorum), and its complaints about all that, which it prints without a line number.

use super::{
    checker, Forwarding, Group, GroupEntry, Protocol, Service, VirtualServer, PERSISTENT_TIMEOUT,
};
use crate::problem::{Kind, Problem, Problems};
use crate::Config;

/// keepalived's default scheduler.
pub const DEFAULT_SCHEDULER: &str = "wlc";

/// keepalived's name for a virtual server in its messages.
pub fn name(vs: &VirtualServer) -> String {
    match &vs.service {
        Service::Group(g) => format!("[{g}]:0"),
        Service::Fwmark(m) => format!("FWM {m}"),
        Service::Address { addr, port } => {
            let proto = vs.protocol.map_or("none", |p| match p {
                Protocol::Tcp => "tcp",
                Protocol::Udp => "udp",
                Protocol::Sctp => "sctp",
            });
            format!("[{addr}]:{proto}:{port}")
        }
    }
}

fn rs_name(vs: &VirtualServer, addr: &std::net::IpAddr, port: u16) -> String {
    let proto = vs.protocol.map_or("none", |p| match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    });
    format!("[{addr}]:{proto}:{port}")
}

/// The checker's validation of the whole file (keepalived's `link_vsg_to_vs` and
/// `validate_check_config`).
pub fn validate(config: &mut Config, problems: &mut Problems) {
    link_groups(config, problems);
    let groups = config.check.groups.clone();
    let mut kept = Vec::new();
    for mut vs in std::mem::take(&mut config.check.virtual_servers) {
        let say = |problems: &mut Problems, kind: Kind, message: String| {
            let mut p = Problem::new(Some(vs.at), kind, message);
            p.keepalived_names_line = false;
            problems.push(p);
        };
        if vs.real_servers.is_empty() {
            let mut p = Problem::new(
                Some(vs.at),
                Kind::General,
                format!(
                    "Virtual server {} has no real servers - ignoring",
                    name(&vs)
                ),
            )
            .effect("keepalived sets up nothing for this virtual server");
            p.keepalived_names_line = false;
            problems.push(p);
            continue;
        }
        let group = match &vs.service {
            Service::Group(g) => groups.iter().find(|x| &x.name == g),
            _ => None,
        };
        let group_fwmarks = group.is_some_and(|g| {
            g.entries
                .iter()
                .any(|e| matches!(e, GroupEntry::Fwmark { .. }))
        });
        let group_ranges: Vec<u16> = group
            .map(|g| {
                g.entries
                    .iter()
                    .filter_map(|e| match e {
                        GroupEntry::Range { port, .. } => Some(*port),
                        GroupEntry::Fwmark { .. } => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        // keepalived keeps "no fwmark" as mark 0: `fwmark 0` makes an address service of
        // an address never given.
        let is_fwmark = matches!(vs.service, Service::Fwmark(m) if m != 0);
        if vs.service == Service::Fwmark(0) {
            let mut p = Problem::new(
                Some(vs.at),
                Kind::Advice,
                "fwmark 0 is no fwmark to keepalived",
            )
            .effect("keepalived reads this as an address service with no address, and its complaints about it print garbage")
            .hint("firewall marks start at 1");
            p.keepalived_names_line = false;
            problems.push(p);
        }
        if vs.ha_suspend && (is_fwmark || group_fwmarks) {
            say(
                problems,
                Kind::General,
                format!(
                    "Virtual server {}: cannot use ha_suspend with fwmarks - clearing ha_suspend",
                    name(&vs)
                ),
            );
            vs.ha_suspend = false;
        }
        let by_address = !group_ranges.is_empty() || (group.is_none() && !is_fwmark);
        if by_address {
            if vs.protocol.is_none() {
                let mut p = Problem::new(
                    Some(vs.at),
                    Kind::General,
                    format!(
                        "Virtual server {}: no protocol set - defaulting to UDP",
                        name(&vs)
                    ),
                )
                .effect("keepalived makes this a UDP service")
                .hint("a web service needs `protocol TCP`");
                p.keepalived_names_line = false;
                problems.push(p);
                vs.protocol = Some(Protocol::Udp);
            }
            if vs.flags.contains(&"ops") && vs.protocol != Some(Protocol::Udp) {
                say(
                    problems,
                    Kind::General,
                    format!(
                        "Virtual server {}: one packet scheduling requires UDP - resetting",
                        name(&vs)
                    ),
                );
                vs.flags.retain(|f| *f != "ops");
            }
        }
        // A service without a port must be persistent: one named by an address, or a group
        // with an address and no port.
        let zero_port = by_address && matches!(vs.service, Service::Address { port: 0, .. });
        if vs.persistence_timeout.is_none() && (zero_port || group_ranges.contains(&0)) {
            say(
                problems,
                Kind::General,
                format!(
                    "Virtual server {}: zero port only valid for persistent services - setting",
                    name(&vs)
                ),
            );
            vs.persistence_timeout = Some(PERSISTENT_TIMEOUT);
        }
        let fwmark_only = (group.is_some() && group_ranges.is_empty() && group_fwmarks)
            || (group.is_none() && is_fwmark);
        if vs.protocol.is_some() && fwmark_only {
            say(
                problems,
                Kind::General,
                format!(
                    "Warning: Virtual server {}: protocol specified for fwmark - protocol will be ignored",
                    name(&vs)
                ),
            );
            vs.protocol = None;
        }
        if vs.scheduler.is_none() {
            let mut p = Problem::new(
                Some(vs.at),
                Kind::General,
                format!(
                    "Virtual server {}: no scheduler set, setting default '{DEFAULT_SCHEDULER}'",
                    name(&vs)
                ),
            )
            .hint("say which with `lb_algo` (rr, wrr, lc, wlc, sh, ...)")
            .benign();
            p.keepalived_names_line = false;
            problems.push(p);
            vs.scheduler = Some(DEFAULT_SCHEDULER.to_string());
        }
        real_servers(&mut vs, group, problems);
        kept.push(vs);
    }
    config.check.virtual_servers = kept;
}

fn real_servers(vs: &mut VirtualServer, group: Option<&Group>, problems: &mut Problems) {
    let say = |problems: &mut Problems, vs: &VirtualServer, message: String| {
        let mut p = Problem::new(Some(vs.at), Kind::General, message);
        p.keepalived_names_line = false;
        problems.push(p);
    };
    let mut weight_sum: u64 = 0;
    let mut i = 0;
    while i < vs.real_servers.len() {
        let rs = &vs.real_servers[i];
        let dup = vs.real_servers[..i]
            .iter()
            .any(|o| o.addr == rs.addr && o.port == rs.port);
        if dup {
            let rs = vs.real_servers.remove(i);
            say(
                problems,
                vs,
                format!(
                    "VS {}: real server {} is duplicated - removing second rs",
                    name(vs),
                    rs_name(vs, &rs.addr, rs.port)
                ),
            );
            continue;
        }
        if vs.real_servers[i].forwarding.is_none() {
            vs.real_servers[i].forwarding = forwarding_or_nat(vs, problems);
        }
        let rs = &mut vs.real_servers[i];
        rs.alpha.get_or_insert(vs.alpha);
        rs.inhibit_on_failure.get_or_insert(vs.inhibit_on_failure);
        if rs.retry.is_none() {
            rs.retry = vs.retry;
        }
        rs.connect_timeout.get_or_insert(vs.connect_timeout);
        rs.delay_loop.get_or_insert(vs.delay_loop);
        if rs.warmup.is_none() {
            rs.warmup = vs.warmup;
        }
        if rs.delay_before_retry.is_none() {
            rs.delay_before_retry = vs.delay_before_retry;
        }
        let weight = *rs.weight.get_or_insert(vs.weight);
        weight_sum += u64::from(weight);
        let (addr, port) = (rs.addr, rs.port);
        let inhibit = rs.inhibit_on_failure.unwrap_or(false);
        let differs = vs
            .sorry_server
            .as_ref()
            .is_some_and(|s| s.addr == addr && s.port == port && s.inhibit != inhibit);
        if differs {
            let message = format!(
                "Virtual server {}: real server {} matches sorry server, but inhibit setting differs, {}ing on sorry server",
                name(vs),
                rs_name(vs, &addr, port),
                if inhibit { "sett" } else { "clear" }
            );
            if let Some(s) = vs.sorry_server.as_mut() {
                s.inhibit = inhibit;
            }
            say(problems, vs, message);
        }
        i += 1;
    }
    if vs
        .sorry_server
        .as_ref()
        .is_some_and(|s| s.forwarding.is_none())
    {
        let f = forwarding_or_nat(vs, problems);
        if let Some(s) = vs.sorry_server.as_mut() {
            s.forwarding = f;
        }
    }
    // keepalived sums weights in an unsigned int.
    let weight_sum = weight_sum as u32;
    if vs.quorum > weight_sum {
        say(
            problems,
            vs,
            format!(
                "Warning - quorum {} for {} exceeds total weight of real servers {weight_sum}, reducing quorum to {weight_sum}",
                vs.quorum,
                name(vs)
            ),
        );
        vs.quorum = weight_sum;
    }
    if vs.hysteresis >= vs.quorum {
        let to = vs.quorum.wrapping_sub(1);
        say(
            problems,
            vs,
            format!(
                "Virtual server {}: hysteresis {} >= quorum {}; setting hysteresis to {to}",
                name(vs),
                vs.hysteresis,
                vs.quorum
            ),
        );
        vs.hysteresis = to;
    }
    ports(vs, group, problems);
    let vs_snapshot = vs.clone();
    for rs in &mut vs.real_servers {
        let rs_copy = rs.clone();
        for c in &mut rs.checkers {
            checker::resolve(&vs_snapshot, &rs_copy, c, problems);
        }
    }
}

/// The virtual server's forwarding method, for a server that gives none: NAT, with
/// keepalived's complaint, when the virtual server gives none either.
fn forwarding_or_nat(vs: &mut VirtualServer, problems: &mut Problems) -> Option<Forwarding> {
    if vs.forwarding.is_none() {
        let mut p = Problem::new(
            Some(vs.at),
            Kind::General,
            format!(
                "Virtual server {}: no forwarding method set, setting default NAT",
                name(vs)
            ),
        )
        .effect("keepalived forwards by NAT")
        .hint("say how with `lb_kind` (DR for a direct-routing cluster)");
        p.keepalived_names_line = false;
        problems.push(p);
        vs.forwarding = Some(Forwarding::Nat);
    }
    vs.forwarding
}

/// Real and sorry server ports: unless NAT, a port other than the virtual server's is reset
/// (and cleared for fwmark services).
fn ports(vs: &mut VirtualServer, group: Option<&Group>, problems: &mut Problems) {
    let mut said = Vec::new();
    let vs_name = name(vs);
    let protocol = proto(vs.protocol);
    match vs.service.clone() {
        Service::Group(_) => {
            let Some(group) = group else { return };
            let not_nat = |f: Option<Forwarding>| f != Some(Forwarding::Nat);
            if group
                .entries
                .iter()
                .any(|e| matches!(e, GroupEntry::Fwmark { .. }))
            {
                for rs in vs.real_servers.iter().filter(|r| not_nat(r.forwarding)) {
                    if rs.port != 0 {
                        said.push(format!(
                            "WARNING - fwmark virtual server {vs_name}, real server [{}]:{protocol}:{} has port specified - port will be ignored",
                            rs.addr, rs.port
                        ));
                    }
                }
                if let Some(s) = vs.sorry_server.as_ref() {
                    if not_nat(s.forwarding) && s.port != 0 {
                        said.push(format!(
                            "WARNING - fwmark virtual server {vs_name}, sorry server has port specified - port will be ignored"
                        ));
                    }
                }
            }
            for e in &group.entries {
                let GroupEntry::Range {
                    first, last, port, ..
                } = e
                else {
                    continue;
                };
                let entry = if first == last {
                    format!("{first},{port}")
                } else {
                    format!("{first}-{last},{port}")
                };
                for rs in vs.real_servers.iter().filter(|r| not_nat(r.forwarding)) {
                    if rs.port != 0 && rs.port != *port {
                        said.push(format!(
                            "virtual server {vs_name}:[{entry}] and real server [{}]:{protocol}:{} ports don't match",
                            rs.addr, rs.port
                        ));
                    }
                }
                if let Some(s) = vs.sorry_server.as_ref() {
                    if not_nat(s.forwarding) && s.port != 0 && s.port != *port {
                        said.push(format!(
                            "WARNING - virtual server {vs_name}, sorry server has port specified - port will be ignored"
                        ));
                    }
                }
            }
        }
        Service::Fwmark(_) => {
            for rs in &mut vs.real_servers {
                if rs.forwarding == Some(Forwarding::Nat) || rs.port == 0 {
                    continue;
                }
                said.push(format!(
                    "WARNING - fwmark virtual server {vs_name}, real server [{}]:{protocol}:{} has port specified - clearing",
                    rs.addr, rs.port
                ));
                rs.port = 0;
            }
            if let Some(s) = vs.sorry_server.as_mut() {
                if s.forwarding != Some(Forwarding::Nat) && s.port != 0 {
                    said.push(format!(
                        "WARNING - virtual server {}, sorry server has port specified - clearing",
                        vs_name
                    ));
                    s.port = 0;
                }
            }
        }
        Service::Address { port, .. } => {
            for rs in &mut vs.real_servers {
                if rs.forwarding == Some(Forwarding::Nat) {
                    if rs.port == 0 {
                        rs.port = port;
                    }
                    continue;
                }
                if rs.port == 0 {
                    rs.port = port;
                } else if rs.port != port {
                    said.push(format!(
                        "WARNING - virtual server {vs_name} and real server [{}]:{protocol}:{} ports don't match - resetting",
                        rs.addr, rs.port
                    ));
                    rs.port = port;
                }
            }
            if let Some(s) = vs.sorry_server.as_mut() {
                if s.forwarding != Some(Forwarding::Nat) {
                    if s.port == 0 {
                        s.port = port;
                    } else if s.port != port {
                        said.push(format!(
                            "WARNING - virtual server {} and sorry server ports don't match - resetting",
                            vs_name
                        ));
                        s.port = port;
                    }
                }
            }
        }
    }
    for message in said {
        let mut p = Problem::new(Some(vs.at), Kind::General, message);
        p.keepalived_names_line = false;
        problems.push(p);
    }
}

fn proto(p: Option<Protocol>) -> &'static str {
    match p {
        None => "none",
        Some(Protocol::Tcp) => "tcp",
        Some(Protocol::Udp) => "udp",
        Some(Protocol::Sctp) => "sctp",
    }
}

/// Virtual servers naming a group get its family; those naming no group that exists are
/// dropped (keepalived logs this, outside `-t`'s report).
fn link_groups(config: &mut Config, problems: &mut Problems) {
    let groups = &config.check.groups;
    config.check.virtual_servers.retain(|vs| {
        let Service::Group(g) = &vs.service else {
            return true;
        };
        if groups.iter().any(|x| &x.name == g) {
            return true;
        }
        problems.push(
            Problem::new(
                Some(vs.at),
                Kind::Advice,
                format!(
                    "Virtual server group {g} specified but not configured - ignoring virtual server {}",
                    name(vs)
                ),
            )
            .effect("keepalived drops the virtual server and says so only in its log")
            .hint("define the virtual_server_group, or fix the name"),
        );
        false
    });
}
