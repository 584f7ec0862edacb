//! keepalived's checks once the VRRP process has read the file (vrrp/vrrp.c
//! `vrrp_complete_init`, `vrrp_complete_instance`; vrrp/vrrp_daemon.c): interfaces that do
//! not exist (which stop the VRRP process before any other check), the minimal
//! configuration, the instance rules and defaults, duplicate VRIDs, sync groups and unused
//! scripts. keepalived names no line for these; lvsd names the block they are about.

use super::{AuthType, Instance, State, Vrrp};
use crate::global::{self, Global};
use crate::problem::{Kind, Place, Problem};
use crate::{Config, Problems};

/// A complaint keepalived makes without a line, placed at the block it is about.
fn unlined(at: Option<Place>, kind: Kind, msg: impl Into<String>) -> Problem {
    let mut p = Problem::new(at, kind, msg);
    p.keepalived_names_line = false;
    p
}

/// A complaint keepalived makes with the line of the keyword, found only now because the
/// interfaces are known only now.
fn lined(at: Option<Place>, msg: impl Into<String>) -> Problem {
    Problem::new(at, Kind::General, msg)
}

/// Checks the VRRP configuration as keepalived does once it is read, with `interfaces` the
/// interfaces that exist (`None`: do not check names), and fills keepalived's defaults.
pub fn validate(config: &mut Config, interfaces: Option<&[String]>, problems: &mut Problems) {
    global::fill_defaults(&mut config.global);
    // A route line keepalived stops at unless it dropped the route at a missing device.
    let exists = |n: &str| interfaces.is_none_or(|k| k.iter().any(|x| x == n));
    let routes = config
        .vrrp
        .static_routes
        .iter()
        .chain(config.vrrp.instances.iter().flat_map(|i| &i.virtual_routes));
    let dynamic = config.global.dynamic_interfaces;
    let mut first_abort: Option<Problem> = None;
    for r in routes {
        if let Some((devs, message)) = &r.abort_unless_missing {
            if dynamic || devs.iter().all(|d| exists(d)) {
                let mut p = Problem::new(r.at, Kind::Aborted, message.clone());
                p.effect = Some("keepalived stops reading here and exits with status 2".into());
                first_abort = Some(p);
                break;
            }
        }
    }
    if let Some(p) = first_abort {
        problems.push(p);
    }
    // keepalived exits where a keyword lacks its value: nothing is checked after, but the
    // interfaces it looked up before were complained about as it read them.
    let abort = problems
        .list
        .iter()
        .filter(|p| p.kind == Kind::Aborted)
        .filter_map(|p| p.at)
        .min();
    if problems.list.iter().any(|p| p.kind == Kind::Aborted) {
        if let (Some(known), Some(abort)) = (
            interfaces.filter(|_| !config.global.dynamic_interfaces),
            abort,
        ) {
            let mut before = Problems::default();
            check_interfaces(&mut config.vrrp, known, &mut before);
            for p in before.list {
                if p.at.is_some_and(|at| at < abort) {
                    problems.push(p);
                }
            }
        }
        return;
    }
    let g = config.global.clone();
    let v = &mut config.vrrp;
    let any_vrrp = !v.instances.is_empty() || !v.sync_groups.is_empty() || !v.scripts.is_empty();
    if let Some(known) = interfaces.filter(|_| !g.dynamic_interfaces) {
        if check_interfaces(v, known, problems) {
            problems.push(unlined(
                None,
                Kind::BadInterface,
                "Non-existent interface specified in configuration",
            ));
            return;
        }
    }
    if !any_vrrp {
        return;
    }
    script_security(v, &g, problems);
    scripts_found(v, problems);
    for i in &v.instances {
        if i.virtual_router_id.is_none() {
            problems.push(unlined(
                i.at,
                Kind::General,
                format!("({}) the virtual router id must be set", i.name),
            ));
            return;
        }
        // keepalived's source lets a unicast instance go without an interface, but it
        // marks an instance unicast only later: every instance without one is refused
        // (measured).
        if i.interface.is_none() {
            problems.push(unlined(
                i.at,
                Kind::General,
                format!("({}) Unknown interface!", i.name),
            ));
            return;
        }
    }
    set_sync_groups(v, problems);
    let groups = v.sync_groups.clone();
    for i in &mut v.instances {
        let group = i
            .sync_group
            .as_ref()
            .and_then(|n| groups.iter().find(|g| &g.name == n));
        if !complete(i, &g, group, &v.track_files, &v.scripts, problems) {
            // keepalived stops its checks at the first instance it cannot run.
            return;
        }
    }
    if vrid_conflicts(v, &g, problems) {
        return;
    }
    masters_in_sync_groups(v, &groups, problems);
    for sg in &groups {
        for i in v
            .instances
            .iter()
            .filter(|i| i.sync_group.as_ref() == Some(&sg.name))
        {
            for t in &sg.track_interfaces {
                if i.track_interfaces.iter().any(|u| u.name == t.name)
                    || i.interface.as_ref() == Some(&t.name)
                {
                    problems.push(unlined(
                        sg.at,
                        Kind::General,
                        format!(
                            "({}) track_interface {} is configured on VRRP instance and sync group. Remove vrrp instance or sync group config",
                            i.name, t.name
                        ),
                    ));
                }
            }
        }
    }
    if let Some(d) = &config.global.lvs_sync_daemon {
        if let Some(name) = &d.vrrp_instance {
            if !v.instances.iter().any(|i| &i.name == name) {
                problems.push(unlined(
                    None,
                    Kind::General,
                    format!("Unable to find vrrp instance {name} for lvs_syncd - clearing lvs_syncd config"),
                ));
            }
        }
    }
    // keepalived drops scripts nothing tracks; the 2.2.7 binary says nothing about it
    // (its source has "Warning - script %s is not used"), so neither does lvsd.
    let used = |name: &str| {
        v.instances
            .iter()
            .any(|i| i.track_scripts.iter().any(|t| t.name == name))
            || v.sync_groups
                .iter()
                .any(|g| g.track_scripts.iter().any(|t| t.name == name))
    };
    let unused: Vec<String> = v
        .scripts
        .iter()
        .filter(|s| !used(&s.name))
        .map(|s| s.name.clone())
        .collect();
    v.scripts.retain(|s| !unused.contains(&s.name));
}

