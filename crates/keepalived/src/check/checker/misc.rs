//! `MISC_CHECK`: a script decides whether the real server is up (and, with `misc_dynamic`,
//! its weight).
//!
//! keepalived takes the script from the line's second word only, split again with quotes and
//! backslash escapes: `misc_path /bin/check a b` runs `/bin/check` without arguments, which
//! lvsd points out. Whether the script's user exists is not looked at here (lvsd reads no
//! system database); [`super::script_security`] covers the default user.

use super::split;
use super::{cmd_str, common, drop_current, mark_end, start, Method};
use crate::parse::{Ctx, Keyword};
use crate::problem::{Kind, Place};
use crate::script::Script;
use crate::value;

/// What a `MISC_CHECK` block says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Misc {
    /// `misc_path`: the command and its arguments.
    pub script: Option<Script>,
    /// `misc_timeout`, in seconds; keepalived uses the delay_loop when none is given.
    pub misc_timeout: Option<u32>,
    pub misc_dynamic: bool,
    /// `user`: user and group to run the script as.
    pub user: Option<(String, Option<String>)>,
    /// The `user` line, where keepalived names a user it cannot find.
    pub user_at: Option<Place>,
}

pub fn keyword() -> Keyword {
    let mut sub = common::keywords(None);
    sub.push(Keyword::new("misc_path", misc_path));
    sub.push(Keyword::new("misc_timeout", misc_timeout));
    sub.push(Keyword::new("misc_dynamic", misc_dynamic));
    sub.push(Keyword::new("user", user));
    Keyword::block("MISC_CHECK", Some(open), sub, Some(close))
}

fn open(ctx: &mut Ctx<'_>, _words: &[String]) {
    start(ctx, Method::Misc(Misc::default()), false);
}

fn misc<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut Misc> {
    match &mut super::current(ctx)?.method {
        Method::Misc(m) => Some(m),
        _ => None,
    }
}

fn misc_path(ctx: &mut Ctx<'_>, words: &[String]) {
    // keepalived reads the whole line again with quotes and escapes, then splits its second
    // word the same way into the command and its arguments.
    let text = ctx.line_text().trim().to_string();
    let Some(line) = split(ctx, &text) else {
        return;
    };
    let Some(command) = line.get(1) else {
        return;
    };
    let Some(args) = split(ctx, command) else {
        return;
    };
    if line.len() > 2 {
        ctx.explain(
            Kind::Advice,
            format!(
                "keepalived runs {} without the words after it",
                cmd_str(&args)
            ),
            Some("keepalived takes the command from one word only"),
            Some("put the command and its arguments in double quotes"),
        );
    }
    let _ = words;
    let at = ctx.at;
    if let Some(m) = misc(ctx) {
        m.script = Some(Script {
            at,
            args,
            user: None,
            group: None,
        });
    }
}

fn misc_timeout(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = ctx.arg(words, 1) else {
        return;
    };
    match value::unsigned(ctx, v, 0, u32::MAX / 1_000_000) {
        Some(n) => {
            if let Some(m) = misc(ctx) {
                m.misc_timeout = Some(n);
            }
        }
        None => ctx.report(Kind::General, format!("Invalid misc_timeout value '{v}'")),
    }
}

fn misc_dynamic(ctx: &mut Ctx<'_>, _words: &[String]) {
    if let Some(m) = misc(ctx) {
        m.misc_dynamic = true;
    }
}

fn user(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(name) = words.get(1) else {
        let shown = misc(ctx)
            .and_then(|m| m.script.as_ref().map(|s| cmd_str(&s.args)))
            .unwrap_or_default();
        ctx.report(
            Kind::General,
            format!("No user specified for misc checker script {shown}"),
        );
        return;
    };
    let group = words.get(2).cloned();
    let at = ctx.at;
    if let Some(m) = misc(ctx) {
        m.user = Some((name.clone(), group));
        m.user_at = Some(at);
    }
}

fn close(ctx: &mut Ctx<'_>) {
    mark_end(ctx);
    let Some(no_script) = misc(ctx).map(|m| m.script.is_none()) else {
        return;
    };
    if !no_script {
        if let Some(m) = misc(ctx) {
            if let (Some((user, group)), Some(script)) = (m.user.clone(), m.script.as_mut()) {
                script.user = Some(user);
                script.group = group;
            }
        }
        return;
    }
    {
        ctx.explain(
            Kind::General,
            "No script path has been specified for MISC_CHECKER - skipping",
            Some("keepalived drops the checker"),
            Some("add 'misc_path \"/path/to/script args\"'"),
        );
        drop_current(ctx);
    }
}
