//! What a configuration means, printed: the virtual servers with keepalived's defaults filled
//! in, in keepalived.conf's own syntax, and the IPVS rules keepalived programs for them when it
//! starts, in `lvsadm -S -n` form (so `lvsadm diff` compares them with a live table).

use crate::check::{
    checker, Family, Forwarding, GroupEntry, Protocol, Service, TunnelChecksum, TunnelKind,
    VirtualServer,
};
use crate::global::Global;
use crate::vrrp::{Address, AuthType, Instance, State, Tracked, Vrrp};
use crate::Config;
use std::fmt::Write;
use std::net::IpAddr;

/// The effective configuration: what lvsd runs with.
pub fn effective(config: &Config) -> String {
    let mut out = String::new();
    global(&config.global, &mut out);
    vrrp(&config.vrrp, &mut out);
    for g in &config.check.groups {
        let _ = writeln!(out, "virtual_server_group {} {{", g.name);
        for e in &g.entries {
            match e {
                GroupEntry::Range {
                    first, last, port, ..
                } if first == last => {
                    let _ = writeln!(out, "    {first} {port}");
                }
                GroupEntry::Range {
                    first, last, port, ..
                } => {
                    let _ = writeln!(out, "    {first}-{last} {port}");
                }
                GroupEntry::Fwmark { mark, family, .. } => {
                    let f = match family {
                        Some(Family::Inet) => " inet",
                        Some(Family::Inet6) => " inet6",
                        None => "",
                    };
                    let _ = writeln!(out, "    fwmark {mark}{f}");
                }
            }
        }
        out.push_str("}\n");
    }
    for vs in &config.check.virtual_servers {
        virtual_server(&mut out, vs);
    }
    out
}

fn global(g: &Global, out: &mut String) {
    let mut lines = Vec::new();
    if let Some(r) = &g.router_id {
        lines.push(format!("router_id {r}"));
    }
    if g.enable_script_security {
        lines.push("enable_script_security".to_string());
    }
    if let Some((user, group)) = &g.script_user {
        lines.push(format!(
            "script_user {user}{}",
            group.as_deref().map_or(String::new(), |g| format!(" {g}"))
        ));
    }
    if let Some(v) = g.vrrp_version {
        lines.push(format!("vrrp_version {v}"));
    }
    if g.vrrp_strict {
        lines.push("vrrp_strict".to_string());
    }
    for (name, group) in [
        ("vrrp_mcast_group4", g.vrrp_mcast_group4),
        ("vrrp_mcast_group6", g.vrrp_mcast_group6),
    ] {
        if let Some(a) = group {
            lines.push(format!("{name} {a}"));
        }
    }
    if lines.is_empty() {
        return;
    }
    out.push_str("global_defs {\n");
    for l in lines {
        let _ = writeln!(out, "    {l}");
    }
    out.push_str("}\n");
}

fn vrrp(v: &Vrrp, out: &mut String) {
    for group in &v.sync_groups {
        let _ = writeln!(out, "vrrp_sync_group {} {{", group.name);
        let _ = writeln!(out, "    group {{ {} }}", group.group.join(" "));
        out.push_str("}\n");
    }
    for i in &v.instances {
        instance(i, out);
    }
}

fn instance(i: &Instance, out: &mut String) {
    let _ = writeln!(out, "vrrp_instance {} {{", i.name);
    let mut line = |k: &str, v: String| {
        let _ = writeln!(out, "    {k} {v}");
    };
    let state = match i.state {
        Some(State::Master) => "MASTER",
        _ => "BACKUP",
    };
    line("state", state.into());
    if let Some(dev) = &i.interface {
        line("interface", dev.clone());
    }
    if let Some(id) = i.virtual_router_id {
        line("virtual_router_id", id.to_string());
    }
    if let Some(p) = i.priority {
        line("priority", p.to_string());
    }
    if let Some(a) = i.advert_int {
        line("advert_int", secs(a));
    }
    if let Some(v) = i.version {
        line("version", v.to_string());
    }
    if let Some(src) = i.src_ip {
        line(
            if i.unicast_configured {
                "unicast_src_ip"
            } else {
                "mcast_src_ip"
            },
            src.to_string(),
        );
    }
    if i.nopreempt {
        let _ = writeln!(out, "    nopreempt");
    }
    if let Some(d) = i.preempt_delay {
        let _ = writeln!(out, "    preempt_delay {}", secs(d));
    }
    if let Some(t) = i.auth_type {
        let kind = match t {
            AuthType::Pass => "PASS",
            AuthType::Ah => "AH",
        };
        let _ = writeln!(out, "    authentication {{\n        auth_type {kind}");
        if let Some(p) = &i.auth_pass {
            let _ = writeln!(out, "        auth_pass {p}");
        }
        out.push_str("    }\n");
    }
    let peers: Vec<String> = i
        .unicast_peers
        .iter()
        .filter_map(|p| p.address.map(|a| a.to_string()))
        .collect();
    if !peers.is_empty() {
        let _ = writeln!(out, "    unicast_peer {{ {} }}", peers.join(" "));
    }
    addresses(out, "virtual_ipaddress", &i.vips, i.interface.as_deref());
    addresses(
        out,
        "virtual_ipaddress_excluded",
        &i.excluded_vips,
        i.interface.as_deref(),
    );
    tracked(out, "track_interface", &i.track_interfaces);
    tracked(out, "track_script", &i.track_scripts);
    tracked(out, "track_file", &i.track_files);
    for (name, script) in [
        ("notify_master", &i.notify.master),
        ("notify_backup", &i.notify.backup),
        ("notify_fault", &i.notify.fault),
        ("notify_stop", &i.notify.stop),
        ("notify", &i.notify.any),
    ] {
        if let Some(s) = script {
            let _ = writeln!(out, "    {name} \"{s}\"");
        }
    }
    out.push_str("}\n");
}

