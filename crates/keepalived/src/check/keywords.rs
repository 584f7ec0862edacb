//! The checker process's top-level keywords (`SSL`, `virtual_server_group`,
//! `virtual_server`) and the keywords of a virtual server and of its real servers, as
//! keepalived 2.2.7's `init_check_keywords` installs them, with its handlers' readings and
//! complaints.

use super::{
    checker, Family, Forwarding, Group, GroupEntry, Protocol, RealServer, Service, SorryServer,
    Ssl, TunnelChecksum, TunnelKind, VirtualServer, PERSISTENT_TIMEOUT,
};
use crate::parse::{Ctx, Keyword, Owner, Root};
use crate::problem::Kind;
use crate::{script, value};
use std::net::IpAddr;

/// The schedulers keepalived accepts in `lb_algo`.
const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos",
];
/// The kernel's limit on a weight (`INT32_MAX`).
const WEIGHT_MAX: u32 = i32::MAX as u32;
/// The longest persistence timeout keepalived accepts: 31 days.
const MAX_TIMEOUT: u32 = 86_400 * 31;
/// `IP_VS_PENAME_MAXLEN`, with its terminator.
const PE_NAME_MAX: usize = 15;
pub const DEFAULT_DELAY_LOOP: u64 = 60_000_000;
pub const DEFAULT_CONNECT_TIMEOUT: u64 = 5_000_000;

pub fn roots() -> Vec<Root> {
    let root = |keyword| Root {
        owner: Owner::Checker,
        keyword,
    };
    vec![
        root(Keyword::block(
            "SSL",
            Some(ssl),
            vec![
                Keyword::new("password", |c, w| ssl_file(c, w, "password")),
                Keyword::new("ca", |c, w| ssl_file(c, w, "cafile")),
                Keyword::new("certificate", |c, w| ssl_file(c, w, "certfile")),
                Keyword::new("key", |c, w| ssl_file(c, w, "keyfile")),
            ],
            None,
        )),
        root(Keyword::new("virtual_server_group", group)),
        root(Keyword::block(
            "virtual_server",
            Some(virtual_server),
            virtual_server_keywords(),
            Some(virtual_server_end),
        )),
    ]
}

