//! The files `FILE_CHECK`s watch, read as keepalived reads them: the number at the start of
//! the file (C's `strtol` with base 0: decimal, `0x` hex, `0` octal), 0 for a missing, empty
//! or unreadable file.

use std::io::Read;

use keepalived::Config;

/// The number in `path`; `None` for one out of keepalived's range, which it ignores.
pub fn read_value(path: &str) -> Option<i64> {
    let mut buf = [0u8; 127];
    let len = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut buf))
        .unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..len]);
    let value = strtol(&text)?;
    (i64::from(i32::MIN)..=i64::from(i32::MAX) + 1)
        .contains(&value)
        .then_some(value)
}

/// C's `strtol(text, NULL, 0)`: leading blanks, a sign, a base prefix, then digits as far as
/// they go; no digits is 0. `None` where it would overflow.
fn strtol(text: &str) -> Option<i64> {
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if h.starts_with(|c: char| c.is_ascii_hexdigit()) {
            (16, h)
        } else {
            (10, "0")
        }
    } else if t.starts_with('0') {
        (8, t)
    } else {
        (10, t)
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    if end == 0 {
        return Some(0);
    }
    let magnitude = i64::from_str_radix(&digits[..end], radix).ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

/// keepalived's `init_file`: a tracked file created at start with its value (0 if none),
/// or written over with `overwrite`.
pub fn init(config: &Config) -> Vec<String> {
    let mut failures = Vec::new();
    for t in &config.vrrp.track_files {
        let (Some(path), Some((value, overwrite))) = (&t.file, t.init_file) else {
            continue;
        };
        if overwrite || !std::path::Path::new(path).exists() {
            if let Err(e) = std::fs::write(path, format!("{}\n", value.unwrap_or(0))) {
                failures.push(format!("track_file {}: cannot write {path}: {e}", t.name));
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::strtol;

    #[test]
    fn numbers_as_strtol_reads_them() {
        for (text, want) in [
            ("42\n", Some(42)),
            ("  -7 apples", Some(-7)),
            ("0x1f", Some(31)),
            ("010", Some(8)),
            ("0x", Some(0)),
            ("", Some(0)),
            ("up", Some(0)),
            ("99999999999999999999", None),
        ] {
            assert_eq!(strtol(text), want, "{text:?}");
        }
    }
}