/// An instance's addresses, each with the device it goes on (the instance's, when none is
/// given).
fn addresses(out: &mut String, block: &str, list: &[Address], interface: Option<&str>) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(out, "    {block} {{");
    for a in list {
        let _ = write!(out, "        {}/{}", a.address, a.prefix);
        if let Some(b) = a.broadcast {
            let _ = write!(out, " brd {b}");
        }
        if let Some(dev) = a.dev.as_deref().or(interface) {
            let _ = write!(out, " dev {dev}");
        }
        if let Some(scope) = &a.scope {
            let _ = write!(out, " scope {scope}");
        }
        if let Some(label) = &a.label {
            let _ = write!(out, " label {label}");
        }
        out.push('\n');
    }
    out.push_str("    }\n");
}

fn tracked(out: &mut String, block: &str, list: &[Tracked]) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(out, "    {block} {{");
    for t in list {
        let _ = write!(out, "        {}", t.name);
        if let Some(w) = t.weight {
            let _ = write!(
                out,
                " weight {w}{}",
                if t.reverse { " reverse" } else { "" }
            );
        }
        out.push('\n');
    }
    out.push_str("    }\n");
}

fn secs(us: u64) -> String {
    if us % 1_000_000 == 0 {
        (us / 1_000_000).to_string()
    } else {
        let s = format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
        s.trim_end_matches('0').to_string()
    }
}

fn forwarding(f: Option<Forwarding>) -> String {
    match f {
        None => "NAT".to_string(),
        Some(Forwarding::Nat) => "NAT".to_string(),
        Some(Forwarding::Dr) => "DR".to_string(),
        Some(Forwarding::Tun {
            kind,
            port,
            checksum,
        }) => {
            let mut s = String::from("TUN");
            match kind {
                TunnelKind::Ipip => {}
                TunnelKind::Gue => {
                    let _ = write!(s, " type gue port {port}");
                }
                TunnelKind::Gre => s.push_str(" type gre"),
            }
            match checksum {
                TunnelChecksum::NoCsum => {}
                TunnelChecksum::Csum => s.push_str(" csum"),
                TunnelChecksum::RemCsum => s.push_str(" remcsum"),
            }
            s
        }
    }
}

