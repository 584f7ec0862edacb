//! `SMTP_CHECK`: an SMTP greeting and HELO, with the deprecated `host` blocks (one more
//! checker each).
//!
//! keepalived settles an SMTP_CHECK's connection when its block ends, not when it begins as
//! for the others: the real server's address and port then, and its connect_timeout as the
//! real server (else the virtual server) gives it up to that line. A `host` block's
//! connection starts at the real server's address but with a connect_timeout of 0, which
//! keepalived never replaces.

use super::{check_connection, common, current, drop_current, mark_end, real_server, start};
use super::{Connection, Method};
use crate::parse::{Ctx, Keyword};
use crate::problem::{Kind, Place};

/// keepalived's HELO name when none is given.
pub const DEFAULT_HELO: &str = "smtpchecker.keepalived.org";

/// What an `SMTP_CHECK` block says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Smtp {
    /// Default [`DEFAULT_HELO`].
    pub helo_name: Option<String>,
    /// The `host` blocks' connections that keepalived checks with copies of this checker.
    /// When the block itself sets no connection keyword, keepalived checks the first host
    /// with this checker instead: the block's end moves it to the checker's `conn`.
    pub hosts: Vec<Connection>,
    /// The `host` blocks' lines, in the order of `hosts`.
    pub host_lines: Vec<Place>,
}

pub fn keyword() -> Keyword {
    let mut sub = vec![Keyword::new("helo_name", helo_name)];
    sub.extend(common::keywords(Some(false)));
    sub.push(Keyword::block(
        "host",
        Some(host),
        common::keywords(Some(true)),
        Some(host_end),
    ));
    Keyword::block("SMTP_CHECK", Some(open), sub, Some(close))
}

fn open(ctx: &mut Ctx<'_>, _words: &[String]) {
    start(ctx, Method::Smtp(Smtp::default()), true);
}

fn smtp<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut Smtp> {
    match &mut current(ctx)?.method {
        Method::Smtp(s) => Some(s),
        _ => None,
    }
}

fn helo_name(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = words.get(1) else {
        ctx.report(Kind::General, "SMTP_CHECK helo name missing");
        return;
    };
    if let Some(s) = smtp(ctx) {
        s.helo_name = Some(v.clone());
    }
}

fn host(ctx: &mut Ctx<'_>, _words: &[String]) {
    let at = ctx.at;
    let Some(port) = real_server(ctx).map(|rs| rs.port) else {
        return;
    };
    if let Some(s) = smtp(ctx) {
        s.hosts.push(Connection {
            port_at_start: port,
            ..Connection::default()
        });
        s.host_lines.push(at);
    }
}

fn host_end(ctx: &mut Ctx<'_>) {
    let Some(addr) = real_server(ctx).map(|rs| rs.addr) else {
        return;
    };
    let Some(conn) = smtp(ctx).and_then(|s| s.hosts.last().cloned()) else {
        return;
    };
    if !check_connection(ctx, &conn, addr) {
        if let Some(s) = smtp(ctx) {
            s.hosts.pop();
            s.host_lines.pop();
        }
        return;
    }
    if conn.connect_timeout.is_none() {
        // Read from keepalived's source (not measurable with -t): the host's connection is
        // allocated zeroed, and only an unset (not a zero) timeout is replaced.
        ctx.explain(
            Kind::Advice,
            "this host's connect_timeout is 0 for keepalived: its connection times out at once",
            Some(
                "keepalived gives a host block neither the checker's nor the real server's \
                 connect_timeout, so the check of this host fails",
            ),
            Some("give the host block its own connect_timeout"),
        );
        if let Some(h) = smtp(ctx).and_then(|s| s.hosts.last_mut()) {
            h.connect_timeout = Some(0);
        }
    }
}

fn close(ctx: &mut Ctx<'_>) {
    mark_end(ctx);
    let Some((addr, port, rs_timeout)) =
        real_server(ctx).map(|rs| (rs.addr, rs.port, rs.connect_timeout))
    else {
        return;
    };
    let vs_timeout = ctx
        .config
        .check
        .virtual_servers
        .last()
        .map(|vs| vs.connect_timeout);
    let Some(c) = current(ctx) else {
        return;
    };
    let Method::Smtp(s) = &mut c.method else {
        return;
    };
    let Some(conn) = c.conn.as_mut() else {
        return;
    };
    // What keepalived counts as the block giving its own connection: an unreadable
    // connect_ip counts for nothing (the real server's address is taken), nor does fwmark 0.
    let own = conn.connect_ip.is_some()
        || conn.connect_port.is_some()
        || conn.bindto.is_some()
        || conn.bind_port.is_some()
        || conn.bind_if.is_some()
        || conn.fwmark.is_some_and(|m| m != 0)
        || conn.connect_timeout.is_some();
    conn.connect_ip_invalid = false;
    if !own && !s.hosts.is_empty() {
        *conn = s.hosts.remove(0);
        s.host_lines.remove(0);
    } else {
        conn.port_at_start = port;
        let conn = conn.clone();
        if !check_connection(ctx, &conn, addr) {
            drop_current(ctx);
            return;
        }
    }
    let timeout = rs_timeout.or(vs_timeout);
    if let Some(conn) = current(ctx).and_then(|c| c.conn.as_mut()) {
        if conn.connect_timeout.is_none() {
            conn.connect_timeout = timeout;
        }
    }
}