/// keepalived's `check_vrrp_script_security`, without looking at the scripts' files: any
/// script run without `enable_script_security` is a violation (exit status 6).
/// keepalived starts a sync group's members as masters only if all of them can: one that
/// wants to be backup, or any that is not the address owner (priority 255), makes every
/// member start as backup (measured with its `-d` dump).
fn masters_in_sync_groups(v: &mut Vrrp, groups: &[super::SyncGroup], problems: &mut Problems) {
    for sg in groups {
        let member = |i: &Instance| i.sync_group.as_ref() == Some(&sg.name);
        let wants_master = |i: &Instance| i.state == Some(State::Master);
        let has_master = v.instances.iter().any(|i| member(i) && wants_master(i));
        let has_backup = v
            .instances
            .iter()
            .any(|i| member(i) && (!wants_master(i) || i.priority != Some(255)));
        if !(has_master && has_backup) {
            continue;
        }
        for i in v
            .instances
            .iter_mut()
            .filter(|i| member(i) && wants_master(i))
        {
            i.state = Some(State::Backup);
            problems.push(
                unlined(
                    i.at,
                    Kind::Advice,
                    format!(
                        "({}) starts as BACKUP: keepalived starts the members of sync group {} as masters only when all are address owners (priority 255)",
                        i.name, sg.name
                    ),
                )
                .hint("the group's members become master together after the master-down interval; state MASTER only matters with priority 255"),
            );
        }
    }
}

/// keepalived disables a tracked script whose command it cannot find, and its instances stop
/// tracking it.
fn scripts_found(v: &mut Vrrp, problems: &mut Problems) {
    let mut missing = Vec::new();
    for s in &v.scripts {
        if s.script.as_deref().is_some_and(|cmd| !is_script(cmd)) {
            problems.push(
                unlined(
                    s.at,
                    Kind::General,
                    format!(
                        "Disabling track script {} since not found/accessible",
                        s.name
                    ),
                )
                .effect("instances tracking it go on without it")
                .hint("give the script's full path, and make it executable"),
            );
            missing.push(s.name.clone());
        }
    }
    for i in &mut v.instances {
        i.track_scripts.retain(|t| !missing.contains(&t.name));
    }
}

