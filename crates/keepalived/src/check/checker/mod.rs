//! The checker blocks of a `real_server` (`HTTP_GET`, `TCP_CHECK`, `MISC_CHECK`, ...), read as
//! keepalived 2.2.7 reads them, into [`Checker`]s; [`resolve`] then gives each keepalived's
//! defaults and what it inherits from its real and virtual server.
//!
//! keepalived applies a checker keyword to the checker allocated last, so the handlers work on
//! the last checker of the last real server, and do nothing when there is none (a real server
//! line keepalived refused).

mod bfd;
mod common;
mod dns;
mod file;
mod http;
mod misc;
mod numbers;
mod ping;
mod print;
mod security;
mod smtp;
mod tcp;
mod udp;

pub use print::print;
pub use security::{script_security, ScriptFlags};

use super::{Micros, RealServer, VirtualServer};
use crate::parse::{Ctx, Keyword};
use crate::problem::{Kind, Place, Problem, Problems};
use crate::script::quoted_escaped;
use std::net::IpAddr;

/// One second in keepalived's timer units.
const SECOND: Micros = 1_000_000;

/// A checker block. `None` is a setting the file does not give, until [`resolve`] fills in
/// keepalived's value.
#[derive(Clone, Debug, PartialEq)]
pub struct Checker {
    /// The checker keyword's line.
    pub at: Place,
    /// The line of the `}` that ends the block, where keepalived names the complaints it makes
    /// once the block is read.
    pub end: Option<Place>,
    pub method: Method,
    /// Where to connect; `None` for the checkers that make no connection (`MISC_CHECK`,
    /// `FILE_CHECK`, `BFD_CHECK`).
    pub conn: Option<Connection>,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Micros>,
    pub warmup: Option<Micros>,
    pub delay_loop: Option<Micros>,
    pub alpha: Option<bool>,
    pub log_all_failures: Option<bool>,
}

/// What a checker does, with the settings of its kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Method {
    Http(http::Http),
    Tcp,
    Misc(misc::Misc),
    Smtp(smtp::Smtp),
    Dns(dns::Dns),
    Udp(udp::Udp),
    Ping,
    File(file::File),
    Bfd(bfd::Bfd),
}

pub use bfd::Bfd;
pub use dns::{Dns, DnsType};
pub use file::File;
pub use http::{Http, HttpProtocol, StatusRange, Url};
pub use misc::Misc;
pub use smtp::Smtp;
pub use udp::{HexPattern, Udp};

impl Method {
    /// keepalived's name for the checker block.
    pub fn keyword(&self) -> &'static str {
        match self {
            Method::Http(h) if h.ssl => "SSL_GET",
            Method::Http(_) => "HTTP_GET",
            Method::Tcp => "TCP_CHECK",
            Method::Misc(_) => "MISC_CHECK",
            Method::Smtp(_) => "SMTP_CHECK",
            Method::Dns(_) => "DNS_CHECK",
            Method::Udp(_) => "UDP_CHECK",
            Method::Ping => "PING_CHECK",
            Method::File(_) => "FILE_CHECK",
            Method::Bfd(_) => "BFD_CHECK",
        }
    }

    /// keepalived's retry when neither the checker nor its servers give one.
    fn default_retry(&self) -> u32 {
        match self {
            Method::Dns(_) => 3,
            Method::Misc(_) => 0,
            _ => 1,
        }
    }

    /// keepalived's delay_before_retry when neither the checker nor its servers give one;
    /// `None` for DNS_CHECK, which then waits its delay_loop.
    fn default_delay_before_retry(&self) -> Option<Micros> {
        match self {
            Method::Http(_) => Some(3 * SECOND),
            Method::Dns(_) => None,
            _ => Some(SECOND),
        }
    }

    /// Whether keepalived runs it as a checker of its own: FILE_CHECK only tracks a file and
    /// BFD_CHECK only follows a BFD session, so neither inherits timers or retries.
    fn is_launched(&self) -> bool {
        !matches!(self, Method::File(_) | Method::Bfd(_))
    }
}

/// Where a checker connects (keepalived's `conn_opts_t`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Connection {
    /// `connect_ip`; [`resolve`] puts the real server's address when it is not given.
    pub connect_ip: Option<IpAddr>,
    /// A `connect_ip` keepalived could not read leaves the checker with no address at all
    /// (not the real server's): [`resolve`] then leaves `connect_ip` `None`.
    pub connect_ip_invalid: bool,
    pub connect_port: Option<u16>,
    pub bindto: Option<IpAddr>,
    pub bind_port: Option<u16>,
    pub bind_if: Option<String>,
    pub connect_timeout: Option<Micros>,
    pub fwmark: Option<u32>,
    /// The real server's port when the checker block began: keepalived copies the real
    /// server's address then, so a port it later gets from its virtual server is not
    /// the checker's.
    pub port_at_start: u16,
}

