//! ipvsadm's command line turned into a validated [`Command`]: per-option checks in argument
//! order, then the post-parse checks in ipvsadm's order, so that the same error wins.

use std::net::{IpAddr, Ipv4Addr};

use ipvs::names;
use ipvs::{
    Daemon, DaemonState, Destination, Family, ForwardMethod, Protocol, Service, ServiceFlags,
    Request, ServiceKey, Timeouts, TunnelFlags, TunnelType,
};

use super::popt::Popt;
use super::failure::Failure;
use crate::flags::{Verb, Id, Opt};
use crate::resolve;

/// `IPVS_SVC_PERSISTENT_TIMEOUT`.
const DEFAULT_PERSISTENCE: u32 = 360;
/// The longest timeout ipvsadm accepts: 31 days.
const MAX_TIMEOUT: i64 = 31 * 24 * 60 * 60;

/// Listing format bits (ipvsadm's `FMT_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Format {
    pub numeric: bool,
    pub stats: bool,
    pub rate: bool,
    pub thresholds: bool,
    pub persistent_conn: bool,
    pub nosort: bool,
    pub exact: bool,
    pub tun_info: bool,
    /// `-S`: lines that restore the table.
    pub rule: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listing {
    Table,
    Service(ServiceKey),
    Connections,
    Timeouts,
    Daemons,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Help,
    Version,
    AddService(Service),
    EditService(Service),
    DeleteService(ServiceKey),
    Flush,
    List(Listing, Format),
    AddDest(ServiceKey, Destination),
    EditDest(ServiceKey, Destination),
    DeleteDest(ServiceKey, Destination),
    SetTimeouts(Timeouts),
    StartDaemon(Daemon),
    StopDaemon(DaemonState, u32),
    /// `--atomic`: undo everything when the kernel refuses a line.
    Restore {
        atomic: bool,
    },
    Save(Format),
    Zero(Option<ServiceKey>),
}

/// ipvsadm's `struct ipvs_command_entry`: what the options have set so far.
struct CommandEntry {
    cmd: Verb,
    options: u64,
    format: Format,
    af: Family,
    protocol: Protocol,
    addr: IpAddr,
    port: u16,
    fwmark: u32,
    sched: String,
    flags: u32,
    timeout: u32,
    netmask: u32,
    pe: Option<String>,
    sched_flags: Option<String>,
    dest_af: Family,
    dest_addr: IpAddr,
    dest_port: u16,
    forward: ForwardMethod,
    weight: u32,
    u_threshold: u32,
    l_threshold: u32,
    tun_type: TunnelType,
    tun_port: u16,
    tun_flags: u16,
    daemon_state: DaemonState,
    mcast_ifn: String,
    syncid: u32,
    sync_maxlen: u16,
    mcast_group: Option<IpAddr>,
    mcast_port: u16,
    mcast_ttl: u8,
    timeouts: Timeouts,
    atomic: bool,
}

fn fail(msg: impl Into<String>) -> Failure {
    Failure::new(2, msg)
}

/// `strtol(s, &end, 10)` accepted only when it consumed the whole non-empty string, then
/// checked against `min..=max`.
pub fn string_to_number(s: &str, min: i64, max: i64) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: i64 = 0;
    for b in digits.bytes() {
        n = n.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    let n = if neg { -n } else { n };
    (min..=max).contains(&n).then_some(n)
}

