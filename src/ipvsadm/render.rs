//! ipvsadm's listing and save formats, byte for byte: titles, service and destination lines,
//! name resolution and its truncation widths, number abbreviation, and the sort order.

use std::io::{self, Write};
use std::net::IpAddr;

use ipvs::{
    Daemon, DaemonState, Destination, Family, ForwardMethod, Info, Protocol, Request, Service,
    ServiceFlags, ServiceKey, Stats, Timeouts, TunnelType,
};

use super::parse::Format;
use crate::resolve;

/// ipvsadm formats names into a 60-byte buffer.
const NAME_BUF: usize = 59;

fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// `addrport_to_anyname`: `addr:port`, with the host and service names unless numeric. Ports
/// are named by the service's protocol; fwmark services have none, so theirs stay numbers.
pub fn addrport(addr: &IpAddr, port: u16, protocol: Protocol, numeric: bool) -> String {
    let (open, close) = match addr {
        IpAddr::V4(_) => ("", ""),
        IpAddr::V6(_) => ("[", "]"),
    };
    let s = if numeric {
        format!("{open}{}{close}:{port}", resolve::ntop(addr))
    } else {
        let host = resolve::host_name(addr).unwrap_or_else(|| resolve::ntop(addr));
        let serv = resolve::port_name(port, protocol).unwrap_or_else(|| port.to_string());
        format!("{open}{host}{close}:{serv}")
    };
    cut(s, NAME_BUF)
}

fn protocol_of(svc: &Service) -> Protocol {
    match svc.key {
        ServiceKey::Addr { protocol, .. } => protocol,
        ServiceKey::Fwmark { .. } => Protocol::Other(0),
    }
}

/// How the service is named at the start of its line.
pub fn service_name(svc: &Service, format: &Format) -> String {
    match &svc.key {
        ServiceKey::Fwmark { family, mark } => {
            let v6 = *family == Family::V6;
            match (format.rule, v6) {
                (true, false) => format!("-f {mark}"),
                (true, true) => format!("-f {mark} -6"),
                (false, false) => format!("FWM  {mark}"),
                (false, true) => format!("FWM  {mark} IPv6"),
            }
        }
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => {
            let name = addrport(addr, *port, *protocol, format.numeric);
            if format.rule {
                let switch = match protocol {
                    Protocol::Tcp => "-t",
                    Protocol::Udp => "-u",
                    Protocol::Sctp => "--sctp-service",
                    Protocol::Other(_) => "--xxx-service",
                };
                format!("{switch} {name}")
            } else {
                let proto = match protocol {
                    Protocol::Tcp => "TCP",
                    Protocol::Udp => "UDP",
                    Protocol::Sctp => "SCTP",
                    Protocol::Other(_) => "?",
                };
                let line = format!("{proto:<4} {name}");
                if addr.is_ipv6() {
                    line
                } else {
                    cut(line, 33)
                }
            }
        }
    }
}

/// `print_largenum`: nine columns, abbreviated with K/M/G/T unless exact.
pub fn largenum(out: &mut impl Write, n: u64, exact: bool) -> io::Result<()> {
    if exact {
        let len = n.to_string().len();
        let width = if len <= 8 { 9 } else { len + 1 };
        return write!(out, "{n:>width$}");
    }
    match n {
        n if n < 100_000_000 => write!(out, "{n:>9}"),
        n if n < 1_000_000_000 => write!(out, "{:>8}K", n / 1_000),
        n if n < 100_000_000_000 => write!(out, "{:>8}M", n / 1_000_000),
        n if n < 100_000_000_000_000 => write!(out, "{:>8}G", n / 1_000_000_000),
        n => write!(out, "{:>8}T", n / 1_000_000_000_000),
    }
}

pub fn header(out: &mut impl Write, info: &Info) -> io::Result<()> {
    let (a, b, c) = info.version_triple();
    writeln!(
        out,
        "IP Virtual Server version {a}.{b}.{c} (size={})",
        info.conn_tab_size as i32
    )
}

