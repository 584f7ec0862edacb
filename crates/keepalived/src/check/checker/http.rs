//! `HTTP_GET` and `SSL_GET`: fetch each `url` and compare its status code, its MD5 digest or
//! a regular expression.
//!
//! keepalived only logs (it does not report) its complaints about the regex keywords, so a
//! `keepalived -t` says nothing about them: lvsd gives them as advice.

use super::numbers::strtoul;
use super::{
    check_connection, common, current, drop_current, mark_end, real_server, split, start, Method,
};
use crate::parse::{Ctx, Keyword};
use crate::problem::{Kind, Place, Problem};
use crate::value;

/// What an `HTTP_GET` or `SSL_GET` block says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Http {
    /// `SSL_GET`.
    pub ssl: bool,
    pub urls: Vec<Url>,
    pub virtualhost: Option<String>,
    /// Default 1.0.
    pub http_protocol: Option<HttpProtocol>,
    pub enable_sni: Option<bool>,
    pub fast_recovery: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpProtocol {
    V1_0,
    V1_1,
    /// `1.0C`: 1.0 with `Connection: close`.
    V1_0C,
}

/// Status codes `first` to `last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusRange {
    pub first: u16,
    pub last: u16,
}

/// keepalived's status codes when a url gives none.
pub const DEFAULT_STATUS: StatusRange = StatusRange {
    first: 200,
    last: 299,
};

/// A `url` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    pub at: Place,
    pub path: Option<String>,
    pub digest: Option<[u8; 16]>,
    /// As given; 200-299 once the block ends when none is.
    pub status_codes: Vec<StatusRange>,
    pub virtualhost: Option<String>,
    pub regex: Option<String>,
    pub regex_no_match: bool,
    /// The PCRE2 options keepalived knows, as named.
    pub regex_options: Vec<String>,
    pub regex_min_offset: Option<u64>,
    /// The last offset a match may start at.
    pub regex_max_offset: Option<u64>,
    /// JIT stack start and max.
    pub regex_stack: Option<(u64, u64)>,
}

/// The PCRE2 options `regex_options` knows.
const REGEX_OPTIONS: [&str; 24] = [
    "allow_empty_class",
    "alt_bsux",
    "auto_callout",
    "caseless",
    "dollar_endonly",
    "dotall",
    "dupnames",
    "extended",
    "firstline",
    "match_unset_backref",
    "multiline",
    "never_ucp",
    "never_utf",
    "no_auto_capture",
    "no_auto_possess",
    "no_dotstar_anchor",
    "no_start_optimize",
    "ucp",
    "ungreedy",
    "utf",
    "never_backslash_c",
    "alt_circumflex",
    "alt_verbnames",
    "use_offset_limit",
];

pub fn keyword(name: &'static str) -> Keyword {
    let mut sub = common::keywords(Some(false));
    sub.push(Keyword::new("nb_get_retry", nb_get_retry));
    sub.push(Keyword::new("virtualhost", virtualhost));
    sub.push(Keyword::new("http_protocol", http_protocol));
    sub.push(Keyword::new("enable_sni", enable_sni));
    sub.push(Keyword::new("fast_recovery", fast_recovery));
    let url_keywords = vec![
        Keyword::new("path", path),
        Keyword::new("digest", digest),
        Keyword::new("status_code", status_code),
        Keyword::new("virtualhost", url_virtualhost),
        Keyword::new("regex", regex),
        Keyword::new("regex_no_match", regex_no_match),
        Keyword::new("regex_options", regex_options),
        Keyword::new("regex_min_offset", regex_min_offset),
        Keyword::new("regex_max_offset", regex_max_offset),
        Keyword::new("regex_stack", regex_stack),
    ];
    sub.push(Keyword::block(
        "url",
        Some(url),
        url_keywords,
        Some(url_end),
    ));
    Keyword::block(name, Some(open), sub, Some(close))
}

fn open(ctx: &mut Ctx<'_>, words: &[String]) {
    let ssl = words.first().is_some_and(|w| w == "SSL_GET");
    let http = Http {
        ssl,
        ..Http::default()
    };
    start(ctx, Method::Http(http), true);
}

