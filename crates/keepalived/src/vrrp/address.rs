//! An address line of `virtual_ipaddress`, `virtual_ipaddress_excluded` and
//! `static_ipaddress`, read as keepalived's `alloc_ipaddress` reads it: the address first,
//! then options; a line keepalived refuses adds no address.

use super::Address;
use crate::parse::Ctx;
use crate::problem::{Kind, Place, Problem};
use crate::value;
use std::net::{IpAddr, Ipv4Addr};

/// Reports a problem at `at`, a line of a block already read.
pub(super) fn report_at(ctx: &mut Ctx<'_>, at: Place, kind: Kind, msg: impl Into<String>) {
    ctx.problems.push(Problem::new(Some(at), kind, msg));
}

/// keepalived's `parse_ipaddress`: the address and its prefix length, with its complaints.
pub(super) fn parse(
    ctx: &mut Ctx<'_>,
    at: Place,
    s: &str,
    allow_prefix: bool,
) -> Option<(IpAddr, u8)> {
    let v6 = s.contains(':');
    let full: u8 = if v6 { 128 } else { 32 };
    let (a, prefix) = match s.find('/').filter(|_| allow_prefix) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut len = full;
    if let Some(p) = prefix {
        // keepalived's reader, told to ignore errors, still says what is wrong with the number.
        let saved = ctx.at;
        ctx.at = at;
        let n = value::unsigned(ctx, p, 0, u32::from(full));
        ctx.at = saved;
        match n {
            Some(n) => len = n as u8,
            None => report_at(
                ctx,
                at,
                Kind::General,
                format!("Invalid address prefix len {p} for address {s} - using {full}"),
            ),
        }
    }
    let addr = if v6 {
        a.parse().ok().map(IpAddr::V6)
    } else {
        value::ipv4_pton(a).map(IpAddr::V4)
    };
    match addr {
        Some(addr) => Some((addr, len)),
        None => {
            report_at(
                ctx,
                at,
                Kind::General,
                format!("VRRP parsed invalid IP {s}. skipping IP..."),
            );
            None
        }
    }
}

/// An `rt_scopes` name or number, as keepalived's `find_rttables_scope` reads it.
fn scope_ok(s: &str) -> bool {
    matches!(
        s,
        "global" | "universe" | "nowhere" | "host" | "link" | "site"
    ) || s.parse::<u8>().is_ok()
        || s.strip_prefix("0x")
            .is_some_and(|h| u8::from_str_radix(h, 16).is_ok())
}

