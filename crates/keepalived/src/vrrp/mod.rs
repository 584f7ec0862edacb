//! keepalived's VRRP process: `vrrp_instance`, `vrrp_sync_group`, `vrrp_script`,
//! `vrrp_track_process`, the static addresses, routes and rules, `garp_group`,
//! `track_group`, `linkbeat_interfaces` and `interface_up_down_delays`
//! (vrrp/vrrp_parser.c, `init_vrrp_keywords`), BFD (bfd/bfd_parser.c) and track files
//! (trackers/track_file.c): the keyword trees in keepalived's order, the model lvsd acts on,
//! and keepalived's checks once the file is read ([`validate`]).

mod address;
mod bfd;
mod blocks;
mod instance;
mod route;
mod validate;

#[cfg(test)]
mod tests;

pub use validate::validate;

use crate::parse::{Ctx, Owner, Root};
use crate::problem::Place;
use std::net::IpAddr;

/// Whether keepalived has already stopped reading (a keyword lacked its value): its close
/// handlers never run then.
fn aborted(ctx: &Ctx<'_>) -> bool {
    ctx.problems.has(crate::problem::Kind::Aborted)
}

/// Everything the VRRP process reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Vrrp {
    pub instances: Vec<Instance>,
    pub sync_groups: Vec<SyncGroup>,
    pub scripts: Vec<Script>,
    pub track_processes: Vec<TrackProcess>,
    pub track_files: Vec<TrackFile>,
    pub static_addresses: Vec<Address>,
    /// The names of the `track_group`s.
    pub track_groups: Vec<String>,
    pub static_routes: Vec<Route>,
    pub static_rules: Vec<Route>,
    pub bfd_instances: Vec<BfdInstance>,
    pub garp_groups: Vec<GarpGroup>,
    /// `linkbeat_interfaces`: the interfaces keepalived polls for link state.
    pub linkbeat_interfaces: Vec<Named>,
    /// `interface_up_down_delays`: the interface, then the down and up delays as given.
    pub interface_delays: Vec<Named>,
    /// The `bfd_instance` being read (by its line): keepalived's "last one made".
    pub bfd_reading: Option<Place>,
    /// How many rules keepalived gave a preference of its own, IPv4 and IPv6.
    pub rules_without_preference: [u32; 2],
}

/// A line of a routes or rules block, as words: lvsd sets no routes or rules.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Route {
    pub words: Vec<String>,
    pub at: Option<Place>,
    /// A missing value keepalived stops at unless a device named before it is missing
    /// (keepalived drops the route there first): the devices, and the complaint.
    pub abort_unless_missing: Option<(Vec<String>, String)>,
}

/// The state an instance starts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Master,
    Backup,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthType {
    Pass,
    Ah,
}

