//! The VRRP process's top-level blocks other than `vrrp_instance`: sync groups, scripts,
//! tracked processes and files, static addresses, routes and rules, garp groups, track
//! groups, linkbeat and interface delays, and BFD instances as the VRRP and checker
//! processes see them.

use super::instance::tracked;
use super::{address, route};
use super::{GarpGroup, Named, Script, SyncGroup, TrackFile, TrackProcess, Vrrp};
use crate::global::{group_exists, user_exists};
use crate::parse::{Ctx, Handler, Keyword};
use crate::problem::Kind;
use crate::value;

const TIMER_HZ: u32 = 1_000_000;

fn kw(name: &'static str, h: Handler) -> Keyword {
    Keyword::new(name, h)
}

fn group<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut SyncGroup> {
    ctx.config.vrrp.sync_groups.last_mut()
}

fn gname(ctx: &Ctx<'_>) -> String {
    ctx.config
        .vrrp
        .sync_groups
        .last()
        .map(|g| g.name.clone())
        .unwrap_or_default()
}

fn gnotify(
    ctx: &mut Ctx<'_>,
    words: &[String],
    label: &str,
    slot: fn(&mut SyncGroup) -> &mut Option<String>,
) {
    if super::instance::unclosed_quote(ctx, words) {
        return;
    }
    let Some(first) = ctx.arg(words, 1) else {
        return;
    };
    let n = gname(ctx);
    let cmd = words[1..].join(" ");
    let Some(g) = group(ctx) else { return };
    let s = slot(g);
    if s.is_some() {
        ctx.report(
            Kind::General,
            format!("vrrp group {n}: {label} script already specified - ignoring {first}"),
        );
        return;
    }
    *s = Some(cmd);
}

