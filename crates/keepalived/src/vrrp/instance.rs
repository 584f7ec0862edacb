//! `vrrp_instance` and its keywords, in keepalived's order (vrrp/vrrp_parser.c), each
//! handler with keepalived's complaints.

use super::address::{self, report_at};
use super::route;
use super::{current, iname, AuthType, Instance, State, Tracked, UnicastPeer};
use crate::parse::{Ctx, Handler, Keyword};
use crate::problem::{Kind, Place};
use crate::value;

const TIMER_HZ: u64 = 1_000_000;

/// Runs `f` on the current instance, if there is one.
fn with(ctx: &mut Ctx<'_>, f: impl FnOnce(&mut Instance)) {
    if let Some(i) = current(ctx) {
        f(i);
    }
}

fn start(ctx: &mut Ctx<'_>, words: &[String]) {
    if words.len() != 2 {
        ctx.report(Kind::General, "vrrp_instance must have a name");
        ctx.skip_block(true);
        return;
    }
    let name = &words[1];
    if ctx.config.vrrp.instances.iter().any(|i| &i.name == name) {
        ctx.report(
            Kind::General,
            format!("vrrp instance {name} already defined"),
        );
        ctx.skip_block(true);
        return;
    }
    let at = ctx.at;
    ctx.config.vrrp.instances.push(Instance {
        name: name.clone(),
        at: Some(at),
        ..Instance::default()
    });
}

fn end(ctx: &mut Ctx<'_>) {
    let name = iname(ctx);
    let Some(i) = current(ctx) else { return };
    if i.unicast_peers.is_empty() && i.unicast_ttl.is_some() {
        i.unicast_ttl = None;
        ctx.report(
            Kind::General,
            format!("({name}): Cannot use unicast_ttl without unicast peers - resetting"),
        );
    }
}

/// A `true`/`false` word, true when absent; `None` after `msg`'s complaint.
fn flag(
    ctx: &mut Ctx<'_>,
    words: &[String],
    msg: impl FnOnce(&str, &str) -> String,
) -> Option<bool> {
    let Some(w) = words.get(1) else {
        return Some(true);
    };
    let r = value::true_false(w);
    if r.is_none() {
        let name = iname(ctx);
        ctx.report(Kind::General, msg(&name, w));
    }
    r
}

fn unsigned_arg(
    ctx: &mut Ctx<'_>,
    words: &[String],
    min: u32,
    max: u32,
    msg: impl FnOnce(&str, &str) -> String,
) -> Option<u32> {
    let s = ctx.arg(words, 1)?;
    let v = value::unsigned(ctx, s, min, max);
    if v.is_none() {
        let name = iname(ctx);
        ctx.report(Kind::General, msg(&name, s));
    }
    v
}

/// A notify script keyword: the command line, once.
/// keepalived reads script lines again allowing quotes: a line whose quote is not closed
/// gets that reader's complaint instead of the missing value's.
pub(super) fn unclosed_quote(ctx: &mut Ctx<'_>, words: &[String]) -> bool {
    if words.len() > 1 {
        return false;
    }
    let at = ctx.at;
    let text = ctx.problems.list.iter().find_map(|p| {
        (p.at == Some(at) && p.kind == Kind::UnmatchedQuote)
            .then(|| {
                p.message
                    .strip_prefix("Unmatched quote: '")?
                    .strip_suffix('\'')
                    .map(str::to_string)
            })
            .flatten()
    });
    match text {
        Some(t) => {
            ctx.report(
                Kind::UnmatchedQuote,
                format!("String '{t}': missing terminating \""),
            );
            true
        }
        None => false,
    }
}

fn notify(
    ctx: &mut Ctx<'_>,
    words: &[String],
    label: &str,
    slot: fn(&mut Instance) -> &mut Option<String>,
) {
    if unclosed_quote(ctx, words) {
        return;
    }
    let Some(first) = ctx.arg(words, 1) else {
        return;
    };
    let name = iname(ctx);
    let cmd = words[1..].join(" ");
    let Some(i) = current(ctx) else { return };
    let s = slot(i);
    if s.is_some() {
        ctx.report(
            Kind::General,
            format!("({name}) {label} script already specified - ignoring {first}"),
        );
        return;
    }
    *s = Some(cmd);
}