pub fn title(out: &mut impl Write, f: &Format) -> io::Result<()> {
    let local = "Prot LocalAddress:Port";
    let remote = "  -> RemoteAddress:Port";
    if f.rule {
        Ok(())
    } else if f.stats {
        writeln!(
            out,
            "{local:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n{remote}",
            "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"
        )
    } else if f.rate {
        writeln!(
            out,
            "{local:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n{remote}",
            "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
        )
    } else if f.thresholds {
        writeln!(
            out,
            "{local:<33} {:<10} {:<10} {:<10} {:<10}\n{remote}",
            "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        )
    } else if f.persistent_conn {
        writeln!(
            out,
            "{local:<33} {:<9} {:<11} {:<10} {:<10}\n{remote}",
            "Weight", "PersistConn", "ActiveConn", "InActConn"
        )
    } else if f.tun_info {
        writeln!(out, "{local} Scheduler Flags\n{remote}           Forward TunnelInfo    Weight ActiveConn InActConn")
    } else {
        writeln!(
            out,
            "{local} Scheduler Flags\n{remote}           Forward Weight ActiveConn InActConn"
        )
    }
}

/// The names of the scheduler flags set, as `-b` takes them.
pub fn sched_flag_names(svc: &Service) -> Vec<&'static str> {
    ipvs::names::flags_of(&svc.scheduler)
        .iter()
        .filter(|f| svc.flags.contains(f.bit))
        .map(|f| f.name)
        .collect()
}

/// The persistence granularity as ipvsadm shows it, unless it is the default.
pub fn mask_text(svc: &Service) -> Option<String> {
    match svc.key.family() {
        Family::V4 => {
            (svc.netmask != u32::MAX).then(|| std::net::Ipv4Addr::from(svc.netmask).to_string())
        }
        Family::V6 => (svc.netmask != 128).then(|| svc.netmask.to_string()),
    }
}

fn five(out: &mut impl Write, values: [u64; 5], exact: bool) -> io::Result<()> {
    for v in values {
        largenum(out, v, exact)?;
    }
    Ok(())
}

fn counts(s: &Stats) -> [u64; 5] {
    [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes]
}

fn rates(s: &Stats) -> [u64; 5] {
    [s.cps, s.inpps, s.outpps, s.inbps, s.outbps]
}

/// A service as a command line that sets every setting, as `-S` writes it (`verb` is `-A`
/// there), without the newline.
pub fn rule_service(out: &mut impl Write, verb: &str, svc: &Service, name: &str) -> io::Result<()> {
    write!(out, "{verb} {name} -s {}", svc.scheduler)?;
    if svc.persistent() {
        write!(out, " -p {}", svc.timeout)?;
        if let Some(m) = mask_text(svc) {
            write!(out, " -M {m}")?;
        }
    }
    if let Some(pe) = svc.pe_name.as_deref().filter(|p| !p.is_empty()) {
        write!(out, " --pe {pe}")?;
    }
    if svc.flags.contains(ServiceFlags::ONEPACKET) {
        write!(out, " -o")?;
    }
    if svc.flags.0 & ServiceFlags::SCHED_MASK != 0 {
        write!(out, " -b {}", sched_flag_names(svc).join(","))?;
    }
    Ok(())
}

/// A service and its destinations (sorted unless `f.nosort`), as a listing or `-S` shows them.
pub fn entry(
    out: &mut impl Write,
    svc: &Service,
    dests: &mut [Destination],
    f: &Format,
) -> io::Result<()> {
    if !f.nosort {
        msort(dests, &cmp_dests);
    }
    let name = service_name(svc, f);
    service_line(out, svc, &name, f)?;
    for d in dests.iter() {
        dest_line(out, svc, &name, d, f)?;
    }
    Ok(())
}