fn sync_group() -> Keyword {
    let start: Handler = |c, w| {
        if w.len() != 2 {
            c.report(Kind::General, "vrrp_sync_group must have a name - skipping");
            c.skip_block(true);
            return;
        }
        let name = &w[1];
        if c.config.vrrp.sync_groups.iter().any(|g| &g.name == name) {
            c.report(
                Kind::General,
                format!("vrrp sync group {name} already defined"),
            );
            c.skip_block(true);
            return;
        }
        let at = c.at;
        c.config.vrrp.sync_groups.push(SyncGroup {
            name: name.clone(),
            at: Some(at),
            ..SyncGroup::default()
        });
    };
    let sub = vec![
        kw("group", |c, w| {
            let n = gname(c);
            if group(c).is_some_and(|g| !g.group.is_empty()) {
                c.report(
                    Kind::General,
                    format!("Group list already specified for sync group {n}"),
                );
                c.skip_block(true);
                return;
            }
            let at = c.at;
            let names: Vec<String> = c.value_block(w).into_iter().flat_map(|(_, l)| l).collect();
            if names.is_empty() {
                c.report(
                    Kind::General,
                    format!("Warning - sync group {n} has empty group block"),
                );
                return;
            }
            if let Some(g) = group(c) {
                g.group = names;
                g.group_at = Some(at);
            }
        }),
        kw("track_interface", |c, w| {
            let n = gname(c);
            let t = tracked(c, &n, "interface", w, 254);
            if let Some(g) = group(c) {
                g.track_interfaces.extend(t);
            }
        }),
        kw("track_script", |c, w| {
            let n = gname(c);
            let t = tracked(c, &n, "script", w, 254);
            if let Some(g) = group(c) {
                g.track_scripts.extend(t);
            }
        }),
        kw("track_file", |c, w| {
            let n = gname(c);
            let t = tracked(c, &n, "file", w, 254);
            if let Some(g) = group(c) {
                g.track_files.extend(t);
            }
        }),
        kw("track_process", |c, w| {
            let n = gname(c);
            let t = tracked(c, &n, "process", w, 254);
            if let Some(g) = group(c) {
                g.track_processes.extend(t);
            }
        }),
        kw("track_bfd", |c, w| {
            c.ignored(w, "lvsd does not run BFD");
            let n = gname(c);
            let t = tracked(c, &n, "bfd", w, 253);
            if let Some(g) = group(c) {
                g.track_bfds.extend(t);
            }
        }),
        kw("notify_backup", |c, w| {
            gnotify(c, w, "notify_backup", |g| &mut g.notify.backup)
        }),
        kw("notify_master", |c, w| {
            gnotify(c, w, "notify_master", |g| &mut g.notify.master)
        }),
        kw("notify_fault", |c, w| {
            gnotify(c, w, "notify_fault", |g| &mut g.notify.fault)
        }),
        kw("notify_stop", |c, w| {
            gnotify(c, w, "notify_stop", |g| &mut g.notify.stop)
        }),
        kw("notify", |c, w| {
            gnotify(c, w, "notify", |g| &mut g.notify.any)
        }),
        kw("smtp_alert", |c, w| {
            let v = match w.get(1) {
                None => Some(true),
                Some(s) => {
                    let r = value::true_false(s);
                    if r.is_none() {
                        c.report(
                            Kind::General,
                            format!("Invalid vrrp_group smtp_alert parameter {s}"),
                        );
                    }
                    r
                }
            };
            if let (Some(v), Some(g)) = (v, group(c)) {
                g.smtp_alert = Some(v);
            }
        }),
        kw("global_tracking", |c, _| {
            let n = gname(c);
            c.report(
                Kind::General,
                format!("({n}) global_tracking is deprecated. Use track_interface/script/file on the sync group"),
            );
            if let Some(g) = group(c) {
                g.sync_group_tracking_weight = true;
            }
        }),
        kw("sync_group_tracking_weight", |c, _| {
            if let Some(g) = group(c) {
                g.sync_group_tracking_weight = true;
            }
        }),
        kw("notify_priority_changes", |c, w| {
            let v = match w.get(1) {
                None => Some(true),
                Some(s) => {
                    let r = value::true_false(s);
                    if r.is_none() {
                        let n = gname(c);
                        c.report(
                            Kind::General,
                            format!("({n}) Invalid value '{s}' for sync group notify_priority_changes specified"),
                        );
                    }
                    r
                }
            };
            if let (Some(v), Some(g)) = (v, group(c)) {
                g.notify_priority_changes = Some(v);
            }
        }),
    ];
    Keyword::block("vrrp_sync_group", Some(start), sub, None)
}

fn static_addresses(ctx: &mut Ctx<'_>, words: &[String]) {
    ctx.ignored(words, "lvsd does not set addresses outside VRRP instances");
    for (at, line) in ctx.value_block(words) {
        if let Some(a) = address::read(ctx, at, &line, true) {
            ctx.config.vrrp.static_addresses.push(a);
        }
    }
}

fn garp<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut GarpGroup> {
    ctx.config.vrrp.garp_groups.last_mut()
}

