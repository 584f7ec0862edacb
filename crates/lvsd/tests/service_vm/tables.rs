//! The IPVS table as the real ipvsadm lists it, and as Prometheus text, both made into the
//! same samples (`name{label="value",...}` with the labels sorted, and the value), so that
//! the scrape can be compared with ipvsadm's counters number by number.

use std::collections::BTreeMap;

use crate::net;

/// Samples by series (`name{labels sorted}`).
pub type Samples = BTreeMap<String, String>;

/// What ipvsadm prints with `args` in namespace `ns`, once two reads in a row agree: IPVS
/// resumes a dump by its position in a hash table all namespaces share, so while another
/// test changes its table a read can list an entry twice or miss one.
pub fn ipvsadm(ns: &str, args: &[&str]) -> String {
    let read = || {
        let out = net::run(ns, "ipvsadm", args);
        assert!(
            out.status.success(),
            "ipvsadm {args:?}: {}",
            net::text(&out.stderr)
        );
        net::text(&out.stdout)
    };
    let mut last = read();
    for _ in 0..20 {
        let now = read();
        if now == last {
            return now;
        }
        last = now;
    }
    panic!("ipvsadm {args:?} never read the same twice; last:\n{last}");
}

/// `ipvsadm -S -n`'s lines, sorted (the order of real servers is the kernel's).
pub fn rules(ns: &str) -> Vec<String> {
    let mut lines: Vec<String> = ipvsadm(ns, &["-S", "-n"])
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// The services of `ipvsadm -Ln --stats --exact` ("TCP  198.51.100.1:80") with their
/// connection counts.
pub fn services(stats: &str) -> Vec<(String, u64)> {
    stats
        .lines()
        .filter_map(
            |l| match l.split_whitespace().collect::<Vec<_>>().as_slice() {
                [proto @ ("TCP" | "UDP" | "SCTP" | "FWM"), addr, conns, ..] => {
                    Some((format!("{proto} {addr}"), conns.parse().ok()?))
                }
                _ => None,
            },
        )
        .collect()
}

/// The labels of a service line's "TCP  198.51.100.1:80" or "FWM  1", as the exposition
/// names them.
fn service_labels(proto: &str, addr: &str) -> Vec<(String, String)> {
    let (address, port, mark, proto) = if proto == "FWM" {
        (
            String::new(),
            "0".to_string(),
            addr.to_string(),
            String::new(),
        )
    } else {
        let (a, p) = split_addr(addr);
        (a, p, String::new(), proto.to_ascii_lowercase())
    };
    vec![
        ("local_address".into(), address),
        ("local_port".into(), port),
        ("local_mark".into(), mark),
        ("proto".into(), proto),
    ]
}

/// "192.0.2.11:80" or "[2001:db8::1]:80" as address and port.
fn split_addr(addr: &str) -> (String, String) {
    let (a, p) = addr.rsplit_once(':').expect("address:port");
    (a.trim_matches(['[', ']']).to_string(), p.to_string())
}

fn series(name: &str, labels: &[(String, String)]) -> String {
    let mut labels = labels.to_vec();
    labels.sort();
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}}", labels.join(","))
}

/// The columns of `ipvsadm -Ln --stats --exact` after the address, as the exposition names
/// the counters.
const STATS: [&str; 5] = [
    "connections_total",
    "incoming_packets_total",
    "outgoing_packets_total",
    "incoming_bytes_total",
    "outgoing_bytes_total",
];

/// The columns of `ipvsadm -Ln` after a destination's address and forwarding method.
const GAUGES: [&str; 3] = ["weight", "active_connections", "inactive_connections"];