fn virtual_server(out: &mut String, vs: &VirtualServer) {
    let head = match &vs.service {
        Service::Address { addr, port } => format!("{addr} {port}"),
        Service::Fwmark(m) => format!("fwmark {m}"),
        Service::Group(g) => format!("group {g}"),
    };
    let _ = writeln!(out, "virtual_server {head} {{");
    let mut line = |k: &str, v: String| {
        let _ = writeln!(out, "    {k} {v}");
    };
    if let Some(f) = vs.family {
        line(
            "ip_family",
            match f {
                Family::Inet => "inet",
                Family::Inet6 => "inet6",
            }
            .into(),
        );
    }
    if let Some(p) = vs.protocol {
        line("protocol", p.name().into());
    }
    if let Some(s) = &vs.scheduler {
        line("lb_algo", s.clone());
    }
    line("lb_kind", forwarding(vs.forwarding));
    if let Some(t) = vs.persistence_timeout {
        line("persistence_timeout", t.to_string());
    }
    if let Some(g) = &vs.persistence_granularity {
        line("persistence_granularity", g.clone());
    }
    if let Some(e) = &vs.persistence_engine {
        line("persistence_engine", e.clone());
    }
    line("delay_loop", secs(vs.delay_loop));
    line("connect_timeout", secs(vs.connect_timeout));
    line("quorum", vs.quorum.to_string());
    line("hysteresis", vs.hysteresis.to_string());
    for f in &vs.flags {
        let _ = writeln!(out, "    {f}");
    }
    for (on, name) in [
        (vs.alpha, "alpha"),
        (vs.omega, "omega"),
        (vs.inhibit_on_failure, "inhibit_on_failure"),
        (vs.ha_suspend, "ha_suspend"),
    ] {
        if on {
            let _ = writeln!(out, "    {name}");
        }
    }
    if let Some(s) = &vs.sorry_server {
        let _ = writeln!(out, "    sorry_server {} {}", s.addr, s.port);
        let _ = writeln!(
            out,
            "    sorry_server_lvs_method {}",
            forwarding(s.forwarding)
        );
        if s.inhibit {
            let _ = writeln!(out, "    sorry_server_inhibit");
        }
    }
    for rs in &vs.real_servers {
        let _ = writeln!(out, "    real_server {} {} {{", rs.addr, rs.port);
        let _ = writeln!(out, "        weight {}", rs.weight.unwrap_or(vs.weight));
        let _ = writeln!(out, "        lvs_method {}", forwarding(rs.forwarding));
        if rs.inhibit_on_failure == Some(true) {
            let _ = writeln!(out, "        inhibit_on_failure");
        }
        if rs.alpha == Some(true) {
            let _ = writeln!(out, "        alpha");
        }
        if rs.uthreshold != 0 {
            let _ = writeln!(out, "        uthreshold {}", rs.uthreshold);
        }
        if rs.lthreshold != 0 {
            let _ = writeln!(out, "        lthreshold {}", rs.lthreshold);
        }
        for c in &rs.checkers {
            checker::print(c, out, "        ");
        }
        out.push_str("    }\n");
    }
    out.push_str("}\n");
}

/// The IPVS rules keepalived programs when it starts, before its first check, as
/// `lvsadm -S -n` writes them: every real server alive but those whose checkers start down
/// (`alpha`, `BFD_CHECK`), an `inhibit_on_failure` one among those at weight 0, and the sorry
/// server in the pool's place when the others' weights do not make the quorum (or at weight
/// 0 beside them with `sorry_server_inhibit`). A virtual server defined twice programs the
/// first's settings (the kernel refuses the second), and a destination named twice, the first.
pub fn rules(config: &Config) -> String {
    let mut out = String::new();
    let mut services = std::collections::HashSet::new();
    let mut dests = std::collections::HashSet::new();
    for vs in &config.check.virtual_servers {
        let start = at_start(vs);
        for name in service_names(config, vs) {
            if services.insert(name.clone()) {
                service_rule(&mut out, vs, &name);
            }
            // A firewall-mark service forwards to a real server's port only by NAT.
            let fwmark = name.starts_with("-f ");
            for d in &start {
                let port = if fwmark && d.forwarding != Some(Forwarding::Nat) {
                    0
                } else {
                    d.port
                };
                if !dests.insert((name.clone(), d.addr, port)) {
                    continue;
                }
                let _ = write!(
                    out,
                    "-a {name} -r {} {} -w {}",
                    addr_port(&d.addr, port),
                    switch(d.forwarding),
                    d.weight
                );
                tunnel(&mut out, d.forwarding);
                out.push('\n');
            }
        }
    }
    out
}

/// A destination as keepalived first programs it.
struct Start {
    addr: IpAddr,
    port: u16,
    weight: u32,
    forwarding: Option<Forwarding>,
}

fn at_start(vs: &VirtualServer) -> Vec<Start> {
    let mut out = Vec::new();
    // With each, whether it is alive and whether it is inhibited (kept at weight 0) rather
    // than removed.
    let mut states = Vec::new();
    let mut live_weight: u64 = 0;
    for rs in &vs.real_servers {
        let down = rs
            .checkers
            .iter()
            .any(|c| c.alpha == Some(true) || matches!(c.method, checker::Method::Bfd(_)));
        let inhibit = rs.inhibit_on_failure == Some(true);
        let weight = rs.weight.unwrap_or(vs.weight);
        if !down {
            live_weight += u64::from(weight);
        } else if !inhibit {
            continue;
        }
        out.push(Start {
            addr: rs.addr,
            port: rs.port,
            weight: if down { 0 } else { weight },
            forwarding: rs.forwarding,
        });
        states.push((!down, inhibit));
    }
    let Some(sorry) = &vs.sorry_server else {
        return out;
    };
    let sorry_start = |weight| Start {
        addr: sorry.addr,
        port: sorry.port,
        weight,
        forwarding: sorry.forwarding,
    };
    if live_weight < u64::from(vs.quorum) + u64::from(vs.hysteresis) {
        // Starting with the quorum down: the live servers make way for the sorry server,
        // the inhibited ones by going to weight 0.
        let mut kept = Vec::new();
        for (mut d, (alive, inhibit)) in out.into_iter().zip(states) {
            if alive && !inhibit {
                continue;
            }
            d.weight = 0;
            kept.push(d);
        }
        out = kept;
        out.push(sorry_start(1));
    } else if sorry.inhibit
        && !vs
            .real_servers
            .iter()
            .any(|rs| rs.addr == sorry.addr && rs.port == sorry.port)
    {
        out.push(sorry_start(0));
    }
    out
}

