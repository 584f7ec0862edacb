//! Scripts named in the configuration (`notify_up`, `quorum_up`, `misc_path`, `notify_master`,
//! `script`, ...): the command as keepalived splits it into an argument vector, and the user
//! and group to run it as. lvsd runs that vector as it is, never through a shell.

use crate::parse::Ctx;
use crate::problem::{Kind, Place};

/// A script and its arguments, and whom to run it as (`None`: keepalived's `script_user`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    pub at: Place,
    pub args: Vec<String>,
    pub user: Option<String>,
    pub group: Option<String>,
}

/// The script of the line being read, as keepalived's `notify_script_init` reads it: the line
/// split with quotes and escapes, its second word split again into the command and its
/// arguments, then an optional user and group.
pub fn of_line(ctx: &mut Ctx<'_>) -> Option<Script> {
    let text = ctx.line_text().to_string();
    let Some(words) = quoted_escaped(&text) else {
        ctx.report(
            Kind::General,
            format!("Unable to parse notify script - ignoring '{text}'"),
        );
        return None;
    };
    let Some(args) = words.get(1).and_then(|w| quoted_escaped(w)) else {
        ctx.report(
            Kind::General,
            format!(
                "Unable to parse script '{}' - ignoring",
                words.get(1).map_or("", String::as_str)
            ),
        );
        return None;
    };
    Some(Script {
        at: ctx.at,
        args,
        user: words.get(2).cloned(),
        group: words.get(3).cloned(),
    })
}

/// keepalived's `alloc_strvec_quoted_escaped`: words split at blanks, where single or double
/// quotes keep blanks in a word and a backslash escapes (`\n`, `\t`, `\x41`, `\101`, `\cX`,
/// ...). `None` for an unterminated quote or a backslash at the end, or no word at all.
pub fn quoted_escaped(text: &str) -> Option<Vec<String>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let white = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    while i < b.len() {
        while i < b.len() && white(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let mut word: Vec<u8> = Vec::new();
        let mut quote: Option<u8> = None;
        while i < b.len() {
            let c = b[i];
            match (quote, c) {
                (_, b'\\') => {
                    i += 1;
                    let (byte, used) = escape(b.get(i..)?)?;
                    word.push(byte);
                    i += used;
                }
                (Some(q), c) if c == q => {
                    quote = None;
                    i += 1;
                }
                (Some(_), c) => {
                    word.push(c);
                    i += 1;
                }
                (None, b'"' | b'\'') => {
                    quote = Some(c);
                    i += 1;
                }
                (None, c) if white(c) => break,
                (None, c) => {
                    word.push(c);
                    i += 1;
                }
            }
        }
        if quote.is_some() {
            return None;
        }
        out.push(String::from_utf8_lossy(&word).into_owned());
    }
    (!out.is_empty()).then_some(out)
}

/// The byte an escape after a backslash stands for, and how many bytes it took.
fn escape(s: &[u8]) -> Option<(u8, usize)> {
    let c = *s.first()?;
    let hex = |c: u8| (c as char).to_digit(16);
    Some(match c {
        b'x' if s.get(1).copied().and_then(hex).is_some() => {
            let digits = s[1..].iter().take_while(|&&c| hex(c).is_some()).count();
            let v = s[1..=digits]
                .iter()
                .fold(0u8, |v, &c| (v << 4) | hex(c).unwrap_or(0) as u8);
            (v, 1 + digits)
        }
        b'c' if s.len() > 1 => (s[1] & 0x1f, 2),
        b'0'..=b'7' => {
            let digits = s
                .iter()
                .take(3)
                .take_while(|c| (b'0'..=b'7').contains(*c))
                .count();
            let v = s[..digits]
                .iter()
                .fold(0u8, |v, &c| (v << 3).wrapping_add(c - b'0'));
            (v, digits)
        }
        b'a' => (0x07, 1),
        b'b' => (0x08, 1),
        b'E' => (0x1b, 1),
        b'f' => (0x0c, 1),
        b'n' => (b'\n', 1),
        b'r' => (b'\r', 1),
        b't' => (b'\t', 1),
        b'v' => (0x0b, 1),
        other => (other, 1),
    })
}

#[cfg(test)]
mod tests {
    use super::quoted_escaped;

    #[test]
    fn splits_as_keepalived() {
        assert_eq!(
            quoted_escaped(r#"notify_up "/bin/x 'a b' c\ d" root"#).unwrap(),
            ["notify_up", "/bin/x 'a b' c d", "root"]
        );
        assert_eq!(
            quoted_escaped(r"/bin/x 'a b' c\ d").unwrap(),
            ["/bin/x", "a b", "c d"]
        );
        assert_eq!(quoted_escaped(r"a\x41\101\tb").unwrap(), ["aAA\tb"]);
        assert!(quoted_escaped("a 'b").is_none());
        assert!(quoted_escaped("a\\").is_none());
        assert!(quoted_escaped("  ").is_none());
    }
}
