//! `global_defs` and the other top-level settings keepalived's parent process reads
//! (core/global_parser.c, `init_global_keywords`): the keyword tree in keepalived's order and
//! the settings lvsd uses, with keepalived's complaints.
//!
//! Only the parent reads these (the engine's [`View::Parent`](crate::parse::View)), so each
//! handler runs once. Settings keepalived has defaults for are `Option`s while reading and are
//! filled by [`fill_defaults`] once the file is read.

use crate::parse::{Ctx, Keyword, Owner, Root};
use crate::problem::Kind;
use crate::value;
use std::net::IpAddr;

/// keepalived's timer unit: microseconds per second.
const TIMER_HZ: u32 = 1_000_000;

/// What `global_defs` and the top-level settings say.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Global {
    pub router_id: Option<String>,
    pub notification_email_from: Option<String>,
    pub notification_email: Vec<String>,
    pub smtp_server: Option<String>,
    /// The port given after the server, if any (keepalived's default is 25).
    pub smtp_port: Option<String>,
    pub smtp_helo_name: Option<String>,
    /// Seconds; 30 by default.
    pub smtp_connect_timeout: Option<u32>,
    pub smtp_alert: Option<bool>,
    pub smtp_alert_vrrp: Option<bool>,
    pub smtp_alert_checker: Option<bool>,
    pub no_email_faults: bool,
    /// `script_user USER [GROUP]`.
    pub script_user: Option<(String, Option<String>)>,
    /// `script_user` named a user that does not exist: keepalived then removes every
    /// script that names no user of its own.
    pub script_user_unknown: bool,
    pub enable_script_security: bool,
    pub dynamic_interfaces: bool,
    pub default_interface: Option<String>,
    pub router_priority: Priorities,
    pub max_auto_priority: Option<i32>,
    /// Seconds; 5 by default.
    pub vrrp_garp_master_delay: Option<u32>,
    /// 5 by default.
    pub vrrp_garp_master_repeat: Option<u32>,
    /// Seconds; 0 (never) by default.
    pub vrrp_garp_master_refresh: Option<u32>,
    /// 1 by default.
    pub vrrp_garp_master_refresh_repeat: Option<u32>,
    pub vrrp_garp_lower_prio_delay: Option<u32>,
    pub vrrp_garp_lower_prio_repeat: Option<u32>,
    /// Microseconds between gratuitous ARPs; 0 by default.
    pub vrrp_garp_interval: Option<u64>,
    /// Microseconds between unsolicited neighbour advertisements; 0 by default.
    pub vrrp_gna_interval: Option<u64>,
    pub vrrp_min_garp: Option<bool>,
    pub vrrp_down_timer_adverts: Option<u32>,
    pub vrrp_lower_prio_no_advert: Option<bool>,
    pub vrrp_higher_prio_send_advert: Option<bool>,
    /// 224.0.0.18 by default.
    pub vrrp_mcast_group4: Option<IpAddr>,
    /// ff02::12 by default.
    pub vrrp_mcast_group6: Option<IpAddr>,
    /// 2 by default.
    pub vrrp_version: Option<u8>,
    pub vrrp_strict: bool,
    pub vrrp_check_unicast_src: bool,
    pub vrrp_skip_check_adv_addr: bool,
    pub vrrp_notify_priority_changes: Option<bool>,
    pub vrrp_startup_delay: Option<u64>,
    pub lvs_sync_daemon: Option<LvsSyncDaemon>,
    pub lvs_timeouts: LvsTimeouts,
    pub lvs_flush: bool,
    pub lvs_flush_on_stop: Option<String>,
    pub notify_fifo: Fifo,
    pub vrrp_notify_fifo: Fifo,
    pub lvs_notify_fifo: Fifo,
    pub checker_log_all_failures: Option<bool>,
    pub rs_init_notifies: Option<bool>,
    pub no_checker_emails: Option<bool>,
    pub net_namespace: Option<String>,
    pub instance: Option<String>,
    pub use_pid_dir: bool,
}

/// The scheduling priorities (nice values) of keepalived's processes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Priorities {
    pub vrrp: Option<i32>,
    pub checker: Option<i32>,
    pub bfd: Option<i32>,
}

/// `lvs_sync_daemon INTERFACE [VRRP_INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group A]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LvsSyncDaemon {
    pub interface: String,
    pub vrrp_instance: Option<String>,
    pub syncid: Option<u32>,
    pub maxlen: Option<u32>,
    pub port: Option<u32>,
    pub ttl: Option<u32>,
    pub group: Option<IpAddr>,
}

/// `lvs_timeouts tcp N tcpfin N udp N`, seconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LvsTimeouts {
    pub tcp: Option<u32>,
    pub tcpfin: Option<u32>,
    pub udp: Option<u32>,
}

/// A notify FIFO and the script that reads it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fifo {
    pub name: Option<String>,
    pub script: Option<String>,
}

/// Puts keepalived's defaults where the file set nothing.
pub fn fill_defaults(g: &mut Global) {
    g.smtp_connect_timeout.get_or_insert(30);
    g.vrrp_garp_master_delay.get_or_insert(5);
    g.vrrp_garp_master_repeat.get_or_insert(5);
    g.vrrp_garp_master_refresh.get_or_insert(0);
    g.vrrp_garp_master_refresh_repeat.get_or_insert(1);
    // keepalived's vrrp_complete_init: the lower-priority announcements default to the
    // master's.
    let (repeat, delay) = (g.vrrp_garp_master_repeat, g.vrrp_garp_master_delay);
    g.vrrp_garp_lower_prio_repeat
        .get_or_insert(repeat.unwrap_or(5));
    g.vrrp_garp_lower_prio_delay
        .get_or_insert(delay.unwrap_or(5));
    g.vrrp_garp_interval.get_or_insert(0);
    g.vrrp_gna_interval.get_or_insert(0);
    g.vrrp_down_timer_adverts.get_or_insert(3);
    g.vrrp_lower_prio_no_advert.get_or_insert(false);
    g.vrrp_higher_prio_send_advert.get_or_insert(false);
    g.vrrp_mcast_group4
        .get_or_insert(IpAddr::V4(std::net::Ipv4Addr::new(224, 0, 0, 18)));
    g.vrrp_mcast_group6
        .get_or_insert(IpAddr::V6(std::net::Ipv6Addr::new(
            0xff02, 0, 0, 0, 0, 0, 0, 0x12,
        )));
    g.vrrp_version.get_or_insert(2);
    g.vrrp_notify_priority_changes.get_or_insert(false);
}

fn g<'c>(ctx: &'c mut Ctx<'_>) -> &'c mut Global {
    &mut ctx.config.global
}

/// The words after the keyword, joined by spaces (keepalived's `set_value`).
fn rest(words: &[String]) -> String {
    words.get(1..).map(|w| w.join(" ")).unwrap_or_default()
}

/// `check_true_false` on an optional word: no word means true.
fn flag(ctx: &mut Ctx<'_>, words: &[String], msg: impl FnOnce(&str) -> String) -> Option<bool> {
    match words.get(1) {
        None => Some(true),
        Some(w) => match value::true_false(w) {
            Some(b) => Some(b),
            None => {
                ctx.report(Kind::General, msg(w));
                None
            }
        },
    }
}