/// A service's line; `name` is [`service_name`] of it.
pub fn service_line(out: &mut impl Write, svc: &Service, name: &str, f: &Format) -> io::Result<()> {
    let sched_bits = svc.flags.0 & ServiceFlags::SCHED_MASK != 0;
    if f.rule {
        rule_service(out, "-A", svc, name)?;
    } else if f.stats {
        write!(out, "{name:<33}")?;
        five(out, counts(&svc.stats), f.exact)?;
    } else if f.rate {
        write!(out, "{name:<33}")?;
        five(out, rates(&svc.stats), f.exact)?;
    } else {
        write!(out, "{name} {}", svc.scheduler)?;
        if sched_bits {
            write!(out, " ({})", sched_flag_names(svc).join(","))?;
        }
        if svc.persistent() {
            write!(out, " persistent {}", svc.timeout)?;
            if let Some(m) = mask_text(svc) {
                write!(out, " mask {m}")?;
            }
            if let Some(pe) = svc.pe_name.as_deref().filter(|p| !p.is_empty()) {
                write!(out, " pe {pe}")?;
            }
        }
        if svc.flags.contains(ServiceFlags::ONEPACKET) {
            write!(out, " ops")?;
        }
    }
    writeln!(out)
}

/// glibc prints a NULL string this way, which is what ipvsadm shows for what it cannot name.
const NULL: &str = "(null)";

fn forward_name(m: ForwardMethod) -> &'static str {
    m.names().map_or(NULL, |n| n.listed)
}

fn forward_switch(m: ForwardMethod) -> &'static str {
    m.names().map_or(NULL, |n| n.switch)
}

fn csum_switch(flags: u16) -> &'static str {
    match flags {
        1 => "--tun-csum",
        2 => "--tun-remcsum",
        _ => "--tun-nocsum",
    }
}

fn csum_name(flags: u16) -> &'static str {
    match flags {
        1 => "+c",
        2 => "r+c",
        _ => "-c",
    }
}

fn tunnel_type_name(t: TunnelType) -> &'static str {
    t.name().unwrap_or(NULL)
}

fn tunnel_info(d: &Destination) -> String {
    if d.forward != ForwardMethod::Tunnel {
        return "n/a".to_string();
    }
    let name = tunnel_type_name(d.tunnel_type);
    match d.tunnel_type {
        TunnelType::Gue => format!("{name}:{}:{}", d.tunnel_port, csum_name(d.tunnel_flags.0)),
        TunnelType::Gre => format!("{name}:{}", csum_name(d.tunnel_flags.0)),
        _ => name.to_string(),
    }
}

/// A destination as `-S` writes it (`verb` is `-a` there), without the newline: thresholds
/// are left out, as ipvsadm leaves them out.
pub fn rule_dest(
    out: &mut impl Write,
    verb: &str,
    svc_name: &str,
    name: &str,
    d: &Destination,
) -> io::Result<()> {
    let weight = d.weight as i32;
    write!(
        out,
        "{verb} {svc_name} -r {name} {} -w {weight}",
        forward_switch(d.forward)
    )?;
    if d.forward == ForwardMethod::Tunnel {
        write!(out, " --tun-type {}", tunnel_type_name(d.tunnel_type))?;
        match d.tunnel_type {
            TunnelType::Gue => write!(
                out,
                " --tun-port {} {}",
                d.tunnel_port,
                csum_switch(d.tunnel_flags.0)
            )?,
            TunnelType::Gre => write!(out, " {}", csum_switch(d.tunnel_flags.0))?,
            _ => {}
        }
    }
    Ok(())
}