fn script_security(v: &Vrrp, g: &Global, problems: &mut Problems) {
    if v.instances.is_empty() || g.enable_script_security {
        return;
    }
    let notify = |n: &super::Notify| {
        [
            &n.master,
            &n.backup,
            &n.fault,
            &n.stop,
            &n.deleted,
            &n.any,
            &n.master_rx_lower_pri,
        ]
        .into_iter()
        .any(|s| s.as_deref().is_some_and(is_script))
    };
    let any = v
        .scripts
        .iter()
        .any(|s| s.script.as_deref().is_some_and(is_script))
        || v.instances.iter().any(|i| notify(&i.notify))
        || v.sync_groups.iter().any(|s| notify(&s.notify))
        || g.notify_fifo.script.as_deref().is_some_and(is_script)
        || g.vrrp_notify_fifo.script.as_deref().is_some_and(is_script);
    if any {
        problems.push(
            unlined(None, Kind::Security, "SECURITY VIOLATION - scripts are being executed but script_security not enabled.")
                .hint("add 'enable_script_security' to global_defs (and 'script_user' if the scripts should not run as root)"),
        );
    }
}

/// Whether a command line's program exists: keepalived counts only scripts it finds.
fn is_script(cmd: &str) -> bool {
    cmd.split_whitespace()
        .next()
        .is_some_and(crate::host::script_found)
}

/// The interface names the VRRP process looks up while reading; true if one is missing.
fn check_interfaces(v: &mut Vrrp, known: &[String], problems: &mut Problems) -> bool {
    let exists = |n: &str| known.iter().any(|k| k == n);
    let mut missing = false;
    for a in &v.static_addresses {
        if let Some(d) = a.dev.as_deref().filter(|d| !exists(d)) {
            problems.push(lined(
                a.at,
                format!(
                    "WARNING - interface {d} for ip address {} doesn't exist",
                    a.given
                ),
            ));
            missing = true;
        }
    }
    // A route whose device is missing is dropped, with the complaint at its line.
    let route_devs = |routes: &[super::Route], problems: &mut Problems| {
        let mut missing = false;
        for r in routes {
            for pair in r.words.windows(2) {
                if matches!(pair[0].as_str(), "dev" | "oif") && !exists(&pair[1]) {
                    problems.push(lined(
                        r.at,
                        format!(
                            "WARNING - interface {} for VROUTE nexthop doesn't exist",
                            pair[1]
                        ),
                    ));
                    missing = true;
                    break;
                }
            }
        }
        missing
    };
    missing |= route_devs(&v.static_routes, problems);
    for i in &v.instances {
        missing |= route_devs(&i.virtual_routes, problems);
    }
    let mut grouped: Vec<&str> = Vec::new();
    for gg in &v.garp_groups {
        for i in &gg.interfaces {
            if !exists(&i.name) {
                problems.push(lined(
                    i.at,
                    format!(
                        "WARNING - interface {} specified for garp_group doesn't exist",
                        i.name
                    ),
                ));
                missing = true;
            } else if grouped.contains(&i.name.as_str()) {
                // keepalived names the `interfaces` block's second entry; with a single entry
                // that word is missing and keepalived stops there (measured).
                match (i.rest.first(), i.at) {
                    (Some(shown), _) => problems.push(lined(
                        i.at,
                        format!("garp_group already specified for {shown} - ignoring"),
                    )),
                    (None, Some(_)) if gg.aggregation_group != 0 => {
                        let mut p = Problem::new(
                            i.at,
                            Kind::Aborted,
                            format!(
                                "*** Configuration line starting `{0}` is missing a parameter after keyword `{0}` at word position 2",
                                i.name
                            ),
                        );
                        p.effect =
                            Some("keepalived stops reading here and exits with status 2".into());
                        problems.push(p);
                    }
                    (None, _) => problems.push(lined(
                        i.at,
                        format!("garp_group already specified for {} - ignoring", i.name),
                    )),
                }
            } else {
                grouped.push(&i.name);
            }
        }
        if gg.removed {
            grouped.retain(|n| !gg.interfaces.iter().any(|i| i.name == *n));
        }
    }
    // These two are looked up without being noted as missing: keepalived's daemon stops on
    // them (a fatal error) rather than on the missing interface.
    for l in &v.linkbeat_interfaces {
        if !exists(&l.name) {
            problems.push(Problem::new(
                l.at,
                Kind::Fatal,
                format!(
                    "unknown interface {} specified for linkbeat interface",
                    l.name
                ),
            ));
        }
    }
    for l in &v.interface_delays {
        if !exists(&l.name) {
            problems.push(Problem::new(
                l.at,
                Kind::Fatal,
                format!("unknown interface {} specified for up/down delay", l.name),
            ));
        }
    }
    for g in &v.sync_groups {
        for t in &g.track_interfaces {
            if !exists(&t.name) {
                problems.push(lined(
                    t.at,
                    format!("({}) tracked interface {} doesn't exist", g.name, t.name),
                ));
                missing = true;
            }
        }
    }
    for i in &mut v.instances {
        for named in i.interfaces_named.iter().filter(|n| !exists(&n.name)) {
            problems.push(lined(
                named.at,
                format!(
                    "WARNING - interface {} for vrrp_instance {} doesn't exist",
                    named.name, i.name
                ),
            ));
            missing = true;
        }
        if let Some(vrf) = i.vrf.as_deref().filter(|v| !exists(v)) {
            problems.push(lined(
                i.vrf_at,
                format!("({}) WARNING - VRF interface {vrf} doesn't exist", i.name),
            ));
            missing = true;
        }
        for t in &i.track_interfaces {
            if !exists(&t.name) {
                problems.push(lined(
                    t.at,
                    format!("({}) tracked interface {} doesn't exist", i.name, t.name),
                ));
                missing = true;
            }
        }
        i.track_interfaces.retain(|t| exists(&t.name));
        for a in i.vips.iter().chain(&i.excluded_vips) {
            if let Some(d) = a.dev.as_deref().filter(|d| !exists(d)) {
                problems.push(lined(
                    a.at,
                    format!(
                        "WARNING - interface {d} for ip address {} doesn't exist",
                        a.given
                    ),
                ));
                missing = true;
            }
        }
    }
    missing
}