/// Word 1 as keepalived's `read_unsigned_strvec`, with the handler's own complaint if it
/// fails.
fn unsigned(
    ctx: &mut Ctx<'_>,
    words: &[String],
    min: u32,
    max: u32,
    msg: impl FnOnce(&str) -> String,
) -> Option<u32> {
    let s = ctx.arg(words, 1)?;
    let v = value::unsigned(ctx, s, min, max);
    if v.is_none() {
        ctx.report(Kind::General, msg(s));
    }
    v
}

fn decimal(
    ctx: &mut Ctx<'_>,
    words: &[String],
    min: u64,
    max: u64,
    msg: impl FnOnce(&str) -> String,
) -> Option<u64> {
    let s = ctx.arg(words, 1)?;
    let v = value::decimal(ctx, s, min, max, 6);
    if v.is_none() {
        ctx.report(Kind::General, msg(s));
    }
    v
}

fn int(
    ctx: &mut Ctx<'_>,
    words: &[String],
    min: i32,
    max: i32,
    msg: impl FnOnce(&str) -> String,
) -> Option<i32> {
    let s = ctx.arg(words, 1)?;
    let v = value::int(ctx, s, min, max);
    if v.is_none() {
        ctx.report(Kind::General, msg(s));
    }
    v
}

/// A process's scheduling priority (keepalived's `get_priority`).
fn nice(ctx: &mut Ctx<'_>, words: &[String], process: &str) -> Option<i32> {
    let Some(s) = words.get(1) else {
        ctx.report(
            Kind::General,
            format!("No {process} process priority specified"),
        );
        return None;
    };
    let v = value::int(ctx, s, -20, 19);
    if v.is_none() {
        ctx.report(
            Kind::General,
            format!("Invalid {process} process priority specified"),
        );
    }
    v
}

/// Real-time priorities, CPU affinities and limits: lvsd runs no such processes.
fn realtime(ctx: &mut Ctx<'_>, words: &[String], process: &str) {
    let name = words.first().map_or("", String::as_str);
    if name.ends_with("_rt_priority") {
        match words.get(1) {
            None => ctx.report(
                Kind::General,
                format!("No {process} process real-time priority specified"),
            ),
            Some(s) => {
                if value::int(ctx, s, i32::MIN, i32::MAX).is_none() {
                    ctx.report(
                        Kind::General,
                        format!("{process} process real-time priority '{s}' invalid"),
                    );
                }
            }
        }
    } else if name.ends_with("_cpu_affinity") {
        if words.len() < 2 {
            ctx.report(Kind::General, format!("No {process} cpu_id set specified"));
        }
        // keepalived checks each id against the CPUs of the host it runs on.
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as i32;
        for w in words.iter().skip(1) {
            if value::int(ctx, w, 0, cpus - 1).is_none() {
                let id: i32 = w.parse().unwrap_or(0);
                ctx.report(
                    Kind::General,
                    format!("Invalid cpu_id:{id} specified for {process} process"),
                );
                break;
            }
        }
    } else if name.ends_with("rlimit_rtime") || name.ends_with("rlimit_rttime") {
        if let Some(s) = ctx.arg(words, 1) {
            if value::unsigned(ctx, s, 1, u32::MAX).is_none() {
                ctx.report(
                    Kind::General,
                    format!("Invalid {process} real-time limit - {s}"),
                );
            }
        }
    }
    ctx.ignored(words, "lvsd runs no real-time keepalived processes");
}

fn mcast_group(ctx: &mut Ctx<'_>, words: &[String], v6: bool) -> Option<IpAddr> {
    let name = if v6 {
        "vrrp_mcast_group6"
    } else {
        "vrrp_mcast_group4"
    };
    let s = ctx.arg(words, 1)?;
    let Some(a) = value::address(s) else {
        ctx.report(Kind::General, format!("Can't parse {name} [{s}]. Skipping"));
        return None;
    };
    if a.is_ipv6() != v6 {
        let fam = if v6 { "IPv6" } else { "IPv4" };
        ctx.report(
            Kind::General,
            format!("{name} [{s}] is not {fam}. Skipping"),
        );
        return None;
    }
    if !a.is_multicast() {
        ctx.report(
            Kind::General,
            format!("{name} [{s}] is not multicast. Skipping"),
        );
        return None;
    }
    if let IpAddr::V6(a6) = a {
        if a6.segments()[0] & 0xff0f != 0xff02 {
            ctx.report(
                Kind::Warning,
                format!("{name} [{s}] should be link-local multicast."),
            );
        }
    }
    Some(a)
}

fn fifo(
    ctx: &mut Ctx<'_>,
    words: &[String],
    prefix: &str,
    which: fn(&mut Global) -> &mut Fifo,
    script: bool,
) {
    let what = if script {
        "notify_fifo_script"
    } else {
        "notify_fifo"
    };
    let Some(s) = words.get(1) else {
        let name = if script { "" } else { "name " };
        ctx.report(Kind::General, format!("No {prefix}{what} {name}specified"));
        return;
    };
    let f = which(&mut ctx.config.global);
    let slot = if script { &mut f.script } else { &mut f.name };
    if slot.is_some() {
        ctx.report(
            Kind::General,
            format!("{prefix}{what} already specified - ignoring {s}"),
        );
        return;
    }
    *slot = Some(if script { rest(words) } else { s.clone() });
}

fn lvs_timeouts(ctx: &mut Ctx<'_>, words: &[String]) {
    if words.len() < 2 {
        ctx.report(Kind::General, "lvs_timeouts requires at least one option");
        return;
    }
    let mut i = 1;
    while i < words.len() {
        let opt = words[i].as_str();
        if !matches!(opt, "tcp" | "tcpfin" | "udp") {
            ctx.report(
                Kind::General,
                format!("Unknown option {opt} specified for lvs_timeouts"),
            );
            i += 1;
            continue;
        }
        let Some(v) = words.get(i + 1) else {
            ctx.report(
                Kind::General,
                format!("No value specified for lvs_timeout {opt} - ignoring"),
            );
            i += 1;
            continue;
        };
        // keepalived's LVS_MAX_TIMEOUT: a day less a second.
        match value::unsigned(ctx, v, 0, 86400 * 31) {
            Some(n) => {
                let t = &mut ctx.config.global.lvs_timeouts;
                match opt {
                    "tcp" => t.tcp = Some(n),
                    "tcpfin" => t.tcpfin = Some(n),
                    _ => t.udp = Some(n),
                }
            }
            None => ctx.report(
                Kind::General,
                format!("Invalid lvs_timeout {opt} ({v}) - ignoring"),
            ),
        }
        i += 2;
    }
}