/// Parses one command line (without the program name). `restoring` is set for the lines of
/// `-R`, where a nested `-R` is refused.
pub fn parse<S: AsRef<str>>(
    prog: &str,
    args: &[S],
    restoring: bool,
    posix: bool,
) -> Result<Command, Failure> {
    let try_help = || {
        Failure::new(
            255,
            format!("Try `{prog} -h' or '{prog} --help' for more information."),
        )
    };
    let mut popt = Popt::new(args, posix);
    let first = match popt.next_item() {
        Ok(Some(item)) => item,
        Ok(None) | Err(_) => return Err(try_help()),
    };
    let cmd = match first.flag.id {
        Id::Help => return Ok(Command::Help),
        Id::Version => return Ok(Command::Version),
        Id::Restore if restoring => return Err(try_help()),
        id => id.command().ok_or_else(try_help)?,
    };
    let mut e = CommandEntry::new(cmd);
    match (first.flag.id, first.arg) {
        (Id::StartDaemon, Some(state)) => {
            e.daemon_state = daemon_state(state)
                .ok_or_else(|| fail("illegal start-daemon parameter specified"))?;
        }
        (Id::StopDaemon, Some(state)) => {
            e.daemon_state =
                daemon_state(state).ok_or_else(|| fail("illegal start_daemon specified"))?;
        }
        _ => {}
    }

    loop {
        let item = match popt.next_item() {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(err) => return Err(Failure::new(255, err.to_string())),
        };
        if item.flag.id.command().is_some() || matches!(item.flag.id, Id::Help | Id::Version) {
            return Err(fail(format!("invalid option `{}'", popt.last_word())));
        }
        e.apply(item.flag.id, item.arg)?;
    }

    let mut leftovers = popt.into_leftovers().into_iter();
    if cmd == Verb::Timeout {
        let mut t = [0u32; 3];
        for slot in &mut t {
            let v = leftovers
                .next()
                .ok_or_else(|| fail("--set option requires 3 timeout values"))?;
            *slot = parse_timeout(v, 0)?;
        }
        e.timeouts = Timeouts {
            tcp: t[0],
            tcp_fin: t[1],
            udp: t[2],
        };
    }
    if let Some(extra) = leftovers.next() {
        return Err(fail(format!("unexpected argument {extra}")));
    }
    if let Some(list) = e.sched_flags.take() {
        e.flags |= sched_flags(&e.sched, &list)?;
    }
    check_matrix(cmd, e.options)?;
    if e.atomic && cmd != Verb::Restore {
        return Err(fail(format!(
            "Illegal 'atomic' option with the '{}' command",
            cmd.name()
        )));
    }
    e.finish()
}

fn daemon_state(s: &str) -> Option<DaemonState> {
    match s {
        "master" => Some(DaemonState::Master),
        "backup" => Some(DaemonState::Backup),
        _ => None,
    }
}

fn parse_timeout(s: &str, min: i64) -> Result<u32, Failure> {
    string_to_number(s, min, MAX_TIMEOUT)
        .map(|n| n as u32)
        .ok_or_else(|| fail(format!("invalid timeout value `{s}' specified")))
}

fn number(s: Option<&str>, min: i64, max: i64, msg: &str) -> Result<i64, Failure> {
    s.and_then(|s| string_to_number(s, min, max))
        .ok_or_else(|| fail(msg))
}

fn truncated(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// Which parts of an address argument were present.
struct AddressParts {
    port: bool,
}

/// ipvsadm's `parse_service`: `[v6]:port`, a bare IPv6 literal (no port), or
/// `host[:port]` split at the last colon with the host resolved as IPv4. Ports may be service
/// names of `protocol`.
fn parse_address(buf: &str, protocol: Protocol) -> Option<(IpAddr, Option<u16>, AddressParts)> {
    if buf.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (host, port) = if let Some(inner) = buf.strip_prefix('[') {
        let (inside, after) = inner.split_once(']')?;
        let port = after.strip_prefix(':')?;
        if let Some(a) = resolve::parse_ipv6(inside) {
            return Some((
                IpAddr::V6(a),
                Some(port_of(port, protocol)?),
                AddressParts { port: true },
            ));
        }
        // ipvsadm then treats the text inside the brackets as `host[:port]`.
        match inside.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (inside, None),
        }
    } else if let Some(a) = resolve::parse_ipv6(buf) {
        return Some((IpAddr::V6(a), None, AddressParts { port: false }));
    } else {
        match buf.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (buf, None),
        }
    };
    let addr = resolve::parse_ipv4(host).or_else(|| resolve::host_to_ipv4(host))?;
    let port = match port {
        Some(p) => Some(port_of(p, protocol)?),
        None => None,
    };
    let parsed = AddressParts {
        port: port.is_some(),
    };
    Some((IpAddr::V4(addr), port, parsed))
}

fn port_of(s: &str, protocol: Protocol) -> Option<u16> {
    string_to_number(s, 0, 65535)
        .map(|n| n as u16)
        .or_else(|| resolve::service_port(s, protocol))
}