/// A `track_*` block of the current instance (keepalived's `alloc_track_*`): entries are
/// checked against what exists once the file is read, except scripts, which must be defined
/// before.
pub(super) fn tracked(
    ctx: &mut Ctx<'_>,
    owner: &str,
    what: &str,
    words: &[String],
    weight_limit: i32,
) -> Vec<Tracked> {
    let mut out: Vec<Tracked> = Vec::new();
    for (at, line) in ctx.value_block(words) {
        if let Some(t) = tracked_line(ctx, owner, what, at, &line, weight_limit, &out) {
            out.push(t);
        }
    }
    out
}

fn tracked_line(
    ctx: &mut Ctx<'_>,
    owner: &str,
    what: &str,
    at: Place,
    line: &[String],
    limit: i32,
    seen: &[Tracked],
) -> Option<Tracked> {
    let name = line.first()?.clone();
    let (label, dup, opt_msg) = match what {
        "interface" => ("track_interface", "track_interface", "track_interface"),
        "script" => ("track script", "track_script", "track script"),
        "file" => ("track file", "track_file", "track file"),
        "process" => ("track process", "track_process", "track process"),
        _ => ("track bfd", "track_bfd", "track bfd"),
    };
    let v = &ctx.config.vrrp;
    let defined = match what {
        "script" => v.scripts.iter().any(|s| s.name == name),
        "process" => v.track_processes.iter().any(|s| s.name == name),
        "bfd" => v.bfd_instances.iter().any(|s| s.name == name),
        "file" => v.track_files.iter().any(|s| s.name == name),
        _ => true,
    };
    if !defined {
        report_at(
            ctx,
            at,
            Kind::General,
            format!("({owner}) {label} {name} not found, ignoring..."),
        );
        return None;
    }
    if seen.iter().any(|t| t.name == name) {
        report_at(
            ctx,
            at,
            Kind::General,
            format!("({owner}) duplicate {dup} {name} - ignoring"),
        );
        return None;
    }
    let mut t = Tracked {
        name: name.clone(),
        weight: None,
        reverse: false,
        at: Some(at),
    };
    if let Some(opt) = line.get(1) {
        if opt != "weight" {
            let msg = match what {
                "interface" => {
                    format!("({owner}) unknown track_interface {name} option {opt} - ignoring")
                }
                "script" => format!("({owner}) unknown track script option {opt} - ignoring"),
                "bfd" => format!("({owner}) unknown track bfd {name} option {opt} - ignoring"),
                _ => format!("({owner}) unknown {opt_msg} option {opt} - ignoring"),
            };
            report_at(ctx, at, Kind::General, msg);
            return None;
        }
        let Some(w) = line.get(2) else {
            let msg = match what {
                "interface" => format!("({owner}) weight without value specified for track_interface {name} - ignoring"),
                "script" => format!("({owner}) weight without value specified for track script {name} - ignoring"),
                _ => format!("({owner}) weight without value specified for {opt_msg} {name} - ignoring"),
            };
            report_at(ctx, at, Kind::General, msg);
            return None;
        };
        let saved = ctx.at;
        ctx.at = at;
        let v = value::int(ctx, w, -limit, limit);
        ctx.at = saved;
        match v {
            None => {
                let msg = match what {
                    "interface" => format!("({owner}) weight {w} for {name} must be between [-253..253] inclusive. Ignoring..."),
                    "script" => format!("({owner}) track script {name}: weight must be between [-253..253] inclusive, ignoring..."),
                    _ => format!("({owner}) weight for {opt_msg} {name} must be in [-{limit}..{limit}] inclusive. Ignoring..."),
                };
                report_at(ctx, at, Kind::General, msg);
                if what == "interface" {
                    t.weight = Some(0);
                }
            }
            Some(v) if v.abs() == 254 && matches!(what, "interface" | "script") => {
                report_at(
                    ctx,
                    at,
                    Kind::General,
                    format!("({owner}) weight for {name} cannot be +/-254. Setting to +/-253"),
                );
                t.weight = Some(v.signum() * 253);
            }
            Some(v) => t.weight = Some(v),
        }
        if let Some(r) = line.get(3) {
            match r.as_str() {
                "reverse" => t.reverse = true,
                "noreverse" if what != "interface" => t.reverse = false,
                _ => {
                    let msg = match what {
                        "interface" => format!(
                            "({owner}) unknown track_interace {name} weight option {r} - ignoring"
                        ),
                        "script" => format!(
                            "({owner}) unknown track_script {name} weight option {r} - ignoring"
                        ),
                        _ => format!(
                            "({owner}) unknown {opt_msg} {name} weight option {r} - ignoring"
                        ),
                    };
                    report_at(ctx, at, Kind::General, msg);
                }
            }
        }
    }
    Some(t)
}