fn http<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut Http> {
    match &mut current(ctx)?.method {
        Method::Http(h) => Some(h),
        _ => None,
    }
}

fn last_url<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut Url> {
    http(ctx)?.urls.last_mut()
}

fn nb_get_retry(ctx: &mut Ctx<'_>, words: &[String]) {
    let deprecated = Problem::new(
        Some(ctx.at),
        Kind::General,
        "nb_get_retry is deprecated - please use 'retry'",
    )
    .effect("keepalived still reads it (and counts the complaint in its exit status)")
    .hint("write 'retry' instead")
    .benign();
    ctx.problems.push(deprecated);
    let Some(v) = ctx.arg(words, 1) else {
        return;
    };
    match value::unsigned(ctx, v, 0, u32::MAX) {
        Some(n) => {
            if let Some(c) = current(ctx) {
                c.retry = Some(n);
            }
        }
        None => ctx.report(Kind::General, format!("Invalid nb_get_retry value '{v}'")),
    }
}

fn virtualhost(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = words.get(1) else {
        ctx.report(Kind::General, "HTTP_GET virtualhost name missing");
        return;
    };
    if let Some(h) = http(ctx) {
        h.virtualhost = Some(v.clone());
    }
}

fn http_protocol(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = words.get(1) else {
        ctx.report(Kind::General, "Missing http_protocol version");
        return;
    };
    let p = match v.as_str() {
        "1.0" => HttpProtocol::V1_0,
        "1.1" => HttpProtocol::V1_1,
        "1.0C" | "1.0c" => HttpProtocol::V1_0C,
        _ => {
            ctx.report(Kind::General, format!("Invalid http_protocol version {v}"));
            return;
        }
    };
    if let Some(h) = http(ctx) {
        h.http_protocol = Some(p);
    }
}

fn enable_sni(ctx: &mut Ctx<'_>, words: &[String]) {
    if let Some(b) = common::flag(ctx, words, "enable_sni") {
        if let Some(h) = http(ctx) {
            h.enable_sni = Some(b);
        }
    }
}

fn fast_recovery(ctx: &mut Ctx<'_>, words: &[String]) {
    if let Some(b) = common::flag(ctx, words, "fast_recovery") {
        if let Some(h) = http(ctx) {
            h.fast_recovery = Some(b);
        }
    }
}

fn url(ctx: &mut Ctx<'_>, _words: &[String]) {
    let at = ctx.at;
    if let Some(h) = http(ctx) {
        h.urls.push(Url {
            at,
            path: None,
            digest: None,
            status_codes: Vec::new(),
            virtualhost: None,
            regex: None,
            regex_no_match: false,
            regex_options: Vec::new(),
            regex_min_offset: None,
            regex_max_offset: None,
            regex_stack: None,
        });
    }
}

fn path(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = ctx.arg(words, 1) else {
        return;
    };
    if let Some(u) = last_url(ctx) {
        u.path = Some(v.to_string());
    }
}

fn digest(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = ctx.arg(words, 1) else {
        return;
    };
    let Some(duplicate) = last_url(ctx).map(|u| u.digest.is_some()) else {
        return;
    };
    if duplicate {
        ctx.report(Kind::General, format!("Digest '{v}' is a duplicate"));
        return;
    }
    match parse_digest(v) {
        Ok(d) => {
            if let Some(u) = last_url(ctx) {
                u.digest = Some(d);
            }
        }
        Err(message) => ctx.report(Kind::General, message),
    }
}

/// An MD5 digest as keepalived reads it: 32 bytes, taken two at a time from the end with
/// `strtoul`, so a pair such as ` f` or `+f` passes as a hex byte.
fn parse_digest(v: &str) -> Result<[u8; 16], String> {
    let b = v.as_bytes();
    if b.len() != 32 {
        return Err(format!(
            "digest '{v}' character length should be 32 rather than {}",
            b.len()
        ));
    }
    let mut out = [0u8; 16];
    for i in (0..16).rev() {
        let (n, used) = strtoul(&b[2 * i..2 * i + 2], 16);
        if used != 2 {
            // keepalived cuts the text after each pair it reads, so it shows what is left.
            let shown = String::from_utf8_lossy(&b[..2 * i + 2]);
            return Err(format!(
                "Unable to interpret hex digit in '{shown}' at offset {}/{}",
                2 * i,
                2 * i + 1
            ));
        }
        out[i] = n as u8;
    }
    Ok(out)
}

