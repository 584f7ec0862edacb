//! The objects IPVS manages, as plain Rust values: what a caller builds to change the table and
//! what a dump gives back. Nothing here knows about netlink.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address family as IPVS sees it (`AF_INET` or `AF_INET6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub const fn af(self) -> u16 {
        match self {
            Family::V4 => libc::AF_INET as u16,
            Family::V6 => libc::AF_INET6 as u16,
        }
    }

    pub fn from_af(af: u16) -> Option<Family> {
        match i32::from(af) {
            libc::AF_INET => Some(Family::V4),
            libc::AF_INET6 => Some(Family::V6),
            _ => None,
        }
    }

    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// The transport protocol of an address-based virtual service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
    /// A protocol number this library has no name for; kept so that nothing the kernel
    /// reports is lost.
    Other(u16),
}

impl Protocol {
    pub const fn number(self) -> u16 {
        match self {
            Protocol::Tcp => libc::IPPROTO_TCP as u16,
            Protocol::Udp => libc::IPPROTO_UDP as u16,
            Protocol::Sctp => libc::IPPROTO_SCTP as u16,
            Protocol::Other(n) => n,
        }
    }

    pub fn from_number(n: u16) -> Protocol {
        match i32::from(n) {
            libc::IPPROTO_TCP => Protocol::Tcp,
            libc::IPPROTO_UDP => Protocol::Udp,
            libc::IPPROTO_SCTP => Protocol::Sctp,
            _ => Protocol::Other(n),
        }
    }
}

/// The lower-case name (`tcp`, `udp`, `sctp`, `proto-N`).
impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::Tcp => f.write_str("tcp"),
            Protocol::Udp => f.write_str("udp"),
            Protocol::Sctp => f.write_str("sctp"),
            Protocol::Other(n) => write!(f, "proto-{n}"),
        }
    }
}

/// The scheduler a service has when none is given.
pub const DEFAULT_SCHEDULER: &str = "wlc";

/// What identifies a virtual service: an address, port and protocol, or a firewall mark. The
/// order (address-based services first) is the one [`Client::clear`](crate::Client::clear)
/// deletes services in, last first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKey {
    Addr {
        protocol: Protocol,
        addr: IpAddr,
        port: u16,
    },
    Fwmark {
        family: Family,
        mark: u32,
    },
}

impl ServiceKey {
    pub fn family(&self) -> Family {
        match self {
            ServiceKey::Addr { addr, .. } => Family::of(addr),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Addr {
                protocol,
                addr,
                port,
            } => write!(f, "{protocol} {}", SocketAddrDisplay(addr, *port)),
            ServiceKey::Fwmark { family, mark } => match family {
                Family::V4 => write!(f, "fwmark {mark}"),
                Family::V6 => write!(f, "fwmark {mark} (IPv6)"),
            },
        }
    }
}

/// `a.b.c.d:port` or `[v6]:port`.
pub struct SocketAddrDisplay<'a>(pub &'a IpAddr, pub u16);

impl fmt::Display for SocketAddrDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.1),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.1),
        }
    }
}

/// Service flags (`IP_VS_SVC_F_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ServiceFlags(pub u32);

impl ServiceFlags {
    pub const PERSISTENT: u32 = 0x0001;
    pub const HASHED: u32 = 0x0002;
    pub const ONEPACKET: u32 = 0x0004;
    pub const SCHED1: u32 = 0x0008;
    pub const SCHED2: u32 = 0x0010;
    pub const SCHED3: u32 = 0x0020;
    pub const SCHED_MASK: u32 = Self::SCHED1 | Self::SCHED2 | Self::SCHED3;

    pub fn contains(self, bits: u32) -> bool {
        self.0 & bits == bits
    }

    pub fn set(&mut self, bits: u32, on: bool) {
        if on {
            self.0 |= bits;
        } else {
            self.0 &= !bits;
        }
    }
}

/// Traffic counters and rates. Dumps fill them from the 64-bit attribute set when the kernel
/// sends it, from the 32-bit one otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Stats {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

/// A virtual service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub key: ServiceKey,
    pub scheduler: String,
    pub flags: ServiceFlags,
    /// Persistence timeout in seconds.
    pub timeout: u32,
    /// The persistence granularity: for IPv4 a mask as a host-order number (`0xffffff00` for
    /// 255.255.255.0), for IPv6 a prefix length.
    pub netmask: u32,
    pub pe_name: Option<String>,
    /// Reported by the kernel; ignored when sent.
    pub stats: Stats,
}

impl Service {
    /// A service with ipvsadm's defaults: scheduler `wlc`, no flags, a host netmask.
    pub fn new(key: ServiceKey) -> Service {
        Service {
            key,
            scheduler: DEFAULT_SCHEDULER.to_string(),
            flags: ServiceFlags::default(),
            timeout: 0,
            netmask: Self::host_netmask(key.family()),
            pe_name: None,
            stats: Stats::default(),
        }
    }

    /// The netmask that makes persistence per client address: /32 or /128.
    pub fn host_netmask(family: Family) -> u32 {
        match family {
            Family::V4 => u32::MAX,
            Family::V6 => 128,
        }
    }

    pub fn persistent(&self) -> bool {
        self.flags.contains(ServiceFlags::PERSISTENT)
    }
}