fn src_ip(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(s) = ctx.arg(words, 1) else { return };
    let name = iname(ctx);
    let Some(a) = value::address(s) else {
        ctx.report(
            Kind::General,
            format!("Configuration error: VRRP instance[{name}] malformed src address[{s}]. Skipping..."),
        );
        return;
    };
    let Some(i) = current(ctx) else { return };
    match i.ipv6 {
        Some(v6) if v6 != a.is_ipv6() => {
            i.src_ip = None;
            ctx.report(
                Kind::General,
                format!(
                    "Configuration error: VRRP instance[{name}] and src address[{s}] MUST be of \
                     the same family !!! Skipping..."
                ),
            );
        }
        _ => {
            i.ipv6 = Some(a.is_ipv6());
            i.src_ip = Some(a);
        }
    }
}

fn unicast_peer(ctx: &mut Ctx<'_>, words: &[String]) {
    if let Some(i) = current(ctx) {
        i.unicast_configured = true;
    }
    let name = iname(ctx);
    for (at, line) in ctx.value_block(words) {
        let Some(first) = line.first() else { continue };
        let Some(a) = value::address(first) else {
            report_at(
                ctx,
                at,
                Kind::General,
                format!(
                    "Configuration error: VRRP instance[{name}] malformed unicast peer \
                     address[{first}]. Skipping..."
                ),
            );
            continue;
        };
        let family_ok = match current(ctx) {
            Some(i) => match i.ipv6 {
                None => {
                    i.ipv6 = Some(a.is_ipv6());
                    true
                }
                Some(v6) => v6 == a.is_ipv6(),
            },
            None => true,
        };
        if !family_ok {
            report_at(
                ctx,
                at,
                Kind::General,
                format!(
                    "Configuration error: VRRP instance[{name}] and unicast peer address\
                     [{first}] MUST be of the same family !!! Skipping..."
                ),
            );
            continue;
        }
        let mut peer = UnicastPeer {
            address: Some(a),
            min_ttl: 0,
            max_ttl: 255,
            at: Some(at),
        };
        let mut k = 1;
        while k < line.len() {
            let Some(v) = line.get(k + 1) else {
                report_at(
                    ctx,
                    at,
                    Kind::General,
                    format!("({name}) {} is missing a value", line[k]),
                );
                break;
            };
            let saved = ctx.at;
            ctx.at = at;
            let n = value::unsigned(ctx, v, 0, 255);
            ctx.at = saved;
            if let Some(n) = n {
                match line[k].as_str() {
                    "min_ttl" => peer.min_ttl = n,
                    "max_ttl" => peer.max_ttl = n,
                    o => {
                        report_at(
                            ctx,
                            at,
                            Kind::General,
                            format!("({name}) unknown unicast_peer option {o}"),
                        );
                        break;
                    }
                }
                if let Some(i) = current(ctx) {
                    i.check_unicast_src = true;
                }
            }
            k += 2;
        }
        if peer.min_ttl > peer.max_ttl {
            report_at(
                ctx,
                at,
                Kind::General,
                format!(
                    "({name}) min_ttl {} > max_ttl {} - all packets will be discarded",
                    peer.min_ttl, peer.max_ttl
                ),
            );
        }
        with(ctx, |i| i.unicast_peers.push(peer));
    }
}