/// One line of an address block; `None` when keepalived drops it.
pub(super) fn read(
    ctx: &mut Ctx<'_>,
    at: Place,
    words: &[String],
    is_static: bool,
) -> Option<Address> {
    let first = words.first()?;
    let (address, mut prefix) = parse(ctx, at, first, true)?;
    let mut a = Address {
        given: first.clone(),
        address,
        prefix,
        dev: None,
        label: None,
        scope: None,
        broadcast: None,
        peer: None,
        no_track: false,
        use_vmac: false,
        preferred_lft: None,
        at: Some(at),
    };
    let v6 = address.is_ipv6();
    let mut brd_sign: Option<bool> = None;
    let mut have_broadcast = false;
    let mut i = 1;
    let mut missing: Option<&str> = None;
    while i < words.len() {
        let opt = words[i].as_str();
        let param = words.get(i + 1);
        let takes_param = matches!(
            opt,
            "dev" | "scope" | "broadcast" | "brd" | "label" | "peer" | "preferred_lft"
        ) || (is_static && opt == "track_group");
        if takes_param && param.is_none() {
            missing = Some(opt);
            break;
        }
        let p = param.map(String::as_str).unwrap_or("");
        match opt {
            "dev" => {
                if a.dev.is_some() {
                    report_at(
                        ctx,
                        at,
                        Kind::General,
                        format!("Cannot specify ipaddress device more than once for {first}"),
                    );
                    return None;
                }
                a.dev = Some(p.to_string());
                i += 1;
            }
            "scope" => {
                if scope_ok(p) {
                    a.scope = Some(p.to_string());
                } else {
                    report_at(
                        ctx,
                        at,
                        Kind::General,
                        format!("Invalid scope '{p}' specified for {first} - ignoring"),
                    );
                }
                i += 1;
            }
            "broadcast" | "brd" => {
                if v6 {
                    report_at(
                        ctx,
                        at,
                        Kind::General,
                        format!(
                            "VRRP is trying to assign a broadcast {opt} to the IPv6 address \
                             {first} !!?? WTF... skipping VIP..."
                        ),
                    );
                    return None;
                }
                have_broadcast = true;
                match p {
                    "-" => brd_sign = Some(false),
                    "+" => brd_sign = Some(true),
                    _ => match value::ipv4_pton(p) {
                        Some(b) => a.broadcast = Some(IpAddr::V4(b)),
                        None => {
                            report_at(
                                ctx,
                                at,
                                Kind::General,
                                format!(
                                    "VRRP is trying to assign invalid broadcast {p}. skipping \
                                     VIP..."
                                ),
                            );
                            return None;
                        }
                    },
                }
                i += 1;
            }
            "label" => {
                if p.len() >= 16 {
                    report_at(
                        ctx,
                        at,
                        Kind::General,
                        format!(
                            "Address label {p} is longer than maximum length 15 - removing \
                             address"
                        ),
                    );
                    return None;
                }
                a.label = Some(p.to_string());
                i += 1;
            }
            "peer" => {
                i += 1;
                if a.peer.is_some() {
                    report_at(
                        ctx,
                        at,
                        Kind::General,
                        format!("Peer {p} - another peer has already been specified"),
                    );
                    i += 1;
                    continue;
                }
                match parse(ctx, at, p, false) {
                    None => report_at(ctx, at, Kind::General, format!("Invalid peer address {p}")),
                    Some((peer, len)) if peer.is_ipv6() != v6 => {
                        let _ = len;
                        report_at(
                            ctx,
                            at,
                            Kind::General,
                            format!("Peer address {p} does not match address family"),
                        )
                    }
                    Some((peer, len)) => {
                        if prefix != if v6 { 128 } else { 32 } {
                            report_at(
                                ctx,
                                at,
                                Kind::General,
                                "Cannot specify address prefix when specifying peer address - \
                                 ignoring",
                            );
                        }
                        a.peer = Some(peer);
                        prefix = len;
                    }
                }
            }
            "home" | "-nodad" | "mngtmpaddr" | "noprefixroute" | "autojoin" => {}
            "no_track" => a.no_track = true,
            "preferred_lft" => {
                i += 1;
                if p == "forever" {
                    a.preferred_lft = Some(u32::MAX);
                } else {
                    let saved = ctx.at;
                    ctx.at = at;
                    let n = value::unsigned(ctx, p, 0, u32::MAX);
                    ctx.at = saved;
                    match n {
                        Some(n) => a.preferred_lft = Some(n),
                        None => report_at(
                            ctx,
                            at,
                            Kind::General,
                            format!("preferred_lft {p} is invalid"),
                        ),
                    }
                }
            }
            "track_group" if is_static => {
                i += 1;
                if !ctx.config.vrrp.track_groups.iter().any(|g| g == p) {
                    report_at(ctx, at, Kind::General, format!("track_group {p} not found"));
                }
            }
            "use_vmac" if !is_static => a.use_vmac = true,
            _ => report_at(
                ctx,
                at,
                Kind::General,
                format!("Unknown configuration entry '{opt}' for ip address - ignoring"),
            ),
        }
        i += 1;
    }
    if let Some(opt) = missing {
        report_at(
            ctx,
            at,
            Kind::General,
            format!("No {opt} parameter specified for {first}"),
        );
        return None;
    }
    a.prefix = prefix;
    if have_broadcast && a.peer.is_some() {
        report_at(
            ctx,
            at,
            Kind::General,
            "Cannot specify broadcast and peer addresses - ignoring broadcast address",
        );
        a.broadcast = None;
    } else if let Some(plus) = brd_sign {
        if a.prefix <= 30 {
            let base = match a.peer.unwrap_or(a.address) {
                IpAddr::V4(b) => u32::from(b),
                IpAddr::V6(_) => 0,
            };
            let host = u32::MAX >> a.prefix;
            let b = if plus { base | host } else { base & !host };
            a.broadcast = Some(IpAddr::V4(Ipv4Addr::from(b)));
        } else {
            report_at(
                ctx,
                at,
                Kind::General,
                format!("Address prefix length {} too long for broadcast", a.prefix),
            );
        }
    }
    if v6 {
        if a.scope.is_some() {
            report_at(
                ctx,
                at,
                Kind::General,
                format!("Cannot specify scope for IPv6 addresses ({first}) - ignoring scope"),
            );
            a.scope = None;
        }
        if a.label.is_some() {
            report_at(
                ctx,
                at,
                Kind::General,
                format!("Cannot specify label for IPv6 addresses ({first}) - ignoring label"),
            );
            a.label = None;
        }
    }
    Some(a)
}