fn lvs_sync_daemon(ctx: &mut Ctx<'_>, words: &[String]) {
    if let Some(d) = &ctx.config.global.lvs_sync_daemon {
        let msg = format!(
            "lvs_sync_daemon has already been specified as {} {} - ignoring",
            d.interface,
            d.vrrp_instance.as_deref().unwrap_or("")
        );
        ctx.report(Kind::General, msg);
        return;
    }
    let Some(ifname) = words.get(1) else {
        ctx.report(Kind::General, "lvs_sync_daemon requires interface");
        return;
    };
    if ifname.len() >= 16 {
        ctx.report(
            Kind::General,
            format!("lvs_sync_daemon interface name '{ifname}' too long - ignoring"),
        );
        return;
    }
    let mut d = LvsSyncDaemon {
        interface: ifname.clone(),
        ..LvsSyncDaemon::default()
    };
    let mut i = 2;
    if let Some(w) = words.get(2) {
        if !matches!(w.as_str(), "id" | "maxlen" | "port" | "ttl" | "group") {
            d.vrrp_instance = Some(w.clone());
            i = 3;
        }
    }
    while i < words.len() {
        let opt = words[i].as_str();
        let (min, max) = match opt {
            "id" => (0, 255),
            "maxlen" => (1, 65535 - 20 - 8),
            "port" => (1, 65535),
            "ttl" => (1, 255),
            "group" => (0, 0),
            _ => {
                ctx.report(
                    Kind::General,
                    format!("Unknown option {opt} specified for lvs_sync_daemon"),
                );
                i += 1;
                continue;
            }
        };
        let Some(v) = words.get(i + 1) else {
            let msg = if opt == "id" {
                "No value specified for lvs_sync_daemon id, defaulting to vrid".to_string()
            } else {
                format!("No value specified for lvs_sync_daemon {opt} - ignoring")
            };
            ctx.report(Kind::General, msg);
            i += 1;
            continue;
        };
        if opt == "group" {
            match value::address(v) {
                None => ctx.report(
                    Kind::General,
                    format!("Invalid lvs_sync_daemon group ({v}) - ignoring"),
                ),
                Some(a) if !a.is_multicast() => ctx.report(
                    Kind::General,
                    format!("lvs_sync_daemon group address {v} is not multicast - ignoring"),
                ),
                Some(a) => d.group = Some(a),
            }
        } else {
            let n = value::unsigned(ctx, v, min, max);
            match (opt, n) {
                ("id", Some(n)) => d.syncid = Some(n),
                ("maxlen", Some(n)) => d.maxlen = Some(n),
                ("port", Some(n)) => d.port = Some(n),
                ("ttl", Some(n)) => d.ttl = Some(n),
                ("id", None) => ctx.report(
                    Kind::General,
                    format!("Invalid syncid ({v}) - defaulting to vrid"),
                ),
                _ => ctx.report(
                    Kind::General,
                    format!("Invalid lvs_sync_daemon {opt} ({v}) - ignoring"),
                ),
            }
        }
        i += 2;
    }
    ctx.config.global.lvs_sync_daemon = Some(d);
}

/// A keyword of `global_defs` that lvsd does not act on, read with keepalived's demand for
/// a value where it has one.
fn not_acted(name: &'static str, needs_value: bool) -> Keyword {
    let handler: crate::parse::Handler = if needs_value {
        |c, w| {
            if c.arg(w, 1).is_some() {
                c.ignored(w, why_of(w));
            }
        }
    } else {
        |c, w| c.ignored(w, why_of(w))
    };
    Keyword::new(name, handler)
}

/// Why lvsd does not act on a global keyword, by its family.
fn why_of(words: &[String]) -> &'static str {
    let name = words.first().map_or("", String::as_str);
    if name.contains("snmp") || name == "enable_traps" {
        "lvsd has no SNMP agent"
    } else if name.contains("dbus") {
        "lvsd has no D-Bus interface"
    } else if name.starts_with("bfd") {
        "lvsd does not run BFD"
    } else if name.contains("nftables") || name.contains("iptables") || name.contains("ipsets") {
        "lvsd sets no firewall rules"
    } else if name.contains("process_name") || name == "process_names" {
        "lvsd runs as one process"
    } else if name.contains("rcv_bufs") || name.contains("rx_bufs") {
        "lvsd sizes its own netlink and socket buffers"
    } else if name.contains("vmac") {
        "lvsd does not create VMAC interfaces"
    } else if name.contains("reload") || name.contains("config") || name == "include_check" {
        "lvsd reloads in its own way"
    } else {
        "lvsd has no such setting"
    }
}

fn process_name(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(n) = ctx.arg(words, 1) else { return };
    if n.len() >= 16 {
        ctx.report(
            Kind::General,
            format!("Process name {n} more than 15 characters, truncating"),
        );
    }
    ctx.ignored(words, "lvsd runs as one process");
}

