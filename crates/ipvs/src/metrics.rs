//! The IPVS table as Prometheus metrics, in the text exposition format: per service and per
//! destination the kernel's 64-bit counters (`_total`), its rates (per second), and per
//! destination its weight and connections. Labels follow node_exporter's IPVS collector
//! (`local_address`, `local_port`, `local_mark`, `proto`, `remote_address`, `remote_port`),
//! so dashboards made for it read these too.

use std::fmt::Write;

use crate::model::{Destination, ServiceKey, Stats};
use crate::table::Table;

/// One metric family: its name, type and help, and how to read it off a set of counters.
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    value: fn(&Stats) -> u64,
}

const STATS: &[Family] = &[
    Family {
        name: "connections_total",
        kind: "counter",
        help: "Connections scheduled",
        value: |s| s.conns,
    },
    Family {
        name: "incoming_packets_total",
        kind: "counter",
        help: "Packets in",
        value: |s| s.inpkts,
    },
    Family {
        name: "outgoing_packets_total",
        kind: "counter",
        help: "Packets out",
        value: |s| s.outpkts,
    },
    Family {
        name: "incoming_bytes_total",
        kind: "counter",
        help: "Bytes in",
        value: |s| s.inbytes,
    },
    Family {
        name: "outgoing_bytes_total",
        kind: "counter",
        help: "Bytes out",
        value: |s| s.outbytes,
    },
    Family {
        name: "connections_per_second",
        kind: "gauge",
        help: "Connection rate, as the kernel estimates it",
        value: |s| s.cps,
    },
    Family {
        name: "incoming_packets_per_second",
        kind: "gauge",
        help: "Packet rate in, as the kernel estimates it",
        value: |s| s.inpps,
    },
    Family {
        name: "outgoing_packets_per_second",
        kind: "gauge",
        help: "Packet rate out, as the kernel estimates it",
        value: |s| s.outpps,
    },
    Family {
        name: "incoming_bytes_per_second",
        kind: "gauge",
        help: "Byte rate in, as the kernel estimates it",
        value: |s| s.inbps,
    },
    Family {
        name: "outgoing_bytes_per_second",
        kind: "gauge",
        help: "Byte rate out, as the kernel estimates it",
        value: |s| s.outbps,
    },
];

/// A gauge of a destination's besides its counters: name, help, value.
type Gauge = (&'static str, &'static str, fn(&Destination) -> u64);

/// What a destination has besides its counters.
const DESTINATION: &[Gauge] = &[
    ("weight", "Scheduling weight (0: no new connections)", |d| {
        u64::from(d.weight)
    }),
    ("active_connections", "Connections established", |d| {
        u64::from(d.active_conns)
    }),
    (
        "inactive_connections",
        "Connections in any other state",
        |d| u64::from(d.inactive_conns),
    ),
    ("persistent_connections", "Persistence templates", |d| {
        u64::from(d.persistent_conns)
    }),
];

/// A label value as the exposition format quotes it.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The labels that name a service (also for metrics about it kept elsewhere, as lvsd's).
pub fn service_labels(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => format!(
            "local_address={},local_port=\"{port}\",local_mark=\"\",proto=\"{protocol}\"",
            quote(&addr.to_string())
        ),
        ServiceKey::Fwmark { mark, .. } => {
            format!("local_address=\"\",local_port=\"0\",local_mark=\"{mark}\",proto=\"\"")
        }
    }
}

