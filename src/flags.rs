//! The one definition of ipvsadm's command-line flags. The compatible parser, `-h`, the man
//! page and the shell completions are all derived from [`FLAGS`].

/// Whether a flag takes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    None,
    /// A value, named as in the help text.
    Required(&'static str),
    /// popt's optional argument: taken from `=value`, the rest of a cluster, or the next word
    /// when that does not start with `-`.
    Optional(&'static str),
}

/// The help-text section a flag is listed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Commands,
    VirtualService,
    Options,
    Daemon,
    /// Accepted but not listed by ipvsadm's help.
    Hidden,
    /// lvsadm's own additions to ipvsadm's options (not in ipvsadm's help).
    Extension,
}

/// Every flag ipvsadm knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Id {
    AddService,
    EditService,
    DeleteService,
    Clear,
    Restore,
    Save,
    AddServer,
    EditServer,
    DeleteServer,
    List,
    Zero,
    Set,
    StartDaemon,
    StopDaemon,
    Help,
    Version,
    TcpService,
    UdpService,
    SctpService,
    FwmarkService,
    Ipv6,
    Scheduler,
    Pe,
    Persistent,
    Netmask,
    RealServer,
    Gatewaying,
    Ipip,
    Masquerading,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
    Weight,
    UThreshold,
    LThreshold,
    Connection,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Exact,
    Thresholds,
    PersistentConn,
    TunInfo,
    Nosort,
    Sort,
    Ops,
    Numeric,
    SchedFlags,
    Syncid,
    SyncMaxlen,
    McastInterface,
    McastGroup,
    McastPort,
    McastTtl,
    Atomic,
}

pub struct Flag {
    pub id: Id,
    /// Short letters; the first is the documented one.
    pub short: &'static [char],
    pub long: &'static str,
    pub value: Value,
    pub section: Section,
    /// The left column of ipvsadm's help line, verbatim.
    pub help_left: &'static str,
    /// The description; continuation lines are aligned under the first.
    pub doc: &'static str,
}

const fn flag(
    id: Id,
    short: &'static [char],
    long: &'static str,
    value: Value,
    section: Section,
    help_left: &'static str,
    doc: &'static str,
) -> Flag {
    Flag {
        id,
        short,
        long,
        value,
        section,
        help_left,
        doc,
    }
}

use Section::*;
use Value::{None as NoValue, Optional, Required};