fn addr_port(addr: &IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

fn proto_switch(p: Option<Protocol>) -> &'static str {
    match p {
        Some(Protocol::Udp) => "-u",
        Some(Protocol::Sctp) => "--sctp-service",
        _ => "-t",
    }
}

/// How `-S` names each IPVS service a virtual server makes (a group makes one per address
/// and fwmark).
fn service_names(config: &Config, vs: &VirtualServer) -> Vec<String> {
    let fwmark = |mark: u32, family: Option<Family>| match family.or(vs.family) {
        Some(Family::Inet6) => format!("-f {mark} -6"),
        _ => format!("-f {mark}"),
    };
    match &vs.service {
        Service::Address { addr, port } => {
            vec![format!(
                "{} {}",
                proto_switch(vs.protocol),
                addr_port(addr, *port)
            )]
        }
        Service::Fwmark(m) => vec![fwmark(*m, None)],
        Service::Group(g) => {
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
                        // keepalived makes one service per address; lvsd prints at most
                        // 65,536 of a range (the reading says when a range is larger).
                        for n in a..=b.min(a.saturating_add(MAX_RANGE - 1)) {
                            let addr = match first {
                                IpAddr::V4(_) => IpAddr::V4((n as u32).into()),
                                IpAddr::V6(_) => IpAddr::V6(n.into()),
                            };
                            out.push(format!(
                                "{} {}",
                                proto_switch(vs.protocol),
                                addr_port(&addr, *port)
                            ));
                        }
                    }
                }
            }
            out
        }
    }
}

/// The most services of one group range printed.
pub const MAX_RANGE: u128 = 65_536;

fn bits(a: &IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(*v)),
        IpAddr::V6(v) => u128::from(*v),
    }
}

fn service_rule(out: &mut String, vs: &VirtualServer, name: &str) {
    let _ = write!(
        out,
        "-A {name} -s {}",
        vs.scheduler.as_deref().unwrap_or("wlc")
    );
    if let Some(t) = vs.persistence_timeout {
        let _ = write!(out, " -p {t}");
        if let Some(g) = &vs.persistence_granularity {
            let _ = write!(out, " -M {g}");
        }
    }
    if let Some(pe) = &vs.persistence_engine {
        let _ = write!(out, " --pe {pe}");
    }
    if vs.flags.contains(&"ops") {
        out.push_str(" -o");
    }
    // keepalived's flag names are bits to the kernel, which ipvsadm names after the service's
    // scheduler, in the order of the bits.
    let bits = vs.flags.iter().fold(0, |bits, f| {
        bits | match *f {
            "flag-1" | "sh-fallback" | "mh-fallback" => ipvs::ServiceFlags::SCHED1,
            "flag-2" | "sh-port" | "mh-port" => ipvs::ServiceFlags::SCHED2,
            "flag-3" => ipvs::ServiceFlags::SCHED3,
            _ => 0,
        }
    });
    let scheduler = vs.scheduler.as_deref().unwrap_or("wlc");
    let names: Vec<&str> = ipvs::names::flags_of(scheduler)
        .iter()
        .filter(|f| bits & f.bit != 0)
        .map(|f| f.name)
        .collect();
    if !names.is_empty() {
        let _ = write!(out, " -b {}", names.join(","));
    }
    out.push('\n');
}

fn switch(f: Option<Forwarding>) -> &'static str {
    match f {
        Some(Forwarding::Dr) => "-g",
        Some(Forwarding::Tun { .. }) => "-i",
        _ => "-m",
    }
}

fn tunnel(out: &mut String, f: Option<Forwarding>) {
    let Some(Forwarding::Tun {
        kind,
        port,
        checksum,
    }) = f
    else {
        return;
    };
    let csum = match checksum {
        TunnelChecksum::NoCsum => "--tun-nocsum",
        TunnelChecksum::Csum => "--tun-csum",
        TunnelChecksum::RemCsum => "--tun-remcsum",
    };
    match kind {
        TunnelKind::Ipip => out.push_str(" --tun-type ipip"),
        TunnelKind::Gue => {
            let _ = write!(out, " --tun-type gue --tun-port {port} {csum}");
        }
        TunnelKind::Gre => {
            let _ = write!(out, " --tun-type gre {csum}");
        }
    }
}