fn garp_group() -> Keyword {
    let interval: Handler = |c, w| {
        let name = w.first().cloned().unwrap_or_default();
        let Some(s) = c.arg(w, 1) else { return };
        match value::decimal(c, s, 0, i32::MAX as u64, 6) {
            None => c.report(Kind::General, format!("garp_group {name} '{s}' invalid")),
            Some(v) => {
                if let Some(g) = garp(c) {
                    if name == "garp_interval" {
                        g.garp_interval = Some(v);
                    } else {
                        g.gna_interval = Some(v);
                    }
                }
            }
        }
    };
    Keyword::block(
        "garp_group",
        Some(|c, w| {
            c.ignored(w, "lvsd sends gratuitous ARPs per instance only");
            let at = c.at;
            c.config.vrrp.garp_groups.push(GarpGroup {
                at: Some(at),
                ..GarpGroup::default()
            });
        }),
        vec![
            kw("garp_interval", interval),
            kw("gna_interval", interval),
            kw("interface", |c, w| {
                let Some(s) = c.arg(w, 1) else { return };
                let named = Named {
                    name: s.to_string(),
                    rest: Vec::new(),
                    at: Some(c.at),
                };
                if let Some(g) = garp(c) {
                    g.interfaces.push(named);
                }
            }),
            kw("interfaces", |c, w| {
                let block = c.value_block(w);
                if block.is_empty() {
                    c.report(Kind::General, "Warning - empty garp_group interfaces block");
                    return;
                }
                let number = 1 + c
                    .config
                    .vrrp
                    .garp_groups
                    .iter()
                    .rev()
                    .skip(1)
                    .filter(|g| g.aggregation_group != 0 && !g.removed)
                    .count() as u32;
                // keepalived names the block's end line, and in its "already specified"
                // complaint the block's second name whichever one it means (measured).
                let at = Some(c.at);
                let all: Vec<String> = block.into_iter().flat_map(|(_, l)| l).collect();
                let second: Vec<String> = all.get(1).cloned().into_iter().collect();
                let names: Vec<Named> = all
                    .into_iter()
                    .map(|name| Named {
                        name,
                        rest: second.clone(),
                        at,
                    })
                    .collect();
                if let Some(g) = garp(c) {
                    g.aggregation_group = number;
                    g.interfaces.extend(names);
                }
            }),
        ],
        Some(|c| {
            let Some(g) = c.config.vrrp.garp_groups.last_mut() else {
                return;
            };
            if g.garp_interval.is_none() && g.gna_interval.is_none() {
                g.removed = true;
                let n = g.aggregation_group;
                c.report(
                    Kind::General,
                    format!("garp group {n} does not have any delay set - removing"),
                );
            }
        }),
    )
}

/// A block of interface names, each with words after it.
fn named_block(ctx: &mut Ctx<'_>, words: &[String]) -> Vec<Named> {
    ctx.value_block(words)
        .into_iter()
        .filter_map(|(at, mut l)| {
            if l.is_empty() {
                return None;
            }
            let name = l.remove(0);
            Some(Named {
                name,
                rest: l,
                at: Some(at),
            })
        })
        .collect()
}

/// The roots installed before `vrrp_instance`.
pub(super) fn vrrp_roots_before_instance() -> Vec<Keyword> {
    vec![
        Keyword::block(
            "track_group",
            Some(|c, w| {
                if w.len() != 2 {
                    c.report(Kind::General, "track_group must have a name - skipping");
                    c.skip_block(true);
                    return;
                }
                let name = w[1].clone();
                if c.config.vrrp.track_groups.contains(&name) {
                    c.report(Kind::General, format!("track_group {name} already defined"));
                    c.skip_block(true);
                    return;
                }
                c.config.vrrp.track_groups.push(name);
            }),
            vec![kw("group", |c, w| {
                let names = c.value_block(w);
                if names.is_empty() {
                    let n = c
                        .config
                        .vrrp
                        .track_groups
                        .last()
                        .cloned()
                        .unwrap_or_default();
                    c.report(
                        Kind::General,
                        format!("Warning - track group {n} has empty group block"),
                    );
                }
            })],
            None,
        ),
        kw("static_ipaddress", static_addresses),
        kw("static_routes", |c, w| {
            c.ignored(w, "lvsd does not set routes");
            let r = route::routes(c, w);
            c.config.vrrp.static_routes.extend(r);
        }),
        kw("static_rules", |c, w| {
            c.ignored(w, "lvsd does not set routing rules");
            let r = route::rules(c, w);
            c.config.vrrp.static_rules.extend(r);
        }),
        sync_group(),
        garp_group(),
        kw("linkbeat_interfaces", |c, w| {
            c.ignored(w, "lvsd watches links through netlink only");
            let list = named_block(c, w);
            for l in &list {
                // keepalived checks the type only for interfaces that exist; lvsd checks it
                // for all, which differs only in a file keepalived refuses anyway.
                if let Some(t) = l.rest.first() {
                    if !matches!(t.as_str(), "MII" | "ETHTOOL" | "IOCTL") || l.rest.len() > 1 {
                        if let Some(at) = l.at {
                            address::report_at(
                                c,
                                at,
                                Kind::General,
                                format!("extra characters {t} in linkbeat interface"),
                            );
                        }
                    }
                }
            }
            c.config.vrrp.linkbeat_interfaces.extend(list);
        }),
    ]
}