/// The keywords of `global_defs`, in keepalived's order.
fn global_defs() -> Vec<Keyword> {
    vec![
        Keyword::new("process_names", |c, w| {
            c.ignored(w, "lvsd runs as one process")
        }),
        Keyword::new("process_name", process_name),
        Keyword::new("vrrp_process_name", process_name),
        Keyword::new("checker_process_name", process_name),
        // keepalived logs its deprecation without counting it as a configuration error.
        Keyword::new("lvs_process_name", process_name),
        Keyword::new("bfd_process_name", process_name),
        Keyword::new("router_id", |c, w| {
            if w.len() < 2 {
                c.report(Kind::General, "routerid name missing - ignoring");
                return;
            }
            g(c).router_id = Some(rest(w));
        }),
        Keyword::new("notification_email_from", |c, w| {
            if w.len() < 2 {
                c.report(Kind::General, "emailfrom missing - ignoring");
                return;
            }
            g(c).notification_email_from = Some(rest(w));
        }),
        Keyword::new("smtp_server", |c, w| {
            let Some(s) = c.arg(w, 1) else { return };
            let port = w.get(2).cloned();
            let looks_like_address = !s.contains(['-', '/']) && value::address(s).is_some();
            // A name is looked up by keepalived (lvsd keeps it as given); one made of digits
            // and dots only, or with a colon, is an address or nothing, and resolves to
            // nothing when it is not one.
            let numeric = s.chars().all(|ch| ch.is_ascii_digit() || ch == '.') || s.contains(':');
            let plausible = looks_like_address
                || (!numeric
                    && s.chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '.' || ch == '-'));
            let port_ok = port.as_deref().is_none_or(|p| p.parse::<u16>().is_ok());
            if !plausible || !port_ok {
                let msg = format!(
                    "Invalid smtp server {s} {}",
                    port.as_deref().unwrap_or("25")
                );
                c.report(Kind::General, msg);
                return;
            }
            let s = s.to_string();
            g(c).smtp_server = Some(s);
            g(c).smtp_port = port;
        }),
        Keyword::new("smtp_helo_name", |c, w| {
            if let Some(s) = w.get(1) {
                g(c).smtp_helo_name = Some(s.clone());
            }
        }),
        Keyword::new("smtp_connect_timeout", |c, w| {
            let max = u32::MAX / TIMER_HZ;
            let Some(mut t) = unsigned(c, w, 0, max, |s| {
                format!("smtp_connect_timeout '{s}' must be in [0, {max}] - ignoring")
            }) else {
                return;
            };
            if t == 0 {
                c.report(
                    Kind::General,
                    "smtp_conect_timeout must be greater than 0, setting to 1",
                );
                t = 1;
            }
            g(c).smtp_connect_timeout = Some(t);
        }),
        Keyword::new("notification_email", |c, w| {
            let block = c.value_block(w);
            if block.is_empty() {
                c.report(Kind::General, "Warning - empty notification_email block");
                return;
            }
            for (_, line) in block {
                g(c).notification_email.extend(line);
            }
        }),
        Keyword::new("smtp_alert", |c, w| {
            if let Some(b) = flag(c, w, |s| {
                format!("Invalid value '{s}' for global smtp_alert specified")
            }) {
                g(c).smtp_alert = Some(b);
            }
        }),
        Keyword::new("startup_script", |c, w| startup_shutdown(c, w, "startup")),
        Keyword::new("startup_script_timeout", |c, w| {
            startup_shutdown_timeout(c, w, "startup")
        }),
        Keyword::new("shutdown_script", |c, w| startup_shutdown(c, w, "shutdown")),
        Keyword::new("shutdown_script_timeout", |c, w| {
            startup_shutdown_timeout(c, w, "shutdown")
        }),
        Keyword::new("max_auto_priority", |c, w| {
            // keepalived's limit is what the system allows a real-time process.
            let max = 99;
            let v = match w.get(1) {
                None => Some(max),
                Some(_) => int(c, w, -1, max, |s| {
                    format!(
                        "max_auto_priority '{s}' must be in [0, {max}] (or -1 to disable) - \
                         ignoring"
                    )
                }),
            };
            if let Some(v) = v {
                g(c).max_auto_priority = Some(v);
            }
        }),
        Keyword::new("min_auto_priority_delay", |c, w| {
            if w.len() < 2 {
                c.report(Kind::General, "min_auto_priority_delay requires delay time");
                return;
            }
            int(c, w, 1, 10_000_000, |s| {
                format!("min_auto_priority_delay '{s}' must be in [1, 10000000] - ignoring")
            });
            c.ignored(w, "lvsd does not raise its own priority");
        }),
        Keyword::new("smtp_alert_vrrp", |c, w| {
            if let Some(b) = flag(c, w, |s| {
                format!("Invalid value '{s}' for global smtp_alert_vrrp specified")
            }) {
                g(c).smtp_alert_vrrp = Some(b);
            }
        }),
        Keyword::new("smtp_alert_checker", |c, w| {
            if let Some(b) = flag(c, w, |s| {
                format!("Invalid value '{s}' for global smtp_alert_checker specified")
            }) {
                g(c).smtp_alert_checker = Some(b);
            }
        }),
        Keyword::new("checker_log_all_failures", |c, w| {
            if let Some(b) = flag(c, w, |_| {
                "Invalid value for checker_log_all_failures specified".to_string()
            }) {
                g(c).checker_log_all_failures = Some(b);
            }
        }),
        Keyword::new("dynamic_interfaces", |c, w| {
            g(c).dynamic_interfaces = true;
            if let Some(s) = w.get(1) {
                if s != "allow_if_changes" {
                    c.report(
                        Kind::General,
                        format!("Unknown dynamic_interfaces option '{s}'"),
                    );
                }
            }
        }),
        Keyword::new("no_email_faults", |c, _| g(c).no_email_faults = true),
        Keyword::new("default_interface", |c, w| match w.get(1) {
            None => c.report(Kind::General, "default_interface requires interface name"),
            Some(s) => g(c).default_interface = Some(s.clone()),
        }),
        not_acted("disable_local_igmp", false),
        Keyword::new("lvs_timeouts", lvs_timeouts),
        Keyword::new("lvs_flush", |c, _| g(c).lvs_flush = true),
        Keyword::new("lvs_flush_on_stop", lvs_flush_on_stop),
        Keyword::new("lvs_flush_onstop", lvs_flush_on_stop),
        Keyword::new("lvs_sync_daemon", lvs_sync_daemon),
        Keyword::new("vrrp_mcast_group4", |c, w| {
            if let Some(a) = mcast_group(c, w, false) {
                g(c).vrrp_mcast_group4 = Some(a);
            }
        }),
        Keyword::new("vrrp_mcast_group6", |c, w| {
            if let Some(a) = mcast_group(c, w, true) {
                g(c).vrrp_mcast_group6 = Some(a);
            }
        }),
        Keyword::new("vrrp_garp_master_delay", |c, w| {
            if let Some(v) = unsigned(c, w, 0, u32::MAX / TIMER_HZ, |s| {
                format!("vrrp_garp_master_delay '{s}' invalid - ignoring")
            }) {
                g(c).vrrp_garp_master_delay = Some(v);
            }
        }),
        Keyword::new("vrrp_garp_master_repeat", |c, w| {
            if let Some(mut v) = unsigned(c, w, 0, u32::MAX, |s| {
                format!("vrrp_garp_master_repeat '{s}' invalid - ignoring")
            }) {
                if v == 0 {
                    c.report(
                        Kind::General,
                        "vrrp_garp_master_repeat must be greater than 0, setting to 1",
                    );
                    v = 1;
                }
                g(c).vrrp_garp_master_repeat = Some(v);
            }
        }),
        Keyword::new("vrrp_garp_master_refresh", |c, w| {
            if let Some(v) = unsigned(c, w, 0, u32::MAX, |s| {
                format!("Invalid vrrp_garp_master_refresh '{s}' - ignoring")
            }) {
                g(c).vrrp_garp_master_refresh = Some(v);
            }
        }),
        Keyword::new("vrrp_garp_master_refresh_repeat", |c, w| {
            if let Some(mut v) = unsigned(c, w, 0, u32::MAX, |s| {
                format!("vrrp_garp_master_refresh_repeat '{s}' invalid - ignoring")
            }) {
                if v == 0 {
                    c.report(
                        Kind::General,
                        "vrrp_garp_master_refresh_repeat must be greater than 0, setting to 1",
                    );
                    v = 1;
                }
                g(c).vrrp_garp_master_refresh_repeat = Some(v);
            }
        }),
        Keyword::new("vrrp_garp_lower_prio_delay", |c, w| {
            if let Some(v) = unsigned(c, w, 0, u32::MAX / TIMER_HZ, |s| {
                format!("vrrp_garp_lower_prio_delay '{s}' invalid - ignoring")
            }) {
                g(c).vrrp_garp_lower_prio_delay = Some(v);
            }
        }),
        Keyword::new("vrrp_garp_lower_prio_repeat", |c, w| {
            if let Some(v) = unsigned(c, w, 0, i32::MAX as u32, |s| {
                format!("Invalid vrrp_garp_lower_prio_repeat '{s}'")
            }) {
                g(c).vrrp_garp_lower_prio_repeat = Some(v);
            }
        }),
        Keyword::new("vrrp_down_timer_adverts", |c, w| {
            if let Some(v) = unsigned(c, w, 1, 100, |s| {
                format!("Invalid vrrp_down_timer_adverts [1:100] '{s}'")
            }) {
                g(c).vrrp_down_timer_adverts = Some(v);
            }
        }),
        Keyword::new("vrrp_garp_interval", |c, w| {
            if let Some(v) = decimal(c, w, 1, u64::from(u32::MAX), |s| {
                format!("vrrp_garp_interval '{s}' is invalid")
            }) {
                g(c).vrrp_garp_interval = Some(v);
            }
        }),
        Keyword::new("vrrp_gna_interval", |c, w| {
            if let Some(v) = decimal(c, w, 1, u64::from(u32::MAX), |s| {
                format!("vrrp_gna_interval '{s}' is invalid")
            }) {
                g(c).vrrp_gna_interval = Some(v);
            }
        }),
        Keyword::new("vrrp_min_garp", |c, w| {
            if let Some(b) = flag(c, w, |_| "Invalid value for vrrp_min_garp specified".into()) {
                g(c).vrrp_min_garp = Some(b);
                if b {
                    // keepalived's shorthand for one gratuitous ARP, no refresh.
                    g(c).vrrp_garp_master_repeat = Some(1);
                    g(c).vrrp_garp_master_delay = Some(0);
                    g(c).vrrp_garp_master_refresh = Some(0);
                    g(c).vrrp_garp_master_refresh_repeat = Some(1);
                    g(c).vrrp_garp_lower_prio_delay = Some(0);
                    g(c).vrrp_garp_lower_prio_repeat = Some(0);
                }
            }
        }),
        Keyword::new("vrrp_garp_extra_if", garp_extra_if),
        Keyword::new("vrrp_vmac_garp_intvl", |c, w| {
            c.report(
                Kind::Deprecated,
                "Keyword \"vrrp_vmac_garp_intvl\" is deprecated - please use \
                 \"vrrp_garp_extra_if\"",
            );
            garp_extra_if(c, w)
        }),
        Keyword::new("vrrp_lower_prio_no_advert", |c, w| {
            if let Some(b) = flag(c, w, |_| {
                "Invalid value for vrrp_lower_prio_no_advert specified".into()
            }) {
                g(c).vrrp_lower_prio_no_advert = Some(b);
            }
        }),
        Keyword::new("vrrp_higher_prio_send_advert", |c, w| {
            if let Some(b) = flag(c, w, |_| {
                "Invalid value for vrrp_higher_prio_send_advert specified".into()
            }) {
                g(c).vrrp_higher_prio_send_advert = Some(b);
            }
        }),
        Keyword::new("vrrp_version", |c, w| {
            if let Some(s) = c.arg(w, 1) {
                match value::int(c, s, 2, 3) {
                    Some(v) => g(c).vrrp_version = Some(v as u8),
                    None => c.report(Kind::General, "VRRP Error: Version must be either 2 or 3"),
                }
            }
        }),
        // Debian's build has nftables and not iptables: keepalived says so and uses nftables.
        Keyword::new("vrrp_iptables", |c, w| {
            c.report(
                Kind::General,
                "iptables not supported, using nftables instead. Please replace \
                 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option",
            );
            c.ignored(w, "lvsd sets no firewall rules");
        }),
        not_acted("nftables", false),
        Keyword::new("nftables_priority", |c, w| {
            if let Some(s) = c.arg(w, 1) {
                if value::int(c, s, i32::MIN, i32::MAX).is_none() {
                    c.report(
                        Kind::InvalidNumber,
                        format!("invalid nftables chain priority '{s}'"),
                    );
                }
            }
            c.ignored(w, "lvsd sets no firewall rules");
        }),
        not_acted("nftables_ifindex", false),
        not_acted("nftables_ipvs", false),
        Keyword::new("nftables_ipvs_priority", |c, w| {
            if let Some(s) = c.arg(w, 1) {
                if value::int(c, s, i32::MIN, i32::MAX).is_none() {
                    c.report(
                        Kind::InvalidNumber,
                        format!("invalid ipvs nftables chain priority '{s}'"),
                    );
                }
            }
            c.ignored(w, "lvsd sets no firewall rules");
        }),
        Keyword::new("nftables_ipvs_start_fwmark", |c, w| {
            if let Some(s) = c.arg(w, 1) {
                if value::unsigned(c, s, 1, u32::MAX).is_none() {
                    c.report(
                        Kind::InvalidNumber,
                        format!("invalid ipvs nftables start_fwmark priority '{s}'"),
                    );
                }
            }
            c.ignored(w, "lvsd sets no firewall rules");
        }),
        not_acted("nftables_counters", false),
        Keyword::new("vrrp_check_unicast_src", |c, _| {
            g(c).vrrp_check_unicast_src = true
        }),
        Keyword::new("vrrp_skip_check_adv_addr", |c, _| {
            g(c).vrrp_skip_check_adv_addr = true
        }),
        Keyword::new("vrrp_strict", |c, _| g(c).vrrp_strict = true),
        Keyword::new("vrrp_priority", |c, w| {
            if let Some(v) = nice(c, w, "vrrp") {
                g(c).router_priority.vrrp = Some(v);
            }
        }),
        not_acted("vrrp_no_swap", false),
        Keyword::new("vrrp_rt_priority", |c, w| realtime(c, w, "vrrp")),
        Keyword::new("vrrp_cpu_affinity", |c, w| realtime(c, w, "vrrp")),
        Keyword::new("vrrp_rlimit_rttime", |c, w| realtime(c, w, "vrrp")),
        Keyword::new("vrrp_rlimit_rtime", |c, w| realtime(c, w, "vrrp")),
        Keyword::new("notify_fifo", |c, w| {
            fifo(c, w, "", |g| &mut g.notify_fifo, false)
        }),
        Keyword::new("notify_fifo_script", |c, w| {
            fifo(c, w, "", |g| &mut g.notify_fifo, true)
        }),
        Keyword::new("vrrp_notify_fifo", |c, w| {
            fifo(c, w, "vrrp_", |g| &mut g.vrrp_notify_fifo, false)
        }),
        Keyword::new("vrrp_notify_fifo_script", |c, w| {
            fifo(c, w, "vrrp_", |g| &mut g.vrrp_notify_fifo, true)
        }),
        Keyword::new("vrrp_notify_priority_changes", |c, w| {
            if let Some(b) = flag(c, w, |s| {
                format!("Invalid value '{s}' for global vrrp_notify_priority_changes specified")
            }) {
                g(c).vrrp_notify_priority_changes = Some(b);
            }
        }),
        not_acted("fifo_write_vrrp_states_on_reload", false),
        Keyword::new("lvs_notify_fifo", |c, w| {
            fifo(c, w, "lvs_", |g| &mut g.lvs_notify_fifo, false)
        }),
        Keyword::new("lvs_notify_fifo_script", |c, w| {
            fifo(c, w, "lvs_", |g| &mut g.lvs_notify_fifo, true)
        }),
        Keyword::new("checker_priority", |c, w| {
            if let Some(v) = nice(c, w, "checker") {
                g(c).router_priority.checker = Some(v);
            }
        }),
        not_acted("checker_no_swap", false),
        Keyword::new("checker_rt_priority", |c, w| realtime(c, w, "checker")),
        Keyword::new("checker_cpu_affinity", |c, w| realtime(c, w, "checker")),
        Keyword::new("checker_rlimit_rttime", |c, w| realtime(c, w, "checker")),
        Keyword::new("checker_rlimit_rtime", |c, w| realtime(c, w, "checker")),
        Keyword::new("bfd_priority", |c, w| {
            if let Some(v) = nice(c, w, "bfd") {
                g(c).router_priority.bfd = Some(v);
            }
        }),
        not_acted("bfd_no_swap", false),
        Keyword::new("bfd_rt_priority", |c, w| realtime(c, w, "bfd")),
        Keyword::new("bfd_cpu_affinity", |c, w| realtime(c, w, "bfd")),
        Keyword::new("bfd_rlimit_rttime", |c, w| realtime(c, w, "bfd")),
        Keyword::new("bfd_rlimit_rtime", |c, w| realtime(c, w, "bfd")),
        Keyword::new("snmp_socket", |c, w| {
            if w.len() > 2 {
                c.report(
                    Kind::General,
                    "Too many parameters specified for snmp_socket - ignoring",
                );
            } else if w.len() < 2 {
                c.report(Kind::General, "SNMP error : snmp socket name missing");
            }
            c.ignored(w, "lvsd has no SNMP agent");
        }),
        not_acted("enable_traps", false),
        not_acted("enable_snmp_vrrp", false),
        not_acted("enable_snmp_keepalived", false),
        not_acted("enable_snmp_rfc", false),
        not_acted("enable_snmp_rfcv2", false),
        not_acted("enable_snmp_rfcv3", false),
        not_acted("enable_snmp_checker", false),
        not_acted("enable_dbus", false),
        Keyword::new("dbus_service_name", |c, w| {
            if w.len() < 2 {
                c.report(Kind::General, "dbus_service_name missing - ignoring");
            }
            c.ignored(w, "lvsd has no D-Bus interface");
        }),
        Keyword::new("script_user", |c, w| {
            let Some(u) = w.get(1) else {
                c.report(Kind::General, "No script username specified");
                return;
            };
            let group_ok = w.get(2).is_none_or(|gr| group_exists(gr));
            if !user_exists(u) || !group_ok {
                c.report(Kind::General, "Error setting global script uid/gid");
                g(c).script_user_unknown = true;
                return;
            }
            g(c).script_user = Some((u.clone(), w.get(2).cloned()));
        }),
        Keyword::new("enable_script_security", |c, _| {
            g(c).enable_script_security = true
        }),
        Keyword::new("vrrp_netlink_cmd_rcv_bufs", rcv_bufs),
        Keyword::new("vrrp_netlink_cmd_rcv_bufs_force", |c, w| {
            forced(c, w, "vrrp_netlink_cmd_rcv_bufs_force")
        }),
        Keyword::new("vrrp_netlink_monitor_rcv_bufs", rcv_bufs),
        Keyword::new("vrrp_netlink_monitor_rcv_bufs_force", |c, w| {
            forced(c, w, "vrrp_netlink_monitor_rcv_bufs_force")
        }),
        Keyword::new("process_monitor_rcv_bufs", rcv_bufs),
        Keyword::new("process_monitor_rcv_bufs_force", |c, w| {
            forced(c, w, "process_monitor_rcv_bufs_force")
        }),
        Keyword::new("lvs_netlink_cmd_rcv_bufs", rcv_bufs),
        Keyword::new("lvs_netlink_cmd_rcv_bufs_force", |c, w| {
            forced(c, w, "lvs_netlink_cmd_rcv_bufs_force")
        }),
        Keyword::new("lvs_netlink_monitor_rcv_bufs", rcv_bufs),
        Keyword::new("lvs_netlink_monitor_rcv_bufs_force", |c, w| {
            forced(c, w, "lvs_netlink_monitor_rcv_bufs_force")
        }),
        Keyword::new("rs_init_notifies", |c, w| {
            if let Some(b) = flag(c, w, |s| {
                format!("Invalid value '{s}' for global rs_init_notifies specified")
            }) {
                g(c).rs_init_notifies = Some(b);
            }
        }),
        Keyword::new("no_checker_emails", |c, w| {
            if let Some(b) = flag(c, w, |s| {
                format!("Invalid value '{s}' for global no_checker_emails specified")
            }) {
                g(c).no_checker_emails = Some(b);
            }
        }),
        Keyword::new("vrrp_rx_bufs_policy", |c, w| {
            if w.len() < 2 {
                c.report(Kind::General, "vrrp_rx_bufs_policy missing");
                return;
            }
            let (mut size, mut mtu, mut advert) = (false, false, false);
            for x in &w[1..] {
                if x.eq_ignore_ascii_case("MTU") {
                    mtu = true;
                } else if x.eq_ignore_ascii_case("ADVERT") {
                    advert = true;
                } else {
                    // keepalived reads the first word as the size, whichever word is odd.
                    let first = w[1].clone();
                    if value::unsigned(c, &first, 0, u32::MAX).is_some() {
                        size = true;
                    } else {
                        c.report(Kind::General, format!("Invalid vrrp_rx_bufs_policy {x}"));
                    }
                }
            }
            if size && (mtu || advert) {
                c.report(
                    Kind::General,
                    "Cannot set vrrp_rx_bufs_policy size and policy, ignoring policy",
                );
            } else if mtu && advert {
                c.report(
                    Kind::General,
                    "Cannot set both vrrp_rx_bufs_policy MTU and ADVERT, ignoring ADVERT",
                );
            }
            c.ignored(w, "lvsd sizes its own socket buffers");
        }),
        Keyword::new("vrrp_rx_bufs_multiplier", |c, w| {
            match w.get(1) {
                None => c.report(Kind::General, "Invalid vrrp_rx_bufs_multiplier"),
                Some(s) => {
                    if value::unsigned(c, s, 1, u32::MAX).is_none() {
                        c.report(
                            Kind::General,
                            format!("Invalid vrrp_rx_bufs_multiplier {s}"),
                        );
                    }
                }
            }
            c.ignored(w, "lvsd sizes its own socket buffers");
        }),
        Keyword::new("vrrp_startup_delay", |c, w| {
            if let Some(v) = decimal(c, w, 1000, u64::from(u32::MAX), |s| {
                format!("vrrp_startup_delay '{s}' is invalid")
            }) {
                g(c).vrrp_startup_delay = Some(v);
            }
        }),
        not_acted("log_unknown_vrids", false),
        not_acted("vmac_prefix", true),
        not_acted("vmac_addr_prefix", true),
        Keyword::new("umask", umask),
        Keyword::new("random_seed", |c, w| {
            if let Some(s) = c.arg(w, 1) {
                if value::unsigned(c, s, 0, u32::MAX).is_none() {
                    c.report(Kind::General, format!("random_seed {s} invalid"));
                }
                c.ignored(w, "lvsd has no such setting");
            }
        }),
        not_acted("reload_check_config", false),
        Keyword::new("reload_time_file", |c, w| {
            if w.len() < 2 {
                c.report(Kind::General, "reload_time_file invalid");
            }
            c.ignored(w, "lvsd reloads in its own way");
        }),
        not_acted("reload_repeat", false),
        not_acted("reload_file", false),
        Keyword::new("include_check", include_check),
        not_acted("config_save_dir", true),
        Keyword::new("tmp_config_directory", |c, w| {
            if w.len() < 2 {
                c.report(Kind::General, "tmp_config_directory missing directory name");
            }
            c.ignored(w, "lvsd reloads in its own way");
        }),
        // keepalived's message spells it "date_use_instance".
        Keyword::new("data_use_instance", |c, w| {
            forced(c, w, "date_use_instance")
        }),
    ]
}

