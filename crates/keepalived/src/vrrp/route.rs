//! Lines of `virtual_routes`, `static_routes`, `virtual_rules` and `static_rules`. lvsd sets
//! no routes or rules, so it keeps their words; it reads them far enough to make the
//! complaints keepalived makes about them (vrrp/vrrp_iproute.c, vrrp/vrrp_iprule.c).

use super::address::{self, report_at};
use super::Route;
use crate::parse::Ctx;
use crate::problem::{Kind, Place};

/// keepalived's first automatic rule preference; each rule without one takes the next
/// lower, counted per address family over the whole file.
const RULE_START_PRIORITY: u32 = 16384;

/// Route types that come before the destination.
const ROUTE_TYPES: &[&str] = &[
    "unicast",
    "local",
    "broadcast",
    "multicast",
    "throw",
    "unreachable",
    "prohibit",
    "blackhole",
    "nat",
    "anycast",
    "xresolve",
];

/// A route type as keepalived's `find_rttables_rtntype` reads it: a name or a number.
fn is_type(w: &str) -> bool {
    ROUTE_TYPES.contains(&w) || w.parse::<u8>().is_ok()
}

/// The routes of a block, with keepalived's complaints about them.
pub(super) fn routes(ctx: &mut Ctx<'_>, words: &[String]) -> Vec<Route> {
    let mut out = Vec::new();
    for (at, line) in ctx.value_block(words) {
        let deferred = route(ctx, at, &line);
        if super::aborted(ctx) {
            break;
        }
        out.push(Route {
            words: line,
            at: Some(at),
            abort_unless_missing: deferred,
        });
    }
    out
}

/// keepalived's complaint where a keyword of a block line lacks its value.
pub(super) fn missing_message(line: &[String], k: usize) -> String {
    let first = line.first().map_or("***MISSING ***", String::as_str);
    let keyword = line.get(k).map_or("", String::as_str);
    format!(
        "*** Configuration line starting `{first}` is missing a parameter after keyword `{keyword}` at word position {}",
        k + 2
    )
}

/// keepalived stops reading where a route or rule keyword lacks its value.
fn abort_at(ctx: &mut Ctx<'_>, at: Option<Place>, message: String) {
    let mut p = crate::problem::Problem::new(at, Kind::Aborted, message);
    p.effect = Some("keepalived stops reading here and exits with status 2".into());
    ctx.problems.push(p);
}

fn missing_value(ctx: &mut Ctx<'_>, at: Place, line: &[String], k: usize) {
    abort_at(ctx, Some(at), missing_message(line, k));
}

/// Route keywords that take one value.
const WITH_VALUE: &[&str] = &[
    "src",
    "as",
    "via",
    "from",
    "tos",
    "dsfield",
    "table",
    "protocol",
    "proto",
    "scope",
    "metric",
    "priority",
    "preference",
    "dev",
    "oif",
    "expires",
    "mtu",
    "hoplimit",
    "advmss",
    "rtt",
    "rttvar",
    "reordering",
    "window",
    "cwnd",
    "ssthresh",
    "realms",
    "rto_min",
    "initcwnd",
    "initrwnd",
    "features",
    "quickack",
    "congctl",
    "pref",
    "fastopen_no_cookie",
    "track_group",
    "vrf",
];

/// Route keywords on their own.
const FLAGS: &[&str] = &[
    "onlink", "add", "prepend", "append", "no_track", "lock", "inet", "inet6",
];