fn sched_flags(sched: &str, list: &str) -> Result<u32, Failure> {
    if list.is_empty() {
        return Ok(0);
    }
    let sched = if sched.is_empty() {
        names::DEFAULT_SCHEDULER
    } else {
        sched
    };
    let mut flags = 0;
    let mut any = false;
    for flag in list.split(',').filter(|f| !f.is_empty()) {
        any = true;
        let Some((bit, needs)) = names::sched_flag_named(flag) else {
            return Err(fail(format!("invalid scheduler flag `{flag}'")));
        };
        if needs.is_some_and(|n| n != sched) {
            return Err(fail(format!("incompatible scheduler flag `{flag}'")));
        }
        flags |= bit;
    }
    if !any {
        // ipvsadm crashes here (strtok finds no flag at all).
        return Err(fail(format!("invalid scheduler flag `{list}'")));
    }
    Ok(flags)
}

/// ipvsadm's `commands_v_options`: a row per command, a column per option (see
/// [`check_row`]).
#[rustfmt::skip]
const MATRIX: [&[u8; 34]; 14] = [
    //  n  c  svc s  p  M  r  fwd w  x  y  mc tot dmn st rt thr pc srt sid ex ops pe b grp prt ttl sz tinf type tprt nocs csum remc
    b"xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx", // ADD
    b"xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx", // EDIT
    b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // DEL
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // FLUSH
    b".11xxxxxxxxx11.......xxxxxxx.xxxxx", // LIST
    b"xx+xxx+....xxxxxxxxxxxxxxxxxx.....", // ADDSRV
    b"xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx", // DELSRV
    b"xx+xxx+....xxxxxxxxxxxxxxxxxx.....", // EDITSRV
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // TIMEOUT
    b"xxxxxxxxxxx.xxxxxxx.xxxx....xxxxxx", // STARTD
    b"xxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxx", // STOPD
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // RESTORE
    b".xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // SAVE
    b"xx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // ZERO
];

/// A row of [`MATRIX`] as bit masks of options: compulsory, illegal, mutually exclusive.
const fn row_masks(row: &[u8; 34]) -> [u64; 3] {
    let mut masks = [0u64; 3];
    let mut i = 0;
    while i < row.len() {
        match row[i] {
            b'+' => masks[0] |= 1 << i,
            b'x' => masks[1] |= 1 << i,
            b'1' => masks[2] |= 1 << i,
            _ => {}
        }
        i += 1;
    }
    masks
}

const MATRIX_MASKS: [[u64; 3]; 14] = {
    let mut masks = [[0; 3]; 14];
    let mut i = 0;
    while i < MATRIX.len() {
        masks[i] = row_masks(MATRIX[i]);
        i += 1;
    }
    masks
};

/// ipvsadm's `generic_opt_check`: options in number order, first problem wins. The masks
/// settle the usual case, a line that passes, without walking the row.
fn check_matrix(cmd: Verb, options: u64) -> Result<(), Failure> {
    let [compulsory, illegal, exclusive] = MATRIX_MASKS[cmd as usize];
    if options & compulsory == compulsory
        && options & illegal == 0
        && (options & exclusive).count_ones() <= 1
    {
        return Ok(());
    }
    let row = MATRIX[cmd as usize];
    let cells = Opt::all().map(|opt| (opt, row[opt as usize]));
    check_row(cells, options, || format!("'{}' command", cmd.name()))
}

/// The tunnel-type table of ipvsadm's `tunnel_opt_check`, columns tun-port, tun-nocsum,
/// tun-csum, tun-remcsum.
fn check_tunnel(tun_type: TunnelType, options: u64) -> Result<(), Failure> {
    let row: &[u8; 4] = match tun_type {
        TunnelType::Gue => b"+111",
        TunnelType::Gre => b"x11x",
        _ => b"xxxx",
    };
    let name = tun_type.name().unwrap_or("ipip");
    let cols = [Opt::TunPort, Opt::TunNocsum, Opt::TunCsum, Opt::TunRemcsum];
    let cells = cols.into_iter().zip(row.iter().copied());
    check_row(cells, options, || format!("'{name}' tunnel type"))
}

/// Checks the given options against one row of a table: compulsory (`+`), illegal (`x`),
/// optional (`.`) or mutually exclusive (`1`). `subject` makes the end of ipvsadm's messages
/// (only for a failure: this runs for every line of a restore).
fn check_row(
    cells: impl Iterator<Item = (Opt, u8)>,
    options: u64,
    subject: impl Fn() -> String,
) -> Result<(), Failure> {
    let mut exclusive: Option<Opt> = None;
    for (opt, cell) in cells {
        let given = options & opt.bit() != 0;
        let name = opt.name();
        match cell {
            b'+' if !given => {
                return Err(fail(format!(
                    "You need to supply the '{name}' option for the {}",
                    subject()
                )))
            }
            b'x' if given => {
                return Err(fail(format!(
                    "Illegal '{name}' option with the {}",
                    subject()
                )))
            }
            b'1' if given => match exclusive {
                Some(earlier) => {
                    return Err(fail(format!(
                        "The option '{name}' conflicts with the '{}' option in the {}",
                        earlier.name(),
                        subject()
                    )))
                }
                None => exclusive = Some(opt),
            },
            _ => {}
        }
    }
    Ok(())
}

