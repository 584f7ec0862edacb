//! `MISC_CHECK`: a script decides whether the real server is up (and, with `misc_dynamic`,
//! its weight).
//!
//! keepalived takes the script from the line's second word only, split again with quotes and
//! backslash escapes: `misc_path /bin/check a b` runs `/bin/check` without arguments, which
//! lvsd points out. Whether the script's user exists is not looked at here (lvsd reads no
//! system database); [`super::script_security`] covers the default user.

use super::{cmd_str, common, drop_current, mark_end, start, Method};
use crate::check::Script;
use crate::parse::{Ctx, Keyword};
use crate::problem::Kind;
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
    let Some(command) = words.get(1) else {
        return;
    };
    let args = match split_quoted_escaped(command) {
        Ok(args) if !args.is_empty() => args,
        Ok(_) => return,
        Err(Some(quote)) => {
            ctx.report(
                Kind::UnmatchedQuote,
                format!("String '{command}': missing terminating {quote}"),
            );
            return;
        }
        Err(None) => {
            ctx.explain(
                Kind::Advice,
                format!("keepalived logs: Missing escape char at end: '{command}'"),
                Some("keepalived ignores the line"),
                None,
            );
            return;
        }
    };
    if words.len() > 2 {
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
    let at = ctx.at;
    if let Some(m) = misc(ctx) {
        m.script = Some(Script { at, args });
    }
}

fn misc_timeout(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = ctx.arg(words, 1) else {
        return;
    };
    match value::unsigned(ctx, v, 0, u32::MAX / 1_000_000, true) {
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
    if let Some(m) = misc(ctx) {
        m.user = Some((name.clone(), group));
    }
}

fn close(ctx: &mut Ctx<'_>) {
    mark_end(ctx);
    let Some(no_script) = misc(ctx).map(|m| m.script.is_none()) else {
        return;
    };
    if no_script {
        ctx.explain(
            Kind::General,
            "No script path has been specified for MISC_CHECKER - skipping",
            Some("keepalived drops the checker"),
            Some("add 'misc_path \"/path/to/script args\"'"),
        );
        drop_current(ctx);
    }
}

/// keepalived's `alloc_strvec_quoted_escaped`: words split at blanks, with `'…'` and `"…"`
/// quoting and C-like backslash escapes. `Err(Some(q))` for an unclosed quote `q`,
/// `Err(None)` for a backslash at the end.
pub fn split_quoted_escaped(s: &str) -> Result<Vec<String>, Option<char>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let blank = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    loop {
        while i < b.len() && blank(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let mut word: Vec<u8> = Vec::new();
        let mut quote: Option<u8> = None;
        while i < b.len() {
            let c = b[i];
            match quote {
                Some(q) if c == q => {
                    quote = None;
                    i += 1;
                    continue;
                }
                None if c == b'"' || c == b'\'' => {
                    quote = Some(c);
                    i += 1;
                    continue;
                }
                None if blank(c) => break,
                _ => {}
            }
            if c != b'\\' {
                word.push(c);
                i += 1;
                continue;
            }
            i += 1;
            let Some(&e) = b.get(i) else {
                return Err(None);
            };
            let is_hex = |x: Option<&u8>| x.is_some_and(u8::is_ascii_hexdigit);
            if e == b'x' && is_hex(b.get(i + 1)) {
                i += 1;
                let mut v: u8 = 0;
                while is_hex(b.get(i)) {
                    let d = (b[i] as char).to_digit(16).unwrap_or(0) as u8;
                    v = (v << 4) | d;
                    i += 1;
                }
                word.push(v);
            } else if e == b'c' && b.get(i + 1).is_some() {
                word.push(b[i + 1] & 0x1f);
                i += 2;
            } else if (b'0'..=b'7').contains(&e) {
                let mut v: u8 = 0;
                let mut n = 0;
                while n < 3 && b.get(i).is_some_and(|d| (b'0'..=b'7').contains(d)) {
                    v = (v << 3).wrapping_add(b[i] - b'0');
                    i += 1;
                    n += 1;
                }
                word.push(v);
            } else {
                word.push(match e {
                    b'a' => 0x07,
                    b'b' => 0x08,
                    b'E' => 0x1b,
                    b'f' => 0x0c,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'v' => 0x0b,
                    other => other,
                });
                i += 1;
            }
        }
        if let Some(q) = quote {
            return Err(Some(q as char));
        }
        out.push(String::from_utf8_lossy(&word).into_owned());
    }
    Ok(out)
}
