//! What `lvsd status` shows: each virtual server with its quorum, each real server alive or
//! down and since when, and each of its checks with its last result and why it failed; each
//! VRRP instance with its state, priorities, master, last transition and dropped adverts.

use std::fmt::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use checker::{Micros, Outcome};
use serde_json::{json, Value};

use super::Checker;

pub struct Status {
    pools: Vec<Pool>,
    vrrp: Vec<Instance>,
}

/// The VRRP part's view of its instances, kept up to date by it and read by whichever part
/// answers the control socket (both run on one thread).
pub type SharedVrrp = std::rc::Rc<std::cell::RefCell<Vec<Instance>>>;

#[derive(Clone, Debug)]
pub struct Instance {
    pub name: String,
    pub vrid: u8,
    pub interface: String,
    pub state: String,
    pub priority: u8,
    pub effective_priority: u8,
    pub master: Option<String>,
    /// The last transition, seconds since the epoch, and why.
    pub since_unix: u64,
    pub why: String,
    pub dropped: Vec<(&'static str, u64)>,
    pub transitions: u64,
}

struct Pool {
    name: String,
    services: Vec<String>,
    quorum_up: bool,
    live_weight: u64,
    quorum: u32,
    hysteresis: u32,
    since: Stamp,
    sorry: Option<(String, bool)>,
    real: Vec<Real>,
}

struct Real {
    address: String,
    /// For metrics' labels.
    ip: std::net::IpAddr,
    port: u16,
    alive: bool,
    weight: u32,
    since: Stamp,
    checks: Vec<Check>,
}

struct Check {
    method: &'static str,
    up: bool,
    /// When it last finished, and its failure if it failed.
    last: Option<(Stamp, Option<String>)>,
    duration: Option<Micros>,
    next: Option<Stamp>,
}

/// A moment, as seconds since the epoch and seconds ago.
#[derive(Clone, Copy)]
struct Stamp {
    unix: u64,
    ago: i64,
}

impl Status {
    /// The VRRP instances alone (`lvsd -P`).
    pub fn vrrp_only(vrrp: &SharedVrrp) -> Status {
        Status {
            pools: Vec::new(),
            vrrp: vrrp.borrow().clone(),
        }
    }