impl CommandEntry {
    fn new(cmd: Verb) -> CommandEntry {
        let any4 = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        CommandEntry {
            cmd,
            options: 0,
            format: Format::default(),
            af: Family::V4,
            protocol: Protocol::Other(0),
            addr: any4,
            port: 0,
            fwmark: 0,
            sched: String::new(),
            flags: 0,
            timeout: 0,
            netmask: u32::MAX,
            pe: None,
            sched_flags: None,
            dest_af: Family::V4,
            dest_addr: any4,
            dest_port: 0,
            forward: ForwardMethod::DirectRoute,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            tun_type: TunnelType::Ipip,
            tun_port: 0,
            tun_flags: 0,
            daemon_state: DaemonState::Master,
            mcast_ifn: String::new(),
            syncid: 0,
            sync_maxlen: 0,
            mcast_group: None,
            mcast_port: 0,
            mcast_ttl: 0,
            timeouts: Timeouts::default(),
            atomic: false,
        }
    }

    fn set_option(&mut self, opt: Opt) -> Result<(), Failure> {
        if self.options & opt.bit() != 0 {
            return Err(fail(format!("multiple '{}' options specified", opt.name())));
        }
        self.options |= opt.bit();
        Ok(())
    }

    /// One option, checked as ipvsadm's `parse_options` does when it meets it.
    fn apply(&mut self, id: Id, arg: Option<&str>) -> Result<(), Failure> {
        if let Some(opt) = id.option() {
            self.set_option(opt)?;
        }
        let v = arg.unwrap_or("");
        match id {
            Id::TcpService | Id::UdpService | Id::SctpService => {
                self.protocol = match id {
                    Id::TcpService => Protocol::Tcp,
                    Id::UdpService => Protocol::Udp,
                    _ => Protocol::Sctp,
                };
                let (addr, port, _) = parse_address(v, self.protocol)
                    .ok_or_else(|| fail("illegal virtual server address[:port] specified"))?;
                self.set_service_addr(addr);
                if let Some(port) = port {
                    self.port = port;
                }
            }
            Id::FwmarkService => {
                self.fwmark = string_to_number(v, 1, u32::MAX.into())
                    .ok_or_else(|| fail(format!("invalid fwmark value `{v}' specified")))?
                    as u32;
                self.af = Family::V4;
                self.protocol = Protocol::Tcp;
            }
            Id::Ipv6 => {
                if self.fwmark == 0 {
                    return Err(fail("-6 used before -f\n"));
                }
                self.af = Family::V6;
                self.netmask = 128;
            }
            Id::Scheduler => self.sched = truncated(v, names::NAME_MAX),
            Id::Persistent => {
                self.flags |= ServiceFlags::PERSISTENT;
                self.timeout = match arg {
                    Some(s) => parse_timeout(s, 1)?,
                    None => DEFAULT_PERSISTENCE,
                };
            }
            Id::Netmask => {
                self.netmask = if self.af == Family::V6 {
                    let n = atoi(v);
                    if !(1..=128).contains(&n) {
                        return Err(fail("illegal ipv6 netmask specified"));
                    }
                    n as u32
                } else {
                    let mask = resolve::parse_ipv4(v)
                        .or_else(|| resolve::host_to_ipv4(v))
                        .ok_or_else(|| fail("illegal virtual server persistent mask specified"))?;
                    u32::from(mask)
                };
            }
            Id::RealServer => {
                let (addr, port, parsed) = parse_address(v, self.protocol)
                    .ok_or_else(|| fail("illegal real server address[:port] specified"))?;
                self.dest_af = Family::of(&addr);
                self.dest_addr = addr;
                self.dest_port = if parsed.port {
                    port.unwrap_or(0)
                } else {
                    self.port
                };
            }
            Id::Gatewaying => self.forward = ForwardMethod::DirectRoute,
            Id::Ipip => self.forward = ForwardMethod::Tunnel,
            Id::Masquerading => self.forward = ForwardMethod::Masquerade,
            Id::Weight => {
                self.weight = number(arg, 0, i32::MAX.into(), "illegal weight specified")? as u32
            }
            Id::UThreshold => {
                self.u_threshold =
                    number(arg, 0, i32::MAX.into(), "illegal u_threshold specified")? as u32
            }
            Id::LThreshold => {
                self.l_threshold =
                    number(arg, 0, i32::MAX.into(), "illegal l_threshold specified")? as u32
            }
            Id::McastInterface => self.mcast_ifn = truncated(v, names::NAME_MAX),
            Id::Syncid => self.syncid = number(arg, 0, 255, "illegal syncid specified")? as u32,
            Id::Numeric => self.format.numeric = true,
            Id::Stats => self.format.stats = true,
            Id::Rate => self.format.rate = true,
            Id::Thresholds => self.format.thresholds = true,
            Id::PersistentConn => self.format.persistent_conn = true,
            Id::Nosort => self.format.nosort = true,
            Id::Exact => self.format.exact = true,
            Id::TunInfo => self.format.tun_info = true,
            Id::Ops => self.flags |= ServiceFlags::ONEPACKET,
            Id::Pe => self.pe = Some(truncated(v, names::NAME_MAX)),
            Id::SchedFlags => self.sched_flags = Some(v.to_string()),
            Id::McastGroup => self.mcast_group = Some(mcast_group(v)?),
            Id::McastPort => {
                self.mcast_port = number(arg, 1, 65535, "illegal mcast-port specified")? as u16
            }
            Id::McastTtl => {
                self.mcast_ttl = number(arg, 1, 255, "illegal mcast-ttl specified")? as u8
            }
            Id::SyncMaxlen => {
                self.sync_maxlen =
                    number(arg, 1, 65535 - 20 - 8, "illegal sync-maxlen specified")? as u16
            }
            Id::TunType => {
                self.tun_type = TunnelType::named(v)
                    .ok_or_else(|| fail("illegal tunnel type specified"))?
            }
            Id::TunPort => {
                self.tun_port = number(arg, 1, 65535, "illegal tunnel port specified")? as u16
            }
            Id::TunNocsum => self.tun_flags |= TunnelFlags::NOCSUM,
            Id::TunCsum => self.tun_flags |= TunnelFlags::CSUM,
            Id::TunRemcsum => self.tun_flags |= TunnelFlags::REMCSUM,
            Id::Atomic => {
                if self.atomic {
                    return Err(fail("multiple 'atomic' options specified"));
                }
                self.atomic = true;
            }
            // Connection, timeout and daemon listings only set their option bit.
            _ => {}
        }
        Ok(())
    }