fn virtual_server_keywords() -> Vec<Keyword> {
    let mut real = vec![
        Keyword::new("weight", rs_weight),
        Keyword::new("lvs_method", |c, w| {
            if let Some(rs) = last_rs(c) {
                let mut f = rs.forwarding;
                forwarding(c, w, "real", &mut f);
                if let Some(rs) = last_rs(c) {
                    rs.forwarding = f;
                }
            }
        }),
        Keyword::new("uthreshold", |c, w| {
            on_rs(
                c,
                |c| threshold(c, w, "uthreshold"),
                |rs, v| rs.uthreshold = v,
            )
        }),
        Keyword::new("lthreshold", |c, w| {
            on_rs(
                c,
                |c| threshold(c, w, "lthreshold"),
                |rs, v| rs.lthreshold = v,
            )
        }),
        Keyword::new("inhibit_on_failure", |c, w| {
            on_rs(
                c,
                |c| flag(c, w, "Invalid inhibit_on_failure parameter"),
                |rs, v| rs.inhibit_on_failure = Some(v),
            )
        }),
        Keyword::new("notify_up", |c, w| rs_script(c, w, true)),
        Keyword::new("notify_down", |c, w| rs_script(c, w, false)),
        Keyword::new("alpha", |c, w| {
            on_rs(
                c,
                |c| flag(c, w, "Invalid alpha parameter"),
                |rs, v| rs.alpha = Some(v),
            )
        }),
        Keyword::new("retry", |c, w| {
            on_rs(c, |c| retry(c, w), |rs, v| rs.retry = Some(v))
        }),
        Keyword::new("delay_before_retry", |c, w| {
            on_rs(
                c,
                |c| {
                    timer(
                        c,
                        w,
                        0,
                        0,
                        "real server delay_before_retry '{}' invalid - ignoring",
                    )
                },
                |rs, v| rs.delay_before_retry = Some(v),
            )
        }),
        Keyword::new("warmup", |c, w| {
            on_rs(
                c,
                |c| timer(c, w, 0, 0, "real server warmup '{}' invalid - ignoring"),
                |rs, v| rs.warmup = Some(v),
            )
        }),
        Keyword::new("connect_timeout", |c, w| {
            on_rs(
                c,
                |c| {
                    timer(
                        c,
                        w,
                        1,
                        u64::from(u32::MAX),
                        "real server connect_timeout {} invalid - ignoring",
                    )
                },
                |rs, v| rs.connect_timeout = Some(v),
            )
        }),
        Keyword::new("delay_loop", |c, w| {
            on_rs(
                c,
                |c| timer(c, w, 1, 0, "real server delay_loop '{}' invalid - ignoring"),
                |rs, v| rs.delay_loop = Some(v),
            )
        }),
        Keyword::new("smtp_alert", |c, w| {
            on_rs(
                c,
                |c| flag(c, w, "Invalid real_server smtp_alert parameter"),
                |rs, v| rs.smtp_alert = Some(v),
            )
        }),
        Keyword::new("virtualhost", |c, w| {
            let Some(v) = w.get(1) else {
                return c.report(Kind::General, "real server virtualhost missing");
            };
            if let Some(rs) = last_rs(c) {
                rs.virtualhost = Some(v.clone());
            }
        }),
        Keyword::new("snmp_name", |c, w| {
            if w.len() != 2 {
                c.report(
                    Kind::General,
                    "real server snmp_name missing or extra parameters",
                );
            }
            c.ignored(w, "lvsd has no SNMP");
        }),
    ];
    real.extend(checker::keywords());

    vec![
        Keyword::new("ip_family", ip_family),
        Keyword::new("retry", |c, w| {
            on_vs(c, |c| retry(c, w), |vs, v| vs.retry = Some(v))
        }),
        Keyword::new("delay_before_retry", |c, w| {
            on_vs(
                c,
                |c| {
                    timer(
                        c,
                        w,
                        0,
                        0,
                        "virtual server delay before retry '{}' invalid - ignoring",
                    )
                },
                |vs, v| vs.delay_before_retry = Some(v),
            )
        }),
        Keyword::new("warmup", |c, w| {
            on_vs(
                c,
                |c| timer(c, w, 0, 0, "virtual server warmup '{}' invalid - ignoring"),
                |vs, v| vs.warmup = Some(v),
            )
        }),
        Keyword::new("connect_timeout", |c, w| {
            on_vs(
                c,
                |c| {
                    timer(
                        c,
                        w,
                        1,
                        u64::from(u32::MAX),
                        "virtual server connect_timeout {} invalid - ignoring",
                    )
                },
                |vs, v| vs.connect_timeout = v,
            )
        }),
        Keyword::new("delay_loop", |c, w| {
            on_vs(
                c,
                |c| {
                    timer(
                        c,
                        w,
                        1,
                        0,
                        "virtual server delay loop '{}' invalid - ignoring",
                    )
                },
                |vs, v| vs.delay_loop = v,
            )
        }),
        Keyword::new("inhibit_on_failure", |c, _| {
            if let Some(vs) = last_vs(c) {
                vs.inhibit_on_failure = true;
            }
        }),
        Keyword::new("lb_algo", scheduler),
        Keyword::new("lvs_sched", scheduler),
        Keyword::new("hashed", scheduler_flag),
        Keyword::new("ops", scheduler_flag),
        Keyword::new("flag-1", scheduler_flag),
        Keyword::new("flag-2", scheduler_flag),
        Keyword::new("flag-3", scheduler_flag),
        Keyword::new("sh-port", scheduler_flag),
        Keyword::new("sh-fallback", scheduler_flag),
        Keyword::new("mh-port", scheduler_flag),
        Keyword::new("mh-fallback", scheduler_flag),
        Keyword::new("lb_kind", vs_forwarding),
        Keyword::new("lvs_method", vs_forwarding),
        Keyword::new("persistence_engine", persistence_engine),
        Keyword::new("persistence_timeout", persistence_timeout),
        Keyword::new("persistence_granularity", persistence_granularity),
        Keyword::new("protocol", protocol),
        Keyword::new("ha_suspend", |c, _| {
            if let Some(vs) = last_vs(c) {
                vs.ha_suspend = true;
            }
        }),
        Keyword::new("smtp_alert", |c, w| {
            on_vs(
                c,
                |c| flag(c, w, "Invalid virtual_server smtp_alert parameter"),
                |vs, v| vs.smtp_alert = Some(v),
            )
        }),
        Keyword::new("virtualhost", |c, w| {
            let Some(v) = w.get(1) else {
                return c.report(Kind::General, "virtual server virtualhost missing");
            };
            if let Some(vs) = last_vs(c) {
                vs.virtualhost = Some(v.clone());
            }
        }),
        Keyword::new("snmp_name", |c, w| {
            if w.len() != 2 {
                c.report(
                    Kind::General,
                    "virtual server snmp_name missing or extra parameters",
                );
            }
            c.ignored(w, "lvsd has no SNMP");
        }),
        Keyword::new("alpha", |c, _| {
            if let Some(vs) = last_vs(c) {
                vs.alpha = true;
            }
        }),
        Keyword::new("omega", |c, _| {
            if let Some(vs) = last_vs(c) {
                vs.omega = true;
            }
        }),
        Keyword::new("quorum_up", |c, w| quorum_script(c, w, true)),
        Keyword::new("quorum_down", |c, w| quorum_script(c, w, false)),
        Keyword::new("quorum", quorum),
        Keyword::new("hysteresis", hysteresis),
        Keyword::new("weight", vs_weight),
        Keyword::new("sorry_server", sorry_server),
        Keyword::new("sorry_server_inhibit", |c, _| {
            match last_vs(c).and_then(|vs| vs.sorry_server.as_mut()) {
                Some(s) => s.inhibit = true,
                None => c.report(
                    Kind::General,
                    "Ignoring sorry_server inhibit used before or without sorry_server",
                ),
            }
        }),
        Keyword::new("sorry_server_lvs_method", |c, w| {
            let Some(mut f) = last_vs(c)
                .and_then(|vs| vs.sorry_server.as_ref())
                .map(|s| s.forwarding)
            else {
                return c.report(
                    Kind::General,
                    "sorry_server forwarding used without sorry_server",
                );
            };
            forwarding(c, w, "sorry", &mut f);
            if let Some(s) = last_vs(c).and_then(|vs| vs.sorry_server.as_mut()) {
                s.forwarding = f;
            }
        }),
        Keyword::block(
            "real_server",
            Some(real_server),
            real,
            Some(real_server_end),
        ),
    ]
}

