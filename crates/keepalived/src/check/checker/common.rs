//! The keywords every checker block shares (keepalived's
//! `install_checker_common_keywords`): where to connect, and the timers and retries.
//!
//! The connection keywords of an `SMTP_CHECK` `host` block set that host's connection while
//! the timers and retries still set the checker's, so the connection handlers come in two
//! instances, chosen by `HOST`.

use super::{current, Checker, Connection, Method};
use crate::check::Micros;
use crate::parse::{Ctx, Handler, Keyword};
use crate::problem::Kind;
use crate::value;
use std::net::IpAddr;

/// keepalived's interface names hold at most 15 bytes.
const IFNAME_MAX: usize = 15;

/// The shared keywords, in keepalived's order; the connection ones when the block connects
/// (`host` says whether they set an SMTP host's connection).
pub fn keywords(connection: Option<bool>) -> Vec<Keyword> {
    let mut out = Vec::new();
    if let Some(host) = connection {
        let conn: [(&'static str, Handler, Handler); 7] = [
            ("connect_ip", connect_ip::<false>, connect_ip::<true>),
            ("connect_port", connect_port::<false>, connect_port::<true>),
            ("bindto", bindto::<false>, bindto::<true>),
            ("bind_port", bind_port::<false>, bind_port::<true>),
            ("bind_if", bind_if::<false>, bind_if::<true>),
            (
                "connect_timeout",
                connect_timeout::<false>,
                connect_timeout::<true>,
            ),
            ("fwmark", fwmark::<false>, fwmark::<true>),
        ];
        for (name, main, in_host) in conn {
            out.push(Keyword::new(name, if host { in_host } else { main }));
        }
    }
    out.push(Keyword::new("retry", retry));
    out.push(Keyword::new("delay_before_retry", delay_before_retry));
    out.push(Keyword::new("warmup", warmup));
    out.push(Keyword::new("delay_loop", delay_loop));
    out.push(Keyword::new("alpha", alpha));
    out.push(Keyword::new("log_all_failures", log_all_failures));
    out
}

/// The connection the keywords set: the checker's, or its last SMTP host's.
fn connection(c: &mut Checker, host: bool) -> Option<&mut Connection> {
    if host {
        match &mut c.method {
            Method::Smtp(s) => s.hosts.last_mut(),
            _ => None,
        }
    } else {
        c.conn.as_mut()
    }
}

/// The address family a connection's destination has now, as keepalived compares it with
/// bindto's: the real server's until connect_ip replaces it, none once an unreadable
/// connect_ip cleared it, and none for an SMTP_CHECK's own until its block ends.
fn destination_is_v6(ctx: &mut Ctx<'_>, host: bool) -> Option<bool> {
    let rs_addr = super::real_server(ctx)?.addr;
    let c = current(ctx)?;
    let smtp_main = matches!(c.method, Method::Smtp(_)) && !host;
    let conn = connection(c, host)?;
    if conn.connect_ip_invalid {
        return None;
    }
    match conn.connect_ip {
        Some(a) => Some(a.is_ipv6()),
        None if smtp_main => None,
        None => Some(rs_addr.is_ipv6()),
    }
}

/// keepalived's `inet_stosockaddr` without a port: the family from a `:`, then the address.
fn parse_address(s: &str) -> Option<IpAddr> {
    value::address(s)
}

fn connect_ip<const HOST: bool>(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = ctx.arg(words, 1) else {
        return;
    };
    let parsed = parse_address(v);
    let bind_v6 = current(ctx)
        .and_then(|c| connection(c, HOST))
        .map(|conn| conn.bindto.map(|b| b.is_ipv6()));
    let Some(bind_v6) = bind_v6 else {
        return;
    };
    let accepted = match parsed {
        None => {
            ctx.explain(
                Kind::General,
                format!("Invalid connect_ip address {v} - ignoring"),
                Some(
                    "keepalived leaves the checker with no address to check, not the real server's",
                ),
                None,
            );
            None
        }
        Some(a) if bind_v6.is_some_and(|b| b != a.is_ipv6()) => {
            ctx.explain(
                Kind::General,
                format!(
                    "connect_ip address {v} does not match address family of bindto - skipping"
                ),
                Some("keepalived leaves the checker with no address to check"),
                None,
            );
            None
        }
        Some(a) => Some(a),
    };
    if let Some(conn) = current(ctx).and_then(|c| connection(c, HOST)) {
        conn.connect_ip = accepted;
        conn.connect_ip_invalid = accepted.is_none();
    }
}

fn bindto<const HOST: bool>(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = ctx.arg(words, 1) else {
        return;
    };
    let dst_v6 = destination_is_v6(ctx, HOST);
    let accepted = match value::address(v) {
        None => {
            ctx.report(
                Kind::General,
                format!("Invalid bindto address {v} - ignoring"),
            );
            None
        }
        Some(a) if dst_v6.is_some_and(|d| d != a.is_ipv6()) => {
            ctx.report(
                Kind::General,
                format!(
                    "bindto address {v} does not match address family of connect_ip - skipping"
                ),
            );
            None
        }
        Some(a) => Some(a),
    };
    if let Some(conn) = current(ctx).and_then(|c| connection(c, HOST)) {
        conn.bindto = accepted;
    }
}

/// A port keyword: the port, or `None` after keepalived's complaints.
fn port(ctx: &mut Ctx<'_>, words: &[String], what: &str) -> Option<u16> {
    let v = ctx.arg(words, 1)?;
    let port = value::unsigned(ctx, v, 1, 65535).and_then(|p| u16::try_from(p).ok());
    if port.is_none() {
        ctx.report(Kind::General, format!("Invalid checker {what} '{v}'"));
    }
    port
}

fn connect_port<const HOST: bool>(ctx: &mut Ctx<'_>, words: &[String]) {
    if let Some(p) = port(ctx, words, "connect_port") {
        if let Some(conn) = current(ctx).and_then(|c| connection(c, HOST)) {
            conn.connect_port = Some(p);
        }
    }
}

fn bind_port<const HOST: bool>(ctx: &mut Ctx<'_>, words: &[String]) {
    if let Some(p) = port(ctx, words, "bind_port") {
        if let Some(conn) = current(ctx).and_then(|c| connection(c, HOST)) {
            conn.bind_port = Some(p);
        }
    }
}

fn bind_if<const HOST: bool>(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = ctx.arg(words, 1) else {
        return;
    };
    if v.len() > IFNAME_MAX {
        ctx.report(
            Kind::General,
            format!("Interface name {v} is too long - ignoring"),
        );
        return;
    }
    if let Some(conn) = current(ctx).and_then(|c| connection(c, HOST)) {
        conn.bind_if = Some(v.to_string());
    }
}

fn connect_timeout<const HOST: bool>(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = ctx.arg(words, 1) else {
        return;
    };
    match value::timer(ctx, v, 1, u64::from(u32::MAX)) {
        Some(t) => {
            if let Some(conn) = current(ctx).and_then(|c| connection(c, HOST)) {
                conn.connect_timeout = Some(t);
            }
        }
        None => ctx.report(
            Kind::General,
            format!("connect_timeout {v} invalid - ignoring"),
        ),
    }
}

fn fwmark<const HOST: bool>(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = ctx.arg(words, 1) else {
        return;
    };
    match value::unsigned(ctx, v, 0, u32::MAX) {
        Some(m) => {
            if let Some(conn) = current(ctx).and_then(|c| connection(c, HOST)) {
                conn.fwmark = Some(m);
            }
        }
        None => ctx.report(
            Kind::General,
            format!("Invalid fwmark connection value '{v}'"),
        ),
    }
}

fn retry(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = ctx.arg(words, 1) else {
        return;
    };
    match value::unsigned(ctx, v, 0, u32::MAX) {
        Some(n) => {
            if let Some(c) = current(ctx) {
                c.retry = Some(n);
            }
        }
        None => ctx.report(
            Kind::General,
            format!("Invalid retry connection value '{v}'"),
        ),
    }
}

/// A timer keyword of the checker: the time, or `None` after keepalived's complaints.
fn timer(ctx: &mut Ctx<'_>, words: &[String], min: Micros, message: &str) -> Option<Micros> {
    let v = ctx.arg(words, 1)?;
    let t = value::timer(ctx, v, min, 0);
    if t.is_none() {
        ctx.report(Kind::General, message.replace("{}", v));
    }
    t
}

fn delay_before_retry(ctx: &mut Ctx<'_>, words: &[String]) {
    if let Some(t) = timer(
        ctx,
        words,
        0,
        "Invalid delay_before_retry connection value '{}'",
    ) {
        if let Some(c) = current(ctx) {
            c.delay_before_retry = Some(t);
        }
    }
}

fn warmup(ctx: &mut Ctx<'_>, words: &[String]) {
    if let Some(t) = timer(ctx, words, 0, "Invalid warmup connection value '{}'") {
        if let Some(c) = current(ctx) {
            c.warmup = Some(t);
        }
    }
}

fn delay_loop(ctx: &mut Ctx<'_>, words: &[String]) {
    if let Some(t) = timer(ctx, words, 1, "delay_loop '{}' is invalid - ignoring") {
        if let Some(c) = current(ctx) {
            c.delay_loop = Some(t);
        }
    }
}

/// A flag keyword: true without a value, else keepalived's true/false words.
pub fn flag(ctx: &mut Ctx<'_>, words: &[String], what: &str) -> Option<bool> {
    let Some(v) = words.get(1) else {
        return Some(true);
    };
    let b = value::true_false(v);
    if b.is_none() {
        ctx.report(Kind::General, format!("Invalid {what} parameter {v}"));
    }
    b
}

fn alpha(ctx: &mut Ctx<'_>, words: &[String]) {
    if let Some(b) = flag(ctx, words, "alpha") {
        if let Some(c) = current(ctx) {
            c.alpha = Some(b);
        }
    }
}

fn log_all_failures(ctx: &mut Ctx<'_>, words: &[String]) {
    if let Some(b) = flag(ctx, words, "log_all_failures") {
        if let Some(c) = current(ctx) {
            c.log_all_failures = Some(b);
        }
    }
}