/// keepalived's sync group set-up (vrrp/vrrp_sync.c): members found by name, each in one
/// group at most; groups without members removed.
fn set_sync_groups(v: &mut Vrrp, problems: &mut Problems) {
    let mut kept = Vec::new();
    for sg in std::mem::take(&mut v.sync_groups) {
        if sg.group.is_empty() {
            problems.push(unlined(
                sg.at,
                Kind::General,
                format!("Sync group {} has no virtual router(s). removing", sg.name),
            ));
            continue;
        }
        let mut members = 0;
        for name in &sg.group {
            let Some(i) = v.instances.iter_mut().find(|i| &i.name == name) else {
                problems.push(unlined(
                    sg.at,
                    Kind::General,
                    format!(
                        "Virtual router {name} specified in sync group {} doesn't exist - ignoring",
                        sg.name
                    ),
                ));
                continue;
            };
            if i.sync_group.is_some() {
                problems.push(unlined(
                    sg.at,
                    Kind::General,
                    format!("Virtual router {name} cannot exist in more than one sync group; ignoring {}", sg.name),
                ));
                continue;
            }
            i.sync_group = Some(sg.name.clone());
            members += 1;
        }
        match members {
            0 => problems.push(unlined(
                sg.at,
                Kind::General,
                format!("Sync group {}, no matching virtual router found in group declaration - removing", sg.name),
            )),
            1 => {
                problems.push(unlined(
                    sg.at,
                    Kind::General,
                    format!("Sync group {} has only 1 virtual router(s) - this probably isn't what you want", sg.name),
                ));
                kept.push(sg);
            }
            _ => kept.push(sg),
        }
    }
    v.sync_groups = kept;
}