fn script<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut Script> {
    ctx.config.vrrp.scripts.last_mut()
}

fn sname(ctx: &Ctx<'_>) -> String {
    ctx.config
        .vrrp
        .scripts
        .last()
        .map(|s| s.name.clone())
        .unwrap_or_default()
}

fn vrrp_script() -> Keyword {
    let sub = vec![
        kw("script", |c, w| {
            if super::instance::unclosed_quote(c, w) {
                return;
            }
            let cmd = w.get(1..).map(|r| r.join(" ")).unwrap_or_default();
            if let Some(s) = script(c) {
                s.script = (!cmd.is_empty()).then_some(cmd);
            }
        }),
        kw("interval", |c, w| {
            let Some(v) = c.arg(w, 1) else { return };
            let max = u32::MAX / TIMER_HZ;
            let n = sname(c);
            match value::unsigned(c, v, 0, max) {
                None => c.report(
                    Kind::General,
                    format!(
                        "({n}): vrrp script interval '{v}' must be between 1 and {max} - ignoring"
                    ),
                ),
                Some(mut i) => {
                    if i == 0 {
                        c.report(
                            Kind::General,
                            format!(
                                "({n}): vrrp script interval must be greater than 0, setting to 1"
                            ),
                        );
                        i = 1;
                    }
                    if let Some(s) = script(c) {
                        s.interval = i;
                    }
                }
            }
        }),
        kw("timeout", |c, w| {
            let Some(v) = c.arg(w, 1) else { return };
            let n = sname(c);
            match value::unsigned(c, v, 0, u32::MAX / TIMER_HZ) {
                None => c.report(
                    Kind::General,
                    format!("({n}): vrrp script timeout '{v}' invalid - ignoring"),
                ),
                Some(mut t) => {
                    if t == 0 {
                        c.report(
                            Kind::General,
                            format!(
                                "({n}): vrrp script timeout must be greater than 0, setting to 1"
                            ),
                        );
                        t = 1;
                    }
                    if let Some(s) = script(c) {
                        s.timeout = Some(t);
                    }
                }
            }
        }),
        kw("weight", |c, w| {
            let Some(v) = c.arg(w, 1) else { return };
            let n = sname(c);
            match value::int(c, v, -253, 253) {
                None => c.report(
                    Kind::General,
                    format!("vrrp_script {n} weight {v} must be in [-253, 253]"),
                ),
                Some(x) => {
                    if let Some(s) = script(c) {
                        s.weight = x;
                    }
                }
            }
            if let Some(o) = w.get(2) {
                if o == "reverse" {
                    if let Some(s) = script(c) {
                        s.weight_reverse = true;
                    }
                } else {
                    c.report(
                        Kind::General,
                        format!("vrrp_script {n} unknown weight option {o}"),
                    );
                }
            }
        }),
        kw("rise", |c, w| {
            let Some(v) = c.arg(w, 1) else { return };
            let n = sname(c);
            let r = value::unsigned(c, v, 1, i32::MAX as u32);
            if r.is_none() {
                c.report(
                    Kind::General,
                    format!("({n}): vrrp script rise value '{v}' invalid, defaulting to 1"),
                );
            }
            if let Some(s) = script(c) {
                s.rise = r.unwrap_or(1);
            }
        }),
        kw("fall", |c, w| {
            let Some(v) = c.arg(w, 1) else { return };
            let n = sname(c);
            let r = value::unsigned(c, v, 1, i32::MAX as u32);
            if r.is_none() {
                c.report(
                    Kind::General,
                    format!("({n}): vrrp script fall value '{v}' invalid, defaulting to 1"),
                );
            }
            if let Some(s) = script(c) {
                s.fall = r.unwrap_or(1);
            }
        }),
        kw("user", |c, w| {
            let Some(u) = c.arg(w, 1) else { return };
            let known = user_exists(u) && w.get(2).is_none_or(|g| group_exists(g));
            if !known {
                let cmd = script(c).and_then(|s| s.script.clone()).unwrap_or_default();
                c.report(
                    Kind::General,
                    format!("Unable to set uid/gid for script {cmd}"),
                );
            }
            let u = (u.to_string(), w.get(2).cloned());
            if let Some(s) = script(c) {
                // The last `user` line decides, as in keepalived.
                s.user_unknown = !known;
                s.user = known.then_some(u);
            }
        }),
        kw("init_fail", |c, _| {
            if let Some(s) = script(c) {
                s.init_fail = true;
            }
        }),
    ];
    Keyword::block(
        "vrrp_script",
        Some(|c, w| {
            let Some(name) = c.arg(w, 1) else { return };
            let name = name.to_string();
            let at = c.at;
            c.config.vrrp.scripts.push(Script {
                name,
                at: Some(at),
                interval: 1,
                rise: 1,
                fall: 1,
                ..Script::default()
            });
        }),
        sub,
        Some(|c| {
            let Some(s) = c.config.vrrp.scripts.last() else {
                return;
            };
            let n = s.name.clone();
            if s.script.is_none() {
                c.report(
                    Kind::General,
                    format!("No script set for vrrp_script {n} - removing"),
                );
                c.config.vrrp.scripts.pop();
                return;
            }
            if s.user_unknown {
                c.config.vrrp.scripts.pop();
                return;
            }
            if s.user.is_some() {
                return;
            }
            // Without a user of its own a script runs as the global script_user; without
            // one, as keepalived_script, which with script security on must exist. When
            // the user is missing the script goes.
            let g = &c.config.global;
            let global_failed = g.script_user_unknown;
            let default_failed = g.script_user.is_none()
                && !global_failed
                && g.enable_script_security
                && !user_exists(DEFAULT_SCRIPT_USER);
            if default_failed {
                let first = format!("Unable to set default user {DEFAULT_SCRIPT_USER} for script");
                if !c.problems.list.iter().any(|p| p.message == first) {
                    c.report(Kind::General, first);
                }
            }
            if global_failed || default_failed {
                c.report(
                    Kind::General,
                    format!("Unable to set default user for vrrp script {n} - removing"),
                );
                c.config.vrrp.scripts.pop();
            }
        }),
    )
}