/// Reads a value and, if keepalived takes it, sets it on the real server being read.
fn on_rs<T>(
    c: &mut Ctx<'_>,
    read: impl FnOnce(&mut Ctx<'_>) -> Option<T>,
    set: impl FnOnce(&mut RealServer, T),
) {
    if let Some(v) = read(c) {
        if let Some(rs) = last_rs(c) {
            set(rs, v);
        }
    }
}

/// Reads a value and, if keepalived takes it, sets it on the virtual server being read.
fn on_vs<T>(
    c: &mut Ctx<'_>,
    read: impl FnOnce(&mut Ctx<'_>) -> Option<T>,
    set: impl FnOnce(&mut VirtualServer, T),
) {
    if let Some(v) = read(c) {
        if let Some(vs) = last_vs(c) {
            set(vs, v);
        }
    }
}

fn last_vs<'c>(c: &'c mut Ctx<'_>) -> Option<&'c mut VirtualServer> {
    c.config.check.virtual_servers.last_mut()
}

fn last_rs<'c>(c: &'c mut Ctx<'_>) -> Option<&'c mut RealServer> {
    last_vs(c)?.real_servers.last_mut()
}

fn ssl(c: &mut Ctx<'_>, _: &[String]) {
    if c.config.check.ssl.is_some() {
        c.report(Kind::General, "SSL context already specified - replacing");
    }
    c.config.check.ssl = Some(Ssl::default());
}

fn ssl_file(c: &mut Ctx<'_>, w: &[String], what: &str) {
    let Some(value) = w.get(1).cloned() else {
        return c.report(Kind::General, format!("SSL {what} missing"));
    };
    let Some(ssl) = c.config.check.ssl.as_mut() else {
        return;
    };
    let slot = match what {
        "password" => &mut ssl.password,
        "cafile" => &mut ssl.ca,
        "certfile" => &mut ssl.certificate,
        _ => &mut ssl.key,
    };
    let replacing = slot.is_some();
    *slot = Some(value);
    if replacing {
        c.report(
            Kind::General,
            format!("SSL {what} already specified - replacing"),
        );
    }
}

/// A port word as keepalived reads it for an address: none, or zeros, is no port.
fn port_of(c: &mut Ctx<'_>, word: Option<&String>) -> Result<u16, ()> {
    match word {
        Some(p) if !p.chars().all(|ch| ch == '0') => {
            value::unsigned(c, p, 1, 65535).map(|v| v as u16).ok_or(())
        }
        _ => Ok(0),
    }
}

fn group(c: &mut Ctx<'_>, w: &[String]) {
    let Some(name) = c.arg(w, 1).map(str::to_string) else {
        return;
    };
    let at = c.at;
    c.config.check.groups.push(Group {
        at,
        name: name.clone(),
        entries: Vec::new(),
    });
    let mut block_words = vec![w[0].clone()];
    block_words.extend(w.iter().skip(2).cloned());
    let lines = c.value_block(&block_words);
    let mut have = (false, false, false);
    let mut entries = Vec::new();
    for (at, line) in lines {
        let saved = c.at;
        c.at = at;
        if let Some(e) = group_entry(c, &name, &line) {
            if let GroupEntry::Range { first, last, .. } = &e {
                let count = to_bits(*last)
                    .saturating_sub(to_bits(*first))
                    .saturating_add(1);
                if count > super::MAX_RANGE {
                    c.explain(
                        Kind::Advice,
                        format!("this range is {count} addresses: keepalived makes an IPVS service of each"),
                        Some("lvsd makes services of the first 65536 only"),
                        Some("a firewall mark (fwmark) serves a large range as one service"),
                    );
                }
            }
            match &e {
                GroupEntry::Fwmark { family: None, .. } => have.2 = true,
                GroupEntry::Fwmark {
                    family: Some(Family::Inet),
                    ..
                } => have.0 = true,
                GroupEntry::Fwmark {
                    family: Some(Family::Inet6),
                    ..
                } => have.1 = true,
                GroupEntry::Range { first, .. } => match Family::of(first) {
                    Family::Inet => have.0 = true,
                    Family::Inet6 => have.1 = true,
                },
            }
            entries.push(e);
        }
        c.at = saved;
    }
    let keep = if entries.is_empty() {
        c.report(
            Kind::General,
            format!("virtual server group {name} has no entries - removing"),
        );
        false
    } else if have.0 && have.1 && have.2 {
        c.report(
            Kind::General,
            format!(
                "virtual server group {name} cannot have IPv4, IPv6 and fwmark without family - removing"
            ),
        );
        false
    } else {
        true
    };
    if keep {
        if let Some(g) = c.config.check.groups.last_mut() {
            g.entries = entries;
        }
    } else {
        c.config.check.groups.pop();
    }
}

fn group_entry(c: &mut Ctx<'_>, group: &str, w: &[String]) -> Option<GroupEntry> {
    let at = c.at;
    let first = w.first()?;
    if first == "fwmark" {
        let mark = w.get(1).and_then(|m| value::unsigned(c, m, 0, u32::MAX));
        let Some(mark) = mark else {
            c.report(
                Kind::General,
                format!(
                    "({group}): fwmark '{}' must be in [0, {}] - ignoring",
                    w.get(1).map_or("", String::as_str),
                    u32::MAX
                ),
            );
            return None;
        };
        let family = match w.get(2).map(String::as_str) {
            None => None,
            Some("inet") => Some(Family::Inet),
            Some("inet6") => Some(Family::Inet6),
            Some(other) => {
                c.report(
                    Kind::General,
                    format!("({group}): fwmark '{mark}' family {other} unknown - ignoring"),
                );
                return None;
            }
        };
        return Some(GroupEntry::Fwmark { at, mark, family });
    }
    let port_word = w.get(1).filter(|p| !p.chars().all(|ch| ch == '0'));
    let port = match port_word {
        Some(p) => value::unsigned(c, p, 1, 65535).map(|v| v as u16),
        None => Some(0),
    };
    let Some(addr) = port.and(value::address(first)) else {
        let p = port_word.map_or(String::new(), |p| format!("/port/{p}"));
        c.report(
            Kind::General,
            format!("Invalid virtual server group IP address {first} {p} - skipping"),
        );
        return None;
    };
    let port = port.unwrap_or(0);
    if let Some((_, mask)) = first.split_once('/') {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let Ok(mask) = mask.parse::<u32>().map_err(|_| ()).and_then(|m| {
            if m == 0 || m > max {
                Err(())
            } else {
                Ok(m)
            }
        }) else {
            c.report(
                Kind::General,
                format!("Invalid netmask - {first} - skipping"),
            );
            return None;
        };
        let bits = to_bits(addr);
        let host = if mask as usize >= bits_len(addr) {
            0
        } else {
            (1u128 << (bits_len(addr) - mask as usize)) - 1
        };
        if bits & host != 0 {
            c.report(
                Kind::General,
                format!("Address mask bits not empty - {first} - skipping"),
            );
            return None;
        }
        let last = from_bits(addr, bits | host);
        return Some(GroupEntry::Range {
            at,
            first: addr,
            last,
            port,
        });
    }
    if let Some((_, end)) = first.split_once('-') {
        let full_end =
            (addr.is_ipv4() && end.contains('.')) || (addr.is_ipv6() && end.contains(':'));
        if full_end {
            let Some(last) = value::address(end) else {
                c.report(
                    Kind::General,
                    format!("Invalid range end {first} - skipping"),
                );
                return None;
            };
            if last.is_ipv4() != addr.is_ipv4() {
                c.report(
                    Kind::General,
                    format!("Range address families do not match {first} - skipping"),
                );
                return None;
            }
            if to_bits(last) < to_bits(addr) {
                c.report(
                    Kind::General,
                    format!(
                        "Address range end is less than address range start - {first} - skipping"
                    ),
                );
                return None;
            }
            return Some(GroupEntry::Range {
                at,
                first: addr,
                last,
                port,
            });
        }
        // The end replaces the last byte (IPv4, decimal) or the last 16 bits (IPv6, hex).
        let (radix, max, width) = if addr.is_ipv4() {
            (10, 255u128, 8)
        } else {
            (16, 0xffff, 16)
        };
        let digits: String = end.chars().take_while(|ch| ch.is_digit(radix)).collect();
        let rest = &end[digits.len()..];
        // Longer than any address part: too large, as keepalived's strtoul says.
        let range = if digits.is_empty() {
            0
        } else {
            u128::from_str_radix(&digits, radix).unwrap_or(u128::MAX)
        };
        if !rest.is_empty() {
            c.report(
                Kind::InvalidNumber,
                format!(
                    "Virtual server group range '{first}' has extra characters at end '{rest}'"
                ),
            );
            return None;
        }
        if range > max {
            c.report(
                Kind::InvalidNumber,
                format!("Virtual server group range '{first}' end '{end}' too large"),
            );
            return None;
        }
        let bits = to_bits(addr);
        let start = bits & max;
        if start >= range {
            c.report(
                Kind::General,
                format!(
                    "Address range end is not greater than address range start - {first} - skipping"
                ),
            );
            return None;
        }
        let last = from_bits(addr, (bits >> width << width) | range);
        return Some(GroupEntry::Range {
            at,
            first: addr,
            last,
            port,
        });
    }
    Some(GroupEntry::Range {
        at,
        first: addr,
        last: addr,
        port,
    })
}

fn bits_len(a: IpAddr) -> usize {
    if a.is_ipv4() {
        32
    } else {
        128
    }
}

fn to_bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

fn from_bits(like: IpAddr, bits: u128) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4((bits as u32).into()),
        IpAddr::V6(_) => IpAddr::V6(bits.into()),
    }
}