/// `startup_script` and `shutdown_script`: lvsd runs neither.
fn startup_shutdown(ctx: &mut Ctx<'_>, words: &[String], which: &str) {
    if words.len() < 2 {
        ctx.report(Kind::General, format!("{which} script missing"));
        return;
    }
    ctx.ignored(words, "lvsd runs no start-up or shut-down scripts");
}

fn startup_shutdown_timeout(ctx: &mut Ctx<'_>, words: &[String], which: &str) {
    let Some(s) = words.get(1) else {
        ctx.report(
            Kind::General,
            format!("{which}_script_timeout requires value"),
        );
        return;
    };
    if value::unsigned(ctx, s, 1, 1000).is_none() {
        ctx.report(
            Kind::General,
            format!("{which}_script_timeout '{s}' must be in [1, 1000] - ignoring"),
        );
    }
    ctx.ignored(words, "lvsd runs no start-up or shut-down scripts");
}

/// The netlink and process-monitor buffer sizes: lvsd sizes its own.
fn rcv_bufs(ctx: &mut Ctx<'_>, words: &[String]) {
    let name = words.first().map_or("", String::as_str);
    let kind = name.trim_end_matches("_rcv_bufs");
    match words.get(1) {
        None => ctx.report(Kind::General, format!("{kind}_rcv_bufs size missing")),
        Some(s) => {
            if value::unsigned(ctx, s, 0, u32::MAX).is_none() {
                ctx.report(Kind::General, format!("{kind}_rcv_bufs size ({s}) invalid"));
            }
        }
    }
    ctx.ignored(words, "lvsd sizes its own netlink buffers");
}