/// keepalived's `vrrp_complete_instance`: false when the instance cannot run (keepalived
/// then stops checking).
fn complete(
    i: &mut Instance,
    g: &Global,
    group: Option<&super::SyncGroup>,
    files: &[super::TrackFile],
    scripts: &[super::Script],
    problems: &mut Problems,
) -> bool {
    let at = i.at;
    let n = i.name.clone();
    let mut say = |kind: Kind, msg: String| problems.push(unlined(at, kind, msg));
    let strict = *i.strict_mode.get_or_insert(g.vrrp_strict);
    let v6 = i.ipv6.unwrap_or(false);
    if v6 {
        if i.version == Some(2) && strict {
            say(
                Kind::General,
                format!("({n}) cannot use IPv6 with VRRP version 2; setting version 3"),
            );
            i.version = Some(3);
        } else if i.version.is_none() {
            i.version = Some(3);
        }
    }
    i.ipv6 = Some(v6);
    let version = *i.version.get_or_insert(g.vrrp_version.unwrap_or(2));
    if i.vips.is_empty() {
        if version == 3 || strict {
            say(
                Kind::General,
                format!("({n}) No VIP specified; at least one is required"),
            );
            return false;
        }
        say(
            Kind::General,
            format!("({n}) No VIP specified; at least one is sensible"),
        );
    }
    if i.priority.is_none() && i.state == Some(State::Master) {
        problems.push(
            Problem::new(at, Kind::Advice, format!("({n}) state MASTER without a priority: keepalived makes it the address owner (priority 255)"))
                .hint("an address owner always wins and never waits; give 'priority' (1-254) unless this router owns the addresses"),
        );
    }
    let mut say = |kind: Kind, msg: String| problems.push(unlined(at, kind, msg));
    let priority = *i.priority.get_or_insert(if i.state == Some(State::Master) {
        255
    } else {
        100
    });
    match i.state {
        None => {
            i.state = Some(if priority == 255 {
                State::Master
            } else {
                State::Backup
            })
        }
        Some(s) if strict && ((s == State::Master) != (priority == 255)) => {
            say(
                Kind::General,
                format!("({n}) State MASTER must match being address owner"),
            );
            i.state = Some(if priority == 255 {
                State::Master
            } else {
                State::Backup
            });
        }
        Some(_) => {}
    }
    if let Some(auth) = i.auth_type {
        let drop = if strict {
            Some(format!(
                "({n}) Strict mode does not support authentication. Ignoring."
            ))
        } else if version == 3 {
            Some(format!(
                "({n}) VRRP version 3 does not support authentication. Ignoring."
            ))
        } else if i.auth_pass.as_deref().is_none_or(str::is_empty) {
            Some(format!(
                "({n}) Authentication specified but no password given. Ignoring"
            ))
        } else if v6 && auth == AuthType::Ah {
            Some(format!(
                "({n}) Cannot use AH authentication with IPv6. ignoring"
            ))
        } else {
            None
        };
        if let Some(msg) = drop {
            say(Kind::General, msg);
            i.auth_type = None;
        } else if auth == AuthType::Ah && i.state == Some(State::Master) && priority != 255 {
            say(
                Kind::General,
                format!(
                    "({n}) Initial state master is incompatible with AH authentication - clearing"
                ),
            );
            i.state = Some(State::Backup);
        }
    }
    let unicast = i.unicast_configured && !i.unicast_peers.is_empty();
    // keepalived's source refuses unicast peers in strict mode, but tests its unicast mark
    // before setting it: the 2.2.7 binary never says so (measured), nor does lvsd.
    if i.interface.is_none() && i.src_ip.is_none() {
        say(
            Kind::General,
            format!("({n}): Unicast instances must have unicast_src_ip or interface"),
        );
        return false;
    }
    if i.unicast_configured && i.unicast_peers.is_empty() && !i.unicast_fault_no_peer {
        say(
            Kind::Deprecated,
            format!(
                "({n}) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. \
                 This usage is deprecated - please update your configuration."
            ),
        );
    }
    if v6 && !unicast && strict {
        let first_local = i.vips.first().is_some_and(|a| match a.address {
            std::net::IpAddr::V6(x) => x.segments()[0] & 0xffc0 == 0xfe80,
            std::net::IpAddr::V4(_) => true,
        });
        if !i.vips.is_empty() && !first_local {
            say(
                Kind::General,
                format!("({n}) the first IPv6 VIP address must be link local"),
            );
        }
    }
    if priority == 255 && i.nopreempt {
        say(
            Kind::General,
            format!("({n}) nopreempt is incompatible with priority 255. resetting nopreempt"),
        );
        i.nopreempt = false;
    }
    if i.state == Some(State::Master) {
        if i.nopreempt {
            say(
                Kind::General,
                format!(
                    "({n}) Warning - nopreempt will not work with initial state MASTER - clearing"
                ),
            );
            i.nopreempt = false;
        }
        if i.preempt_delay.is_some_and(|d| d > 0) {
            say(Kind::General, format!("({n}) Warning - preempt delay will not work with initial state MASTER - clearing"));
            i.preempt_delay = Some(0);
        }
    }
    if i.preempt_delay.is_some_and(|d| d > 0) {
        if strict {
            say(
                Kind::General,
                format!("({n}) preempt_delay is incompatible with strict mode - resetting"),
            );
            i.preempt_delay = Some(0);
        }
        if i.nopreempt {
            say(
                Kind::General,
                format!("({n}) preempt_delay is incompatible with nopreempt mode - resetting"),
            );
            i.preempt_delay = Some(0);
        }
    }
    i.preempt_delay.get_or_insert(0);
    if strict && i.down_timer_adverts.is_some_and(|d| d != 3) {
        say(
            Kind::General,
            format!("({n}) down_timer_adverts is incompatible with strict mode - resetting"),
        );
        i.down_timer_adverts = Some(3);
    }
    i.down_timer_adverts
        .get_or_insert(g.vrrp_down_timer_adverts.unwrap_or(3));
    let accept = *i.accept.get_or_insert(priority == 255 || !strict);
    if accept && priority != 255 && strict && version == 2 {
        say(Kind::General, format!("({n}) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting"));
        i.accept = Some(false);
    }
    if unicast && i.mcast_dst_ip.is_some() {
        say(
            Kind::General,
            format!("({n}) multicast destination specified with unicast - ignoring"),
        );
        i.mcast_dst_ip = None;
    }
    if !unicast && i.mcast_dst_ip.is_none() {
        i.mcast_dst_ip = if v6 {
            g.vrrp_mcast_group6
        } else {
            g.vrrp_mcast_group4
        };
    }
    strict_default(
        &mut i.garp_lower_prio_repeat,
        strict,
        0,
        // keepalived's global default is vrrp_garp_master_repeat (vrrp.c, vrrp_complete_init).
        g.vrrp_garp_lower_prio_repeat
            .unwrap_or(g.vrrp_garp_master_repeat.unwrap_or(5)),
        &mut say,
        format!("({n}) Strict mode requires no repeat garps. resetting"),
    );
    strict_default(
        &mut i.garp_lower_prio_delay,
        strict,
        0,
        g.vrrp_garp_lower_prio_delay
            .unwrap_or(g.vrrp_garp_master_delay.unwrap_or(5)),
        &mut say,
        format!("({n}) Strict mode requires no repeat garp delay. resetting"),
    );
    match i.lower_prio_no_advert {
        None => {
            i.lower_prio_no_advert = Some(strict || g.vrrp_lower_prio_no_advert.unwrap_or(false))
        }
        Some(false) if strict => {
            say(
                Kind::General,
                format!("({n}) Strict mode requires no lower priority advert. resetting"),
            );
            i.lower_prio_no_advert = Some(true);
        }
        Some(_) => {}
    }
    match i.higher_prio_send_advert {
        None => {
            i.higher_prio_send_advert =
                Some(!strict && g.vrrp_higher_prio_send_advert.unwrap_or(false))
        }
        Some(true) if strict => {
            say(
                Kind::General,
                format!(
                    "({n}) strict mode requires higher_prio_send_advert to be clear. resetting"
                ),
            );
            i.higher_prio_send_advert = Some(false);
        }
        Some(_) => {}
    }
    i.smtp_alert
        .get_or_insert(g.smtp_alert_vrrp.or(g.smtp_alert).unwrap_or(false));
    i.notify_priority_changes
        .get_or_insert(g.vrrp_notify_priority_changes.unwrap_or(false));
    let mut adv = *i.advert_int.get_or_insert(1_000_000);
    if version == 2 {
        if adv >= 256 * 1_000_000 {
            say(Kind::General, format!("({n}) VRRPv2 advertisement interval {:.2}s is out of range. Must be less than 256s. Setting to 255s", adv as f64 / 1e6));
            adv = 255 * 1_000_000;
        } else if !adv.is_multiple_of(1_000_000) {
            say(
                Kind::General,
                format!(
                    "({n}) VRRPv2 advertisement interval {:.6}s must be an integer. rounding",
                    adv as f64 / 1e6
                ),
            );
            adv += 500_000;
            adv -= adv % 1_000_000;
            if adv == 0 {
                adv = 1_000_000;
            }
        }
    } else if adv >= 4096 * 10_000 {
        say(Kind::General, format!("({n}) VRRPv3 advertisement interval {:.2}s is out of range. Must be less than 40.96s. Setting to 40.95s", adv as f64 / 1e6));
        adv = 4095 * 10_000;
    } else if !adv.is_multiple_of(10_000) {
        say(
            Kind::General,
            format!(
                "({n}) VRRPv3 advertisement interval {:.6}s must be in units of 10ms - rounding",
                adv as f64 / 1e6
            ),
        );
        adv += 5_000;
        adv -= adv % 10_000;
        if adv == 0 {
            adv = 10_000;
        }
    }
    i.advert_int = Some(adv);
    i.garp_master_delay
        .get_or_insert(g.vrrp_garp_master_delay.unwrap_or(5));
    i.garp_master_repeat
        .get_or_insert(g.vrrp_garp_master_repeat.unwrap_or(5));
    i.garp_master_refresh
        .get_or_insert(g.vrrp_garp_master_refresh.unwrap_or(0));
    i.garp_master_refresh_repeat
        .get_or_insert(g.vrrp_garp_master_refresh_repeat.unwrap_or(1));
    i.skip_check_adv_addr
        .get_or_insert(g.vrrp_skip_check_adv_addr);
    if g.vrrp_check_unicast_src {
        i.check_unicast_src = true;
    }
    if i.use_ipvlan && !v6 && !i.ipvlan_address {
        say(Kind::General, format!("({n}) IPv4 ipvlan requires a source ip address to be configured. setting instance to fault state"));
    }
    if i.vmac_xmit_base && !i.use_vmac {
        say(
            Kind::General,
            format!("({n}) vmac_xmit_base is only valid with a vmac"),
        );
    }
    if i.promote_secondaries && (i.use_vmac || i.use_ipvlan) {
        say(
            Kind::General,
            format!("({n}) promote_secondaries is automatically set for vmacs - ignoring"),
        );
        i.promote_secondaries = false;
    }
    if let Some(own) = i.interface.clone() {
        if i.track_interfaces.iter().any(|t| t.name == own) {
            say(
                Kind::General,
                format!("({n}) Ignoring track_interface {own} since own interface"),
            );
            i.track_interfaces.retain(|t| t.name != own);
        }
    }
    if i.interface.is_none() {
        for (e, list) in [("", &mut i.vips), ("e", &mut i.excluded_vips)] {
            for a in list.iter().filter(|a| a.dev.is_none()) {
                say(
                    Kind::General,
                    format!("({n}): no interface for {e}vip {} - removing", a.address),
                );
            }
            list.retain(|a| a.dev.is_some());
        }
    }
    if i.vips.is_empty() && (version == 3 || v6 || strict) {
        say(
            Kind::General,
            format!("({n}) No VIP specified; at least one is required"),
        );
        return false;
    }
    sync_weights(i, group, files, scripts, &mut say);
    advice(i, problems);
    true
}