fn vips(ctx: &mut Ctx<'_>, words: &[String], excluded: bool) {
    let name = iname(ctx);
    for (at, line) in ctx.value_block(words) {
        let Some(a) = address::read(ctx, at, &line, false) else {
            continue;
        };
        let Some(i) = current(ctx) else { continue };
        if excluded {
            i.excluded_vips.push(a);
            continue;
        }
        match i.ipv6 {
            None => i.ipv6 = Some(a.address.is_ipv6()),
            Some(v6) if v6 != a.address.is_ipv6() => {
                let first = line.first().cloned().unwrap_or_default();
                report_at(
                    ctx,
                    at,
                    Kind::General,
                    format!(
                        "({name}): address family must match VRRP instance [{first}] - ignoring"
                    ),
                );
                continue;
            }
            Some(_) => {}
        }
        i.vips.push(a);
    }
}

fn vmac(ctx: &mut Ctx<'_>, words: &[String]) {
    let kw = words.first().map_or("", String::as_str);
    match kw {
        "use_vmac" => with(ctx, |i| i.use_vmac = true),
        "vmac_xmit_base" => with(ctx, |i| i.vmac_xmit_base = true),
        _ => {}
    }
    ctx.ignored(words, "lvsd does not create VMAC interfaces");
}

/// Numbers that keepalived reads with its `WARNING -` readers and then names the keyword.
fn garp(
    ctx: &mut Ctx<'_>,
    words: &[String],
    kw: &str,
    max: u32,
    zero_to_one: bool,
    slot: fn(&mut Instance) -> &mut Option<u32>,
) {
    let Some(mut v) = unsigned_arg(ctx, words, 0, max, |n, s| match kw {
        "garp_master_refresh" => format!("({n}): Invalid garp_master_refresh '{s}' - ignoring"),
        "garp_lower_prio_repeat" => format!("({n}): Invalid garp_lower_prio_repeat '{s}'"),
        _ => format!("({n}): {kw} '{s}' invalid - ignoring"),
    }) else {
        return;
    };
    if zero_to_one && v == 0 {
        let n = iname(ctx);
        ctx.report(
            Kind::General,
            format!("({n}): {kw} must be greater than 0, setting to 1"),
        );
        v = 1;
    }
    with(ctx, |i| *slot(i) = Some(v));
}

fn garp_extra_if(ctx: &mut Ctx<'_>, words: &[String]) {
    let n = iname(ctx);
    let cmd = words.first().cloned().unwrap_or_default();
    let index = if words.get(1).is_some_and(|w| w == "all") {
        2
    } else {
        1
    };
    match words.get(index) {
        None => ctx.report(
            Kind::General,
            format!("({n}): {cmd} specified without time - ignoring"),
        ),
        Some(s) => {
            if value::unsigned(ctx, s, 0, 86400).is_none() {
                ctx.report(
                    Kind::General,
                    format!("({n}): {cmd} '{s}' invalid - ignoring"),
                );
            }
        }
    }
    ctx.ignored(words, "lvsd does not create VMAC interfaces");
}

fn kw(name: &'static str, h: Handler) -> Keyword {
    Keyword::new(name, h)
}