/// The keyword blocks keepalived puts at the `real_server` level, in its order.
pub fn keywords() -> Vec<Keyword> {
    let mut out = vec![
        misc::keyword(),
        smtp::keyword(),
        tcp::keyword(),
        ping::keyword(),
        udp::keyword(),
        http::keyword("HTTP_GET"),
        http::keyword("SSL_GET"),
        dns::keyword(),
        file::keyword(),
    ];
    out.push(bfd::keyword());
    out
}

/// The real server the checker keywords apply to.
fn real_server<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut RealServer> {
    ctx.config
        .check
        .virtual_servers
        .last_mut()?
        .real_servers
        .last_mut()
}

/// The checker the keywords apply to: the last one allocated.
fn current<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut Checker> {
    real_server(ctx)?.checkers.last_mut()
}

/// Starts a checker block: a new checker on the last real server.
fn start(ctx: &mut Ctx<'_>, method: Method, connects: bool) {
    let at = ctx.at;
    let Some(rs) = real_server(ctx) else {
        return;
    };
    let conn = connects.then(|| Connection {
        port_at_start: rs.port,
        ..Connection::default()
    });
    rs.checkers.push(Checker {
        at,
        end: None,
        method,
        conn,
        retry: None,
        delay_before_retry: None,
        warmup: None,
        delay_loop: None,
        alpha: None,
        log_all_failures: None,
    });
}

/// Notes where the current checker's block ends.
fn mark_end(ctx: &mut Ctx<'_>) {
    let at = ctx.at;
    if let Some(c) = current(ctx) {
        c.end = Some(at);
    }
}

/// Drops the current checker, as keepalived does with one it refuses.
fn drop_current(ctx: &mut Ctx<'_>) {
    if let Some(rs) = real_server(ctx) {
        rs.checkers.pop();
    }
}

/// keepalived's `check_conn_opts`, run when a connecting checker's block ends: an IPv6
/// link-local address needs an interface. Returns whether the checker is kept.
fn check_connection(ctx: &mut Ctx<'_>, conn: &Connection, rs_addr: IpAddr) -> bool {
    let dst = if conn.connect_ip_invalid {
        None
    } else {
        Some(conn.connect_ip.unwrap_or(rs_addr))
    };
    if let Some(IpAddr::V6(a)) = dst {
        if a.segments()[0] & 0xffc0 == 0xfe80 && conn.bind_if.is_none() {
            ctx.explain(
                Kind::General,
                format!("Checker link local address {a} requires a bind_if"),
                Some("keepalived drops the checker"),
                Some("add bind_if with the interface the address is on"),
            );
            return false;
        }
    }
    true
}

/// The end of a connecting checker's block (TCP, PING, UDP, DNS): the link-local check.
fn end_connecting(ctx: &mut Ctx<'_>) -> bool {
    mark_end(ctx);
    let Some(rs) = real_server(ctx) else {
        return false;
    };
    let addr = rs.addr;
    let Some(conn) = rs.checkers.last().and_then(|c| c.conn.clone()) else {
        return false;
    };
    if check_connection(ctx, &conn, addr) {
        true
    } else {
        drop_current(ctx);
        false
    }
}

/// Fills in keepalived's defaults and inheritance (its `validate_check_config`): a setting
/// the checker does not give comes from its real server, then its virtual server, then the
/// checker kind's default.
pub fn resolve(vs: &VirtualServer, rs: &RealServer, c: &mut Checker, problems: &mut Problems) {
    let _ = problems;
    // FILE_CHECK is no checker for keepalived: nothing to inherit.
    if matches!(c.method, Method::File(_)) {
        return;
    }
    if c.alpha.is_none() {
        c.alpha = Some(rs.alpha.unwrap_or(vs.alpha));
    }
    if c.log_all_failures.is_none() && c.method.is_launched() {
        c.log_all_failures = Some(false);
    }
    match &mut c.method {
        Method::Http(h) => {
            for u in &mut h.urls {
                if u.status_codes.is_empty() {
                    u.status_codes.push(http::DEFAULT_STATUS);
                }
            }
            if h.http_protocol.is_none() {
                h.http_protocol = Some(HttpProtocol::V1_0);
            }
        }
        Method::Dns(d) => {
            d.dns_type.get_or_insert(DnsType::Soa);
            d.name.get_or_insert_with(String::new);
        }
        Method::Udp(u) => {
            u.min_reply_length.get_or_insert(0);
            u.max_reply_length.get_or_insert(udp::DEFAULT_MAX_REPLY);
        }
        Method::Smtp(s) => {
            s.helo_name
                .get_or_insert_with(|| smtp::DEFAULT_HELO.to_string());
        }
        _ => {}
    }
    if !c.method.is_launched() {
        return;
    }
    let rs_timeout = rs.connect_timeout.unwrap_or(vs.connect_timeout);
    if let Some(conn) = &mut c.conn {
        fill_connection(conn, rs.addr, rs_timeout);
    }
    if let Method::Smtp(s) = &mut c.method {
        for host in &mut s.hosts {
            fill_connection(host, rs.addr, rs_timeout);
        }
    }
    if c.retry.is_none() {
        c.retry = Some(rs.retry.or(vs.retry).unwrap_or(c.method.default_retry()));
    }
    let delay_loop = *c
        .delay_loop
        .get_or_insert(rs.delay_loop.unwrap_or(vs.delay_loop));
    if c.warmup.is_none() {
        c.warmup = Some(rs.warmup.or(vs.warmup).unwrap_or(delay_loop));
    }
    if c.delay_before_retry.is_none() {
        c.delay_before_retry = Some(
            rs.delay_before_retry
                .or(vs.delay_before_retry)
                .or(c.method.default_delay_before_retry())
                .unwrap_or(delay_loop),
        );
    }
}