    fn set_service_addr(&mut self, addr: IpAddr) {
        self.af = Family::of(&addr);
        if self.af == Family::V6 {
            self.netmask = 128;
        }
        self.addr = addr;
    }

    fn has(&self, opt: Opt) -> bool {
        self.options & opt.bit() != 0
    }

    fn key(&self) -> ServiceKey {
        if self.fwmark != 0 {
            ServiceKey::Fwmark {
                family: self.af,
                mark: self.fwmark,
            }
        } else {
            ServiceKey::Addr {
                protocol: self.protocol,
                addr: self.addr,
                port: self.port,
            }
        }
    }

    fn service(&self) -> Service {
        Service {
            key: self.key(),
            scheduler: self.sched.clone(),
            flags: ServiceFlags(self.flags),
            timeout: self.timeout,
            netmask: self.netmask,
            pe_name: self.pe.clone(),
            stats: Default::default(),
        }
    }

    fn destination(&self) -> Destination {
        let mut d = Destination::new(self.dest_addr, self.dest_port);
        d.forward = self.forward;
        d.weight = self.weight;
        d.upper_threshold = self.u_threshold;
        d.lower_threshold = self.l_threshold;
        d.tunnel_type = self.tun_type;
        d.tunnel_port = self.tun_port;
        d.tunnel_flags = TunnelFlags(self.tun_flags);
        d
    }