/// `vrrp_instance` with its keywords.
pub(super) fn keyword() -> Keyword {
    let sub = vec![
        kw("use_vmac", vmac),
        kw("use_vmac_addr", vmac),
        kw("vmac_xmit_base", vmac),
        kw("use_ipvlan", |c, w| {
            let has_address = w.iter().skip(1).any(|x| x.contains(['.', ':']));
            with(c, |i| {
                i.use_ipvlan = true;
                i.ipvlan_address |= has_address;
            });
            c.ignored(w, "lvsd does not create ipvlan interfaces");
        }),
        kw("unicast_peer", unicast_peer),
        kw("unicast_fault_no_peer", |c, _| {
            with(c, |i| {
                i.unicast_fault_no_peer = true;
                i.unicast_configured = true;
            })
        }),
        kw("check_unicast_src", |c, _| {
            with(c, |i| {
                i.check_unicast_src = true;
                i.unicast_configured = true;
            })
        }),
        kw("old_unicast_checksum", |c, w| {
            with(c, |i| i.unicast_configured = true);
            if let Some(s) = w.get(1) {
                if s != "never" {
                    let n = iname(c);
                    c.report(
                        Kind::General,
                        format!("({n}) Unknown old_unicast_chksum mode {s} - ignoring"),
                    );
                }
            }
            c.ignored(w, "lvsd sends standard checksums");
        }),
        kw("native_ipv6", |c, _| {
            let n = iname(c);
            let Some(i) = current(c) else { return };
            if i.ipv6 == Some(false) {
                c.report(
                    Kind::General,
                    format!("({n}) Cannot specify native_ipv6 with IPv4 addresses"),
                );
                return;
            }
            i.ipv6 = Some(true);
            i.native_ipv6 = true;
            i.version = Some(3);
        }),
        kw("state", |c, w| {
            let Some(s) = c.arg(w, 1) else { return };
            let n = iname(c);
            let Some(i) = current(c) else { return };
            match s {
                "MASTER" => i.state = Some(State::Master),
                "BACKUP" => {
                    if i.state == Some(State::Master) {
                        c.report(
                            Kind::General,
                            format!("({n}) state previously set as MASTER - ignoring BACKUP"),
                        );
                    } else {
                        i.state = Some(State::Backup);
                    }
                }
                _ => {
                    i.state = Some(State::Backup);
                    c.report(
                        Kind::General,
                        format!("({n}) unknown state '{s}', defaulting to BACKUP"),
                    );
                }
            }
        }),
        kw("interface", |c, w| {
            let Some(s) = c.arg(w, 1) else { return };
            if s.len() >= 16 {
                c.report(
                    Kind::General,
                    format!("Interface name '{s}' too long - ignoring"),
                );
                return;
            }
            let at = c.at;
            let s = s.to_string();
            let n = iname(c);
            with(c, |i| {
                i.interfaces_named.push(super::Named {
                    name: s.clone(),
                    rest: Vec::new(),
                    at: Some(at),
                })
            });
            // The loopback is known by its name; keepalived refuses it as it reads.
            if s == "lo" {
                c.report(
                    Kind::General,
                    format!("({n}) cannot use a loopback interface (lo) for vrrp - ignoring"),
                );
                with(c, |i| i.interface = None);
                return;
            }
            with(c, |i| {
                i.interface = Some(s);
                i.interface_at = Some(at);
            });
        }),
        kw("vrf", |c, w| {
            let Some(s) = c.arg(w, 1) else { return };
            c.ignored(w, "lvsd does not run VRRP in a VRF");
            let n = iname(c);
            let at = c.at;
            if s.len() >= 16 {
                c.report(
                    Kind::General,
                    format!("({n}) VRF interface name '{s}' too long - ignoring"),
                );
                return;
            }
            let Some(i) = current(c) else { return };
            if i.interface.is_some() {
                c.report(
                    Kind::General,
                    format!("({n}) Cannot specify VRF interface and interface - ignoring"),
                );
                return;
            }
            if let Some(v) = &i.vrf {
                let msg = format!("({n}) VRF interface already specified as '{v}' - ignoring");
                c.report(Kind::General, msg);
                return;
            }
            i.vrf = Some(s.to_string());
            i.vrf_at = Some(at);
        }),
        kw("dont_track_primary", |c, _| {
            with(c, |i| i.dont_track_primary = true)
        }),
        kw("track_interface", |c, w| {
            let n = iname(c);
            let t = tracked(c, &n, "interface", w, 254);
            with(c, |i| i.track_interfaces.extend(t));
        }),
        kw("track_script", |c, w| {
            let n = iname(c);
            let t = tracked(c, &n, "script", w, 254);
            with(c, |i| i.track_scripts.extend(t));
        }),
        kw("track_file", |c, w| {
            let n = iname(c);
            let t = tracked(c, &n, "file", w, 254);
            with(c, |i| i.track_files.extend(t));
        }),
        kw("track_process", |c, w| {
            let n = iname(c);
            let t = tracked(c, &n, "process", w, 254);
            with(c, |i| i.track_processes.extend(t));
        }),
        kw("track_bfd", |c, w| {
            c.ignored(w, "lvsd does not run BFD");
            let n = iname(c);
            let t = tracked(c, &n, "bfd", w, 253);
            with(c, |i| i.track_bfds.extend(t));
        }),
        kw("mcast_src_ip", src_ip),
        kw("unicast_src_ip", |c, w| {
            with(c, |i| i.unicast_configured = true);
            src_ip(c, w)
        }),
        kw("mcast_dst_ip", |c, w| {
            let Some(s) = c.arg(w, 1) else { return };
            let n = iname(c);
            match value::address(s) {
                None => c.report(
                    Kind::General,
                    format!("({n}) malformed address {s}. Skipping..."),
                ),
                Some(a) if !a.is_multicast() => c.report(
                    Kind::General,
                    format!(
                        "({n}) mcast_dst_ip {s} not{} multicast. Skipping...",
                        if a.is_ipv6() { " link-local" } else { "" }
                    ),
                ),
                Some(a) => with(c, |i| i.mcast_dst_ip = Some(a)),
            }
        }),
        kw("track_src_ip", |c, w| {
            c.ignored(w, "lvsd takes the source address from the interface")
        }),
        kw("virtual_router_id", |c, w| {
            if let Some(v) = unsigned_arg(c, w, 1, 255, |n, s| {
                format!("({n}): VRID '{s}' not valid - must be between 1 & 255")
            }) {
                with(c, |i| i.virtual_router_id = Some(v as u8));
            }
        }),
        kw("unicast_ttl", |c, w| {
            if let Some(v) = unsigned_arg(c, w, 0, 255, |n, s| {
                format!("({n}): TTL '{s}' not valid - must be between 0 & 255")
            }) {
                with(c, |i| i.unicast_ttl = Some(v));
            }
        }),
        kw("version", |c, w| {
            let Some(s) = c.arg(w, 1) else { return };
            let n = iname(c);
            let Some(v) = value::int(c, s, 2, 3) else {
                c.report(
                    Kind::General,
                    format!("({n}): Version must be either 2 or 3"),
                );
                return;
            };
            let Some(i) = current(c) else { return };
            let known = i.version.unwrap_or(0);
            if (known != 0 && i32::from(known) != v) || (v == 2 && i.ipv6 == Some(true)) {
                c.report(
                    Kind::General,
                    format!("({n}) vrrp_version {v} conflicts with configured or deduced version {known}; ignoring."),
                );
                return;
            }
            i.version = Some(v as u8);
        }),
        kw("priority", |c, w| {
            // keepalived reports its own message after the reader's, and keeps the default.
            let v = unsigned_arg(c, w, 1, 255, |n, _| {
                format!("({n}) Priority not valid! must be between 1 & 255. Using default 100")
            });
            if let Some(v) = v {
                with(c, |i| i.priority = Some(v as u8));
            }
        }),
        kw("advert_int", |c, w| {
            let Some(s) = c.arg(w, 1) else { return };
            match value::decimal(c, s, TIMER_HZ / 100, 255 * TIMER_HZ, 6) {
                Some(v) if v > 0 => with(c, |i| i.advert_int = Some(v)),
                _ => {
                    let n = iname(c);
                    c.report(
                        Kind::General,
                        format!("({n}) Advert interval ({s}) not valid! Must be > 0 - ignoring"),
                    );
                }
            }
        }),
        kw("virtual_ipaddress", |c, w| vips(c, w, false)),
        kw("virtual_ipaddress_excluded", |c, w| vips(c, w, true)),
        kw("promote_secondaries", |c, _| {
            with(c, |i| i.promote_secondaries = true)
        }),
        kw("linkbeat_use_polling", |c, w| {
            let n = iname(c);
            c.report(Kind::General, format!("({n}) 'linkbeat_use_polling' in vrrp instance deprecated - use linkbeat_interfaces block"));
            c.ignored(w, "lvsd watches links through netlink only");
        }),
        kw("virtual_routes", |c, w| {
            c.ignored(w, "lvsd does not set routes");
            let lines = route::routes(c, w);
            with(c, |i| i.virtual_routes.extend(lines));
        }),
        kw("virtual_rules", |c, w| {
            c.ignored(w, "lvsd does not set routing rules");
            let lines = route::rules(c, w);
            with(c, |i| i.virtual_rules.extend(lines));
        }),
        kw("accept", |c, _| with(c, |i| i.accept = Some(true))),
        kw("no_accept", |c, _| with(c, |i| i.accept = Some(false))),
        kw("skip_check_adv_addr", |c, w| {
            if let Some(b) = flag(c, w, |n, s| {
                format!("({n}) invalid skip_check_adv_addr {s} specified")
            }) {
                with(c, |i| i.skip_check_adv_addr = Some(b));
            }
        }),
        kw("strict_mode", |c, w| {
            if let Some(b) = flag(c, w, |n, s| {
                format!("({n}) invalid strict_mode {s} specified")
            }) {
                with(c, |i| i.strict_mode = Some(b));
            }
        }),
        kw("preempt", |c, _| with(c, |i| i.nopreempt = false)),
        kw("nopreempt", |c, _| {
            let at = c.at;
            with(c, |i| {
                i.nopreempt = true;
                i.nopreempt_at = Some(at);
            })
        }),
        kw("preempt_delay", |c, w| {
            let Some(s) = c.arg(w, 1) else { return };
            // keepalived 2.2.7 takes at most 1000 seconds (measured).
            let max = 1_000;
            let v = value::decimal(c, s, 0, max * TIMER_HZ, 6);
            if v.is_none() {
                let n = iname(c);
                c.report(
                    Kind::General,
                    format!("({n}) Preempt_delay not valid! must be between 0-{max}"),
                );
            }
            with(c, |i| i.preempt_delay = Some(v.unwrap_or(0)));
        }),
        kw("debug", |c, w| {
            let Some(s) = c.arg(w, 1) else { return };
            match value::unsigned(c, s, 0, 4) {
                Some(v) => with(c, |i| i.debug = Some(v)),
                None => {
                    let n = iname(c);
                    c.report(
                        Kind::General,
                        format!("({n}) Debug value '{s}' not valid; must be between 0-4"),
                    );
                }
            }
        }),
        kw("notify_backup", |c, w| {
            notify(c, w, "notify_backup", |i| &mut i.notify.backup)
        }),
        kw("notify_master", |c, w| {
            notify(c, w, "notify_master", |i| &mut i.notify.master)
        }),
        kw("notify_fault", |c, w| {
            notify(c, w, "notify_fault", |i| &mut i.notify.fault)
        }),
        kw("notify_stop", |c, w| {
            notify(c, w, "notify_stop", |i| &mut i.notify.stop)
        }),
        kw("notify_deleted", |c, w| {
            let n = iname(c);
            let Some(i) = current(c) else { return };
            if i.notify_deleted {
                let arg = w.get(1).cloned().unwrap_or_default();
                c.report(
                    Kind::General,
                    format!("({n}) notify_deleted already specified - ignoring {arg}"),
                );
                return;
            }
            i.notify_deleted = true;
            if w.len() > 1 {
                i.notify.deleted = Some(w[1..].join(" "));
            }
        }),
        kw("notify", |c, w| {
            notify(c, w, "notify", |i| &mut i.notify.any)
        }),
        kw("notify_master_rx_lower_pri", |c, w| {
            notify(c, w, "notify_master_rx_lower_pri", |i| {
                &mut i.notify.master_rx_lower_pri
            })
        }),
        kw("smtp_alert", |c, w| {
            let Some(s) = w.get(1) else {
                with(c, |i| i.smtp_alert = Some(true));
                return;
            };
            match value::true_false(s) {
                Some(b) => with(c, |i| i.smtp_alert = Some(b)),
                None => c.report(
                    Kind::General,
                    format!("Invalid vrrp_instance smtp_alert parameter {s}"),
                ),
            }
        }),
        kw("notify_priority_changes", |c, w| {
            if let Some(b) = flag(c, w, |n, s| {
                format!("({n}) Invalid value '{s}' for notify_priority_changes specified")
            }) {
                with(c, |i| i.notify_priority_changes = Some(b));
            }
        }),
        kw("lvs_sync_daemon_interface", |c, w| {
            let n = iname(c);
            c.report(
                Kind::General,
                format!("({n}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated."),
            );
            // keepalived lines the second line up under the first's text.
            let pad = " ".repeat(n.len().saturating_sub(2));
            c.report(
                Kind::General,
                format!("      {pad}Please use global lvs_sync_daemon"),
            );
            let Some(s) = c.arg(w, 1) else { return };
            if let Some(d) = &c.config.global.lvs_sync_daemon {
                let msg = format!(
                    "({n}) lvs_sync_daemon_interface has already been specified as {} - ignoring",
                    d.interface
                );
                c.report(Kind::General, msg);
                return;
            }
            let s = s.to_string();
            with(c, |i| i.lvs_sync_daemon_interface = Some(s));
        }),
        kw("garp_master_delay", |c, w| {
            garp(
                c,
                w,
                "garp_master_delay",
                u32::MAX / TIMER_HZ as u32,
                false,
                |i| &mut i.garp_master_delay,
            )
        }),
        kw("garp_master_refresh", |c, w| {
            garp(c, w, "garp_master_refresh", u32::MAX, false, |i| {
                &mut i.garp_master_refresh
            })
        }),
        kw("garp_master_repeat", |c, w| {
            garp(c, w, "garp_master_repeat", u32::MAX, true, |i| {
                &mut i.garp_master_repeat
            })
        }),
        kw("garp_master_refresh_repeat", |c, w| {
            garp(c, w, "garp_master_refresh_repeat", u32::MAX, true, |i| {
                &mut i.garp_master_refresh_repeat
            })
        }),
        kw("garp_lower_prio_delay", |c, w| {
            garp(
                c,
                w,
                "garp_lower_prio_delay",
                u32::MAX / TIMER_HZ as u32,
                false,
                |i| &mut i.garp_lower_prio_delay,
            )
        }),
        kw("garp_lower_prio_repeat", |c, w| {
            garp(
                c,
                w,
                "garp_lower_prio_repeat",
                i32::MAX as u32,
                false,
                |i| &mut i.garp_lower_prio_repeat,
            )
        }),
        kw("down_timer_adverts", |c, w| {
            if let Some(v) = unsigned_arg(c, w, 1, 100, |n, s| {
                format!("({n}): Invalid down_timer_adverts [1:100] '{s}'")
            }) {
                with(c, |i| i.down_timer_adverts = Some(v));
            }
        }),
        kw("garp_extra_if", garp_extra_if),
        kw("vmac_garp_intvl", |c, w| {
            c.report(
                Kind::Deprecated,
                "Keyword \"vmac_garp_intvl\" is deprecated - please use \"garp_extra_if\"",
            );
            garp_extra_if(c, w);
        }),
        kw("lower_prio_no_advert", |c, w| {
            if let Some(b) = flag(c, w, |n, s| {
                format!("({n}) invalid lower_prio_no_advert {s} specified")
            }) {
                with(c, |i| i.lower_prio_no_advert = Some(b));
            }
        }),
        kw("higher_prio_send_advert", |c, w| {
            if let Some(b) = flag(c, w, |n, s| {
                format!("({n}) invalid higher_prio_send_advert {s} specified")
            }) {
                with(c, |i| i.higher_prio_send_advert = Some(b));
            }
        }),
        kw("kernel_rx_buf_size", |c, w| {
            let ok = w.len() == 2 && {
                let s = w[1].clone();
                value::unsigned(c, &s, 0, u32::MAX).is_some()
            };
            if !ok {
                let n = iname(c);
                c.report(
                    Kind::General,
                    format!("({n}) invalid kernel_rx_buf_size specified"),
                );
            }
            c.ignored(w, "lvsd sizes its own socket buffers");
        }),
        Keyword::block(
            "authentication",
            None,
            vec![
                kw("auth_type", |c, w| {
                    let Some(s) = c.arg(w, 1) else { return };
                    match s {
                        "AH" => with(c, |i| i.auth_type = Some(AuthType::Ah)),
                        "PASS" => with(c, |i| i.auth_type = Some(AuthType::Pass)),
                        _ => {
                            let n = iname(c);
                            c.report(
                                Kind::General,
                                format!("({n}) unknown authentication type '{s}'"),
                            );
                        }
                    }
                }),
                kw("auth_pass", |c, w| {
                    let Some(s) = c.arg(w, 1) else { return };
                    let mut s = s.to_string();
                    if s.len() > 8 {
                        c.report(Kind::General, "Truncating auth_pass to 8 characters");
                        let mut end = 8;
                        while !s.is_char_boundary(end) {
                            end -= 1;
                        }
                        s.truncate(end);
                    }
                    with(c, |i| i.auth_pass = Some(s));
                }),
            ],
            None,
        ),
    ];
    Keyword::block("vrrp_instance", Some(start), sub, Some(end))
}