/// `check_true_false` for the `*_force` buffer keywords and `data_use_instance`.
fn forced(ctx: &mut Ctx<'_>, words: &[String], label: &str) {
    flag(ctx, words, |s| {
        format!("Invalid value '{s}' for global {label} specified")
    });
    ctx.ignored(words, why_of(words));
}

fn include_check(ctx: &mut Ctx<'_>, words: &[String]) {
    for (i, w) in words.iter().enumerate().skip(1) {
        let bare = w.strip_prefix(['-', '+']);
        if bare.is_none() && i > 1 {
            ctx.report(
                Kind::General,
                format!("Duplicate include_check '{w}' specified - ignoring"),
            );
            continue;
        }
        let t = bare.unwrap_or(w);
        if !matches!(t, "read" | "match" | "wildcard_match" | "brace_match") {
            ctx.report(
                Kind::General,
                format!("Unknown include_check type '{t}' - ignoring"),
            );
        }
    }
    ctx.ignored(
        words,
        "lvsd reads included files as keepalived does without the check",
    );
}

/// keepalived's `umask`: an octal number, or bits like `IWGRP|IWOTH`.
fn umask(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(mask) = ctx.arg(words, 1) else {
        return;
    };
    if mask.starts_with(|c: char| c.is_ascii_digit()) {
        if words.len() != 2 {
            ctx.report(Kind::General, "Extra parameter(s) to umask option");
            return;
        }
        let v = if let Some(h) = mask.strip_prefix("0x").or_else(|| mask.strip_prefix("0X")) {
            i64::from_str_radix(h, 16).ok()
        } else if mask.len() > 1 && mask.starts_with('0') {
            i64::from_str_radix(&mask[1..], 8).ok()
        } else {
            mask.parse::<i64>().ok()
        };
        if v.is_none_or(|v| !(0..=0o777).contains(&v)) {
            ctx.report(Kind::General, format!("invalid umask value {mask}"));
        }
    } else {
        const BITS: [&str; 9] = [
            "IRUSR", "IWUSR", "IXUSR", "IRGRP", "IWGRP", "IXGRP", "IROTH", "IWOTH", "IXOTH",
        ];
        let mut need_or = false;
        for w in &words[1..] {
            let mut p = w.as_str();
            while !p.is_empty() {
                if need_or {
                    if let Some(rest) = p.strip_prefix('|') {
                        need_or = false;
                        p = rest;
                        continue;
                    }
                    ctx.report(Kind::General, format!("Invalid umask syntax {w}"));
                    return;
                }
                match BITS.iter().find(|b| p.starts_with(*b)) {
                    Some(b) => p = &p[b.len()..],
                    None => {
                        ctx.report(Kind::General, format!("Unknown umask bit {p}"));
                        return;
                    }
                }
                need_or = true;
            }
        }
        if !need_or {
            ctx.report(Kind::General, "umask missing bit value");
            return;
        }
    }
    ctx.ignored(words, "lvsd sets its own umask");
}