fn virtual_server(c: &mut Ctx<'_>, w: &[String]) {
    let Some(first) = c.arg(w, 1).map(str::to_string) else {
        return;
    };
    let second = w.get(2);
    let (service, family) = match first.as_str() {
        "group" => {
            let Some(name) = c.arg(w, 2) else { return };
            (Service::Group(name.to_string()), None)
        }
        "fwmark" => {
            let Some(word) = c.arg(w, 2).map(str::to_string) else {
                return;
            };
            let Some(mark) = value::unsigned(c, &word, 0, u32::MAX) else {
                c.report(
                    Kind::General,
                    format!(
                        "virtual server fwmark '{word}' must be in [0, {}] - ignoring",
                        u32::MAX
                    ),
                );
                c.skip_block(true);
                return;
            };
            (Service::Fwmark(mark), None)
        }
        addr => {
            let port = port_of(c, second);
            let parsed = port.ok().and_then(|p| value::address(addr).map(|a| (a, p)));
            let Some((ip, port)) = parsed else {
                let p = second
                    .filter(|p| !p.chars().all(|ch| ch == '0'))
                    .map_or(String::new(), |p| format!("/{p}"));
                let slash = if p.is_empty() { "" } else { "/port" };
                c.report(
                    Kind::General,
                    format!("Invalid virtual server IP address{slash} {addr}{p} - skipping"),
                );
                c.skip_block(true);
                return;
            };
            (Service::Address { addr: ip, port }, Some(Family::of(&ip)))
        }
    };
    let at = c.at;
    c.config.check.virtual_servers.push(VirtualServer {
        at,
        service,
        family,
        protocol: None,
        scheduler: None,
        flags: Vec::new(),
        forwarding: None,
        persistence_timeout: None,
        persistence_granularity: None,
        persistence_engine: None,
        delay_loop: DEFAULT_DELAY_LOOP,
        connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        retry: None,
        delay_before_retry: None,
        warmup: None,
        inhibit_on_failure: false,
        alpha: false,
        omega: false,
        quorum: 1,
        hysteresis: 0,
        quorum_up: None,
        quorum_down: None,
        ha_suspend: false,
        smtp_alert: None,
        virtualhost: None,
        weight: 1,
        sorry_server: None,
        real_servers: Vec::new(),
    });
}

