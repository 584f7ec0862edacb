//! What a configuration means, printed: the virtual servers with keepalived's defaults filled
//! in, in keepalived.conf's own syntax.

use crate::check::{
    checker, Family, Forwarding, GroupEntry, Service, TunnelChecksum, TunnelKind, VirtualServer,
};
use crate::global::Global;
use crate::vrrp::{Address, AuthType, Instance, State, Tracked, Vrrp};
use crate::Config;
use std::fmt::Write;

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
    if us.is_multiple_of(1_000_000) {
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