    /// ipvsadm's checks after the matrix, then the command itself.
    fn finish(mut self) -> Result<Command, Failure> {
        match self.cmd {
            Verb::Add | Verb::Edit => {
                if self.fwmark == 0 && self.port == 0 && self.flags & ServiceFlags::PERSISTENT == 0
                {
                    return Err(fail("Zero port specified for non-persistent service"));
                }
                if self.flags & ServiceFlags::ONEPACKET != 0
                    && self.fwmark == 0
                    && self.protocol != Protocol::Udp
                {
                    return Err(fail(
                        "One-Packet Scheduling is only for UDP virtual services",
                    ));
                }
                if self.sched.is_empty() {
                    self.sched = names::DEFAULT_SCHEDULER.to_string();
                }
            }
            Verb::StartD if self.mcast_ifn.is_empty() => self.mcast_ifn = "eth0".to_string(),
            Verb::AddSrv | Verb::EditSrv => {
                if self.fwmark == 0
                    && matches!(
                        self.forward,
                        ForwardMethod::Tunnel | ForwardMethod::DirectRoute
                    )
                {
                    self.dest_port = self.port;
                }
                if self.dest_af != self.af && self.forward != ForwardMethod::Tunnel {
                    return Err(fail(
                        "Different address family is allowed only for tunneling servers",
                    ));
                }
                let tunnel_opts = [
                    Opt::TunType,
                    Opt::TunPort,
                    Opt::TunNocsum,
                    Opt::TunCsum,
                    Opt::TunRemcsum,
                ];
                if tunnel_opts.iter().any(|&o| self.has(o)) && self.forward != ForwardMethod::Tunnel
                {
                    return Err(fail("Tunnel options conflict with forward method"));
                }
                check_tunnel(self.tun_type, self.options)?;
            }
            Verb::List => {
                let special =
                    self.has(Opt::Connection) || self.has(Opt::Timeout) || self.has(Opt::Daemon);
                let counters =
                    self.has(Opt::Stats) || self.has(Opt::Rate) || self.has(Opt::Thresholds);
                let config = self.has(Opt::Timeout) || self.has(Opt::Daemon);
                if (special && counters) || (config && self.has(Opt::PersistentConn)) {
                    return Err(fail("options conflicts in the list command"));
                }
            }
            _ => {}
        }
        Ok(match self.cmd {
            Verb::Add => Command::AddService(self.service()),
            Verb::Edit => Command::EditService(self.service()),
            Verb::Del => Command::DeleteService(self.key()),
            Verb::Flush => Command::Flush,
            Verb::List => {
                let listing = if self.has(Opt::Connection) {
                    Listing::Connections
                } else if self.has(Opt::Service) {
                    Listing::Service(self.key())
                } else if self.has(Opt::Timeout) {
                    Listing::Timeouts
                } else if self.has(Opt::Daemon) {
                    Listing::Daemons
                } else {
                    Listing::Table
                };
                Command::List(listing, self.format)
            }
            Verb::AddSrv => Command::AddDest(self.key(), self.destination()),
            Verb::EditSrv => Command::EditDest(self.key(), self.destination()),
            Verb::DelSrv => Command::DeleteDest(self.key(), self.destination()),
            Verb::Timeout => Command::SetTimeouts(self.timeouts),
            Verb::StartD => Command::StartDaemon(Daemon {
                state: self.daemon_state,
                mcast_ifn: self.mcast_ifn.clone(),
                syncid: self.syncid,
                sync_maxlen: self.sync_maxlen,
                mcast_group: self.mcast_group,
                mcast_port: self.mcast_port,
                mcast_ttl: self.mcast_ttl,
            }),
            Verb::StopD => Command::StopDaemon(self.daemon_state, self.syncid),
            Verb::Restore => Command::Restore {
                atomic: self.atomic,
            },
            Verb::Save => Command::Save(Format {
                rule: true,
                ..self.format
            }),
            Verb::Zero => {
                let everything = self.fwmark == 0 && self.addr.is_unspecified() && self.port == 0;
                Command::Zero((!everything).then(|| self.key()))
            }
        })
    }
}

/// C's `atoi`: leading blanks, a sign, then as many digits as there are.
fn atoi(s: &str) -> i64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, b| {
            n.saturating_mul(10).saturating_add(i64::from(b - b'0'))
        });
    if neg {
        -n
    } else {
        n
    }
}

