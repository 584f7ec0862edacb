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
use crate::lvsd_view::{Real, View};
use crate::view;

/// The `version` of the JSON document; raised only for changes that break readers.
const SCHEMA_VERSION: u32 = 1;

/// `netns` names the namespace shown (`--netns`), whose lvsd (if one runs) is asked what it
/// holds down and its VRRP state.
pub fn show(json: bool, prometheus: bool, watch: Option<u64>, netns: Option<&str>) -> Result<i32> {
    let mut client = reach::open()?;
    let Some(seconds) = watch else {
        let table = Table::read(&mut client)?;
        let lvsd = View::ask(netns);
        if prometheus {
            io::stdout().write_all(ipvs::metrics::exposition(&table, "ipvs").as_bytes())?;
        } else if json {
            view::print_json(&document(&table, lvsd.as_ref()))?;
        } else {
            print_vrrp(&mut io::stdout().lock(), lvsd.as_ref())?;
            view::print_table(&human(&table, lvsd.as_ref()))?;
        }
        return Ok(0);
    };
    loop {
        let table = Table::read(&mut client)?;
        let lvsd = View::ask(netns);
        let mut out = io::stdout().lock();
        if json {
            // One document a line (JSON Lines), so a reader can take each as it comes.
            serde_json::to_writer(&mut out, &document(&table, lvsd.as_ref()))?;
            writeln!(out)?;
        } else {
            // Home the cursor and clear the screen, as top and watch do.
            write!(out, "\x1b[H\x1b[2J")?;
            writeln!(
                out,
                "lvsadm show: every {seconds} s, rates per second (Ctrl-C to stop)\n"
            )?;
            print_vrrp(&mut out, lvsd.as_ref())?;
            for line in human(&table, lvsd.as_ref()).to_string().lines() {
                writeln!(out, "{}", line.trim_end())?;
            }
        }
        out.flush()?;
        std::thread::sleep(Duration::from_secs(seconds.max(1)));
    }
}

/// The VRRP instances of the namespace's lvsd, a line each, before the table.
fn print_vrrp(out: &mut impl Write, lvsd: Option<&View>) -> io::Result<()> {
    let lines = lvsd.map(View::vrrp_lines).unwrap_or_default();
    for l in &lines {
        writeln!(out, "{l}")?;
    }
    if !lines.is_empty() {
        writeln!(out)?;
    }
    Ok(())
}

/// What lvsd says of a destination of `service`, for the table's last column.
fn lvsd_mark(lvsd: &View, service: &str, dest: &str) -> String {
    match lvsd.reals.get(&(service.to_string(), dest.to_string())) {
        Some(Real { alive: true, .. }) => "up".into(),
        // Down yet in the table: kept at weight 0 (inhibit_on_failure).
        Some(Real { failure, .. }) => format!("inhibited: {}", failure.as_deref().unwrap_or("down")),
        None => String::new(),
    }
}

fn human(table: &Table, lvsd: Option<&View>) -> prettytable::Table {
    let mut rows = Vec::new();
    for Entry { service, dests } in &table.entries {
        let active: u64 = dests.iter().map(|d| u64::from(d.active_conns)).sum();
        let inactive: u64 = dests.iter().map(|d| u64::from(d.inactive_conns)).sum();
        let mut sched = service.scheduler.clone();
        if service.flags.contains(ServiceFlags::PERSISTENT) {
            sched += &format!(" persist {}s", service.timeout);
        }
        let mut service_row = row(
            service_name(&service.key),
            sched,
            String::new(),
            active,
            inactive,
            &service.stats,
        );
        if lvsd.is_some() {
            service_row.push(String::new());
        }
        rows.push(service_row);
        let key = service.key.to_string();
        let mut present = Vec::new();
        for d in dests {
            let addr = SocketAddrDisplay(&d.addr, d.port).to_string();
            let mut r = row(
                format!("  -> {addr}"),
                forward_name(d.forward).to_string(),
                d.weight.to_string(),
                u64::from(d.active_conns),
                u64::from(d.inactive_conns),
                &d.stats,
            );
            if let Some(v) = lvsd {
                r.push(lvsd_mark(v, &key, &addr));
            }
            rows.push(r);
            present.push(addr);
        }
        if let Some(v) = lvsd {
            for (addr, real) in v.held_down(&key, &present) {
                let why = real.failure.as_deref().unwrap_or("down");
                let mut r = vec![format!("  -> {addr}"), String::new(), "-".into()];
                r.extend(std::iter::repeat_n(String::new(), 5));
                r.push(format!("held down: {why}"));
                rows.push(r);
            }
        }
    }
    let mut heads = vec![
        "SERVICE",
        "SCHEDULER/FORWARD",
        "WEIGHT",
        "ACTIVE",
        "INACTIVE",
        "CONN/S",
        "IN",
        "OUT",
    ];
    if lvsd.is_some() {
        heads.push("LVSD");
    }
    view::table(&heads, rows)
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
    /// lvsd's VRRP instances, when an lvsd answers for the namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    vrrp_instances: Option<Vec<serde_json::Value>>,
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
    /// Real servers lvsd took out of the table, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    held_down: Vec<HeldDown>,
}

