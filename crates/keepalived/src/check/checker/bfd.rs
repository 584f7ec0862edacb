//! `BFD_CHECK`: the real server follows a BFD session of a top-level `bfd_instance`.
//! keepalived does not run it as a checker: only `alpha` is inherited.
//!
//! keepalived drops a BFD_CHECK as soon as its `name` line is wrong and ignores the rest of
//! the block; whether the `bfd_instance` exists is for [`super::references`].

use super::{common, current, drop_current, mark_end, real_server, start, Method};
use crate::parse::{Ctx, Keyword};
use crate::problem::{Kind, Place};

/// keepalived's BFD names hold at most 31 bytes.
const NAME_MAX: usize = 31;

/// What a `BFD_CHECK` block says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bfd {
    /// The `bfd_instance` name, and the line naming it.
    pub name: Option<(String, Place)>,
    /// keepalived's name for the real server at the `name` line (`[address]:protocol:port`),
    /// for the complaints made once the file is read.
    pub server: String,
    /// keepalived refused the block at a `name` line: the checker is gone once the block ends.
    pub refused: bool,
}

pub fn keyword() -> Keyword {
    let sub = vec![Keyword::new("name", name), Keyword::new("alpha", alpha)];
    Keyword::block("BFD_CHECK", Some(open), sub, Some(close))
}

fn open(ctx: &mut Ctx<'_>, _words: &[String]) {
    start(ctx, Method::Bfd(Bfd::default()), false);
}

/// The BFD_CHECK being read, unless keepalived has already refused it.
fn bfd<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut Bfd> {
    match &mut current(ctx)?.method {
        Method::Bfd(b) if !b.refused => Some(b),
        _ => None,
    }
}

/// keepalived's name for the real server in its BFD complaints: `[address]:protocol:port`,
/// as known at this line.
pub fn server_name(ctx: &mut Ctx<'_>) -> String {
    let proto = ctx
        .config
        .check
        .virtual_servers
        .last()
        .and_then(|vs| vs.protocol)
        .map_or("none".to_string(), |p| p.name().to_ascii_lowercase());
    match real_server(ctx) {
        Some(rs) => format!("[{}]:{proto}:{}", rs.addr, rs.port),
        None => String::new(),
    }
}

fn name(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(previous) = bfd(ctx).map(|b| b.name.clone()) else {
        return;
    };
    let server = server_name(ctx);
    let problem = match (words.get(1), words.len()) {
        (Some(n), 2) => {
            let watched = real_server(ctx).is_some_and(|rs| {
                rs.checkers.iter().rev().skip(1).any(|c| {
                    matches!(&c.method, Method::Bfd(b) if b.name.as_ref().is_some_and(|(m, _)| m == n))
                })
            });
            if let Some((p, _)) = previous {
                Some(format!("({server}) BFD_CHECK - BFD {n} already specified as {p}"))
            } else if n.len() > NAME_MAX {
                Some(format!("({server}) BFD_CHECK - BFD name {n} too long"))
            } else if watched {
                Some(format!("({server}) BFD_CHECK - RS already monitoring {n}"))
            } else {
                None
            }
        }
        _ => Some(format!(
            "({server}) BFD_CHECK - No or too many names specified - skipping checker"
        )),
    };
    let at = ctx.at;
    match problem {
        Some(message) => {
            ctx.explain(
                Kind::General,
                message,
                Some("keepalived drops the BFD_CHECK and ignores the rest of its block"),
                None,
            );
            if let Some(b) = bfd(ctx) {
                b.refused = true;
            }
        }
        None => {
            let n = words.get(1).cloned().unwrap_or_default();
            if let Some(b) = bfd(ctx) {
                b.name = Some((n, at));
                b.server = server;
            }
        }
    }
}

fn alpha(ctx: &mut Ctx<'_>, words: &[String]) {
    if bfd(ctx).is_none() {
        return;
    }
    if let Some(a) = common::flag(ctx, words, "alpha") {
        if let Some(c) = current(ctx) {
            c.alpha = Some(a);
        }
    }
}

fn close(ctx: &mut Ctx<'_>) {
    mark_end(ctx);
    let refused = match current(ctx).map(|c| &c.method) {
        Some(Method::Bfd(b)) => b.refused,
        _ => return,
    };
    if refused {
        drop_current(ctx);
        return;
    }
    let unnamed = bfd(ctx).is_some_and(|b| b.name.is_none());
    if unnamed {
        let server = server_name(ctx);
        ctx.explain(
            Kind::General,
            format!("({server}) No name has been specified for BFD_CHECKER - skipping"),
            Some("keepalived drops the BFD_CHECK"),
            Some("add 'name' with a bfd_instance's name"),
        );
        drop_current(ctx);
    }
}