/// How packets reach a destination (`IP_VS_CONN_F_FWD_MASK` values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ForwardMethod {
    Masquerade,
    Local,
    Tunnel,
    DirectRoute,
    /// A value this library has no name for.
    Other(u32),
}

impl ForwardMethod {
    pub const fn code(self) -> u32 {
        match self {
            ForwardMethod::Masquerade => 0,
            ForwardMethod::Local => 1,
            ForwardMethod::Tunnel => 2,
            ForwardMethod::DirectRoute => 3,
            ForwardMethod::Other(n) => n,
        }
    }

    pub fn from_code(n: u32) -> ForwardMethod {
        match n {
            0 => ForwardMethod::Masquerade,
            1 => ForwardMethod::Local,
            2 => ForwardMethod::Tunnel,
            3 => ForwardMethod::DirectRoute,
            n => ForwardMethod::Other(n),
        }
    }
}

/// The encapsulation of a tunnelling destination.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TunnelType {
    #[default]
    Ipip,
    Gue,
    Gre,
    Other(u8),
}

impl TunnelType {
    pub const fn code(self) -> u8 {
        match self {
            TunnelType::Ipip => 0,
            TunnelType::Gue => 1,
            TunnelType::Gre => 2,
            TunnelType::Other(n) => n,
        }
    }

    pub fn from_code(n: u8) -> TunnelType {
        match n {
            0 => TunnelType::Ipip,
            1 => TunnelType::Gue,
            2 => TunnelType::Gre,
            n => TunnelType::Other(n),
        }
    }
}

/// Tunnel checksum options (`IP_VS_TUNNEL_ENCAP_FLAG_*`): 0 none, 1 csum, 2 remote csum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TunnelFlags(pub u16);

impl TunnelFlags {
    pub const NOCSUM: u16 = 0;
    pub const CSUM: u16 = 1;
    pub const REMCSUM: u16 = 2;
}

/// A real server behind a virtual service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub addr: IpAddr,
    pub port: u16,
    pub forward: ForwardMethod,
    pub weight: u32,
    pub upper_threshold: u32,
    pub lower_threshold: u32,
    pub tunnel_type: TunnelType,
    /// The tunnel's UDP port (GUE); 0 when unused.
    pub tunnel_port: u16,
    pub tunnel_flags: TunnelFlags,
    /// Reported by the kernel; ignored when sent.
    pub active_conns: u32,
    pub inactive_conns: u32,
    pub persistent_conns: u32,
    pub stats: Stats,
}

impl Destination {
    /// A destination with ipvsadm's defaults: direct routing, weight 1, no thresholds.
    pub fn new(addr: IpAddr, port: u16) -> Destination {
        Destination {
            addr,
            port,
            forward: ForwardMethod::DirectRoute,
            weight: 1,
            upper_threshold: 0,
            lower_threshold: 0,
            tunnel_type: TunnelType::Ipip,
            tunnel_port: 0,
            tunnel_flags: TunnelFlags::default(),
            active_conns: 0,
            inactive_conns: 0,
            persistent_conns: 0,
            stats: Stats::default(),
        }
    }

    pub fn family(&self) -> Family {
        Family::of(&self.addr)
    }
}

/// The role of a connection-synchronisation daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DaemonState {
    Master,
    Backup,
}

impl DaemonState {
    pub const fn code(self) -> u32 {
        match self {
            DaemonState::Master => 1,
            DaemonState::Backup => 2,
        }
    }

    pub fn from_code(n: u32) -> Option<DaemonState> {
        match n {
            1 => Some(DaemonState::Master),
            2 => Some(DaemonState::Backup),
            _ => None,
        }
    }
}

/// A connection-synchronisation daemon. Zero / `None` fields are left to the kernel's
/// defaults when starting one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Daemon {
    pub state: DaemonState,
    pub mcast_ifn: String,
    pub syncid: u32,
    pub sync_maxlen: u16,
    pub mcast_group: Option<IpAddr>,
    pub mcast_port: u16,
    pub mcast_ttl: u8,
}

impl Daemon {
    pub fn new(state: DaemonState, mcast_ifn: &str, syncid: u32) -> Daemon {
        Daemon {
            state,
            mcast_ifn: mcast_ifn.to_string(),
            syncid,
            sync_maxlen: 0,
            mcast_group: None,
            mcast_port: 0,
            mcast_ttl: 0,
        }
    }
}

/// Connection timeouts in seconds. On a set, 0 leaves a value unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

/// What `GET_INFO` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    /// `major << 16 | minor << 8 | patch`.
    pub version: u32,
    /// The size of the connection hash table.
    pub conn_tab_size: u32,
}

impl Info {
    pub fn version_triple(&self) -> (u32, u32, u32) {
        (
            (self.version >> 16) & 0xff,
            (self.version >> 8) & 0xff,
            self.version & 0xff,
        )
    }
}

/// Turns the 16 bytes of a `union nf_inet_addr` into an address of the given family.
pub(crate) fn addr_from_union(family: Family, raw: &[u8; 16]) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3])),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(*raw)),
    }
}

/// The 16 bytes of a `union nf_inet_addr` holding `addr`.
pub(crate) fn addr_to_union(addr: &IpAddr) -> [u8; 16] {
    let mut raw = [0u8; 16];
    match addr {
        IpAddr::V4(a) => raw[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => raw = a.octets(),
    }
    raw
}
