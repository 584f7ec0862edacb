//! `lvsadm show`: the table for people (services and their destinations with weights,
//! connections and rates in human units), `--json` for machines (full 64-bit counters, the
//! schema in docs/show.schema.json), `--prometheus` for node_exporter's textfile collector,
//! and `--watch` to refresh it in place like top.

use std::io::{self, Write};
use std::net::IpAddr;
use std::time::Duration;

use anyhow::Result;
use ipvs::{
    Destination, ForwardMethod, Service, ServiceFlags, ServiceKey, SocketAddrDisplay, Stats,
};
use serde::Serialize;

use crate::ipvsadm;
use crate::reach;
use ipvs::table::{Entry, Table};
use crate::view;

/// The `version` of the JSON document; raised only for changes that break readers.
const SCHEMA_VERSION: u32 = 1;

pub fn show(json: bool, prometheus: bool, watch: Option<u64>) -> Result<i32> {
    let mut client = reach::open()?;
    let Some(seconds) = watch else {
        let table = Table::read(&mut client)?;
        if prometheus {
            io::stdout().write_all(ipvs::metrics::exposition(&table, "ipvs").as_bytes())?;
        } else if json {
            view::print_json(&document(&table))?;
        } else {
            view::print_table(&human(&table))?;
        }
        return Ok(0);
    };
    loop {
        let table = Table::read(&mut client)?;
        let mut out = io::stdout().lock();
        if json {
            // One document a line (JSON Lines), so a reader can take each as it comes.
            serde_json::to_writer(&mut out, &document(&table))?;
            writeln!(out)?;
        } else {
            // Home the cursor and clear the screen, as top and watch do.
            write!(out, "\x1b[H\x1b[2J")?;
            writeln!(
                out,
                "lvsadm show: every {seconds} s, rates per second (Ctrl-C to stop)\n"
            )?;
            for line in human(&table).to_string().lines() {
                writeln!(out, "{}", line.trim_end())?;
            }
        }
        out.flush()?;
        std::thread::sleep(Duration::from_secs(seconds.max(1)));
    }
}

fn human(table: &Table) -> prettytable::Table {
    let mut rows = Vec::new();
    for Entry { service, dests } in &table.entries {
        let active: u64 = dests.iter().map(|d| u64::from(d.active_conns)).sum();
        let inactive: u64 = dests.iter().map(|d| u64::from(d.inactive_conns)).sum();
        let mut sched = service.scheduler.clone();
        if service.flags.contains(ServiceFlags::PERSISTENT) {
            sched += &format!(" persist {}s", service.timeout);
        }
        rows.push(row(
            service_name(&service.key),
            sched,
            String::new(),
            active,
            inactive,
            &service.stats,
        ));
        for d in dests {
            rows.push(row(
                format!("  -> {}", SocketAddrDisplay(&d.addr, d.port)),
                forward_name(d.forward).to_string(),
                d.weight.to_string(),
                u64::from(d.active_conns),
                u64::from(d.inactive_conns),
                &d.stats,
            ));
        }
    }
    view::table(
        &[
            "SERVICE",
            "SCHEDULER/FORWARD",
            "WEIGHT",
            "ACTIVE",
            "INACTIVE",
            "CONN/S",
            "IN",
            "OUT",
        ],
        rows,
    )
}

fn row(
    name: String,
    how: String,
    weight: String,
    active: u64,
    inactive: u64,
    stats: &Stats,
) -> Vec<String> {
    vec![
        name,
        how,
        weight,
        active.to_string(),
        inactive.to_string(),
        human_number(stats.cps),
        format!("{}B/s", human_number(stats.inbps)),
        format!("{}B/s", human_number(stats.outbps)),
    ]
}

/// 1234 → "1.2K": three significant figures at most, decimal prefixes as ipvsadm uses.
fn human_number(n: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    if n < 1000 {
        return n.to_string();
    }
    let mut value = n as f64;
    let mut unit = 0;
    value /= 1000.0;
    while value >= 999.5 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if value < 9.995 {
        format!("{value:.2}{}", UNITS[unit])
    } else if value < 99.95 {
        format!("{value:.1}{}", UNITS[unit])
    } else {
        format!("{value:.0}{}", UNITS[unit])
    }
}

fn service_name(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => format!(
            "{} {}",
            protocol.to_string().to_uppercase(),
            SocketAddrDisplay(addr, *port)
        ),
        ServiceKey::Fwmark { mark, family } => match family {
            ipvs::Family::V4 => format!("FWM {mark}"),
            ipvs::Family::V6 => format!("FWM {mark} IPv6"),
        },
    }
}