/// The user keepalived runs scripts as when none is given.
const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

fn tprocess<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut TrackProcess> {
    ctx.config.vrrp.track_processes.last_mut()
}

fn pname(ctx: &Ctx<'_>) -> String {
    ctx.config
        .vrrp
        .track_processes
        .last()
        .map(|s| s.name.clone())
        .unwrap_or_default()
}

fn track_process() -> Keyword {
    let delay: Handler = |c, w| {
        let Some(v) = c.arg(w, 1) else { return };
        let n = pname(c);
        let kwd = w[0].trim_end_matches("delay").to_string();
        if value::decimal(c, v, 1, 3600 * u64::from(TIMER_HZ), 6).is_none() {
            c.report(
                Kind::General,
                format!("{kwd}delay ({v}) for vrrp_track_process {n} must be between [0.000001..3600] inclusive. Ignoring..."),
            );
        }
    };
    let sub = vec![
        kw("process", |c, w| {
            let Some(_) = c.arg(w, 1) else { return };
            let n = pname(c);
            if c.config
                .vrrp
                .track_processes
                .last()
                .is_some_and(|p| p.process.is_some())
            {
                let first = w.get(1).cloned().unwrap_or_default();
                c.report(
                    Kind::General,
                    format!("Process already set for track process {n} - ignoring {first}"),
                );
                return;
            }
            let cmd = w.get(1..).map(|r| r.join(" ")).unwrap_or_default();
            if let Some(p) = tprocess(c) {
                p.process = Some(cmd);
            }
        }),
        kw("param_match", |c, w| {
            if let Some(s) = w.get(1) {
                if s != "initial" && s != "partial" {
                    c.report(
                        Kind::General,
                        format!("Invalid param_match type {s} - ignoring"),
                    );
                }
            }
        }),
        kw("weight", |c, w| {
            let n = pname(c);
            let Some(v) = w.get(1) else {
                c.report(
                    Kind::General,
                    format!("No weight specified for track process {n} - ignoring"),
                );
                return;
            };
            if c.config
                .vrrp
                .track_processes
                .last()
                .is_some_and(|p| p.weight.is_some())
            {
                c.report(
                    Kind::General,
                    format!("Weight already set for track process {n} - ignoring {v}"),
                );
                return;
            }
            match value::int(c, v, -254, 254) {
                None => c.report(
                    Kind::General,
                    format!("Weight ({v}) for vrrp_track_process {n} must be between [-254..254] inclusive. Ignoring..."),
                ),
                Some(x) => {
                    if let Some(p) = tprocess(c) {
                        p.weight = Some(x);
                    }
                }
            }
            if let Some(o) = w.get(2) {
                if o != "reverse" {
                    c.report(
                        Kind::General,
                        format!("vrrp_track_process {n} unknown weight option {o}"),
                    );
                }
            }
        }),
        kw("quorum", |c, w| {
            let Some(v) = c.arg(w, 1) else { return };
            let n = pname(c);
            match value::unsigned(c, v, 1, 65535) {
                None => c.report(
                    Kind::General,
                    format!("Quorum ({v}) for vrrp_track_process {n} must be between [1..65535] inclusive. Ignoring..."),
                ),
                Some(q) => {
                    if let Some(p) = tprocess(c) {
                        p.quorum = q;
                    }
                }
            }
        }),
        kw("quorum_max", |c, w| {
            let Some(v) = c.arg(w, 1) else { return };
            let n = pname(c);
            match value::unsigned(c, v, 0, 65535) {
                None => c.report(
                    Kind::General,
                    format!("quorum_max ({v}) for vrrp_track_process {n} must be between [0..65535] inclusive. Ignoring..."),
                ),
                Some(q) => {
                    if let Some(p) = tprocess(c) {
                        p.quorum_max = Some(q);
                    }
                }
            }
        }),
        kw("delay", delay),
        kw("terminate_delay", delay),
        kw("fork_delay", delay),
        kw("full_command", |_, _| {}),
    ];
    Keyword::block(
        "vrrp_track_process",
        Some(|c, w| {
            let Some(name) = c.arg(w, 1) else { return };
            let name = name.to_string();
            let at = c.at;
            c.config.vrrp.track_processes.push(TrackProcess {
                name,
                at: Some(at),
                quorum: 1,
                ..TrackProcess::default()
            });
        }),
        sub,
        Some(|c| {
            drop_incomplete(
                c,
                |v| &mut v.track_processes,
                |p| {
                    p.process
                        .is_none()
                        .then(|| format!("track process '{}' process name not specified", p.name))
                },
            )
        }),
    )
}