fn ip_family(c: &mut Ctx<'_>, w: &[String]) {
    let Some(word) = c.arg(w, 1).map(str::to_string) else {
        return;
    };
    let family = match word.as_str() {
        "inet" => Family::Inet,
        "inet6" => Family::Inet6,
        _ => return c.report(Kind::General, format!("unknown address family {word}")),
    };
    let Some(current) = last_vs(c).map(|vs| vs.family) else {
        return;
    };
    if current.is_some_and(|f| f != family) {
        return c.report(
            Kind::General,
            format!("Virtual server specified family {word} conflicts with server family"),
        );
    }
    if let Some(vs) = last_vs(c) {
        vs.family = Some(family);
    }
}

fn timer(c: &mut Ctx<'_>, w: &[String], min: u64, max: u64, complaint: &str) -> Option<u64> {
    let word = c.arg(w, 1)?.to_string();
    let v = value::timer(c, &word, min, max);
    if v.is_none() {
        c.report(Kind::General, complaint.replace("{}", &word));
    }
    v
}

fn retry(c: &mut Ctx<'_>, w: &[String]) -> Option<u32> {
    let word = c.arg(w, 1)?.to_string();
    let v = value::unsigned(c, &word, 1, u32::MAX);
    if v.is_none() {
        c.report(Kind::General, format!("retry value invalid - {word}"));
    }
    v
}

fn threshold(c: &mut Ctx<'_>, w: &[String], name: &str) -> Option<u32> {
    let word = c.arg(w, 1)?.to_string();
    let v = value::unsigned(c, &word, 0, u32::MAX);
    if v.is_none() {
        c.report(
            Kind::General,
            format!("Invalid real_server {name} '{word}' - ignoring"),
        );
    }
    v
}

/// A keyword that is on by itself, or `on`/`off` (and the like) after it.
fn flag(c: &mut Ctx<'_>, w: &[String], complaint: &str) -> Option<bool> {
    let Some(word) = w.get(1) else {
        return Some(true);
    };
    let v = value::true_false(word);
    if v.is_none() {
        c.report(Kind::General, format!("{complaint} {word}"));
    }
    v
}

fn scheduler(c: &mut Ctx<'_>, w: &[String]) {
    let Some(name) = c.arg(w, 1).map(str::to_string) else {
        return;
    };
    if !SCHEDULERS.contains(&name.as_str()) {
        c.explain(
            Kind::General,
            format!("Invalid lvs_scheduler '{name}' - ignoring"),
            None,
            Some(&format!("one of {}", SCHEDULERS.join(", "))),
        );
        return;
    }
    if let Some(vs) = last_vs(c) {
        vs.scheduler = Some(name);
    }
}