/// A destination's line under its service, named `svc_name`.
pub fn dest_line(
    out: &mut impl Write,
    svc: &Service,
    svc_name: &str,
    d: &Destination,
    f: &Format,
) -> io::Result<()> {
    let name = addrport(&d.addr, d.port, protocol_of(svc), f.numeric);
    let name = if !f.rule && d.addr.is_ipv4() {
        cut(name, 28)
    } else {
        name
    };
    let weight = d.weight as i32;
    if f.rule {
        rule_dest(out, "-a", svc_name, &name, d)?;
        writeln!(out)
    } else if f.stats {
        write!(out, "  -> {name:<28}")?;
        five(out, counts(&d.stats), f.exact)?;
        writeln!(out)
    } else if f.rate {
        let s = &d.stats;
        write!(
            out,
            "  -> {name:<28} {:>8} {:>8} {:>8}",
            s.cps, s.inpps, s.outpps
        )?;
        largenum(out, s.inbps, f.exact)?;
        largenum(out, s.outbps, f.exact)?;
        writeln!(out)
    } else if f.thresholds {
        writeln!(
            out,
            "  -> {name:<28} {:<10} {:<10} {:<10} {:<10}",
            d.upper_threshold, d.lower_threshold, d.active_conns, d.inactive_conns
        )
    } else if f.persistent_conn {
        writeln!(
            out,
            "  -> {name:<28} {weight:<9} {:<11} {:<10} {:<10}",
            d.persistent_conns, d.active_conns, d.inactive_conns
        )
    } else if f.tun_info {
        writeln!(
            out,
            "  -> {name:<28} {:<7} {:<13} {weight:<6} {:<10} {:<10}",
            forward_name(d.forward),
            tunnel_info(d),
            d.active_conns,
            d.inactive_conns
        )
    } else {
        writeln!(
            out,
            "  -> {name:<28} {:<7} {weight:<6} {:<10} {:<10}",
            forward_name(d.forward),
            d.active_conns,
            d.inactive_conns
        )
    }
}

pub fn timeouts(out: &mut impl Write, t: &Timeouts) -> io::Result<()> {
    writeln!(
        out,
        "Timeout (tcp tcpfin udp): {} {} {}",
        t.tcp as i32, t.tcp_fin as i32, t.udp as i32
    )
}

pub fn daemon(out: &mut impl Write, d: &Daemon) -> io::Result<()> {
    let state = state_name(d.state);
    write!(
        out,
        "{state} sync daemon (mcast={}, syncid={}",
        d.mcast_ifn, d.syncid as i32
    )?;
    if d.sync_maxlen != 0 {
        write!(out, ", maxlen={}", d.sync_maxlen)?;
    }
    if let Some(g) = &d.mcast_group {
        write!(out, ", group={}", resolve::ntop(g))?;
    }
    if d.mcast_port != 0 {
        write!(out, ", port={}", d.mcast_port)?;
    }
    if d.mcast_ttl != 0 {
        write!(out, ", ttl={}", d.mcast_ttl)?;
    }
    writeln!(out, ")")
}