fn mcast_group(s: &str) -> Result<IpAddr, Failure> {
    if s.contains(':') {
        match resolve::parse_ipv6(s) {
            Some(a) if a.is_multicast() => Ok(IpAddr::V6(a)),
            _ => Err(fail(format!("invalid IPv6 mcast-group `{s}'"))),
        }
    } else {
        match resolve::parse_ipv4(s) {
            Some(a) if a.is_multicast() => Ok(IpAddr::V4(a)),
            _ => Err(fail(format!("invalid IPv4 mcast-group `{s}'"))),
        }
    }
}

/// The change a command makes, or the command back when it only reads.
#[allow(clippy::result_large_err)] // the command is handed back, not an error
pub fn into_request(cmd: Command) -> Result<Request, Command> {
    Ok(match cmd {
        Command::AddService(s) => Request::AddService(s),
        Command::EditService(s) => Request::EditService(s),
        Command::DeleteService(k) => Request::DeleteService(k),
        Command::Flush => Request::Flush,
        Command::AddDest(k, d) => Request::AddDest(k, d),
        Command::EditDest(k, d) => Request::EditDest(k, d),
        Command::DeleteDest(k, d) => Request::DeleteDest(k, d.addr, d.port),
        Command::SetTimeouts(t) => Request::SetTimeouts(t),
        Command::StartDaemon(d) => Request::StartDaemon(d),
        Command::StopDaemon(state, syncid) => Request::StopDaemon(state, syncid),
        Command::Zero(k) => Request::Zero(k),
        cmd => return Err(cmd),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str) -> Result<Command, (i32, String)> {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        parse("ipvsadm", &args, false, false).map_err(|f| (f.status, f.message))
    }

    fn err(line: &str) -> String {
        run(line).expect_err(line).1
    }

    #[test]
    fn matrix_rows_have_34_cells() {
        for row in MATRIX {
            assert_eq!(row.len(), Opt::COUNT);
        }
    }

    #[test]
    fn first_option_must_be_a_command() {
        assert_eq!(
            run("-nL"),
            Err((
                255,
                "Try `ipvsadm -h' or 'ipvsadm --help' for more information.".into()
            ))
        );
        assert_eq!(err("-L -h"), "invalid option `-h'");
        assert_eq!(err("-LA"), "invalid option `-LA'");
        assert_eq!(err("-L --start-daemon master"), "invalid option `master'");
    }

    #[test]
    fn matrix_messages() {
        assert_eq!(
            err("-a -n"),
            "Illegal 'numeric' option with the 'add-server' command"
        );
        assert_eq!(
            err("-a -t 1.2.3.4:80"),
            "You need to supply the 'real-server' option for the 'add-server' command"
        );
        assert_eq!(
            err("-L -c --timeout"),
            "The option 'timeout' conflicts with the 'connection' option in the 'list' command"
        );
        assert_eq!(
            err("-C -t 1.2.3.4:80"),
            "Illegal 'service-address' option with the 'flush' command"
        );
    }

    #[test]
    fn defaults_and_forced_ports() {
        let Ok(Command::AddService(s)) = run("-A -t 10.0.0.1:80 -p") else {
            panic!()
        };
        assert_eq!((s.scheduler.as_str(), s.timeout), ("wlc", 360));
        let Ok(Command::AddDest(_, d)) = run("-a -t 10.0.0.1:80 -r 192.168.1.1:8080") else {
            panic!()
        };
        assert_eq!(d.port, 80);
        let Ok(Command::AddDest(_, d)) = run("-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m") else {
            panic!()
        };
        assert_eq!(d.port, 8080);
        let Ok(Command::AddDest(_, d)) = run("-a -r 192.168.1.1 -t 10.0.0.1:80 -m") else {
            panic!()
        };
        assert_eq!(d.port, 0);
    }

    #[test]
    fn sched_flags_errors_instead_of_crashing() {
        assert_eq!(err("-A -t 1.2.3.4:80 -b ,"), "invalid scheduler flag `,'");
        assert_eq!(
            err("-A -t 1.2.3.4:80 -b sh-port"),
            "incompatible scheduler flag `sh-port'"
        );
        assert!(run("-A -t 1.2.3.4:80 -b flag-2,").is_ok());
    }

    #[test]
    fn numbers_parse_like_strtol() {
        assert_eq!(string_to_number(" 5", 0, 10), Some(5));
        assert_eq!(string_to_number("+5", 0, 10), Some(5));
        assert_eq!(string_to_number("5 ", 0, 10), None);
        assert_eq!(string_to_number("", 0, 10), None);
        assert_eq!(string_to_number("99999999999999999999", 0, 10), None);
    }
}