fn scheduler_flag(c: &mut Ctx<'_>, w: &[String]) {
    let Some(vs) = last_vs(c) else { return };
    let name = w[0].as_str();
    let sched = vs.scheduler.as_deref().unwrap_or("");
    let flag: Option<&'static str> = match name {
        "ops" => Some("ops"),
        "flag-1" => Some("flag-1"),
        "flag-2" => Some("flag-2"),
        "flag-3" => Some("flag-3"),
        "sh-port" if sched == "sh" => Some("sh-port"),
        "sh-fallback" if sched == "sh" => Some("sh-fallback"),
        "mh-port" if sched == "mh" => Some("mh-port"),
        "mh-fallback" if sched == "mh" => Some("mh-fallback"),
        // keepalived reads `hashed` and then forgets it: it names no flag any more.
        _ if sched == "sh" || sched == "mh" => None,
        _ => {
            c.explain(
                Kind::General,
                format!("{name} only applies to sh scheduler - ignoring"),
                None,
                Some("put lb_algo sh (or mh) before the flag"),
            );
            return;
        }
    };
    if let Some(f) = flag {
        if !vs.flags.contains(&f) {
            vs.flags.push(f);
        }
    }
}

/// Reads a forwarding method (`NAT`, `DR`, `TUN [type ipip|gue|gre] [port N] [csum|...]`)
/// into `slot`, which keeps its value when the line is refused.
fn forwarding(c: &mut Ctx<'_>, w: &[String], who: &str, slot: &mut Option<Forwarding>) {
    let Some(method) = c.arg(w, 1).map(str::to_string) else {
        return;
    };
    let base = match method.as_str() {
        "NAT" => Forwarding::Nat,
        "DR" => Forwarding::Dr,
        "TUN" => Forwarding::Tun {
            kind: TunnelKind::Ipip,
            port: 0,
            checksum: TunnelChecksum::NoCsum,
        },
        _ => {
            return c.explain(
                Kind::General,
                format!("PARSER : unknown [{method}] routing method for {who} server."),
                None,
                Some("NAT, DR or TUN, in capitals"),
            );
        }
    };
    let (mut kind, mut port, mut checksum) = (TunnelKind::Ipip, 0u16, TunnelChecksum::NoCsum);
    let mut i = 2;
    while i < w.len() {
        match w[i].as_str() {
            "type" => {
                let Some(t) = w.get(i + 1) else {
                    return c.report(
                        Kind::General,
                        format!("Missing tunnel type for {who} server."),
                    );
                };
                kind = match t.as_str() {
                    "ipip" => TunnelKind::Ipip,
                    "gue" => TunnelKind::Gue,
                    "gre" => TunnelKind::Gre,
                    _ => {
                        return c.report(
                            Kind::General,
                            format!("Unknown tunnel type {t} for {who} server."),
                        )
                    }
                };
                i += 1;
            }
            "port" => {
                let Some(p) = w.get(i + 1).cloned() else {
                    return c.report(
                        Kind::General,
                        format!("Missing port for {who} server gue tunnel."),
                    );
                };
                let Some(v) = value::unsigned(c, &p, 1, 65535) else {
                    return c.report(
                        Kind::General,
                        format!("Invalid gue tunnel port {p} for {who} server."),
                    );
                };
                port = v as u16;
                i += 1;
            }
            "nocsum" => checksum = TunnelChecksum::NoCsum,
            "csum" => checksum = TunnelChecksum::Csum,
            "remcsum" => checksum = TunnelChecksum::RemCsum,
            other => {
                return c.report(
                    Kind::General,
                    format!("Invalid tunnel option {other} for {who} server."),
                )
            }
        }
        i += 1;
    }
    if (kind == TunnelKind::Gue) != (port != 0) {
        return c.report(
            Kind::General,
            "gue tunnels require port, otherwise cannot have port.",
        );
    }
    if kind == TunnelKind::Ipip && checksum != TunnelChecksum::NoCsum {
        return c.report(
            Kind::General,
            "ipip tunnels do not support checksum option.",
        );
    }
    if kind == TunnelKind::Gre && checksum == TunnelChecksum::RemCsum {
        return c.report(
            Kind::General,
            "gre tunnels do not support remote checksum option.",
        );
    }
    *slot = Some(match base {
        Forwarding::Tun { .. } => Forwarding::Tun {
            kind,
            port,
            checksum,
        },
        other => other,
    });
}

fn vs_forwarding(c: &mut Ctx<'_>, w: &[String]) {
    let Some(mut f) = last_vs(c).map(|vs| vs.forwarding) else {
        return;
    };
    forwarding(c, w, "virtual", &mut f);
    if let Some(vs) = last_vs(c) {
        vs.forwarding = f;
    }
}

fn persistence_timeout(c: &mut Ctx<'_>, w: &[String]) {
    let v = match w.get(1).cloned() {
        None => Some(PERSISTENT_TIMEOUT),
        Some(word) => {
            let v = value::unsigned(c, &word, 1, MAX_TIMEOUT);
            if v.is_none() {
                c.report(Kind::General, "persistence_timeout invalid");
            }
            v
        }
    };
    if let (Some(v), Some(vs)) = (v, last_vs(c)) {
        vs.persistence_timeout = Some(v);
    }
}

