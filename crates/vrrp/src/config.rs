//! From a configuration the `keepalived` crate read and validated to the machine's settings:
//! which objects are tracked, by whom and with what weight, and what lvsd does not do.

use keepalived::vrrp::{AuthType, Instance, State as Wanted, Tracked as Line, Vrrp};
use keepalived::Place;

use crate::machine::{Garp, GroupSettings, Settings, TrackRef};
use crate::packet::{Auth, Version};

/// An object instances track; the daemon watches it and feeds its value to the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tracked {
    Interface(String),
    /// A `vrrp_script`, by name.
    Script(String),
    /// A `vrrp_track_file`, by name.
    File(String),
}

impl Tracked {
    pub fn describe(&self) -> String {
        match self {
            Tracked::Interface(n) => format!("interface {n}"),
            Tracked::Script(n) => format!("script {n}"),
            Tracked::File(n) => format!("track file {n}"),
        }
    }
}

/// The machine's settings for a configuration's instances (in its order) and groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub instances: Vec<Settings>,
    pub groups: Vec<GroupSettings>,
    pub tracked: Vec<Tracked>,
}

/// Something the file asks for that lvsd does not do: the daemon refuses to run it rather
/// than run it otherwise than keepalived would.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    pub at: Option<Place>,
    pub what: String,
}

pub fn plan(v: &Vrrp) -> Result<Plan, Vec<Unsupported>> {
    let mut unsupported = Vec::new();
    let mut tracked = Vec::new();
    let mut instances = Vec::new();
    for i in &v.instances {
        refuse_unsupported(i, &mut unsupported);
        let group = v
            .sync_groups
            .iter()
            .position(|g| i.sync_group.as_ref() == Some(&g.name));
        let mut tracks = Vec::new();
        let mut add = |tracked: &mut Vec<Tracked>, what: Tracked, weight: i32, reverse: bool| {
            let track = match tracked.iter().position(|t| *t == what) {
                Some(n) => n,
                None => {
                    tracked.push(what);
                    tracked.len() - 1
                }
            };
            tracks.push(TrackRef {
                track,
                weight,
                reverse,
            });
        };
        // The instance's own link is always followed: down is FAULT.
        if let (Some(dev), false) = (&i.interface, i.dont_track_primary) {
            add(&mut tracked, Tracked::Interface(dev.clone()), 0, false);
        }
        // A sync group's tracking applies to each of its members.
        let of_group = group.map(|g| &v.sync_groups[g]);
        let with_group = |own: &[Line], theirs: Option<&Vec<Line>>| {
            own.iter()
                .chain(theirs.into_iter().flatten())
                .cloned()
                .collect::<Vec<_>>()
        };
        for t in with_group(&i.track_interfaces, of_group.map(|g| &g.track_interfaces)) {
            add(
                &mut tracked,
                Tracked::Interface(t.name.clone()),
                t.weight.unwrap_or(0),
                t.reverse,
            );
        }
        for t in with_group(&i.track_scripts, of_group.map(|g| &g.track_scripts)) {
            let script = v.scripts.iter().find(|s| s.name == t.name);
            let weight = t.weight.unwrap_or_else(|| script.map_or(0, |s| s.weight));
            let reverse =
                t.reverse || (t.weight.is_none() && script.is_some_and(|s| s.weight_reverse));
            add(
                &mut tracked,
                Tracked::Script(t.name.clone()),
                weight,
                reverse,
            );
        }
        for t in with_group(&i.track_files, of_group.map(|g| &g.track_files)) {
            let file = v.track_files.iter().find(|f| f.name == t.name);
            let weight = t.weight.unwrap_or_else(|| file.map_or(1, |f| f.weight));
            let reverse =
                t.reverse || (t.weight.is_none() && file.is_some_and(|f| f.weight_reverse));
            add(&mut tracked, Tracked::File(t.name.clone()), weight, reverse);
        }
        instances.push(settings(i, group, tracks));
    }
    let groups = v
        .sync_groups
        .iter()
        .map(|g| GroupSettings {
            name: g.name.clone(),
            members: g
                .group
                .iter()
                .filter_map(|n| v.instances.iter().position(|i| &i.name == n))
                .collect(),
        })
        .collect();
    for (what, list) in [
        (
            "track_process",
            v.instances.iter().any(|i| !i.track_processes.is_empty()),
        ),
        (
            "track_bfd",
            v.instances.iter().any(|i| !i.track_bfds.is_empty()),
        ),
    ] {
        if list {
            unsupported.push(Unsupported {
                at: None,
                what: format!("{what} (lvsd does not track processes or BFD sessions)"),
            });
        }
    }
    if unsupported.is_empty() {
        Ok(Plan {
            instances,
            groups,
            tracked,
        })
    } else {
        Err(unsupported)
    }
}