/// A connection's defaults: the real server's address and port, its connect_timeout.
fn fill_connection(conn: &mut Connection, addr: IpAddr, timeout: Micros) {
    if conn.connect_ip.is_none() && !conn.connect_ip_invalid {
        conn.connect_ip = Some(addr);
    }
    conn.connect_port.get_or_insert(conn.port_at_start);
    conn.connect_timeout.get_or_insert(timeout);
}

/// A complaint keepalived makes about a checker once the file is read, without a line: lvsd
/// names the checker's.
fn after_reading(c: &Checker, kind: Kind, message: String) -> Problem {
    let mut p = Problem::new(Some(c.at), kind, message);
    p.keepalived_names_line = false;
    p
}

/// keepalived's `cmd_str`: a script's words, each in single quotes (a first word that is a
/// redirection, `<` or `>`, without).
fn cmd_str(args: &[String]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if i == 0 && (a.starts_with('<') || a.starts_with('>')) {
            out.push_str(a);
        } else {
            out.push('\'');
            out.push_str(a);
            out.push('\'');
        }
    }
    out
}

/// Checks the names `FILE_CHECK` and `BFD_CHECK` blocks give against the top-level
/// `track_file` and `bfd_instance` blocks, with keepalived's complaints, and drops the checkers
/// keepalived drops. keepalived looks a name up when it reads it, so only the blocks before
/// the checker count: give the names defined before the checker blocks (all of them when
/// that cannot be told).
pub fn references(
    config: &mut crate::Config,
    track_files: &[&str],
    bfd_instances: &[&str],
    problems: &mut Problems,
) {
    for vs in &mut config.check.virtual_servers {
        for rs in &mut vs.real_servers {
            let mut watched: Vec<String> = Vec::new();
            rs.checkers.retain_mut(|c| {
                let end = c.end.or(Some(c.at));
                match &mut c.method {
                    Method::File(f) => {
                        let mut found = None;
                        for (name, at) in &f.track_file_lines {
                            if track_files.contains(&name.as_str()) {
                                found = Some((name.clone(), *at));
                            } else {
                                problems.push(Problem::new(
                                    Some(*at),
                                    Kind::General,
                                    format!("track_file {name} not found"),
                                ));
                            }
                        }
                        f.track_file = found;
                        if f.track_file.is_none() && !f.track_file_lines.is_empty() {
                            problems.push(
                                Problem::new(
                                    end,
                                    Kind::General,
                                    "FILE_CHECK has no track_file specified - ignoring",
                                )
                                .effect("keepalived drops the FILE_CHECK"),
                            );
                            return false;
                        }
                        true
                    }
                    Method::Bfd(b) => {
                        let Some(name) = bfd::settle(b, bfd_instances, &watched, problems) else {
                            return false;
                        };
                        let at = b
                            .name_lines
                            .iter()
                            .find(|(n, _)| *n == name)
                            .map(|(_, at)| *at);
                        b.name = at.map(|at| (name.clone(), at));
                        watched.push(name);
                        true
                    }
                    _ => true,
                }
            });
        }
    }
}

/// `text` (a line, or a word of one, read again) split as keepalived's `alloc_strvec_quoted_escaped`, with its complaint when it
/// cannot be (measured: keepalived 2.2.7 then crashes, `-t` included).
pub(super) fn split(ctx: &mut Ctx<'_>, text: &str) -> Option<Vec<String>> {
    if let Some(words) = quoted_escaped(text) {
        return Some(words);
    }
    let crash = Some("keepalived 2.2.7 then crashes (segmentation fault, exit status 139)");
    match unclosed_quote(text) {
        Some(q) => ctx.explain(
            Kind::Crash,
            format!("String '{text}': missing terminating {q}"),
            crash,
            Some("close the quote"),
        ),
        None if text.ends_with('\\') => ctx.explain(
            Kind::Crash,
            format!("keepalived logs: Missing escape char at end: '{text}'"),
            crash,
            Some("remove the backslash at the end, or double it"),
        ),
        None => {}
    }
    None
}

/// The quote left open at the end of `text`, reading backslash escapes as keepalived does.
fn unclosed_quote(text: &str) -> Option<char> {
    let mut quote = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            _ => {}
        }
    }
    quote
}

#[cfg(test)]
mod tests;