/// The table's metrics, every family with its `# HELP` and `# TYPE`, under `prefix` (as
/// `ipvs`), in the table's order.
pub fn exposition(table: &Table, prefix: &str) -> String {
    let mut out = String::new();
    for (scope, of_services) in [("service", true), ("destination", false)] {
        for f in STATS {
            let name = format!("{prefix}_{scope}_{}", f.name);
            let _ = writeln!(out, "# HELP {name} {} ({scope}).", f.help);
            let _ = writeln!(out, "# TYPE {name} {}", f.kind);
            for e in &table.entries {
                let labels = service_labels(&e.service.key);
                if of_services {
                    let _ = writeln!(out, "{name}{{{labels}}} {}", (f.value)(&e.service.stats));
                    continue;
                }
                for d in &e.dests {
                    let _ = writeln!(
                        out,
                        "{name}{{{labels},{}}} {}",
                        destination_labels(d),
                        (f.value)(&d.stats)
                    );
                }
            }
        }
    }
    for (field, help, value) in DESTINATION {
        let name = format!("{prefix}_destination_{field}");
        let _ = writeln!(out, "# HELP {name} {help}.");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for e in &table.entries {
            let labels = service_labels(&e.service.key);
            for d in &e.dests {
                let _ = writeln!(
                    out,
                    "{name}{{{labels},{}}} {}",
                    destination_labels(d),
                    value(d)
                );
            }
        }
    }
    out
}

/// The labels that tell a destination from the others of its service.
pub fn destination_labels(d: &Destination) -> String {
    format!(
        "remote_address={},remote_port=\"{}\"",
        quote(&d.addr.to_string()),
        d.port
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Family as IpFamily, Protocol, Service};
    use crate::table::Entry;
    use std::collections::BTreeSet;

    fn table() -> Table {
        let mut web = Service::new(ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: "192.0.2.1".parse().unwrap(),
            port: 80,
        });
        web.stats.conns = u64::MAX;
        web.stats.inbytes = 1 << 40;
        let mut d = Destination::new("2001:db8::2".parse().unwrap(), 8080);
        d.weight = 3;
        d.active_conns = 7;
        d.stats.outbytes = 123_456_789_012;
        let mark = Service::new(ServiceKey::Fwmark {
            family: IpFamily::V4,
            mark: 9,
        });
        Table {
            entries: vec![
                Entry {
                    service: web,
                    dests: vec![d],
                },
                Entry {
                    service: mark,
                    dests: Vec::new(),
                },
            ],
            config: None,
        }
    }

    /// What promtool's linter and the exposition format ask: each family declared once with
    /// HELP then TYPE before its samples, counters ending in `_total`, legal names, label
    /// values quoted, values integers.
    #[test]
    fn the_exposition_is_well_formed() {
        let text = exposition(&table(), "ipvs");
        let mut declared = BTreeSet::new();
        let mut current = String::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap();
                assert!(declared.insert(name.to_string()), "{name} declared twice");
                current = name.to_string();
                continue;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert_eq!(name, current, "TYPE without its HELP");
                assert_eq!(kind == "counter", name.ends_with("_total"), "{line}");
                continue;
            }
            let (name, rest) = line.split_once('{').unwrap();
            assert_eq!(name, current, "a sample outside its family: {line}");
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            let (labels, value) = rest.rsplit_once("} ").unwrap();
            for pair in labels.split(',') {
                let (k, v) = pair.split_once('=').unwrap();
                assert!(k.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{k}");
                assert!(v.starts_with('"') && v.ends_with('"'), "{pair}");
            }
            value.parse::<u64>().unwrap();
        }
        assert!(text.contains(
            "ipvs_service_connections_total{local_address=\"192.0.2.1\",local_port=\"80\",local_mark=\"\",proto=\"tcp\"} 18446744073709551615"
        ));
        assert!(text.contains("ipvs_destination_outgoing_bytes_total{local_address=\"192.0.2.1\",local_port=\"80\",local_mark=\"\",proto=\"tcp\",remote_address=\"2001:db8::2\",remote_port=\"8080\"} 123456789012"));
        assert!(text.contains("ipvs_destination_weight{local_address=\"192.0.2.1\",local_port=\"80\",local_mark=\"\",proto=\"tcp\",remote_address=\"2001:db8::2\",remote_port=\"8080\"} 3"));
        assert!(text.contains("ipvs_service_connections_total{local_address=\"\",local_port=\"0\",local_mark=\"9\",proto=\"\"} 0"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