/// Weights of tracked things are ignored in a sync group (unless it says
/// `sync_group_tracking_weight`) and for an address owner, with keepalived's complaints.
fn sync_weights(
    i: &mut Instance,
    group: Option<&super::SyncGroup>,
    files: &[super::TrackFile],
    scripts: &[super::Script],
    say: &mut impl FnMut(Kind, String),
) {
    let by_group = group.is_some_and(|g| !g.sync_group_tracking_weight);
    if !by_group && i.priority != Some(255) {
        return;
    }
    let n = i.name.clone();
    let why = if by_group {
        "SYNC group"
    } else {
        "address owner"
    };
    let why_ = if by_group {
        "SYNC group"
    } else {
        "address_owner"
    };
    let mut keep = Vec::new();
    for mut t in std::mem::take(&mut i.track_interfaces) {
        if t.weight.unwrap_or(0) != 0 {
            let w = if by_group { "weight " } else { "" };
            say(
                Kind::General,
                format!(
                    "({n}) ignoring {} tracked interface {w}due to {why}",
                    t.name
                ),
            );
            if !by_group {
                continue;
            }
            t.weight = Some(0);
        }
        keep.push(t);
    }
    i.track_interfaces = keep;
    let script_weight = |t: &super::Tracked| {
        t.weight.unwrap_or_else(|| {
            scripts
                .iter()
                .find(|s| s.name == t.name)
                .map_or(0, |s| s.weight)
        })
    };
    let mut keep = Vec::new();
    for t in std::mem::take(&mut i.track_scripts) {
        if script_weight(&t) != 0 {
            say(
                Kind::General,
                format!(
                    "({n}) ignoring tracked script {} with weights due to {why_}",
                    t.name
                ),
            );
            continue;
        }
        keep.push(t);
    }
    i.track_scripts = keep;
    let mut keep = Vec::new();
    for mut t in std::mem::take(&mut i.track_files) {
        let w = t.weight.unwrap_or_else(|| {
            files
                .iter()
                .find(|f| f.name == t.name)
                .map_or(1, |f| f.weight)
        });
        if w == 1 {
            say(
                Kind::General,
                format!(
                    "({n}) ignoring weight from tracked file {} due to {why_}. specify weight 0",
                    t.name
                ),
            );
            t.weight = Some(0);
        } else if w != 0 {
            say(
                Kind::General,
                format!(
                    "({n}) ignoring tracked file {} with weight {w} due to {why_}",
                    t.name
                ),
            );
            continue;
        }
        keep.push(t);
    }
    i.track_files = keep;
}