/// Reads a route line as far as keepalived's complaints need: a word it does not know is
/// taken as the destination, and one that is no address drops the route.
/// Returns the abort keepalived makes only if the devices named before it exist (known only
/// once the file is read).
fn route(ctx: &mut Ctx<'_>, at: Place, line: &[String]) -> Option<(Vec<String>, String)> {
    let mut dest: Option<&str> = None;
    let mut devs: Vec<String> = Vec::new();
    let mut has_dev = false;
    let mut no_track = false;
    let mut k = 0;
    while k < line.len() {
        let w = line[k].as_str();
        match w {
            "gw" => {
                report_at(
                    ctx,
                    at,
                    Kind::General,
                    "\"gw\" for routes is deprecated. Please use \"via\"",
                );
                k += 2;
                continue;
            }
            "or" => {
                report_at(
                    ctx,
                    at,
                    Kind::General,
                    "\"or\" for routes is deprecated. Please use \"nexthop\"",
                );
                k += 2;
                continue;
            }
            "dev" | "oif" => {
                if k + 1 >= line.len() {
                    return defer(ctx, at, line, k, devs);
                }
                devs.push(line[k + 1].clone());
                has_dev = true;
                k += 2;
                continue;
            }
            // The rest of the line is the hops or the encapsulation.
            "nexthop" | "encap" => break,
            "no_track" => no_track = true,
            _ if WITH_VALUE.contains(&w) => {
                if k + 1 >= line.len() {
                    return defer(ctx, at, line, k, devs);
                }
                k += 2;
                continue;
            }
            _ if FLAGS.contains(&w) => {}
            // Anything else is the destination, after an optional `to` and type.
            _ => {
                let mut j = k;
                if w == "to" {
                    j += 1;
                }
                if line.get(j).is_some_and(|t| is_type(t)) {
                    j += 1;
                }
                let Some(d) = line.get(j).map(String::as_str) else {
                    return defer(ctx, at, line, j - 1, devs);
                };
                let special = matches!(d, "default" | "any" | "all" | "default6");
                if !special && address::parse(ctx, at, d, true).is_none() {
                    report_at(ctx, at, Kind::General, format!("unknown route keyword {d}"));
                    return None;
                }
                dest = Some(d);
                k = j;
            }
        }
        k += 1;
    }
    if let Some(d) = dest.filter(|d| !matches!(*d, "default" | "any" | "all" | "default6")) {
        if !has_dev && !no_track {
            let shown = if d.contains('/') {
                d.to_string()
            } else if d.contains(':') {
                format!("{d}/128")
            } else {
                format!("{d}/32")
            };
            report_at(
                ctx,
                at,
                Kind::General,
                format!("Warning - cannot track route {shown} with no interface specified, not tracking"),
            );
        }
    }
    None
}

/// A missing value after devices whose existence is not known yet waits for validation;
/// without such devices keepalived stops here.
fn defer(
    ctx: &mut Ctx<'_>,
    at: Place,
    line: &[String],
    k: usize,
    devs: Vec<String>,
) -> Option<(Vec<String>, String)> {
    if devs.is_empty() {
        missing_value(ctx, at, line, k);
        None
    } else {
        Some((devs, missing_message(line, k)))
    }
}

/// Rule keywords that take one value.
const RULE_WITH_VALUE: &[&str] = &[
    "table",
    "lookup",
    "tos",
    "dsfield",
    "fwmark",
    "realms",
    "suppress_prefixlength",
    "sup_pl",
    "suppress_ifgroup",
    "sup_group",
    "dev",
    "iif",
    "oif",
    "uidrange",
    "protocol",
    "ipproto",
    "sport",
    "dport",
    "track_group",
    "type",
    "goto",
];

/// The rules of a block, with keepalived's complaints; a rule keepalived refuses is left
/// out.
pub(super) fn rules(ctx: &mut Ctx<'_>, words: &[String]) -> Vec<Route> {
    let mut out = Vec::new();
    for (at, line) in ctx.value_block(words) {
        let mut v6: Option<bool> = None;
        let mut has_pref = false;
        let mut ok = true;
        let mut k = 0;
        while k < line.len() {
            let w = line[k].as_str();
            match w {
                "from" | "to" => {
                    let Some(a) = line.get(k + 1) else {
                        missing_value(ctx, at, &line, k);
                        return out;
                    };
                    if a != "all" {
                        match address::parse(ctx, at, a, true) {
                            Some((ip, _)) => v6 = Some(ip.is_ipv6()),
                            None => {
                                report_at(
                                    ctx,
                                    at,
                                    Kind::General,
                                    format!("Invalid rule {w} address {a}"),
                                );
                                ok = false;
                                break;
                            }
                        }
                    }
                    k += 2;
                    continue;
                }
                "preference" | "priority" | "order" => {
                    if k + 1 >= line.len() {
                        missing_value(ctx, at, &line, k);
                        return out;
                    }
                    has_pref = true;
                    k += 2;
                    continue;
                }
                _ if RULE_WITH_VALUE.contains(&w) => {
                    if k + 1 >= line.len() {
                        missing_value(ctx, at, &line, k);
                        return out;
                    }
                    k += 2;
                    continue;
                }
                _ => {}
            }
            k += 1;
        }
        if !ok {
            continue;
        }
        if !has_pref {
            let fam = usize::from(v6 == Some(true));
            let used = &mut ctx.config.vrrp.rules_without_preference[fam];
            let prio = RULE_START_PRIORITY - *used;
            *used += 1;
            report_at(
                ctx,
                at,
                Kind::General,
                format!("Rule has no preference specified - setting to {prio}. This is probably not what you want."),
            );
        }
        out.push(Route {
            words: line,
            at: Some(at),
            abort_unless_missing: None,
        });
    }
    out
}