fn status_code(ctx: &mut Ctx<'_>, words: &[String]) {
    let mut ranges = Vec::new();
    for w in words.iter().skip(1) {
        match parse_status(w) {
            Some(r) => ranges.push(r),
            None => ctx.report(Kind::General, format!("Invalid HTTP_GET status code '{w}'")),
        }
    }
    if let Some(u) = last_url(ctx) {
        u.status_codes.extend(ranges);
    }
}

/// A status code or range `A-B` as keepalived's `strtoul` reads it: 100 to 599.
fn parse_status(w: &str) -> Option<StatusRange> {
    let b = w.as_bytes();
    let (min, used) = strtoul(b, 10);
    let mut rest = &b[used..];
    let max = if rest.first() == Some(&b'-') {
        let (max, used) = strtoul(&rest[1..], 10);
        rest = &rest[1 + used..];
        max
    } else {
        min
    };
    let ok = |n: u64| (100..=599).contains(&n);
    if !rest.is_empty() || !ok(min) || !ok(max) || min > max {
        return None;
    }
    Some(StatusRange {
        first: min as u16,
        last: max as u16,
    })
}

fn url_virtualhost(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = words.get(1) else {
        ctx.report(Kind::General, "Missing HTTP_GET virtualhost name");
        return;
    };
    if let Some(u) = last_url(ctx) {
        u.virtualhost = Some(v.clone());
    }
}

/// keepalived only logs this one: `-t` says nothing and keepalived goes on without the
/// setting.
fn logged_only(ctx: &mut Ctx<'_>, message: String, effect: &str) {
    ctx.explain(
        Kind::Advice,
        format!("keepalived logs: {message}"),
        Some(effect),
        None,
    );
}

fn regex(ctx: &mut Ctx<'_>, _words: &[String]) {
    // keepalived reads the line again with quotes and backslash escapes.
    let text = ctx.line_text().trim().to_string();
    let Some(words) = split(ctx, &text) else {
        return;
    };
    if words.len() != 2 {
        logged_only(
            ctx,
            "regex missing or too many fields".into(),
            "keepalived ignores the line; put the pattern in quotes",
        );
        return;
    }
    let pattern = words[1].clone();
    if let Some(u) = last_url(ctx) {
        u.regex = Some(pattern);
    }
}

fn regex_no_match(ctx: &mut Ctx<'_>, _words: &[String]) {
    if let Some(u) = last_url(ctx) {
        u.regex_no_match = true;
    }
}

fn regex_options(ctx: &mut Ctx<'_>, words: &[String]) {
    let mut known = Vec::new();
    for w in words.iter().skip(1) {
        if REGEX_OPTIONS.contains(&w.as_str()) {
            known.push(w.clone());
        } else {
            ctx.explain(
                Kind::Advice,
                format!("'{w}' is not a regex option keepalived knows"),
                Some("keepalived ignores it without a word"),
                Some("the options are PCRE2's, in lower case without PCRE2_: caseless, multiline, dotall, ..."),
            );
        }
    }
    if let Some(u) = last_url(ctx) {
        u.regex_options.extend(known);
    }
}

/// A regex offset as keepalived reads it; its complaints leave 0.
fn offset(ctx: &mut Ctx<'_>, words: &[String], kind: &str) -> u64 {
    if words.len() != 2 {
        logged_only(
            ctx,
            format!("Missing or too may options for regex_{kind}_offset"),
            "keepalived takes 0",
        );
        return 0;
    }
    let b = words[1].as_bytes();
    let (n, used) = strtoul(b, 10);
    if used != b.len() {
        logged_only(
            ctx,
            format!("Invalid regex_{kind}_offset {} specified", words[1]),
            "keepalived takes 0",
        );
        return 0;
    }
    n
}