/// A `vrrp_instance`. Settings keepalived defaults are `Option`s while reading; [`validate`]
/// fills them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Instance {
    pub name: String,
    /// The `vrrp_instance` line.
    pub at: Option<Place>,
    pub state: Option<State>,
    pub interface: Option<String>,
    pub interface_at: Option<Place>,
    /// Every `interface` line of the block, in order: keepalived looks each name up as it
    /// reads it, so a later line does not undo an earlier missing interface.
    pub interfaces_named: Vec<Named>,
    /// `vrf`: read, not acted on.
    pub vrf: Option<String>,
    pub vrf_at: Option<Place>,
    pub virtual_router_id: Option<u8>,
    pub priority: Option<u8>,
    /// Microseconds; 1 s by default.
    pub advert_int: Option<u64>,
    /// 2 by default, 3 for IPv6.
    pub version: Option<u8>,
    /// Whether the instance's addresses are IPv6 (from its first address).
    pub ipv6: Option<bool>,
    pub native_ipv6: bool,
    pub use_vmac: bool,
    pub vmac_xmit_base: bool,
    pub use_ipvlan: bool,
    /// Whether `use_ipvlan` gave an address.
    pub ipvlan_address: bool,
    /// `mcast_src_ip` or `unicast_src_ip`.
    pub src_ip: Option<IpAddr>,
    /// Whether a unicast keyword (`unicast_src_ip`, `unicast_peer`) was given.
    pub unicast_configured: bool,
    pub unicast_peers: Vec<UnicastPeer>,
    pub unicast_fault_no_peer: bool,
    pub unicast_ttl: Option<u32>,
    pub check_unicast_src: bool,
    pub mcast_dst_ip: Option<IpAddr>,
    pub auth_type: Option<AuthType>,
    pub auth_pass: Option<String>,
    pub vips: Vec<Address>,
    pub excluded_vips: Vec<Address>,
    pub virtual_routes: Vec<Route>,
    pub virtual_rules: Vec<Route>,
    pub track_interfaces: Vec<Tracked>,
    pub track_scripts: Vec<Tracked>,
    pub track_files: Vec<Tracked>,
    pub track_processes: Vec<Tracked>,
    pub track_bfds: Vec<Tracked>,
    pub dont_track_primary: bool,
    pub nopreempt: bool,
    pub nopreempt_at: Option<Place>,
    /// Microseconds.
    pub preempt_delay: Option<u64>,
    pub garp_master_delay: Option<u32>,
    pub garp_master_repeat: Option<u32>,
    pub garp_master_refresh: Option<u32>,
    pub garp_master_refresh_repeat: Option<u32>,
    pub garp_lower_prio_delay: Option<u32>,
    pub garp_lower_prio_repeat: Option<u32>,
    pub down_timer_adverts: Option<u32>,
    pub lower_prio_no_advert: Option<bool>,
    pub higher_prio_send_advert: Option<bool>,
    pub notify: Notify,
    pub notify_deleted: bool,
    pub notify_priority_changes: Option<bool>,
    pub smtp_alert: Option<bool>,
    pub lvs_sync_daemon_interface: Option<String>,
    pub skip_check_adv_addr: Option<bool>,
    pub strict_mode: Option<bool>,
    pub accept: Option<bool>,
    pub promote_secondaries: bool,
    pub debug: Option<u32>,
    /// Set by [`validate`]: the sync group the instance is in.
    pub sync_group: Option<String>,
}

/// Notify scripts, each as its command line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Notify {
    pub master: Option<String>,
    pub backup: Option<String>,
    pub fault: Option<String>,
    pub stop: Option<String>,
    pub deleted: Option<String>,
    pub any: Option<String>,
    pub master_rx_lower_pri: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct UnicastPeer {
    pub address: Option<IpAddr>,
    pub min_ttl: u32,
    pub max_ttl: u32,
    pub at: Option<Place>,
}

/// Something an instance or a sync group tracks, with the weight it gives.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tracked {
    pub name: String,
    pub weight: Option<i32>,
    pub reverse: bool,
    pub at: Option<Place>,
}

/// An address of `virtual_ipaddress`, `virtual_ipaddress_excluded` or `static_ipaddress`.
#[derive(Clone, Debug, PartialEq)]
pub struct Address {
    /// The address as written (keepalived's messages name it so).
    pub given: String,
    pub address: IpAddr,
    pub prefix: u8,
    /// `dev`: without it keepalived puts the address on the instance's interface.
    pub dev: Option<String>,
    pub label: Option<String>,
    pub scope: Option<String>,
    pub broadcast: Option<IpAddr>,
    pub peer: Option<IpAddr>,
    pub no_track: bool,
    pub use_vmac: bool,
    pub preferred_lft: Option<u32>,
    pub at: Option<Place>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncGroup {
    pub name: String,
    pub at: Option<Place>,
    pub group: Vec<String>,
    pub group_at: Option<Place>,
    pub track_interfaces: Vec<Tracked>,
    pub track_scripts: Vec<Tracked>,
    pub track_files: Vec<Tracked>,
    pub track_processes: Vec<Tracked>,
    pub track_bfds: Vec<Tracked>,
    pub notify: Notify,
    pub smtp_alert: Option<bool>,
    pub sync_group_tracking_weight: bool,
    pub notify_priority_changes: Option<bool>,
}

/// A `vrrp_script`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Script {
    pub name: String,
    pub at: Option<Place>,
    pub script: Option<String>,
    /// Seconds; 1 by default.
    pub interval: u32,
    /// Seconds; the interval by default.
    pub timeout: Option<u32>,
    pub weight: i32,
    pub weight_reverse: bool,
    pub rise: u32,
    pub fall: u32,
    pub user: Option<(String, Option<String>)>,
    /// `user` named a user that does not exist: keepalived removes the script.
    pub user_unknown: bool,
    pub init_fail: bool,
}