/// A change as the ipvsadm command line that makes it (numeric addresses; thresholds too,
/// unlike `-S`).
pub fn request_line(req: &Request) -> String {
    let numeric = Format {
        numeric: true,
        rule: true,
        ..Format::default()
    };
    let name_of = |key: &ServiceKey| service_name(&Service::new(*key), &numeric);
    let mut out = Vec::new();
    let _ = match req {
        Request::AddService(s) => rule_service(&mut out, "-A", s, &name_of(&s.key)),
        Request::EditService(s) => rule_service(&mut out, "-E", s, &name_of(&s.key)),
        Request::DeleteService(k) => write!(out, "-D {}", name_of(k)),
        Request::AddDest(k, d) | Request::EditDest(k, d) => {
            let verb = if matches!(req, Request::AddDest(..)) {
                "-a"
            } else {
                "-e"
            };
            let dname = addrport(&d.addr, d.port, Protocol::Other(0), true);
            rule_dest(&mut out, verb, &name_of(k), &dname, d).and_then(|()| {
                match (d.upper_threshold, d.lower_threshold) {
                    (0, 0) => Ok(()),
                    (x, y) => write!(out, " -x {x} -y {y}"),
                }
            })
        }
        Request::DeleteDest(k, addr, port) => write!(
            out,
            "-d {} -r {}",
            name_of(k),
            addrport(addr, *port, Protocol::Other(0), true)
        ),
        Request::Flush => write!(out, "-C"),
        Request::Zero(None) => write!(out, "-Z"),
        Request::Zero(Some(k)) => write!(out, "-Z {}", name_of(k)),
        Request::SetTimeouts(t) => write!(out, "--set {} {} {}", t.tcp, t.tcp_fin, t.udp),
        Request::StartDaemon(d) => {
            let state = state_name(d.state);
            write!(
                out,
                "--start-daemon {state} --mcast-interface {} --syncid {}",
                d.mcast_ifn, d.syncid
            )
            .and_then(|()| {
                if d.sync_maxlen != 0 {
                    write!(out, " --sync-maxlen {}", d.sync_maxlen)?;
                }
                if let Some(g) = &d.mcast_group {
                    write!(out, " --mcast-group {}", resolve::ntop(g))?;
                }
                if d.mcast_port != 0 {
                    write!(out, " --mcast-port {}", d.mcast_port)?;
                }
                if d.mcast_ttl != 0 {
                    write!(out, " --mcast-ttl {}", d.mcast_ttl)?;
                }
                Ok(())
            })
        }
        Request::StopDaemon(state, syncid) => {
            write!(
                out,
                "--stop-daemon {} --syncid {syncid}",
                state_name(*state)
            )
        }
    };
    String::from_utf8_lossy(&out).into_owned()
}

fn state_name(s: DaemonState) -> &'static str {
    match s {
        DaemonState::Master => "master",
        DaemonState::Backup => "backup",
    }
}

/// glibc's `qsort` for these arrays: a stable top-down merge sort that takes from the left
/// run while `cmp <= 0`. ipvsadm's comparators wrap around and are not transitive, so only
/// this exact algorithm reproduces its order.
pub fn msort<T: Clone>(items: &mut [T], cmp: &impl Fn(&T, &T) -> i32) {
    let n = items.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    msort(&mut items[..n1], cmp);
    msort(&mut items[n1..], cmp);
    let mut merged = Vec::with_capacity(n);
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(&items[i], &items[j]) <= 0 {
            merged.push(items[i].clone());
            i += 1;
        } else {
            merged.push(items[j].clone());
            j += 1;
        }
    }
    merged.extend_from_slice(&items[i..n1]);
    merged.extend_from_slice(&items[j..n]);
    items.clone_from_slice(&merged);
}

/// An address as the 4 host-order words of `union nf_inet_addr`.
fn words(addr: &IpAddr) -> [u32; 4] {
    match addr {
        IpAddr::V4(a) => [u32::from(*a), 0, 0, 0],
        IpAddr::V6(a) => {
            let o = a.octets();
            let w = |i: usize| u32::from_be_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
            [w(0), w(4), w(8), w(12)]
        }
    }
}

/// libipvs compares addresses by 32-bit differences, as the first one's family says.
fn cmp_addr(a: &IpAddr, b: &IpAddr) -> i32 {
    let (wa, wb) = (words(a), words(b));
    let n = if a.is_ipv6() { 4 } else { 1 };
    for i in 0..n {
        let r = wa[i].wrapping_sub(wb[i]) as i32;
        if r != 0 {
            return r;
        }
    }
    0
}

struct SortKey {
    fwmark: u32,
    af: u16,
    protocol: u16,
    addr: IpAddr,
    port: u16,
}

fn sort_key(svc: &Service) -> SortKey {
    match svc.key {
        ServiceKey::Fwmark { family, mark } => SortKey {
            fwmark: mark,
            af: family.af(),
            protocol: 0,
            addr: match family {
                Family::V4 => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                Family::V6 => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
            },
            port: 0,
        },
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => SortKey {
            fwmark: 0,
            af: Family::of(&addr).af(),
            protocol: protocol.number(),
            addr,
            port,
        },
    }
}

