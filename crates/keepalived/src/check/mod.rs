//! The checker's part of keepalived.conf: `virtual_server_group`, `virtual_server` with its
//! `real_server`s and `sorry_server`, their checkers, and the `SSL` block; keepalived's
//! defaults and the inheritance checker < real server < virtual server.

pub mod checker;
mod keywords;
mod validate;

pub use keywords::roots;
pub use validate::validate;

use crate::problem::Place;
pub use crate::script::Script;
use std::net::IpAddr;

/// What the checker process reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Check {
    pub ssl: Option<Ssl>,
    pub groups: Vec<Group>,
    pub virtual_servers: Vec<VirtualServer>,
}

/// The `SSL` block: the client certificate for `SSL_GET`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ssl {
    pub password: Option<String>,
    pub ca: Option<String>,
    pub certificate: Option<String>,
    pub key: Option<String>,
}

/// A `virtual_server_group`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub at: Place,
    pub name: String,
    pub entries: Vec<GroupEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupEntry {
    /// Addresses `first` to `last` (the same for one address), with a port (0: none).
    Range {
        at: Place,
        first: IpAddr,
        last: IpAddr,
        port: u16,
    },
    Fwmark {
        at: Place,
        mark: u32,
        family: Option<Family>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Inet,
    Inet6,
}

impl Family {
    pub fn of(a: &IpAddr) -> Family {
        match a {
            IpAddr::V4(_) => Family::Inet,
            IpAddr::V6(_) => Family::Inet6,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// What a virtual server is named by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Service {
    Address { addr: IpAddr, port: u16 },
    Fwmark(u32),
    Group(String),
}

/// How packets reach a real server (`lb_kind`, `lvs_method`), with the tunnel's options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forwarding {
    Nat,
    Dr,
    Tun {
        kind: TunnelKind,
        /// GUE's port (0 for the others).
        port: u16,
        checksum: TunnelChecksum,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunnelKind {
    Ipip,
    Gue,
    Gre,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunnelChecksum {
    NoCsum,
    Csum,
    RemCsum,
}

/// keepalived's timeout when `persistence_timeout` is given without a value, or a service
/// needs one.
pub const PERSISTENT_TIMEOUT: u32 = 360;

/// The most services one `virtual_server_group` range makes in lvsd (keepalived makes one per
/// address, and a /8 would be sixteen million).
pub const MAX_RANGE: u128 = 65_536;

/// Microseconds, as keepalived keeps its timers.
pub type Micros = u64;

/// A `virtual_server` block. Settings the file does not give are `None` until
/// [`validate`] fills in keepalived's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct VirtualServer {
    pub at: Place,
    pub service: Service,
    /// `ip_family`, or the family of its address or of its real servers.
    pub family: Option<Family>,
    pub protocol: Option<Protocol>,
    /// `lb_algo` / `lvs_sched`.
    pub scheduler: Option<String>,
    /// Scheduler flags and `ops`, by keepalived's names.
    pub flags: Vec<&'static str>,
    /// `lb_kind` / `lvs_method`.
    pub forwarding: Option<Forwarding>,
    pub persistence_timeout: Option<u32>,
    pub persistence_granularity: Option<String>,
    pub persistence_engine: Option<String>,
    pub delay_loop: Micros,
    pub connect_timeout: Micros,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Micros>,
    pub warmup: Option<Micros>,
    pub inhibit_on_failure: bool,
    pub alpha: bool,
    pub omega: bool,
    pub quorum: u32,
    pub hysteresis: u32,
    pub quorum_up: Option<Script>,
    pub quorum_down: Option<Script>,
    pub ha_suspend: bool,
    pub smtp_alert: Option<bool>,
    pub virtualhost: Option<String>,
    /// The weight of real servers that give none.
    pub weight: u32,
    pub sorry_server: Option<SorryServer>,
    pub real_servers: Vec<RealServer>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SorryServer {
    pub at: Place,
    pub addr: IpAddr,
    pub port: u16,
    pub forwarding: Option<Forwarding>,
    pub inhibit: bool,
}

/// A `real_server` block; `None` settings inherit the virtual server's.
#[derive(Clone, Debug, PartialEq)]
pub struct RealServer {
    pub at: Place,
    pub addr: IpAddr,
    /// 0 until [`validate`] gives it the virtual server's where keepalived does.
    pub port: u16,
    pub weight: Option<u32>,
    pub forwarding: Option<Forwarding>,
    pub uthreshold: u32,
    pub lthreshold: u32,
    pub inhibit_on_failure: Option<bool>,
    pub notify_up: Option<Script>,
    pub notify_down: Option<Script>,
    pub alpha: Option<bool>,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Micros>,
    pub warmup: Option<Micros>,
    pub connect_timeout: Option<Micros>,
    pub delay_loop: Option<Micros>,
    pub smtp_alert: Option<bool>,
    pub virtualhost: Option<String>,
    pub checkers: Vec<checker::Checker>,
}