/// In the order of ipvsadm's help text.
#[rustfmt::skip]
pub const FLAGS: &[Flag] = &[
    flag(Id::AddService, &['A'], "add-service", NoValue, Commands,
         "  --add-service     -A        ", "add virtual service with options"),
    flag(Id::EditService, &['E'], "edit-service", NoValue, Commands,
         "  --edit-service    -E        ", "edit virtual service with options"),
    flag(Id::DeleteService, &['D'], "delete-service", NoValue, Commands,
         "  --delete-service  -D        ", "delete virtual service"),
    flag(Id::Clear, &['C'], "clear", NoValue, Commands,
         "  --clear           -C        ", "clear the whole table"),
    flag(Id::Restore, &['R'], "restore", NoValue, Commands,
         "  --restore         -R        ", "restore rules from stdin"),
    flag(Id::Save, &['S'], "save", NoValue, Commands,
         "  --save            -S        ", "save rules to stdout"),
    flag(Id::AddServer, &['a'], "add-server", NoValue, Commands,
         "  --add-server      -a        ", "add real server with options"),
    flag(Id::EditServer, &['e'], "edit-server", NoValue, Commands,
         "  --edit-server     -e        ", "edit real server with options"),
    flag(Id::DeleteServer, &['d'], "delete-server", NoValue, Commands,
         "  --delete-server   -d        ", "delete real server"),
    flag(Id::List, &['L', 'l'], "list", NoValue, Commands,
         "  --list            -L|-l     ", "list the table"),
    flag(Id::Zero, &['Z'], "zero", NoValue, Commands,
         "  --zero            -Z        ", "zero counters in a service or all services"),
    flag(Id::Set, &[], "set", NoValue, Commands,
         "  --set tcp tcpfin udp        ", "set connection timeout values"),
    flag(Id::StartDaemon, &[], "start-daemon", Required("state"), Commands,
         "  --start-daemon              ", "start connection sync daemon"),
    flag(Id::StopDaemon, &[], "stop-daemon", Required("state"), Commands,
         "  --stop-daemon               ", "stop connection sync daemon"),
    flag(Id::Help, &['h'], "help", NoValue, Commands,
         "  --help            -h        ", "display this help message"),
    flag(Id::Version, &['v'], "version", NoValue, Hidden, "", "display the version"),
    flag(Id::TcpService, &['t'], "tcp-service", Required("service-address"), VirtualService,
         "  --tcp-service|-t  service-address   ", "service-address is host[:port]"),
    flag(Id::UdpService, &['u'], "udp-service", Required("service-address"), VirtualService,
         "  --udp-service|-u  service-address   ", "service-address is host[:port]"),
    flag(Id::SctpService, &[], "sctp-service", Required("service-address"), VirtualService,
         "  --sctp-service    service-address   ", "service-address is host[:port]"),
    flag(Id::FwmarkService, &['f'], "fwmark-service", Required("fwmark"), VirtualService,
         "  --fwmark-service|-f fwmark          ", "fwmark is an integer greater than zero"),
    flag(Id::Ipv6, &['6'], "ipv6", NoValue, Options,
         "  --ipv6         -6                   ", "fwmark entry uses IPv6"),
    flag(Id::Scheduler, &['s'], "scheduler", Required("scheduler"), Options,
         "  --scheduler    -s scheduler         ",
         "one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,\nthe default scheduler is wlc."),
    flag(Id::Pe, &[], "pe", Required("engine"), Options,
         "  --pe            engine              ",
         "alternate persistence engine may be sip,\nnot set by default."),
    flag(Id::Persistent, &['p'], "persistent", Optional("timeout"), Options,
         "  --persistent   -p [timeout]         ", "persistent service"),
    flag(Id::Netmask, &['M'], "netmask", Required("netmask"), Options,
         "  --netmask      -M netmask           ", "persistent granularity mask"),
    flag(Id::RealServer, &['r'], "real-server", Required("server-address"), Options,
         "  --real-server  -r server-address    ", "server-address is host (and port)"),
    flag(Id::Gatewaying, &['g'], "gatewaying", NoValue, Options,
         "  --gatewaying   -g                   ", "gatewaying (direct routing) (default)"),
    flag(Id::Ipip, &['i'], "ipip", NoValue, Options,
         "  --ipip         -i                   ", "ipip encapsulation (tunneling)"),
    flag(Id::Masquerading, &['m'], "masquerading", NoValue, Options,
         "  --masquerading -m                   ", "masquerading (NAT)"),
    flag(Id::TunType, &[], "tun-type", Required("type"), Options,
         "  --tun-type      type                ",
         "one of ipip|gue|gre,\nthe default tunnel type is ipip."),
    flag(Id::TunPort, &[], "tun-port", Required("port"), Options,
         "  --tun-port      port                ", "tunnel destination port"),
    flag(Id::TunNocsum, &[], "tun-nocsum", NoValue, Options,
         "  --tun-nocsum                        ", "tunnel encapsulation without checksum"),
    flag(Id::TunCsum, &[], "tun-csum", NoValue, Options,
         "  --tun-csum                          ", "tunnel encapsulation with checksum"),
    flag(Id::TunRemcsum, &[], "tun-remcsum", NoValue, Options,
         "  --tun-remcsum                       ", "tunnel encapsulation with remote checksum"),
    flag(Id::Weight, &['w'], "weight", Required("weight"), Options,
         "  --weight       -w weight            ", "capacity of real server"),
    flag(Id::UThreshold, &['x'], "u-threshold", Required("uthreshold"), Options,
         "  --u-threshold  -x uthreshold        ", "upper threshold of connections"),
    flag(Id::LThreshold, &['y'], "l-threshold", Required("lthreshold"), Options,
         "  --l-threshold  -y lthreshold        ", "lower threshold of connections"),
    flag(Id::Connection, &['c'], "connection", NoValue, Options,
         "  --connection   -c                   ", "output of current IPVS connections"),
    flag(Id::Timeout, &[], "timeout", NoValue, Options,
         "  --timeout                           ", "output of timeout (tcp tcpfin udp)"),
    flag(Id::Daemon, &[], "daemon", NoValue, Options,
         "  --daemon                            ", "output of daemon information"),
    flag(Id::Stats, &[], "stats", NoValue, Options,
         "  --stats                             ", "output of statistics information"),
    flag(Id::Rate, &[], "rate", NoValue, Options,
         "  --rate                              ", "output of rate information"),
    flag(Id::Exact, &['X'], "exact", NoValue, Options,
         "  --exact                             ", "expand numbers (display exact values)"),
    flag(Id::Thresholds, &[], "thresholds", NoValue, Options,
         "  --thresholds                        ", "output of thresholds information"),
    flag(Id::PersistentConn, &[], "persistent-conn", NoValue, Options,
         "  --persistent-conn                   ", "output of persistent connection info"),
    flag(Id::TunInfo, &[], "tun-info", NoValue, Options,
         "  --tun-info                          ", "output of tunnel information"),
    flag(Id::Nosort, &[], "nosort", NoValue, Options,
         "  --nosort                            ",
         "disable sorting output of service/server entries"),
    flag(Id::Sort, &[], "sort", NoValue, Options,
         "  --sort                              ", "does nothing, for backwards compatibility"),
    flag(Id::Ops, &['o'], "ops", NoValue, Options,
         "  --ops          -o                   ", "one-packet scheduling"),
    flag(Id::Numeric, &['n'], "numeric", NoValue, Options,
         "  --numeric      -n                   ", "numeric output of addresses and ports"),
    flag(Id::SchedFlags, &['b'], "sched-flags", Required("flags"), Options,
         "  --sched-flags  -b flags             ", "scheduler flags (comma-separated)"),
    flag(Id::Syncid, &[], "syncid", Required("sid"), Daemon,
         "  --syncid sid                        ", "syncid for connection sync (default=255)"),
    flag(Id::SyncMaxlen, &[], "sync-maxlen", Required("length"), Daemon,
         "  --sync-maxlen length                ", "Max sync message length (default=1472)"),
    flag(Id::McastInterface, &[], "mcast-interface", Required("interface"), Daemon,
         "  --mcast-interface interface         ", "multicast interface for connection sync"),
    flag(Id::McastGroup, &[], "mcast-group", Required("address"), Daemon,
         "  --mcast-group address               ", "IPv4/IPv6 group (default=224.0.0.81)"),
    flag(Id::McastPort, &[], "mcast-port", Required("port"), Daemon,
         "  --mcast-port port                   ", "UDP port (default=8848)"),
    flag(Id::McastTtl, &[], "mcast-ttl", Required("ttl"), Daemon,
         "  --mcast-ttl ttl                     ", "Multicast TTL (default=1)"),
    flag(Id::Atomic, &[], "atomic", NoValue, Extension, "",
         "with -R: if the kernel refuses a line, undo the restore's changes"),
];