/// Whether a user exists, from /etc/passwd: keepalived's handling of scripts depends on it,
/// so this is looked up although the crate otherwise reads only the configuration.
pub(crate) fn user_exists(name: &str) -> bool {
    std::fs::read_to_string("/etc/passwd")
        .is_ok_and(|t| t.lines().any(|l| l.split(':').next() == Some(name)))
}

/// Whether a group exists, from /etc/group (see [`user_exists`]).
pub(crate) fn group_exists(name: &str) -> bool {
    std::fs::read_to_string("/etc/group")
        .is_ok_and(|t| t.lines().any(|l| l.split(':').next() == Some(name)))
}

fn lvs_flush_on_stop(ctx: &mut Ctx<'_>, words: &[String]) {
    match words.get(1).map(String::as_str) {
        None => g(ctx).lvs_flush_on_stop = Some("all".into()),
        Some(s @ "VS") => g(ctx).lvs_flush_on_stop = Some(s.into()),
        Some(s) => ctx.report(Kind::General, format!("Unknown lvs_flush_on_stop type {s}")),
    }
}

fn garp_extra_if(ctx: &mut Ctx<'_>, words: &[String]) {
    let name = words.first().map_or("", String::as_str).to_string();
    let mut index = 1;
    if words.get(1).is_some_and(|w| w == "all") {
        index = 2;
    }
    match words.get(index) {
        None => ctx.report(
            Kind::General,
            format!("{name} specified without time - ignoring"),
        ),
        Some(s) => {
            if value::unsigned(ctx, s, 1, 86400).is_none() {
                ctx.report(Kind::General, format!("{name} '{s}' invalid - ignoring"));
            }
        }
    }
    ctx.ignored(words, "lvsd does not create VMAC interfaces");
}

/// The top-level keywords of keepalived's parent, in keepalived's order.
pub fn roots() -> Vec<Root> {
    let root = |keyword| Root {
        owner: Owner::Global,
        keyword,
    };
    vec![
        root(Keyword::new("linkbeat_use_polling", |c, w| {
            c.ignored(w, "lvsd watches links through netlink only")
        })),
        root(Keyword::new("net_namespace", |c, w| {
            let Some(s) = w.get(1) else {
                c.report(Kind::General, "net_namespace name missing - ignoring");
                return;
            };
            if c.config.global.net_namespace.is_some() {
                c.report(
                    Kind::General,
                    format!("Duplicate net_namespace definition {s} - ignoring"),
                );
                return;
            }
            g(c).net_namespace = Some(s.clone());
        })),
        root(Keyword::new("net_namespace_ipvs", |c, w| {
            c.ignored(w, "lvsd drives IPVS in its own namespace")
        })),
        root(Keyword::new("namespace_with_ipsets", |c, w| {
            c.ignored(w, "lvsd sets no firewall rules")
        })),
        root(Keyword::new("use_pid_dir", |c, _| g(c).use_pid_dir = true)),
        root(Keyword::new("instance", |c, w| {
            let Some(s) = w.get(1) else {
                c.report(Kind::General, "instance name missing - ignoring");
                return;
            };
            if c.config.global.instance.is_some() {
                c.report(
                    Kind::General,
                    format!("Duplicate instance definition {s} - ignoring"),
                );
                return;
            }
            g(c).instance = Some(s.clone());
        })),
        root(Keyword::new("child_wait_time", |c, w| {
            if let Some(s) = c.arg(w, 1) {
                if value::unsigned(c, s, 0, u32::MAX).is_none() {
                    c.report(Kind::General, format!("Invalid child_wait_time {s}"));
                }
                c.ignored(w, "lvsd runs as one process");
            }
        })),
        root(Keyword::block("global_defs", None, global_defs(), None)),
    ]
}

