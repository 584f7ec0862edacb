//! `UDP_CHECK`: a datagram to the real server, and optionally a reply to compare.
//!
//! Without `max_reply_length` keepalived takes 255, so with `require_reply` a longer reply
//! fails the check: lvsd points that out.

use super::{common, current, end_connecting, start, Method};
use crate::parse::{Ctx, Keyword};
use crate::problem::Kind;
use crate::value;

/// keepalived's longest reply when `max_reply_length` is not given.
pub const DEFAULT_MAX_REPLY: u16 = 255;

/// What a `UDP_CHECK` block says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Udp {
    pub payload: Option<Vec<u8>>,
    pub require_reply: bool,
    /// The reply expected, if given.
    pub reply: Option<HexPattern>,
    /// Default 0.
    pub min_reply_length: Option<u16>,
    /// Default [`DEFAULT_MAX_REPLY`].
    pub max_reply_length: Option<u16>,
}

/// Bytes given in hex, with `X` for a wildcard nibble where allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HexPattern {
    pub data: Vec<u8>,
    /// Per byte, the bits that are wildcards; `None` when there are none.
    pub mask: Option<Vec<u8>>,
}

pub fn keyword() -> Keyword {
    let mut sub = common::keywords(Some(false));
    sub.push(Keyword::new("payload", payload));
    sub.push(Keyword::new("require_reply", require_reply));
    sub.push(Keyword::new("min_reply_length", min_reply_length));
    sub.push(Keyword::new("max_reply_length", max_reply_length));
    Keyword::block("UDP_CHECK", Some(open), sub, Some(close))
}

fn open(ctx: &mut Ctx<'_>, _words: &[String]) {
    start(ctx, Method::Udp(Udp::default()), true);
}

fn udp<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut Udp> {
    match &mut current(ctx)?.method {
        Method::Udp(u) => Some(u),
        _ => None,
    }
}

/// keepalived's `read_hex_str`: pairs of hex digits, blanks between bytes allowed, a lone
/// digit before a space a byte of its own; `X` a wildcard nibble when `wildcards`.
pub fn read_hex(s: &str, wildcards: bool) -> Option<HexPattern> {
    fn nibble(c: u8, wildcards: bool) -> Option<Option<u8>> {
        let up = if c >= b'a' { c - 32 } else { c };
        match up {
            b'0'..=b'9' => Some(Some(up - b'0')),
            b'A'..=b'F' => Some(Some(up - b'A' + 10)),
            b'X' if wildcards => Some(None),
            _ => None,
        }
    }
    let b = s.as_bytes();
    let mut data = Vec::new();
    let mut mask = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        let Some(&c) = b.get(i) else {
            break;
        };
        i += 1;
        let first = nibble(c, wildcards)?;
        let (mut v, mut m) = (first.unwrap_or(0), if first.is_none() { 0x0f } else { 0 });
        if let Some(&c2) = b.get(i).filter(|c| **c != b' ') {
            i += 1;
            let second = nibble(c2, wildcards)?;
            v = (v << 4) | second.unwrap_or(0);
            m = (m << 4) | if second.is_none() { 0x0f } else { 0 };
        }
        data.push(v);
        mask.push(m);
    }
    if data.is_empty() {
        return None;
    }
    let mask = mask.iter().any(|m| *m != 0).then_some(mask);
    Some(HexPattern { data, mask })
}

fn payload(ctx: &mut Ctx<'_>, words: &[String]) {
    if words.len() < 2 {
        ctx.report(Kind::General, "UDP_CHECK payload requires a payload");
        return;
    }
    let parsed = read_hex(&words[1..].join(" "), false);
    if parsed.is_none() {
        ctx.explain(
            Kind::General,
            "Invalid hex string for UDP_CHECK payload",
            Some("keepalived sends an empty datagram"),
            Some("give the payload as hex digits, such as 'payload 0102 ff'"),
        );
    }
    if let Some(u) = udp(ctx) {
        u.payload = parsed.map(|p| p.data);
    }
}

fn require_reply(ctx: &mut Ctx<'_>, words: &[String]) {
    if let Some(u) = udp(ctx) {
        u.require_reply = true;
    }
    if words.len() < 2 {
        return;
    }
    let parsed = read_hex(&words[1..].join(" "), true);
    if parsed.is_none() {
        ctx.report(Kind::General, "Invalid hex string for UDP_CHECK reply");
    }
    if let Some(u) = udp(ctx) {
        u.reply = parsed;
    }
}

fn length(ctx: &mut Ctx<'_>, words: &[String], which: &str) -> Option<u16> {
    let v = ctx.arg(words, 1)?;
    let n = value::unsigned(ctx, v, 0, 65535).and_then(|n| u16::try_from(n).ok());
    if n.is_none() {
        ctx.report(
            Kind::General,
            format!("UDP_CHECK {which} length {v} not valid - must be between 0 & 65535"),
        );
    }
    n
}

fn min_reply_length(ctx: &mut Ctx<'_>, words: &[String]) {
    if let Some(n) = length(ctx, words, "min") {
        if let Some(u) = udp(ctx) {
            u.min_reply_length = Some(n);
        }
    }
}

fn max_reply_length(ctx: &mut Ctx<'_>, words: &[String]) {
    if let Some(n) = length(ctx, words, "max") {
        if let Some(u) = udp(ctx) {
            u.max_reply_length = Some(n);
        }
    }
}

fn close(ctx: &mut Ctx<'_>) {
    if !end_connecting(ctx) {
        return;
    }
    let Some(u) = udp(ctx).cloned() else {
        return;
    };
    let min = u.min_reply_length.unwrap_or(0);
    let max = u.max_reply_length.unwrap_or(DEFAULT_MAX_REPLY);
    if min > max {
        ctx.report(
            Kind::General,
            format!("UDP_CHECK min_reply length {min} > max_reply_length {max} - will always fail"),
        );
    } else if u.require_reply && u.max_reply_length.is_none() {
        ctx.explain(
            Kind::Advice,
            "a reply longer than 255 bytes fails this check",
            Some("keepalived takes max_reply_length 255 when it is not given"),
            Some("give max_reply_length if the reply can be longer"),
        );
    }
}