fn regex_min_offset(ctx: &mut Ctx<'_>, words: &[String]) {
    let n = offset(ctx, words, "min");
    if let Some(u) = last_url(ctx) {
        u.regex_min_offset = (n != 0).then_some(n);
    }
}

fn regex_max_offset(ctx: &mut Ctx<'_>, words: &[String]) {
    let n = offset(ctx, words, "max");
    if let Some(u) = last_url(ctx) {
        u.regex_max_offset = Some(n);
    }
}

fn regex_stack(ctx: &mut Ctx<'_>, words: &[String]) {
    if words.len() != 3 {
        logged_only(
            ctx,
            "regex_stack requires start and max values".into(),
            "keepalived ignores the line",
        );
        return;
    }
    let read = |w: &String| {
        let (n, used) = strtoul(w.as_bytes(), 10);
        (used == w.len()).then_some(n)
    };
    let Some(first) = read(&words[1]) else {
        logged_only(
            ctx,
            "regex_stack invalid start value".into(),
            "keepalived ignores the line",
        );
        return;
    };
    let Some(max) = read(&words[2]) else {
        logged_only(
            ctx,
            "regex_stack invalid max value".into(),
            "keepalived ignores the line",
        );
        return;
    };
    if first > max {
        logged_only(
            ctx,
            "regex stack start cannot exceed max value".into(),
            "keepalived ignores the line",
        );
        return;
    }
    if let Some(u) = last_url(ctx) {
        u.regex_stack = Some((first, max));
    }
}

/// The end of a `url` block (keepalived's `url_check`).
fn url_end(ctx: &mut Ctx<'_>) {
    let Some(u) = last_url(ctx) else {
        return;
    };
    if u.path.is_none() {
        ctx.explain(
            Kind::General,
            "HTTP/SSL_GET checker url has no path - ignoring",
            Some("keepalived drops the url"),
            Some("add 'path /' (or the path to fetch)"),
        );
        if let Some(h) = http(ctx) {
            h.urls.pop();
        }
        return;
    }
    if u.status_codes.is_empty() {
        u.status_codes.push(DEFAULT_STATUS);
    }
    let orphan = u.regex.is_none()
        && (!u.regex_options.is_empty()
            || u.regex_no_match
            || u.regex_min_offset.is_some()
            || u.regex_max_offset.is_some()
            || u.regex_stack.is_some());
    if orphan {
        u.regex_options.clear();
        u.regex_no_match = false;
        u.regex_min_offset = None;
        u.regex_max_offset = None;
        u.regex_stack = None;
        logged_only(
            ctx,
            "regex parameters specified without regex".into(),
            "keepalived drops the regex settings of this url",
        );
        return;
    }
    let Some(u) = last_url(ctx) else {
        return;
    };
    if let Some(max) = u.regex_max_offset {
        let min = u.regex_min_offset.unwrap_or(0);
        if min > max {
            u.regex_min_offset = None;
            u.regex_max_offset = None;
            logged_only(
                ctx,
                format!("regex min offset {min} > regex_max_offset {max} - ignoring"),
                "keepalived drops both offsets",
            );
        }
    }
}

/// The end of an `HTTP_GET`/`SSL_GET` block.
fn close(ctx: &mut Ctx<'_>) {
    mark_end(ctx);
    let Some(no_urls) = http(ctx).map(|h| h.urls.is_empty()) else {
        return;
    };
    if no_urls {
        // Measured: keepalived 2.2.7 goes on with the checker it has just freed and dies of
        // a segmentation fault (exit 139), `-t` included.
        ctx.explain(
            Kind::Crash,
            "HTTP/SSL_GET checker has no urls specified - ignoring",
            Some("keepalived 2.2.7 then crashes (segmentation fault, exit status 139)"),
            Some("give the checker a 'url { path / }' block"),
        );
        drop_current(ctx);
        return;
    }
    let Some(rs) = real_server(ctx) else {
        return;
    };
    let addr = rs.addr;
    let Some(conn) = rs.checkers.last().and_then(|c| c.conn.clone()) else {
        return;
    };
    if !check_connection(ctx, &conn, addr) {
        drop_current(ctx);
    }
}