    pub fn of(m: &Checker, now: Micros, started_wall: SystemTime, vrrp: &SharedVrrp) -> Status {
        let stamp = |at: Micros| Stamp {
            unix: (started_wall + Duration::from_micros(at))
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            ago: (now as i64 - at as i64) / 1_000_000,
        };
        let pools = m
            .pools
            .iter()
            .map(|p| Pool {
                name: p.pool.name.clone(),
                services: p.pool.keys.iter().map(|k| k.to_string()).collect(),
                quorum_up: p.quorum_up,
                live_weight: p.live_weight(&m.checks, &m.files),
                quorum: p.pool.quorum,
                hysteresis: p.pool.hysteresis,
                since: stamp(p.since),
                sorry: p.pool.sorry.as_ref().map(|s| {
                    (
                        ipvs::SocketAddrDisplay(&s.dest.addr, s.dest.port).to_string(),
                        !p.quorum_up,
                    )
                }),
                real: p
                    .real
                    .iter()
                    .enumerate()
                    .map(|(i, r)| Real {
                        address: {
                            let d = &p.pool.real[i].dest;
                            ipvs::SocketAddrDisplay(&d.addr, d.port).to_string()
                        },
                        ip: p.pool.real[i].dest.addr,
                        port: p.pool.real[i].dest.port,
                        alive: r.alive,
                        weight: p.weight_of(i, &m.checks, &m.files),
                        since: stamp(r.since),
                        checks: r
                            .checks
                            .iter()
                            .map(|&c| {
                                let c = &m.checks[c];
                                Check {
                                    method: c.method,
                                    up: c.count.up,
                                    last: c.last.as_ref().map(|(at, o)| {
                                        let why = match o {
                                            Outcome::Down(why) => Some(why.clone()),
                                            Outcome::Up { .. } => None,
                                        };
                                        (stamp(*at), why)
                                    }),
                                    next: (!c.running).then(|| stamp(c.due)),
                                    duration: c.duration,
                                }
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        Status {
            pools,
            vrrp: vrrp.borrow().clone(),
        }
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let now = unix_now();
        for i in &self.vrrp {
            let master = match &i.master {
                Some(m) => format!(", master {m}"),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "VRRP {} (vrid {} on {}): {} priority {} (configured {}) for {}s{master}: {}",
                i.name,
                i.vrid,
                i.interface,
                i.state,
                i.effective_priority,
                i.priority,
                now.saturating_sub(i.since_unix),
                i.why
            );
            if !i.dropped.is_empty() {
                let counts: Vec<String> =
                    i.dropped.iter().map(|(k, n)| format!("{k} {n}")).collect();
                let _ = writeln!(out, "  adverts dropped: {}", counts.join(", "));
            }
        }
        for p in &self.pools {
            let _ = writeln!(
                out,
                "{} ({}): quorum {} for {}s, live weight {} (quorum {}, hysteresis {})",
                p.name,
                p.services.join(", "),
                if p.quorum_up { "up" } else { "down" },
                p.since.ago,
                p.live_weight,
                p.quorum,
                p.hysteresis
            );
            if let Some((addr, inuse)) = &p.sorry {
                let state = if *inuse { "in the pool" } else { "standing by" };
                let _ = writeln!(out, "  sorry server {addr}: {state}");
            }
            for r in &p.real {
                let _ = writeln!(
                    out,
                    "  {:<24} {:<5} weight {:<5} for {}s",
                    r.address,
                    if r.alive { "alive" } else { "down" },
                    r.weight,
                    r.since.ago
                );
                for c in &r.checks {
                    let state = if c.up { "up" } else { "down" };
                    let last = match &c.last {
                        None => "not run yet".to_string(),
                        Some((at, None)) => format!("passed {}s ago", at.ago),
                        Some((at, Some(why))) => format!("failed {}s ago: {why}", at.ago),
                    };
                    let _ = writeln!(out, "      {} {state}, {last}", c.method);
                }
            }
        }
        out
    }

    pub fn json(&self) -> String {
        let stamp = |s: &Stamp| json!(s.unix);
        let pools: Vec<Value> = self
            .pools
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "services": p.services,
                    "quorum": {
                        "up": p.quorum_up,
                        "since": stamp(&p.since),
                        "live_weight": p.live_weight,
                        "quorum": p.quorum,
                        "hysteresis": p.hysteresis,
                    },
                    "sorry_server": p.sorry.as_ref().map(|(a, inuse)| json!({"address": a, "in_pool": inuse})),
                    "real_servers": p.real.iter().map(|r| json!({
                        "address": r.address,
                        "alive": r.alive,
                        "weight": r.weight,
                        "since": stamp(&r.since),
                        "checks": r.checks.iter().map(|c| json!({
                            "method": c.method,
                            "up": c.up,
                            "last_checked": c.last.as_ref().map(|(at, _)| stamp(at)),
                            "failure": c.last.as_ref().and_then(|(_, why)| why.clone()),
                            "next_check": c.next.as_ref().map(stamp),
                        })).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let instances: Vec<Value> = self
            .vrrp
            .iter()
            .map(|i| {
                let dropped: serde_json::Map<String, Value> = i
                    .dropped
                    .iter()
                    .map(|(k, n)| (k.to_string(), json!(n)))
                    .collect();
                json!({
                    "name": i.name,
                    "vrid": i.vrid,
                    "interface": i.interface,
                    "state": i.state,
                    "priority": i.effective_priority,
                    "configured_priority": i.priority,
                    "master": i.master,
                    "since": i.since_unix,
                    "why": i.why,
                    "transitions": i.transitions,
                    "dropped": dropped,
                })
            })
            .collect();
        // The namespace's cookie lets a reader (`lvsadm show`) tell that this daemon is the one
        // of the namespace it looks at, whatever socket path it found the daemon by.
        let mut text = json!({
            "netns_cookie": hostnet::netns::cookie().ok(),
            "virtual_servers": pools,
            "vrrp_instances": instances,
        })
        .to_string();
        text.push('\n');
        text
    }
}

impl Status {
    /// lvsd's own metrics in Prometheus's text format: each virtual server's quorum, each
    /// real server's health and weight, each check's state and last duration, each VRRP
    /// instance's state, priorities, transitions and dropped adverts.
    pub fn prometheus(&self) -> String {
        let mut m = Metrics::default();
        for p in &self.pools {
            let vs = format!("virtual_server={}", ipvs::metrics::quote(&p.name));
            m.sample(
                "lvsd_virtual_server_quorum_up",
                "gauge",
                "1 while the virtual server has its quorum",
                &vs,
                u64::from(p.quorum_up),
            );
            for r in &p.real {
                let rs = format!(
                    "{vs},remote_address={},remote_port=\"{}\"",
                    ipvs::metrics::quote(&r.ip.to_string()),
                    r.port
                );
                m.sample(
                    "lvsd_real_server_up",
                    "gauge",
                    "1 while the real server passes its checks",
                    &rs,
                    u64::from(r.alive),
                );
                m.sample(
                    "lvsd_real_server_weight",
                    "gauge",
                    "The weight lvsd gives the real server",
                    &rs,
                    u64::from(r.weight),
                );
                for c in &r.checks {
                    let labels = format!("{rs},check=\"{}\"", c.method);
                    m.sample(
                        "lvsd_check_up",
                        "gauge",
                        "1 while the check passes",
                        &labels,
                        u64::from(c.up),
                    );
                    if let Some(d) = c.duration {
                        m.sample(
                            "lvsd_check_duration_seconds",
                            "gauge",
                            "How long the check's last run took",
                            &labels,
                            d as f64 / 1e6,
                        );
                    }
                }
            }
        }
        for i in &self.vrrp {
            let inst = format!("instance={}", ipvs::metrics::quote(&i.name));
            for state in ["INIT", "BACKUP", "MASTER", "FAULT", "STOP"] {
                let labels = format!("{inst},state=\"{state}\"");
                m.sample(
                    "lvsd_vrrp_state",
                    "gauge",
                    "1 for the VRRP instance's state",
                    &labels,
                    u64::from(i.state == state),
                );
            }
            m.sample(
                "lvsd_vrrp_priority",
                "gauge",
                "The configured priority",
                &inst,
                u64::from(i.priority),
            );
            m.sample(
                "lvsd_vrrp_effective_priority",
                "gauge",
                "The priority advertised, after tracking",
                &inst,
                u64::from(i.effective_priority),
            );
            m.sample(
                "lvsd_vrrp_transitions_total",
                "counter",
                "State changes since lvsd started",
                &inst,
                i.transitions,
            );
            for (reason, n) in &i.dropped {
                let labels = format!("{inst},reason=\"{reason}\"");
                m.sample(
                    "lvsd_vrrp_adverts_dropped_total",
                    "counter",
                    "Adverts dropped by the receive checks, by keepalived's counter name",
                    &labels,
                    *n,
                );
            }
        }
        m.text()
    }
}

/// Samples grouped by family, each family's HELP and TYPE once, in the order first seen.
#[derive(Default)]
struct Metrics {
    families: Vec<(&'static str, &'static str, &'static str, Vec<String>)>,
}

impl Metrics {
    fn sample(
        &mut self,
        name: &'static str,
        kind: &'static str,
        help: &'static str,
        labels: &str,
        value: impl std::fmt::Display,
    ) {
        let line = format!("{name}{{{labels}}} {value}");
        match self.families.iter_mut().find(|f| f.0 == name) {
            Some(f) => f.3.push(line),
            None => self.families.push((name, kind, help, vec![line])),
        }
    }

    fn text(&self) -> String {
        let mut out = String::new();
        for (name, kind, help, lines) in &self.families {
            let _ = writeln!(out, "# HELP {name} {help}.\n# TYPE {name} {kind}");
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
        }
        out
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
