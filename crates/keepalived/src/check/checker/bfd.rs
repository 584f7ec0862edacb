//! `BFD_CHECK`: the real server follows a BFD session of a top-level `bfd_instance`.
//! keepalived does not run it as a checker: only `alpha` is inherited.
//!
//! keepalived drops a BFD_CHECK as soon as a `name` line is wrong and ignores the rest of the
//! block. Its first test of a name is whether the `bfd_instance` exists, which needs those
//! blocks: so only the count of names is checked here, and [`super::references`] makes the
//! others in keepalived's order.

use super::{common, current, drop_current, mark_end, real_server, start, Method};
use crate::parse::{Ctx, Keyword};
use crate::problem::{Kind, Place, Problem, Problems};

/// keepalived's BFD names hold at most 31 bytes.
const NAME_MAX: usize = 31;

/// What a `BFD_CHECK` block says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bfd {
    /// The `bfd_instance` name, and the line naming it: the first given, until
    /// [`super::references`] settles it.
    pub name: Option<(String, Place)>,
    /// Every `name` line with one name, in order, for [`super::references`].
    pub name_lines: Vec<(String, Place)>,
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
    if bfd(ctx).is_none() {
        return;
    }
    let server = server_name(ctx);
    let at = ctx.at;
    let (Some(n), 2) = (words.get(1), words.len()) else {
        ctx.explain(
            Kind::General,
            format!("({server}) BFD_CHECK - No or too many names specified - skipping checker"),
            Some("keepalived drops the BFD_CHECK and ignores the rest of its block"),
            None,
        );
        if let Some(b) = bfd(ctx) {
            b.refused = true;
        }
        return;
    };
    if let Some(b) = bfd(ctx) {
        if b.name.is_none() {
            b.name = Some((n.clone(), at));
        }
        b.name_lines.push((n.clone(), at));
        b.server = server;
    }
}

/// keepalived's tests of a BFD_CHECK's `name` lines, given the `bfd_instance` names and the
/// names the real server's earlier BFD_CHECKs follow: the name it ends with, or `None` after
/// its complaint (keepalived then drops the checker).
pub fn settle(
    b: &Bfd,
    instances: &[&str],
    watched: &[String],
    problems: &mut Problems,
) -> Option<String> {
    let mut name: Option<&str> = None;
    for (n, at) in &b.name_lines {
        let server = &b.server;
        let message = if !instances.contains(&n.as_str()) {
            format!("({server}) BFD_CHECK - BFD {n} not configured")
        } else if let Some(p) = name {
            format!("({server}) BFD_CHECK - BFD {n} already specified as {p}")
        } else if n.len() > NAME_MAX {
            format!("({server}) BFD_CHECK - BFD name {n} too long")
        } else if watched.contains(n) {
            format!("({server}) BFD_CHECK - RS already monitoring {n}")
        } else {
            name = Some(n);
            continue;
        };
        problems.push(
            Problem::new(Some(*at), Kind::General, message)
                .effect("keepalived drops the BFD_CHECK and ignores the rest of its block"),
        );
        return None;
    }
    name.map(str::to_string)
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