fn persistence_engine(c: &mut Ctx<'_>, w: &[String]) {
    let Some(name) = c.arg(w, 1).map(str::to_string) else {
        return;
    };
    let mut name = name;
    if name.len() > PE_NAME_MAX {
        c.report(
            Kind::General,
            format!("persistence_name too long, truncating - {name}"),
        );
        let mut end = PE_NAME_MAX;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    if let Some(vs) = last_vs(c) {
        vs.persistence_engine = Some(name);
    }
}

fn persistence_granularity(c: &mut Ctx<'_>, w: &[String]) {
    let Some(word) = c.arg(w, 1).map(str::to_string) else {
        return;
    };
    let Some(family) = last_vs(c).map(|vs| {
        vs.family.unwrap_or(if word.contains('.') {
            Family::Inet
        } else {
            Family::Inet6
        })
    }) else {
        return;
    };
    let ok = match family {
        Family::Inet6 => {
            let v = value::unsigned(c, &word, 1, 128);
            if v.is_none() {
                c.report(
                    Kind::General,
                    format!("Invalid IPv6 persistence_granularity specified - {word}"),
                );
            }
            v.is_some()
        }
        Family::Inet => {
            // getaddrinfo with AI_NUMERICHOST also takes the old forms (10.1, 0x0a...); the
            // usual dotted quad is what matters.
            let ok = value::ipv4_pton(&word).is_some();
            if !ok {
                c.report(
                    Kind::General,
                    format!("Invalid IPv4 persistence_granularity specified - {word}"),
                );
            }
            ok
        }
    };
    if !ok {
        return;
    }
    if let Some(vs) = last_vs(c) {
        vs.persistence_granularity = Some(word);
        vs.family.get_or_insert(family);
        vs.persistence_timeout.get_or_insert(PERSISTENT_TIMEOUT);
    }
}

fn protocol(c: &mut Ctx<'_>, w: &[String]) {
    let Some(word) = c.arg(w, 1).map(str::to_string) else {
        return;
    };
    let p = match word.to_ascii_uppercase().as_str() {
        "TCP" => Protocol::Tcp,
        "UDP" => Protocol::Udp,
        "SCTP" => Protocol::Sctp,
        _ => return c.report(Kind::General, format!("Unknown protocol {word} - ignoring")),
    };
    if let Some(vs) = last_vs(c) {
        vs.protocol = Some(p);
    }
}

fn quorum(c: &mut Ctx<'_>, w: &[String]) {
    let Some(word) = c.arg(w, 1).map(str::to_string) else {
        return;
    };
    let q = match value::unsigned(c, &word, 1, u32::MAX) {
        Some(q) => q,
        None => {
            c.report(
                Kind::General,
                format!("Quorum {word} must be in [1, {}]. Setting to 1.", u32::MAX),
            );
            1
        }
    };
    if let Some(vs) = last_vs(c) {
        vs.quorum = q;
    }
}

fn hysteresis(c: &mut Ctx<'_>, w: &[String]) {
    let Some(word) = c.arg(w, 1).map(str::to_string) else {
        return;
    };
    let Some(h) = value::unsigned(c, &word, 0, u32::MAX) else {
        return c.report(
            Kind::General,
            format!("Hysteresis {word} must be in [0, {}] - ignoring", u32::MAX),
        );
    };
    if let Some(vs) = last_vs(c) {
        vs.hysteresis = h;
    }
}

fn vs_weight(c: &mut Ctx<'_>, w: &[String]) {
    let Some(word) = c.arg(w, 1).map(str::to_string) else {
        return;
    };
    let Some(v) = value::unsigned(c, &word, 1, WEIGHT_MAX) else {
        return c.report(
            Kind::General,
            format!("Virtual server weight {word} is outside range 1-{WEIGHT_MAX}"),
        );
    };
    if let Some(vs) = last_vs(c) {
        vs.weight = v;
    }
}

fn rs_weight(c: &mut Ctx<'_>, w: &[String]) {
    let Some(word) = c.arg(w, 1).map(str::to_string) else {
        return;
    };
    let Some(v) = value::unsigned(c, &word, 0, WEIGHT_MAX) else {
        return c.report(
            Kind::General,
            format!("Real server weight {word} is outside range 0-{WEIGHT_MAX}"),
        );
    };
    if let Some(rs) = last_rs(c) {
        rs.weight = Some(v);
    }
}

fn quorum_script(c: &mut Ctx<'_>, w: &[String], up: bool) {
    let name = if up { "quorum_up" } else { "quorum_down" };
    let Some(vs) = last_vs(c) else { return };
    let set = if up { &vs.quorum_up } else { &vs.quorum_down };
    if set.is_some() {
        let group = group_name(c);
        return c.report(
            Kind::General,
            format!(
                "({group}) {name} script already specified - ignoring {}",
                w.get(1).map_or("", String::as_str)
            ),
        );
    }
    let s = script::of_line(c);
    if let Some(vs) = last_vs(c) {
        if up {
            vs.quorum_up = s;
        } else {
            vs.quorum_down = s;
        }
    }
}

fn rs_script(c: &mut Ctx<'_>, w: &[String], up: bool) {
    let name = if up { "notify_up" } else { "notify_down" };
    let Some(rs) = last_rs(c) else { return };
    let set = if up { &rs.notify_up } else { &rs.notify_down };
    if set.is_some() {
        let group = group_name(c);
        return c.report(
            Kind::General,
            format!(
                "({group}) {name} script already specified - ignoring {}",
                w.get(1).map_or("", String::as_str)
            ),
        );
    }
    let s = script::of_line(c);
    if let Some(rs) = last_rs(c) {
        if up {
            rs.notify_up = s;
        } else {
            rs.notify_down = s;
        }
    }
}

/// The group name keepalived prints in some complaints: `(null)` for a virtual server that
/// is not a group's.
fn group_name(c: &mut Ctx<'_>) -> String {
    match last_vs(c).map(|vs| &vs.service) {
        Some(Service::Group(g)) => g.clone(),
        _ => "(null)".to_string(),
    }
}

fn sorry_server(c: &mut Ctx<'_>, w: &[String]) {
    let Some(ip) = c.arg(w, 1).map(str::to_string) else {
        return;
    };
    let Some(forwarding) = last_vs(c).map(|vs| vs.forwarding) else {
        return;
    };
    let port = port_of(c, w.get(2));
    let Some((addr, port)) = port.ok().and_then(|p| value::address(&ip).map(|a| (a, p))) else {
        return c.report(
            Kind::General,
            format!("Invalid sorry server IP address {ip} - skipping"),
        );
    };
    let at = c.at;
    if let Some(vs) = last_vs(c) {
        vs.sorry_server = Some(SorryServer {
            at,
            addr,
            port,
            forwarding,
            inhibit: false,
        });
    }
}

fn real_server(c: &mut Ctx<'_>, w: &[String]) {
    let Some(ip) = c.arg(w, 1).map(str::to_string) else {
        return;
    };
    let port = port_of(c, w.get(2));
    let parsed = port.ok().and_then(|p| value::address(&ip).map(|a| (a, p)));
    let Some((addr, port)) = parsed else {
        c.report(
            Kind::General,
            format!(
                "Invalid real server ip address/port {ip}/{} - skipping",
                w.get(2).map_or("(null)", String::as_str)
            ),
        );
        c.skip_block(true);
        return;
    };
    let at = c.at;
    let Some(vs) = last_vs(c) else { return };
    let forwarding = vs.forwarding;
    vs.real_servers.push(RealServer {
        at,
        addr,
        port,
        weight: None,
        forwarding,
        uthreshold: 0,
        lthreshold: 0,
        inhibit_on_failure: None,
        notify_up: None,
        notify_down: None,
        alpha: None,
        retry: None,
        delay_before_retry: None,
        warmup: None,
        connect_timeout: None,
        delay_loop: None,
        smtp_alert: None,
        virtualhost: None,
        checkers: Vec::new(),
    });
}

/// The end of a `virtual_server` block: the family from the sorry server, or from tunnelled
/// real servers when nothing else gives one.
pub fn virtual_server_end(c: &mut Ctx<'_>) {
    let Some(vs) = last_vs(c) else { return };
    let mut refused = None;
    if let Some(s) = &vs.sorry_server {
        if !matches!(s.forwarding, Some(Forwarding::Tun { .. })) {
            let f = Family::of(&s.addr);
            match vs.family {
                None => vs.family = Some(f),
                Some(have) if have != f => refused = Some(s.addr),
                Some(_) => {}
            }
        }
    }
    if let Some(addr) = refused {
        vs.sorry_server = None;
        c.report(
            Kind::General,
            format!(
                "Address family of virtual server and sorry server {addr} don't match - skipping sorry server."
            ),
        );
    }
    let Some(vs) = last_vs(c) else { return };
    if vs.family.is_none() && !matches!(vs.service, Service::Group(_)) {
        let mut families = vs
            .sorry_server
            .iter()
            .map(|s| Family::of(&s.addr))
            .chain(vs.real_servers.iter().map(|r| Family::of(&r.addr)));
        let first = families.next();
        let mixed = families.any(|f| Some(f) != first);
        vs.family = Some(if mixed {
            Family::Inet
        } else {
            first.unwrap_or(Family::Inet)
        });
    }
}

/// The end of a `real_server` block: a real server of another family than its virtual
/// server's is dropped, unless tunnelled.
pub fn real_server_end(c: &mut Ctx<'_>) {
    let Some(rs) = last_rs(c) else { return };
    if matches!(rs.forwarding, Some(Forwarding::Tun { .. })) {
        return;
    }
    let f = Family::of(&rs.addr);
    let addr = rs.addr;
    let Some(vs) = last_vs(c) else { return };
    match vs.family {
        None => vs.family = Some(f),
        Some(have) if have != f => {
            vs.real_servers.pop();
            c.report(
                Kind::General,
                format!(
                    "Address family of virtual server and real server {addr} don't match - skipping real server."
                ),
            );
        }
        Some(_) => {}
    }
}