/// A `vrrp_track_process`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrackProcess {
    pub name: String,
    pub at: Option<Place>,
    pub process: Option<String>,
    pub weight: Option<i32>,
    pub quorum: u32,
    pub quorum_max: Option<u32>,
}

/// A name with the words after it and where it was written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Named {
    pub name: String,
    pub rest: Vec<String>,
    pub at: Option<Place>,
}

/// A `garp_group`: read, not acted on (lvsd sends gratuitous ARPs per instance).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GarpGroup {
    pub at: Option<Place>,
    /// Microseconds.
    pub garp_interval: Option<u64>,
    pub gna_interval: Option<u64>,
    pub interfaces: Vec<Named>,
    /// keepalived's number for a group given an `interfaces` block, 0 otherwise.
    pub aggregation_group: u32,
    /// keepalived drops a group without a delay; it stays here for the names it holds,
    /// which keepalived has looked up by then.
    pub removed: bool,
}

/// A `bfd_instance`: read, not run (lvsd does not run BFD). Intervals in milliseconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BfdInstance {
    pub name: String,
    pub at: Option<Place>,
    pub neighbor: Option<IpAddr>,
    pub source: Option<IpAddr>,
    pub min_rx: Option<u32>,
    pub min_tx: Option<u32>,
    pub idle_tx: Option<u32>,
    pub multiplier: Option<u32>,
    pub passive: bool,
    pub ttl: Option<u32>,
    pub max_hops: Option<i32>,
    pub weight: Option<i32>,
    pub weight_reverse: bool,
    /// Whether keepalived's BFD process keeps it.
    pub enabled: bool,
}

/// A `track_file` (or `vrrp_track_file`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrackFile {
    pub name: String,
    pub at: Option<Place>,
    pub file: Option<String>,
    pub weight: i32,
    pub weight_reverse: bool,
    pub init_file: Option<(Option<i64>, bool)>,
}

/// The instance the keywords being read belong to: keepalived gives them to the last
/// instance made, even when the current `vrrp_instance` line was refused.
fn current<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut Instance> {
    ctx.config.vrrp.instances.last_mut()
}

/// The current instance's name, for keepalived's `(NAME)` prefix.
fn iname(ctx: &Ctx<'_>) -> String {
    ctx.config
        .vrrp
        .instances
        .last()
        .map(|i| i.name.clone())
        .unwrap_or_default()
}

/// The top-level keywords of the VRRP process, BFD and track files, in keepalived's order.
pub fn roots() -> Vec<Root> {
    let mut roots: Vec<Root> = blocks::vrrp_roots_before_instance()
        .into_iter()
        .map(|keyword| Root {
            owner: Owner::Vrrp,
            keyword,
        })
        .collect();
    roots.push(Root {
        owner: Owner::Vrrp,
        keyword: instance::keyword(),
    });
    roots.extend(
        blocks::vrrp_roots_after_instance()
            .into_iter()
            .map(|keyword| Root {
                owner: Owner::Vrrp,
                keyword,
            }),
    );
    roots.push(Root {
        owner: Owner::Bfd,
        keyword: bfd::keyword(),
    });
    roots.extend(blocks::track_file_roots().into_iter().map(|keyword| Root {
        owner: Owner::TrackFile,
        keyword,
    }));
    roots
}