pub fn by_long(name: &str) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.long == name)
}

/// Short letters are looked up for every letter of every line of a restore file.
pub fn by_short(c: char) -> Option<&'static Flag> {
    static TABLE: std::sync::OnceLock<[Option<&'static Flag>; 128]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [None; 128];
        for f in FLAGS {
            for &c in f.short {
                t[c as usize] = Some(f);
            }
        }
        t
    });
    table.get(c as usize).copied().flatten()
}

/// What an ipvsadm command line asks for (its command option: -A, -E, -a, …), in the row
/// order of its option matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Add,
    Edit,
    Del,
    Flush,
    List,
    AddSrv,
    DelSrv,
    EditSrv,
    Timeout,
    StartD,
    StopD,
    Restore,
    Save,
    Zero,
}

impl Verb {
    /// The name ipvsadm's messages use.
    pub fn name(self) -> &'static str {
        match self {
            Verb::Add => "add-service",
            Verb::Edit => "edit-service",
            Verb::Del => "delete-service",
            Verb::Flush => "flush",
            Verb::List => "list",
            Verb::AddSrv => "add-server",
            Verb::DelSrv => "delete-server",
            Verb::EditSrv => "edit-server",
            Verb::Timeout => "set",
            Verb::StartD => "start-daemon",
            Verb::StopD => "stop-daemon",
            Verb::Restore => "restore",
            Verb::Save => "save",
            Verb::Zero => "zero",
        }
    }
}

/// ipvsadm's options as its matrix numbers them; the numbering decides which error wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Opt {
    Numeric,
    Connection,
    Service,
    Scheduler,
    Persistent,
    Netmask,
    Server,
    Forward,
    Weight,
    UThreshold,
    LThreshold,
    McastIfn,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    Nosort,
    Syncid,
    Exact,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
}

impl Opt {
    pub const COUNT: usize = 34;

    pub fn all() -> impl Iterator<Item = Opt> {
        (0..Self::COUNT).map(|i| Self::from_index(i).unwrap_or(Opt::Numeric))
    }

    fn from_index(i: usize) -> Option<Opt> {
        use Opt::*;
        #[rustfmt::skip]
        const ORDER: [Opt; Opt::COUNT] = [
            Numeric, Connection, Service, Scheduler, Persistent, Netmask, Server, Forward,
            Weight, UThreshold, LThreshold, McastIfn, Timeout, Daemon, Stats, Rate, Thresholds,
            PersistentConn, Nosort, Syncid, Exact, Ops, Pe, SchedFlags, McastGroup, McastPort,
            McastTtl, SyncMaxlen, TunInfo, TunType, TunPort, TunNocsum, TunCsum, TunRemcsum,
        ];
        ORDER.get(i).copied()
    }