fn strict_default(
    slot: &mut Option<u32>,
    strict: bool,
    strict_value: u32,
    default: u32,
    say: &mut impl FnMut(Kind, String),
    msg: String,
) {
    match *slot {
        None => *slot = Some(if strict { strict_value } else { default }),
        Some(v) if strict && v != strict_value => {
            say(Kind::General, msg);
            *slot = Some(strict_value);
        }
        Some(_) => {}
    }
}

/// What keepalived does silently that is probably not what was meant.
fn advice(i: &Instance, problems: &mut Problems) {
    if let Some(ifname) = &i.interface {
        for a in i.vips.iter().filter(|a| a.dev.is_none()) {
            problems.push(
                Problem::new(a.at, Kind::Advice, format!("VIP {} has no 'dev': keepalived puts it on the instance's interface {ifname}", a.given))
                    .hint(format!("add 'dev {ifname}' to say so, or 'dev' with the interface it belongs on")),
            );
        }
    }
    if i.nopreempt && i.state != Some(State::Backup) {
        problems.push(
            Problem::new(i.nopreempt_at.or(i.at), Kind::Advice, format!("({}) nopreempt without 'state BACKUP'", i.name))
                .hint("keepalived documents nopreempt for instances that start as BACKUP; add 'state BACKUP'"),
        );
    }
}