/// What the scrape must say of the table, from ipvsadm: the counters of `stats` (`-Ln
/// --stats --exact`) and the weights and connections of `list` (`-Ln`).
pub fn expected(stats: &str, list: &str) -> Samples {
    let mut out = Samples::new();
    let mut each = |text: &str, columns: &[&str], skip: usize, of_service: bool| {
        let mut service = Vec::new();
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["->", "RemoteAddress:Port", ..] => {}
                ["->", addr, rest @ ..] => {
                    let (a, p) = split_addr(addr);
                    let mut labels = service.clone();
                    labels.push(("remote_address".into(), a));
                    labels.push(("remote_port".into(), p));
                    for (c, v) in columns.iter().zip(&rest[skip..]) {
                        out.insert(
                            series(&format!("ipvs_destination_{c}"), &labels),
                            v.to_string(),
                        );
                    }
                }
                [proto @ ("TCP" | "UDP" | "SCTP" | "FWM"), addr, rest @ ..] => {
                    service = service_labels(proto, addr);
                    if of_service {
                        for (c, v) in columns.iter().zip(rest) {
                            out.insert(
                                series(&format!("ipvs_service_{c}"), &service),
                                v.to_string(),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    };
    each(stats, &STATS, 0, true);
    // "-> 192.0.2.11:80  Masq  1  0  150": the method, then the gauges.
    each(list, &GAUGES, 1, false);
    out
}

/// The families [`expected`] covers: the scrape's samples of these must be exactly those.
pub fn compared(name: &str) -> bool {
    let scope = name
        .strip_prefix("ipvs_service_")
        .or_else(|| name.strip_prefix("ipvs_destination_"));
    scope.is_some_and(|s| STATS.contains(&s))
        || name
            .strip_prefix("ipvs_destination_")
            .is_some_and(|s| GAUGES.contains(&s))
}

/// The samples of Prometheus text (comments skipped), by series with sorted labels.
pub fn samples(text: &str) -> Samples {
    let mut out = Samples::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (name, labels, value) = match line.split_once('{') {
            Some((name, rest)) => {
                let (labels, value) = rest.rsplit_once("} ").expect(line);
                (name, parse_labels(labels), value)
            }
            None => {
                let (name, value) = line.split_once(' ').expect(line);
                (name, Vec::new(), value)
            }
        };
        let key = series(name, &labels);
        assert!(
            out.insert(key, value.to_string()).is_none(),
            "a series twice: {line}"
        );
    }
    out
}

/// `a="x",b="y \"z\""` as pairs, the values unescaped.
fn parse_labels(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"").expect(text);
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().expect(text) {
                (i, '"') => break i,
                (_, '\\') => match chars.next().expect(text).1 {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                (_, c) => value.push(c),
            }
        };
        out.push((key.to_string(), value));
        rest = after[end + 1..].trim_start_matches(',');
    }
    out
}

/// The lines of the IPVS families in Prometheus text (their HELP, TYPE and samples), a rate's
/// value masked: the kernel's estimator moves every two seconds, while the other numbers of
/// a table at rest stay.
pub fn ipvs_part(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            l.starts_with("ipvs_") || l.starts_with("# HELP ipvs_") || l.starts_with("# TYPE ipvs_")
        })
        .map(|l| match l.split_once(' ') {
            Some((series, _)) if series.contains("_per_second") && !l.starts_with('#') => {
                format!("{series} (a rate)")
            }
            _ => l.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipvsadm_lists_read_as_samples() {
        let stats = "IP Virtual Server version 1.2.1 (size=4096)\n\
            Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n\
            \x20 -> RemoteAddress:Port\n\
            TCP  198.51.100.1:80                     3       20       15     1000     2000\n\
            \x20 -> 192.0.2.11:80                     2       12        9      600     1200\n";
        let list = "IP Virtual Server version 1.2.1 (size=4096)\n\
            Prot LocalAddress:Port Scheduler Flags\n\
            \x20 -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
            TCP  198.51.100.1:80 rr\n\
            \x20 -> 192.0.2.11:80                Masq    4      1          7\n";
        let e = expected(stats, list);
        let svc = "local_address=\"198.51.100.1\",local_mark=\"\",local_port=\"80\",proto=\"tcp\"";
        let dest = format!("{svc},remote_address=\"192.0.2.11\",remote_port=\"80\"");
        assert_eq!(
            e[&format!("ipvs_service_outgoing_bytes_total{{{svc}}}")],
            "2000"
        );
        assert_eq!(
            e[&format!("ipvs_destination_connections_total{{{dest}}}")],
            "2"
        );
        assert_eq!(e[&format!("ipvs_destination_weight{{{dest}}}")], "4");
        assert_eq!(
            e[&format!("ipvs_destination_inactive_connections{{{dest}}}")],
            "7"
        );
        assert_eq!(e.len(), 5 + 5 + 3);
        let text = "# TYPE x gauge\nipvs_destination_weight{proto=\"tcp\",local_address=\"198.51.100.1\",\
             local_port=\"80\",local_mark=\"\",remote_address=\"192.0.2.11\",remote_port=\"80\"} 4\nup 1\n";
        let s = samples(text);
        assert_eq!(s[&format!("ipvs_destination_weight{{{dest}}}")], "4");
        assert_eq!(s["up{}"], "1");
        assert!(compared("ipvs_destination_weight") && !compared("ipvs_service_weight"));
        assert!(!compared("ipvs_service_connections_per_second"));
    }
}
