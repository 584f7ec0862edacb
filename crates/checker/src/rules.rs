//! The table a configuration starts with, as `lvsadm -S -n` (and `ipvsadm -S -n`) writes it.

use std::fmt::Write;
use std::net::Ipv4Addr;

use ipvs::table::Entry;
use ipvs::{ForwardMethod, Protocol, ServiceFlags, ServiceKey, SocketAddrDisplay, TunnelType};
use keepalived::Config;

use crate::Machine;

/// The IPVS rules keepalived programs when it starts, before its first check: every real
/// server alive but those whose checkers start down (`alpha`, `BFD_CHECK`), an
/// `inhibit_on_failure` one among those at weight 0, and the sorry server in the pool's place
/// when the others' weights do not make the quorum (or at weight 0 beside them with
/// `sorry_server_inhibit`).
pub fn rules(config: &Config) -> String {
    let mut n = 0usize;
    let start = Machine::new(config, 0, 1, |_, _, _| {
        n += 1;
        Ok(n)
    });
    let mut out = String::new();
    if let Ok(m) = start {
        for e in m.table() {
            entry(&mut out, &e);
        }
    }
    out
}

fn entry(out: &mut String, e: &Entry) {
    let s = &e.service;
    let name = match s.key {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => {
            let switch = match protocol {
                Protocol::Udp => "-u",
                Protocol::Sctp => "--sctp-service",
                _ => "-t",
            };
            format!("{switch} {}", SocketAddrDisplay(&addr, port))
        }
        ServiceKey::Fwmark { family, mark } => match family {
            ipvs::Family::V6 => format!("-f {mark} -6"),
            ipvs::Family::V4 => format!("-f {mark}"),
        },
    };
    let _ = write!(out, "-A {name} -s {}", s.scheduler);
    if s.persistent() {
        let _ = write!(out, " -p {}", s.timeout);
        match s.key.family() {
            ipvs::Family::V4 if s.netmask != u32::MAX => {
                let _ = write!(out, " -M {}", Ipv4Addr::from(s.netmask));
            }
            ipvs::Family::V6 if s.netmask != 128 => {
                let _ = write!(out, " -M {}", s.netmask);
            }
            _ => {}
        }
    }
    if let Some(pe) = &s.pe_name {
        let _ = write!(out, " --pe {pe}");
    }
    if s.flags.contains(ServiceFlags::ONEPACKET) {
        out.push_str(" -o");
    }
    let names: Vec<&str> = ipvs::names::flags_of(&s.scheduler)
        .iter()
        .filter(|f| s.flags.0 & f.bit != 0)
        .map(|f| f.name)
        .collect();
    if !names.is_empty() {
        let _ = write!(out, " -b {}", names.join(","));
    }
    out.push('\n');
    for d in e.dests.iter().rev() {
        let switch = match d.forward {
            ForwardMethod::DirectRoute => "-g",
            ForwardMethod::Tunnel => "-i",
            _ => "-m",
        };
        let _ = write!(
            out,
            "-a {name} -r {} {switch} -w {}",
            SocketAddrDisplay(&d.addr, d.port),
            d.weight
        );
        if d.forward == ForwardMethod::Tunnel {
            let csum = match d.tunnel_flags.0 {
                ipvs::TunnelFlags::CSUM => "--tun-csum",
                ipvs::TunnelFlags::REMCSUM => "--tun-remcsum",
                _ => "--tun-nocsum",
            };
            match d.tunnel_type {
                TunnelType::Gue => {
                    let _ = write!(out, " --tun-type gue --tun-port {} {csum}", d.tunnel_port);
                }
                TunnelType::Gre => {
                    let _ = write!(out, " --tun-type gre {csum}");
                }
                _ => out.push_str(" --tun-type ipip"),
            }
        }
        out.push('\n');
    }
}