fn settings(i: &Instance, group: Option<usize>, tracks: Vec<TrackRef>) -> Settings {
    let secs = |s: Option<u32>| u64::from(s.unwrap_or(0)) * 1_000_000;
    let priority = i.priority.unwrap_or(100);
    Settings {
        name: i.name.clone(),
        vrid: i.virtual_router_id.unwrap_or(0),
        version: if i.version == Some(3) {
            Version::V3
        } else {
            Version::V2
        },
        priority,
        want_master: i.state == Some(Wanted::Master),
        advert_int: i.advert_int.unwrap_or(1_000_000),
        // keepalived ignores nopreempt on an address owner.
        preempt: !i.nopreempt || priority == 255,
        preempt_delay: i.preempt_delay.unwrap_or(0),
        auth: match (&i.auth_type, &i.auth_pass) {
            (Some(AuthType::Pass), Some(pass)) => Auth::Pass(password(pass)),
            _ => Auth::None,
        },
        addresses: i.vips.iter().map(|a| a.address).collect(),
        source: i.src_ip,
        down_timer_adverts: i.down_timer_adverts.unwrap_or(3).max(1),
        garp: Garp {
            delay: secs(i.garp_master_delay),
            repeat: i.garp_master_repeat.unwrap_or(5),
            refresh: secs(i.garp_master_refresh),
            refresh_repeat: i.garp_master_refresh_repeat.unwrap_or(1),
            lower_prio_delay: secs(i.garp_lower_prio_delay),
            lower_prio_repeat: i.garp_lower_prio_repeat.unwrap_or(0),
        },
        lower_prio_no_advert: i.lower_prio_no_advert.unwrap_or(false),
        higher_prio_send_advert: i.higher_prio_send_advert.unwrap_or(false),
        tracks,
        group,
    }
}

/// keepalived's PASS: the first 8 bytes of the text, NUL-padded.
pub fn password(text: &str) -> [u8; 8] {
    let mut pass = [0; 8];
    for (b, c) in pass.iter_mut().zip(text.bytes()) {
        *b = c;
    }
    pass
}

fn refuse_unsupported(i: &Instance, out: &mut Vec<Unsupported>) {
    let n = &i.name;
    let mut no = |what: String| {
        out.push(Unsupported {
            at: i.at,
            what: format!("({n}) {what}"),
        })
    };
    if i.use_vmac || i.use_ipvlan {
        no("use_vmac / use_ipvlan (lvsd runs VRRP on the interface itself)".into());
    }
    if i.auth_type == Some(AuthType::Ah) {
        no("auth_type AH (lvsd speaks PASS or no authentication)".into());
    }
    if !i.virtual_routes.is_empty() || !i.virtual_rules.is_empty() {
        no("virtual_routes / virtual_rules (lvsd moves addresses only)".into());
    }
    if i.vrf.is_some() {
        no("vrf".into());
    }
    if i.interface.is_none() {
        no("no interface".into());
    }
    if i.vips.iter().chain(&i.excluded_vips).any(|a| a.use_vmac) {
        no("an address with use_vmac".into());
    }
    let family = i.vips.first().map(|a| a.address.is_ipv6());
    if i.vips.iter().any(|a| Some(a.address.is_ipv6()) != family) {
        no("virtual_ipaddress mixes IPv4 and IPv6 (keepalived drops the other family's; put them in virtual_ipaddress_excluded)".into());
    }
}