    pub fn bit(self) -> u64 {
        1 << self as u32
    }

    /// The name ipvsadm's messages use.
    pub fn name(self) -> &'static str {
        use Opt::*;
        match self {
            Numeric => "numeric",
            Connection => "connection",
            Service => "service-address",
            Scheduler => "scheduler",
            Persistent => "persistent",
            Netmask => "netmask",
            Server => "real-server",
            Forward => "forwarding-method",
            Weight => "weight",
            UThreshold => "u-threshold",
            LThreshold => "l-threshold",
            McastIfn => "mcast-interface",
            Timeout => "timeout",
            Daemon => "daemon",
            Stats => "stats",
            Rate => "rate",
            Thresholds => "thresholds",
            PersistentConn => "persistent-conn",
            Nosort => "nosort",
            Syncid => "syncid",
            Exact => "exact",
            Ops => "ops",
            Pe => "pe",
            SchedFlags => "sched-flags",
            McastGroup => "mcast-group",
            McastPort => "mcast-port",
            McastTtl => "mcast-ttl",
            SyncMaxlen => "sync-maxlen",
            TunInfo => "tun-info",
            TunType => "tun-type",
            TunPort => "tun-port",
            TunNocsum => "tun-nocsum",
            TunCsum => "tun-csum",
            TunRemcsum => "tun-remcsum",
        }
    }
}

impl Id {
    pub fn command(self) -> Option<Verb> {
        Some(match self {
            Id::AddService => Verb::Add,
            Id::EditService => Verb::Edit,
            Id::DeleteService => Verb::Del,
            Id::Clear => Verb::Flush,
            Id::List => Verb::List,
            Id::AddServer => Verb::AddSrv,
            Id::DeleteServer => Verb::DelSrv,
            Id::EditServer => Verb::EditSrv,
            Id::Set => Verb::Timeout,
            Id::StartDaemon => Verb::StartD,
            Id::StopDaemon => Verb::StopD,
            Id::Restore => Verb::Restore,
            Id::Save => Verb::Save,
            Id::Zero => Verb::Zero,
            _ => return None,
        })
    }

    /// The matrix option this flag sets; `None` for commands, `-6` and `--sort`.
    pub fn option(self) -> Option<Opt> {
        Some(match self {
            Id::Numeric => Opt::Numeric,
            Id::Connection => Opt::Connection,
            Id::TcpService | Id::UdpService | Id::SctpService | Id::FwmarkService => Opt::Service,
            Id::Scheduler => Opt::Scheduler,
            Id::Persistent => Opt::Persistent,
            Id::Netmask => Opt::Netmask,
            Id::RealServer => Opt::Server,
            Id::Gatewaying | Id::Ipip | Id::Masquerading => Opt::Forward,
            Id::Weight => Opt::Weight,
            Id::UThreshold => Opt::UThreshold,
            Id::LThreshold => Opt::LThreshold,
            Id::McastInterface => Opt::McastIfn,
            Id::Timeout => Opt::Timeout,
            Id::Daemon => Opt::Daemon,
            Id::Stats => Opt::Stats,
            Id::Rate => Opt::Rate,
            Id::Thresholds => Opt::Thresholds,
            Id::PersistentConn => Opt::PersistentConn,
            Id::Nosort => Opt::Nosort,
            Id::Syncid => Opt::Syncid,
            Id::Exact => Opt::Exact,
            Id::Ops => Opt::Ops,
            Id::Pe => Opt::Pe,
            Id::SchedFlags => Opt::SchedFlags,
            Id::McastGroup => Opt::McastGroup,
            Id::McastPort => Opt::McastPort,
            Id::McastTtl => Opt::McastTtl,
            Id::SyncMaxlen => Opt::SyncMaxlen,
            Id::TunInfo => Opt::TunInfo,
            Id::TunType => Opt::TunType,
            Id::TunPort => Opt::TunPort,
            Id::TunNocsum => Opt::TunNocsum,
            Id::TunCsum => Opt::TunCsum,
            Id::TunRemcsum => Opt::TunRemcsum,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_is_defined_once() {
        for (i, f) in FLAGS.iter().enumerate() {
            for g in &FLAGS[i + 1..] {
                assert_ne!(f.long, g.long);
                assert_ne!(f.id, g.id);
                for c in f.short {
                    assert!(!g.short.contains(c), "-{c} twice");
                }
            }
        }
    }

    #[test]
    fn matrix_options_are_numbered_in_order() {
        for (i, o) in Opt::all().enumerate() {
            assert_eq!(o as usize, i);
        }
    }
}