#[derive(Serialize)]
struct HeldDown {
    address: String,
    failure: Option<String>,
}

#[derive(Serialize)]
struct LvsdJson {
    alive: bool,
    failure: Option<String>,
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
    /// What lvsd says of it, when an lvsd answers and checks it.
    #[serde(skip_serializing_if = "Option::is_none")]
    lvsd: Option<LvsdJson>,
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

fn document(table: &Table, lvsd: Option<&View>) -> Document {
    Document {
        version: SCHEMA_VERSION,
        services: table
            .entries
            .iter()
            .map(|e| service_json(&e.service, &e.dests, lvsd))
            .collect(),
        vrrp_instances: lvsd.map(|v| v.vrrp.clone()).filter(|v| !v.is_empty()),
    }
}

fn service_json(s: &Service, dests: &[Destination], lvsd: Option<&View>) -> ServiceJson {
    let key = s.key.to_string();
    let addr = |d: &Destination| SocketAddrDisplay(&d.addr, d.port).to_string();
    let present: Vec<String> = dests.iter().map(addr).collect();
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
                lvsd: lvsd
                    .and_then(|v| v.reals.get(&(key.clone(), addr(d))))
                    .map(|r| LvsdJson {
                        alive: r.alive,
                        failure: r.failure.clone(),
                    }),
            })
            .collect(),
        held_down: lvsd
            .map(|v| {
                v.held_down(&key, &present)
                    .map(|(a, r)| HeldDown {
                        address: a.to_string(),
                        failure: r.failure.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
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

    /// A table of one service with two destinations, and lvsd's word on three real servers:
    /// one up, one down but kept (inhibited), one down and taken out.
    fn director() -> (Table, View) {
        use ipvs::{Protocol, Service};
        let key = ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: "192.0.2.1".parse().unwrap(),
            port: 80,
        };
        let mut kept = Destination::new("192.0.2.3".parse().unwrap(), 80);
        kept.weight = 0;
        let table = Table {
            entries: vec![Entry {
                service: Service::new(key),
                dests: vec![Destination::new("192.0.2.2".parse().unwrap(), 80), kept],
            }],
            config: None,
        };
        let service = key.to_string();
        let status = serde_json::json!({
            "virtual_servers": [{
                "name": "web",
                "services": [service],
                "real_servers": [
                    {"address": "192.0.2.2:80", "alive": true, "checks": []},
                    {"address": "192.0.2.3:80", "alive": false, "checks": [{"failure": "HTTP 500 from /"}]},
                    {"address": "192.0.2.4:80", "alive": false, "checks": [{"failure": "connect timeout after 3 s"}]}
                ]
            }],
            "vrrp_instances": [{"name": "VI_1", "vrid": 51, "interface": "eth0", "state": "MASTER",
                                "priority": 150, "configured_priority": 150, "master": "192.0.2.1"}]
        });
        (table, View::from_status(&status).unwrap())
    }

    #[test]
    fn lvsds_word_marks_the_table() {
        let (table, lvsd) = director();
        let text = human(&table, Some(&lvsd)).to_string();
        let line = |dest: &str| text.lines().find(|l| l.contains(dest)).unwrap().to_string();
        assert!(line("192.0.2.2:80").trim_end().ends_with("up"), "{text}");
        assert!(line("192.0.2.3:80").contains("inhibited: HTTP 500 from /"), "{text}");
        assert!(line("192.0.2.4:80").contains("held down: connect timeout after 3 s"), "{text}");
        assert_eq!(
            lvsd.vrrp_lines(),
            ["VRRP VI_1 (vrid 51 on eth0): MASTER priority 150 (configured 150), master 192.0.2.1"]
        );
        // Without lvsd the table has no column for it.
        assert!(!human(&table, None).to_string().contains("LVSD"));
    }

    #[test]
    fn lvsds_word_is_in_the_json() {
        let (table, lvsd) = director();
        let doc = serde_json::to_value(document(&table, Some(&lvsd))).unwrap();
        let s = &doc["services"][0];
        assert_eq!(s["destinations"][0]["lvsd"], serde_json::json!({"alive": true, "failure": null}));
        assert_eq!(s["destinations"][1]["lvsd"]["failure"], "HTTP 500 from /");
        assert_eq!(s["held_down"][0]["address"], "192.0.2.4:80");
        assert_eq!(doc["vrrp_instances"][0]["state"], "MASTER");
        let bare = serde_json::to_value(document(&table, None)).unwrap();
        assert!(bare.get("vrrp_instances").is_none() && bare["services"][0].get("held_down").is_none());
        assert!(bare["services"][0]["destinations"][0].get("lvsd").is_none());
    }
}