fn forward_name(f: ForwardMethod) -> &'static str {
    f.names().map_or("unknown", |n| n.word)
}

#[derive(Serialize)]
struct Document {
    version: u32,
    services: Vec<ServiceJson>,
}

#[derive(Serialize)]
struct ServiceJson {
    protocol: Option<String>,
    address: Option<IpAddr>,
    port: Option<u16>,
    fwmark: Option<u32>,
    family: &'static str,
    scheduler: String,
    scheduler_flags: Vec<&'static str>,
    persistence: Option<Persistence>,
    one_packet: bool,
    pe: Option<String>,
    stats: StatsJson,
    destinations: Vec<DestinationJson>,
}

#[derive(Serialize)]
struct Persistence {
    timeout: u32,
    netmask: String,
}

#[derive(Serialize)]
struct DestinationJson {
    address: IpAddr,
    port: u16,
    forward: &'static str,
    weight: u32,
    upper_threshold: u32,
    lower_threshold: u32,
    active_connections: u32,
    inactive_connections: u32,
    persistent_connections: u32,
    stats: StatsJson,
}

#[derive(Serialize)]
struct StatsJson {
    connections: u64,
    packets_in: u64,
    packets_out: u64,
    bytes_in: u64,
    bytes_out: u64,
    connections_per_second: u64,
    packets_in_per_second: u64,
    packets_out_per_second: u64,
    bytes_in_per_second: u64,
    bytes_out_per_second: u64,
}

fn document(table: &Table) -> Document {
    Document {
        version: SCHEMA_VERSION,
        services: table
            .entries
            .iter()
            .map(|e| service_json(&e.service, &e.dests))
            .collect(),
    }
}

fn service_json(s: &Service, dests: &[Destination]) -> ServiceJson {
    let (protocol, address, port, fwmark) = match s.key {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => (Some(protocol.to_string()), Some(addr), Some(port), None),
        ServiceKey::Fwmark { mark, .. } => (None, None, None, Some(mark)),
    };
    let full_mask = match s.key.family() {
        ipvs::Family::V4 => "255.255.255.255".to_string(),
        ipvs::Family::V6 => "128".to_string(),
    };
    ServiceJson {
        protocol,
        address,
        port,
        fwmark,
        family: match s.key.family() {
            ipvs::Family::V4 => "inet",
            ipvs::Family::V6 => "inet6",
        },
        scheduler: s.scheduler.clone(),
        scheduler_flags: ipvsadm::sched_flag_names(s),
        persistence: s
            .flags
            .contains(ServiceFlags::PERSISTENT)
            .then(|| Persistence {
                timeout: s.timeout,
                netmask: ipvsadm::mask_text(s).unwrap_or(full_mask),
            }),
        one_packet: s.flags.contains(ServiceFlags::ONEPACKET),
        pe: s.pe_name.clone(),
        stats: stats_json(&s.stats),
        destinations: dests
            .iter()
            .map(|d| DestinationJson {
                address: d.addr,
                port: d.port,
                forward: forward_name(d.forward),
                weight: d.weight,
                upper_threshold: d.upper_threshold,
                lower_threshold: d.lower_threshold,
                active_connections: d.active_conns,
                inactive_connections: d.inactive_conns,
                persistent_connections: d.persistent_conns,
                stats: stats_json(&d.stats),
            })
            .collect(),
    }
}

fn stats_json(s: &Stats) -> StatsJson {
    StatsJson {
        connections: s.conns,
        packets_in: s.inpkts,
        packets_out: s.outpkts,
        bytes_in: s.inbytes,
        bytes_out: s.outbytes,
        connections_per_second: s.cps,
        packets_in_per_second: s.inpps,
        packets_out_per_second: s.outpps,
        bytes_in_per_second: s.inbps,
        bytes_out_per_second: s.outbps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_numbers_keep_three_figures() {
        assert_eq!(human_number(0), "0");
        assert_eq!(human_number(999), "999");
        assert_eq!(human_number(1000), "1.00K");
        assert_eq!(human_number(1234), "1.23K");
        assert_eq!(human_number(56_789), "56.8K");
        assert_eq!(human_number(999_499), "999K");
        assert_eq!(human_number(999_500), "1.00M");
        assert_eq!(human_number(u64::MAX), "18.4E");
    }

    #[test]
    fn json_counters_are_full_64_bit() {
        let stats = Stats {
            conns: u64::MAX,
            ..Stats::default()
        };
        let text = serde_json::to_string(&stats_json(&stats)).unwrap();
        assert!(
            text.contains("\"connections\":18446744073709551615"),
            "{text}"
        );
    }
}