/// libipvs's `ipvs_cmp_services`.
pub fn cmp_services(a: &Service, b: &Service) -> i32 {
    let (a, b) = (sort_key(a), sort_key(b));
    let r = a.fwmark.wrapping_sub(b.fwmark) as i32;
    if r != 0 {
        return r;
    }
    let r = i32::from(a.af) - i32::from(b.af);
    if r != 0 {
        return r;
    }
    let r = i32::from(a.protocol) - i32::from(b.protocol);
    if r != 0 {
        return r;
    }
    let r = cmp_addr(&a.addr, &b.addr);
    if r != 0 {
        return r;
    }
    i32::from(a.port) - i32::from(b.port)
}

/// libipvs's `ipvs_cmp_dests`.
pub fn cmp_dests(a: &Destination, b: &Destination) -> i32 {
    let r = cmp_addr(&a.addr, &b.addr);
    if r != 0 {
        return r;
    }
    i32::from(a.port) - i32::from(b.port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(n: u64, exact: bool) -> String {
        let mut v = Vec::new();
        largenum(&mut v, n, exact).unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn largenum_matches_ipvsadm() {
        assert_eq!(num(99_999_999, false), " 99999999");
        assert_eq!(num(100_000_000, false), "  100000K");
        assert_eq!(num(123_456_789_012, false), "     123G");
        assert_eq!(num(987_654_321_098_765, false), "     987T");
        assert_eq!(num(4_000_000_000, false), "    4000M");
        assert_eq!(num(123_456_789_012, true), " 123456789012");
        assert_eq!(num(5, true), "        5");
    }

    fn v4(s: &str) -> Service {
        Service::new(ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: s.parse().unwrap(),
            port: 80,
        })
    }

    #[test]
    fn wrapping_sort_order_matches_ipvsadm() {
        let order = [
            "10.0.0.1",
            "200.0.0.1",
            "100.0.0.1",
            "127.0.0.1",
            "1.0.0.1",
            "250.0.0.1",
            "130.0.0.1",
        ];
        let mut svcs: Vec<Service> = order.iter().map(|s| v4(s)).collect();
        msort(&mut svcs, &cmp_services);
        let got: Vec<String> = svcs
            .iter()
            .map(|s| match s.key {
                ServiceKey::Addr { addr, .. } => addr.to_string(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            got,
            [
                "10.0.0.1",
                "100.0.0.1",
                "130.0.0.1",
                "200.0.0.1",
                "250.0.0.1",
                "1.0.0.1",
                "127.0.0.1"
            ]
        );
    }

    #[test]
    fn names_are_cut_like_ipvsadm() {
        let f = Format {
            numeric: true,
            ..Format::default()
        };
        let mut svc = v4("255.255.255.255");
        svc.key = ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: "255.255.255.255".parse().unwrap(),
            port: 65535,
        };
        assert_eq!(service_name(&svc, &f), "UDP  255.255.255.255:65535");
        let mut d = Destination::new("255.255.255.254".parse().unwrap(), 65535);
        d.forward = ForwardMethod::Masquerade;
        d.weight = 65535;
        let mut out = Vec::new();
        dest_line(&mut out, &svc, "", &d, &f).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "  -> 255.255.255.254:65535        Masq    65535  0          0         \n"
        );
    }

    #[test]
    fn destination_counters_keep_64_bits() {
        let svc = v4("10.0.0.1");
        let mut d = Destination::new("192.168.1.1".parse().unwrap(), 80);
        d.stats.conns = 1 << 32;
        d.stats.inpkts = 1_000_000_000_000_000;
        let f = Format {
            numeric: true,
            stats: true,
            exact: true,
            ..Format::default()
        };
        let mut out = Vec::new();
        dest_line(&mut out, &svc, "", &d, &f).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "  -> 192.168.1.1:80               4294967296 1000000000000000        0        0        0\n"
        );
    }
}