/// The roots installed after `vrrp_instance`.
pub(super) fn vrrp_roots_after_instance() -> Vec<Keyword> {
    vec![
        vrrp_script(),
        track_process(),
        kw("interface_up_down_delays", |c, w| {
            c.ignored(w, "lvsd does not delay interface events");
            let list = named_block(c, w);
            c.config.vrrp.interface_delays.extend(list);
        }),
    ]
}

fn track_file_start(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(name) = ctx.arg(words, 1) else {
        return;
    };
    let name = name.to_string();
    let at = ctx.at;
    // The checker and the VRRP process both read track files: keep one of each.
    ctx.config.vrrp.track_files.retain(|f| f.at != Some(at));
    ctx.config.vrrp.track_files.push(TrackFile {
        name,
        at: Some(at),
        weight: 1,
        ..TrackFile::default()
    });
}

fn track_file_sub() -> Vec<Keyword> {
    vec![
        kw("file", |c, w| {
            let Some(f) = w.get(1) else {
                c.report(Kind::General, "track file file name missing");
                return;
            };
            let f = f.clone();
            let Some(t) = c.config.vrrp.track_files.last_mut() else {
                return;
            };
            if t.file.is_some() {
                let n = t.name.clone();
                c.report(
                    Kind::General,
                    format!("File already set for track file {n} - ignoring {f}"),
                );
                return;
            }
            t.file = Some(f);
        }),
        kw("weight", |c, w| {
            let n = c
                .config
                .vrrp
                .track_files
                .last()
                .map(|t| t.name.clone())
                .unwrap_or_default();
            let Some(v) = w.get(1) else {
                c.report(
                    Kind::General,
                    format!("No weight specified for track file {n} - ignoring"),
                );
                return;
            };
            match value::int(c, v, -254, 254) {
                None => c.report(
                    Kind::General,
                    format!("Weight ({v}) for track_file {n} must be between [-254..254] inclusive. Ignoring..."),
                ),
                Some(x) => {
                    if let Some(t) = c.config.vrrp.track_files.last_mut() {
                        t.weight = x;
                        t.weight_reverse = w.get(2).is_some_and(|r| r == "reverse");
                    }
                }
            }
        }),
        kw("init_file", |c, w| {
            let n = c
                .config
                .vrrp
                .track_files
                .last()
                .map(|t| t.name.clone())
                .unwrap_or_default();
            let mut v = None;
            let mut overwrite = false;
            for x in w.iter().skip(1) {
                if x.starts_with(|ch: char| ch.is_ascii_digit() || ch == '-') {
                    match value::int(c, x, i32::MIN, i32::MAX) {
                        None => {
                            c.report(
                                Kind::General,
                                format!("Track file {n} init value {x} is invalid"),
                            );
                            v = Some(0);
                        }
                        Some(i) => {
                            if !(-254..=254).contains(&i) {
                                c.report(
                                    Kind::General,
                                    format!("Track file {n} init value {i} is outside sensible range [-254, 254]"),
                                );
                            }
                            v = Some(i64::from(i));
                        }
                    }
                } else if x == "overwrite" {
                    overwrite = true;
                } else {
                    c.report(Kind::General, format!("Unknown track file init option {x}"));
                }
            }
            if let Some(t) = c.config.vrrp.track_files.last_mut() {
                t.init_file = Some((v, overwrite));
            }
        }),
    ]
}

fn track_file_end(ctx: &mut Ctx<'_>) {
    drop_incomplete(
        ctx,
        |v| &mut v.track_files,
        |t| {
            t.file
                .is_none()
                .then(|| format!("No file set for track_file {} - ignoring", t.name))
        },
    );
}

/// At the end of a block: drops what it made (the last of its list) when keepalived finds
/// something missing, with keepalived's complaint.
fn drop_incomplete<T>(
    ctx: &mut Ctx<'_>,
    list: fn(&mut Vrrp) -> &mut Vec<T>,
    missing: impl FnOnce(&T) -> Option<String>,
) {
    let Some(complaint) = list(&mut ctx.config.vrrp).last().and_then(missing) else {
        return;
    };
    ctx.report(Kind::General, complaint);
    list(&mut ctx.config.vrrp).pop();
}

/// `track_file` and its deprecated name `vrrp_track_file`.
pub(super) fn track_file_roots() -> Vec<Keyword> {
    vec![
        Keyword::block(
            "track_file",
            Some(track_file_start),
            track_file_sub(),
            Some(track_file_end),
        ),
        Keyword::block(
            "vrrp_track_file",
            Some(track_file_start),
            track_file_sub(),
            Some(track_file_end),
        ),
    ]
}