#[cfg(test)]
mod tests {
    use crate::{Kind, Options, Reading};
    use std::sync::atomic::{AtomicU32, Ordering};

    fn read(text: &str) -> Reading {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ka-global-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keepalived.conf");
        std::fs::write(&path, text).unwrap();
        let r = crate::read(&path, &Options::default());
        let _ = std::fs::remove_dir_all(&dir);
        r
    }

    fn complaints(r: &Reading) -> Vec<(u32, String)> {
        r.problems
            .iter()
            .filter(|p| p.kind.is_keepalived())
            .map(|p| (p.at.map_or(0, |a| a.line), p.message.clone()))
            .collect()
    }

    #[test]
    fn settings_and_defaults() {
        let r = read(
            "global_defs {\n   router_id LVS 1\n   notification_email {\n      a@example.com\n      \
             b@example.com\n   }\n   notification_email_from lvs@example.com\n   smtp_server \
             192.0.2.25 2525\n   smtp_connect_timeout 10\n   script_user root\n   \
             enable_script_security\n   vrrp_garp_master_delay 3\n   vrrp_gna_interval 0.5\n   \
             vrrp_mcast_group4 224.0.0.19\n   vrrp_version 3\n   vrrp_strict\n   vrrp_priority -5\n   \
             max_auto_priority\n   lvs_sync_daemon eth0 VI_1 id 5 maxlen 1400\n   \
             lvs_timeouts tcp 900 tcpfin 30 udp 300\n   notify_fifo /run/fifo\n   \
             notify_fifo_script /bin/true arg\n}\n",
        );
        assert_eq!(complaints(&r), vec![]);
        let g = &r.config.global;
        assert_eq!(g.router_id.as_deref(), Some("LVS 1"));
        assert_eq!(g.notification_email, ["a@example.com", "b@example.com"]);
        assert_eq!(g.smtp_server.as_deref(), Some("192.0.2.25"));
        assert_eq!(g.smtp_port.as_deref(), Some("2525"));
        assert_eq!(g.smtp_connect_timeout, Some(10));
        assert_eq!(g.script_user, Some(("root".to_string(), None)));
        assert!(g.enable_script_security && g.vrrp_strict);
        assert_eq!(g.vrrp_garp_master_delay, Some(3));
        assert_eq!(g.vrrp_garp_master_repeat, Some(5));
        assert_eq!(g.vrrp_gna_interval, Some(500_000));
        assert_eq!(g.vrrp_mcast_group4, "224.0.0.19".parse().ok());
        assert_eq!(g.vrrp_mcast_group6, "ff02::12".parse().ok());
        assert_eq!(g.vrrp_version, Some(3));
        assert_eq!(g.router_priority.vrrp, Some(-5));
        assert_eq!(g.max_auto_priority, Some(99));
        let d = g.lvs_sync_daemon.as_ref().unwrap();
        assert_eq!(
            (d.interface.as_str(), d.vrrp_instance.as_deref()),
            ("eth0", Some("VI_1"))
        );
        assert_eq!((d.syncid, d.maxlen), (Some(5), Some(1400)));
        assert_eq!(
            (
                g.lvs_timeouts.tcp,
                g.lvs_timeouts.tcpfin,
                g.lvs_timeouts.udp
            ),
            (Some(900), Some(30), Some(300))
        );
        assert_eq!(g.notify_fifo.name.as_deref(), Some("/run/fifo"));
        assert_eq!(g.notify_fifo.script.as_deref(), Some("/bin/true arg"));
    }

    #[test]
    fn complaints_as_keepalived_makes_them() {
        // Each measured against keepalived -t: same text, same line.
        let r = read(
            "global_defs {\n   notification_email {\n   }\n   notification_email_from\n   \
             smtp_connect_timeout 0\n   vrrp_mcast_group4 10.0.0.1\n   vrrp_garp_master_repeat 0\n   \
             vrrp_version 4\n   lvs_timeouts tcp 100 foo udp\n   smtp_alert maybe\n   \
             process_name averyveryverylongprocessname\n   unknown_thing\n}\nnet_namespace\n\
             instance a\ninstance b\n",
        );
        assert_eq!(
            complaints(&r),
            vec![
                (3, "Warning - empty notification_email block".to_string()),
                (4, "emailfrom missing - ignoring".to_string()),
                (
                    5,
                    "smtp_conect_timeout must be greater than 0, setting to 1".to_string()
                ),
                (
                    6,
                    "vrrp_mcast_group4 [10.0.0.1] is not multicast. Skipping".to_string()
                ),
                (
                    7,
                    "vrrp_garp_master_repeat must be greater than 0, setting to 1".to_string()
                ),
                (8, "number '4' outside range [2, 3]".to_string()),
                (8, "VRRP Error: Version must be either 2 or 3".to_string()),
                (
                    9,
                    "Unknown option foo specified for lvs_timeouts".to_string()
                ),
                (
                    9,
                    "No value specified for lvs_timeout udp - ignoring".to_string()
                ),
                (
                    10,
                    "Invalid value 'maybe' for global smtp_alert specified".to_string()
                ),
                (
                    11,
                    "Process name averyveryverylongprocessname more than 15 characters, truncating"
                        .to_string()
                ),
                (12, "Unknown keyword 'unknown_thing'".to_string()),
                (14, "net_namespace name missing - ignoring".to_string()),
                (16, "Duplicate instance definition b - ignoring".to_string()),
            ]
        );
        assert_eq!(r.exit_status(), 5);
        assert_eq!(r.config.global.smtp_connect_timeout, Some(1));
        assert_eq!(r.config.global.instance.as_deref(), Some("a"));
    }

    #[test]
    fn not_acted_on_is_said() {
        let r = read("global_defs {\n   enable_snmp_vrrp\n   vrrp_iptables\n}\n");
        let ignored: Vec<u32> = r
            .problems
            .iter()
            .filter(|p| p.kind == Kind::Ignored)
            .filter_map(|p| p.at.map(|a| a.line))
            .collect();
        assert_eq!(ignored, vec![2, 3]);
        // Debian's keepalived has nftables, not iptables, and says so.
        assert!(complaints(&r)
            .iter()
            .any(|(l, m)| *l == 3 && m.starts_with("iptables not supported")));
    }

    #[test]
    fn a_missing_value_aborts() {
        let r = read("global_defs {\n   vrrp_garp_master_delay\n}\n");
        assert_eq!(r.exit_status(), 2);
    }
}