/// keepalived's `check_vrid_conflicts`: true if it found one (keepalived then stops).
fn vrid_conflicts(v: &Vrrp, g: &Global, problems: &mut Problems) -> bool {
    let mut found = false;
    let unicast = |i: &Instance| i.unicast_configured && !i.unicast_peers.is_empty();
    for (k, a) in v.instances.iter().enumerate() {
        for b in &v.instances[k + 1..] {
            if a.ipv6 != b.ipv6
                || a.virtual_router_id != b.virtual_router_id
                || unicast(a) != unicast(b)
            {
                continue;
            }
            if unicast(a) {
                if a.interface.is_some() && b.interface.is_some() && a.interface != b.interface {
                    continue;
                }
                if a.src_ip.is_none() || b.src_ip.is_none() || a.src_ip != b.src_ip {
                    continue;
                }
                let shared = a
                    .unicast_peers
                    .iter()
                    .any(|p| b.unicast_peers.iter().any(|q| p.address == q.address));
                if shared {
                    found = true;
                    problems.push(unlined(
                        a.at,
                        Kind::General,
                        format!(
                            "({}) duplicate VRID conflict with {} VRID {}",
                            a.name,
                            b.name,
                            a.virtual_router_id.unwrap_or(0)
                        ),
                    ));
                }
                continue;
            }
            if a.interface != b.interface {
                continue;
            }
            let default = if a.ipv6 == Some(true) {
                g.vrrp_mcast_group6
            } else {
                g.vrrp_mcast_group4
            };
            if a.mcast_dst_ip.or(default) != b.mcast_dst_ip.or(default) {
                continue;
            }
            if let Some(ifname) = &a.interface {
                found = true;
                problems.push(unlined(
                    a.at,
                    Kind::General,
                    format!(
                        "{} and {} both use VRID {} with IPv{} on interface {ifname}",
                        a.name,
                        b.name,
                        a.virtual_router_id.unwrap_or(0),
                        if a.ipv6 == Some(true) { 6 } else { 4 }
                    ),
                ));
            }
        }
    }
    found
}
