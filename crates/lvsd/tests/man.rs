//! The manual pages lvsd installs, generated and checked for staleness: lvsd(8) from the
//! command-line table (`lvsd::args::manual`), and lvsd-keepalived.conf(5) from
//! docs/keepalived.md, so that neither drifts from what it documents. LVSADM_BLESS=1
//! rewrites them.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Compares `fresh` with the committed `file` (or writes it with LVSADM_BLESS=1).
fn check(file: &str, fresh: &str) {
    let path = root().join(file);
    if std::env::var_os("LVSADM_BLESS").is_some() {
        std::fs::write(&path, fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{file} is stale: regenerate with LVSADM_BLESS=1 cargo test -p lvsd --test man"
    );
}

#[test]
fn lvsd_8_is_not_stale() {
    check("man/lvsd.8", &lvsd::args::manual(env!("CARGO_PKG_VERSION")));
}

#[test]
fn the_keepalived_conf_page_is_not_stale() {
    let text = std::fs::read_to_string(root().join("docs/keepalived.md")).unwrap();
    check("man/lvsd-keepalived.conf.5", &markdown_to_roff(&text));
}

/// Inline markdown (`code`, **bold**, [text](link)) as roff, escaped.
fn inline(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    let (mut code, mut bold) = (false, false);
    while let Some(c) = chars.next() {
        match c {
            '`' => {
                code = !code;
                out.push_str(if code { "\\fB" } else { "\\fR" });
            }
            '*' if !code && chars.peek() == Some(&'*') => {
                chars.next();
                bold = !bold;
                out.push_str(if bold { "\\fB" } else { "\\fR" });
            }
            '[' if !code => {
                // [text](link): the text alone.
                let rest: String = chars.clone().collect();
                match rest
                    .split_once("](")
                    .and_then(|(t, r)| Some((t, r.split_once(')')?)))
                {
                    Some((label, (_, after))) if !label.contains(']') => {
                        out.push_str(&inline(label));
                        let skip = rest.len() - after.len();
                        for _ in 0..rest[..skip].chars().count() {
                            chars.next();
                        }
                    }
                    _ => out.push('['),
                }
            }
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            c if !c.is_ascii() => out.push_str(&glyph(c)),
            _ => out.push(c),
        }
    }
    out
}

/// A character beyond ASCII as groff's escape for it.
fn glyph(c: char) -> String {
    format!("\\[u{:04X}]", c as u32)
}

/// A line of text that cannot be read as a roff request.
fn line(text: &str) -> String {
    let l = inline(text);
    if l.starts_with(['.', '\'']) {
        format!("\\&{l}")
    } else {
        l
    }
}

fn markdown_to_roff(md: &str) -> String {
    let mut out = String::from(
        ".TH LVSD\\-KEEPALIVED.CONF 5 \"\" \"lvsd\" \"File Formats\"\n\
         .SH NAME\nlvsd\\-keepalived.conf \\- keepalived.conf as lvsd reads it\n.SH DESCRIPTION\n",
    );
    let mut fenced = false;
    let mut in_list = false;
    for raw in md.lines() {
        if raw.starts_with("```") {
            fenced = !fenced;
            out.push_str(if fenced { ".PP\n.nf\n" } else { ".fi\n" });
            continue;
        }
        if fenced {
            let l: String = raw
                .chars()
                .map(|c| match c {
                    '\\' => "\\e".to_string(),
                    '-' => "\\-".to_string(),
                    c if !c.is_ascii() => glyph(c),
                    c => c.to_string(),
                })
                .collect();
            out.push_str(&format!("{l}\n"));
            continue;
        }
        let t = raw.trim_end();
        if t.starts_with("<!--") || t.starts_with("# ") {
            continue;
        }
        if let Some(h) = t.strip_prefix("## ") {
            out.push_str(&format!(".SH {}\n", line(&h.to_uppercase())));
            in_list = false;
        } else if t.is_empty() {
            in_list = false;
        } else if t.starts_with("|---") {
            continue;
        } else if t.starts_with('|') {
            let cells: Vec<&str> = t.trim_matches('|').split('|').map(str::trim).collect();
            out.push_str(&format!(
                ".TP\n{}\n{}\n",
                line(cells[0]),
                line(&cells[1..].join(" "))
            ));
        } else if let Some(item) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
            out.push_str(&format!(".IP \\(bu 2\n{}\n", line(item)));
            in_list = true;
        } else if t.starts_with("**") && t.ends_with("**") && !in_list {
            out.push_str(&format!(".SS {}\n", line(t.trim_matches('*'))));
        } else if in_list || raw.starts_with(' ') {
            out.push_str(&format!("{}\n", line(t.trim_start())));
        } else {
            // A paragraph starts after a request; text after text goes on with it.
            if out
                .lines()
                .last()
                .is_none_or(|l| l.starts_with('.') && l != ".PP")
            {
                out.push_str(".PP\n");
            }
            out.push_str(&format!("{}\n", line(t)));
        }
    }
    out
}
