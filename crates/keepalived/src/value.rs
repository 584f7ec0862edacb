//! Values as keepalived's readers read them (`read_unsigned`, `read_int`, `read_timer`,
//! `check_true_false`, `inet_stosockaddr`), with the messages its `-t` prints: a value it
//! refuses leaves the setting as it was. A malformed number is refused as `keepalived -t`
//! refuses it, where keepalived's daemon would keep what C's `strtoul` makes of it ("12x" as
//! 12, "heavy" as 0): lvsd does not guess a number from a word that is not one.

use crate::parse::Ctx;
use crate::problem::Kind;
use std::net::IpAddr;

/// C's `strtoul`/`strtol` in base 10 over `s`: the value (saturated), whether digits were
/// read, and the rest.
fn strtol(s: &str) -> (i128, bool, &str) {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return (0, false, s);
    }
    let mut v: i128 = 0;
    for b in body[..digits].bytes() {
        v = (v * 10 + i128::from(b - b'0')).min(i128::from(u64::MAX) + 1);
    }
    (if neg { -v } else { v }, true, &body[digits..])
}

/// keepalived's `read_unsigned`: the number, or `None` with keepalived's complaint reported.
pub fn unsigned(ctx: &mut Ctx<'_>, s: &str, min: u32, max: u32) -> Option<u32> {
    let (v, digits, rest) = strtol(s);
    let trimmed = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let in_range = v >= i128::from(min) && v <= i128::from(max);
    if trimmed.starts_with('-') {
        ctx.report(Kind::InvalidNumber, format!("negative number '{s}'"));
        return None;
    }
    if !rest.is_empty() || !digits {
        ctx.report(Kind::InvalidNumber, format!("invalid number '{s}'"));
        // keepalived's daemon (not -t) keeps the digits it read.
        return None;
    }
    if v > i128::from(u32::MAX) {
        ctx.report(
            Kind::InvalidNumber,
            format!("number '{s}' outside unsigned integer range"),
        );
        return None;
    }
    if !in_range {
        ctx.report(
            Kind::InvalidNumber,
            format!("number '{s}' outside range [{min}, {max}]"),
        );
        return None;
    }
    Some(v as u32)
}

/// keepalived's `read_int`.
pub fn int(ctx: &mut Ctx<'_>, s: &str, min: i32, max: i32) -> Option<i32> {
    let (v, digits, rest) = strtol(s);
    let in_range = v >= i128::from(min) && v <= i128::from(max);
    if !rest.is_empty() || !digits {
        ctx.report(Kind::InvalidNumber, format!("invalid number '{s}'"));
        return None;
    }
    if v < i128::from(i32::MIN) || v > i128::from(i32::MAX) {
        ctx.report(
            Kind::InvalidNumber,
            format!("number '{s}' outside integer range"),
        );
        return None;
    }
    if !in_range {
        ctx.report(
            Kind::InvalidNumber,
            format!("number '{s}' outside range [{min}, {max}]"),
        );
        return None;
    }
    Some(v as i32)
}

/// keepalived's `read_decimal_unsigned_long`: a decimal with up to `shift` places, returned
/// times 10^`shift`; `min` and `max` in those units.
pub fn decimal(ctx: &mut Ctx<'_>, s: &str, min: u64, max: u64, shift: u32) -> Option<u64> {
    if s.starts_with('-') {
        ctx.report(Kind::InvalidNumber, format!("negative number '{s}'"));
        return None;
    }
    let (int_part, frac) = match s.find('.') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    };
    let mut frac = frac.to_string();
    let mut round_up = false;
    if frac.len() > shift as usize {
        ctx.report(
            Kind::InvalidNumber,
            format!("number '{s}' has too many decimal places"),
        );
        round_up = frac.as_bytes()[shift as usize] >= b'5';
        // Cut on a character: the digits read up to a non-digit anyway.
        let mut cut = shift as usize;
        while !frac.is_char_boundary(cut) {
            cut -= 1;
        }
        frac.truncate(cut);
    }
    while frac.len() < shift as usize {
        frac.push('0');
    }
    let joined = format!("{int_part}{frac}");
    let (v, digits, rest) = strtol(&joined);
    let v = if round_up { v + 1 } else { v };
    if !rest.is_empty() || !digits {
        ctx.report(Kind::InvalidNumber, format!("invalid number '{s}'"));
        return None;
    }
    if v > i128::from(u64::MAX) {
        ctx.report(
            Kind::InvalidNumber,
            format!("number '{s}' outside unsigned decimal range"),
        );
        return None;
    }
    if v < i128::from(min) || v > i128::from(max) {
        let unit = 10u64.pow(shift);
        let w = shift as usize;
        ctx.report(
            Kind::InvalidNumber,
            format!(
                "number '{s}' outside range [{}.{:0w$}, {}.{:0w$}]",
                min / unit,
                min % unit,
                max / unit,
                max % unit
            ),
        );
        return None;
    }
    Some(v as u64)
}

/// keepalived's `read_timer`: seconds with up to six decimal places, in microseconds.
pub fn timer(ctx: &mut Ctx<'_>, s: &str, min_us: u64, max_us: u64) -> Option<u64> {
    let max = if max_us == 0 { u64::MAX - 1 } else { max_us };
    decimal(ctx, s, min_us, max, 6)
}

/// keepalived's `check_true_false`.
pub fn true_false(s: &str) -> Option<bool> {
    match s {
        "true" | "on" | "yes" => Some(true),
        "false" | "off" | "no" => Some(false),
        _ => None,
    }
}

/// An address as `inet_stosockaddr` reads it: the family from whether it has a `:`, and
/// anything from a `-` or `/` on ignored.
pub fn address(s: &str) -> Option<IpAddr> {
    // keepalived cuts at a `-` if there is one, else at a `/`.
    let end = s.find('-').or_else(|| s.find('/')).unwrap_or(s.len());
    let a = &s[..end];
    if s.contains(':') {
        a.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        ipv4_pton(a).map(IpAddr::V4)
    }
}

/// `inet_pton(AF_INET)`: exactly four decimal parts, no leading zeros beyond one digit.
pub fn ipv4_pton(s: &str) -> Option<std::net::Ipv4Addr> {
    s.parse().ok()
}

/// keepalived's `check_valid_ipaddress`: an address, with `/prefix` if allowed.
pub fn valid_address(s: &str, allow_prefix: bool) -> bool {
    if !s.contains([':', '.']) {
        return false;
    }
    let v6 = s.contains(':');
    let (a, prefix) = match s.find('/').filter(|_| allow_prefix) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    if let Some(p) = prefix {
        let max = if v6 { 128 } else { 32 };
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        if p.parse::<u32>().map_or(true, |n| n > max) {
            return false;
        }
    }
    if v6 {
        a.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        ipv4_pton(a).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtol_reads_like_c() {
        assert_eq!(strtol(" 12x"), (12, true, "x"));
        assert_eq!(strtol("-3"), (-3, true, ""));
        assert!(!strtol("x").1);
    }

    #[test]
    fn addresses() {
        assert!(address("192.0.2.1/24").is_some());
        assert!(address("192.0.2.1-10").is_some());
        assert!(address("2001:db8::1").is_some());
        assert!(address("192.0.2").is_none());
        assert!(valid_address("192.0.2.0/24", true));
        assert!(!valid_address("192.0.2.0/33", true));
        assert!(!valid_address("eth0", true));
    }
}
