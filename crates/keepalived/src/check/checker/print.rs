//! A checker printed back in keepalived.conf's syntax, with what [`super::resolve`] filled in,
//! so the effective configuration reads as a file keepalived would read the same way.

use super::{Checker, Connection, HexPattern, HttpProtocol, Method};
use crate::check::Micros;
use std::fmt::Write;

fn secs(us: Micros) -> String {
    if us.is_multiple_of(1_000_000) {
        (us / 1_000_000).to_string()
    } else {
        let s = format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
        s.trim_end_matches('0').to_string()
    }
}

/// A word as keepalived reads it back: quoted when it has blanks.
fn word(s: &str) -> String {
    if s.is_empty() || s.contains([' ', '\t']) {
        format!("\"{s}\"")
    } else {
        s.to_string()
    }
}

fn hex(bytes: &[u8], mask: Option<&[u8]>) -> String {
    let mut out = String::new();
    for (i, b) in bytes.iter().enumerate() {
        let m = mask.and_then(|m| m.get(i)).copied().unwrap_or(0);
        let hi = if m & 0xf0 != 0 {
            'X'
        } else {
            char::from_digit(u32::from(b >> 4), 16).unwrap_or('0')
        };
        let lo = if m & 0x0f != 0 {
            'X'
        } else {
            char::from_digit(u32::from(b & 0x0f), 16).unwrap_or('0')
        };
        out.push(hi);
        out.push(lo);
    }
    out
}

fn connection(out: &mut String, c: &Connection, indent: &str) {
    match (c.connect_ip, c.connect_ip_invalid) {
        (Some(a), _) => {
            let _ = writeln!(out, "{indent}connect_ip {a}");
        }
        (None, true) => {
            let _ = writeln!(
                out,
                "{indent}# no address: keepalived could not read its connect_ip"
            );
        }
        (None, false) => {}
    }
    if let Some(p) = c.connect_port {
        let _ = writeln!(out, "{indent}connect_port {p}");
    }
    if let Some(a) = c.bindto {
        let _ = writeln!(out, "{indent}bindto {a}");
    }
    if let Some(p) = c.bind_port {
        let _ = writeln!(out, "{indent}bind_port {p}");
    }
    if let Some(i) = &c.bind_if {
        let _ = writeln!(out, "{indent}bind_if {i}");
    }
    match c.connect_timeout {
        // A host block's timeout keepalived leaves at 0, which no file can give.
        Some(0) => {
            let _ = writeln!(
                out,
                "{indent}# connect_timeout 0 (keepalived's for a host block)"
            );
        }
        Some(t) => {
            let _ = writeln!(out, "{indent}connect_timeout {}", secs(t));
        }
        None => {}
    }
    if let Some(m) = c.fwmark {
        let _ = writeln!(out, "{indent}fwmark {m}");
    }
}

/// Writes the checker block at `indent`.
pub fn print(c: &Checker, out: &mut String, indent: &str) {
    let inner = format!("{indent}    ");
    let i = inner.as_str();
    let _ = writeln!(out, "{indent}{} {{", c.method.keyword());
    if let Some(conn) = &c.conn {
        connection(out, conn, i);
    }
    let mut line = |name: &str, v: Option<String>| {
        if let Some(v) = v {
            let _ = writeln!(out, "{i}{name} {v}");
        }
    };
    line("retry", c.retry.map(|n| n.to_string()));
    line("delay_before_retry", c.delay_before_retry.map(secs));
    line("warmup", c.warmup.map(secs));
    line("delay_loop", c.delay_loop.map(secs));
    line(
        "alpha",
        c.alpha.map(|b| if b { "yes" } else { "no" }.to_string()),
    );
    line(
        "log_all_failures",
        c.log_all_failures
            .filter(|_| c.method.is_launched())
            .map(|b| if b { "yes" } else { "no" }.to_string()),
    );
    match &c.method {
        Method::Http(h) => {
            if let Some(v) = &h.virtualhost {
                let _ = writeln!(out, "{i}virtualhost {}", word(v));
            }
            if let Some(p) = h.http_protocol {
                let p = match p {
                    HttpProtocol::V1_0 => "1.0",
                    HttpProtocol::V1_1 => "1.1",
                    HttpProtocol::V1_0C => "1.0C",
                };
                let _ = writeln!(out, "{i}http_protocol {p}");
            }
            if let Some(b) = h.enable_sni {
                let _ = writeln!(out, "{i}enable_sni {}", if b { "yes" } else { "no" });
            }
            if let Some(b) = h.fast_recovery {
                let _ = writeln!(out, "{i}fast_recovery {}", if b { "yes" } else { "no" });
            }
            for u in &h.urls {
                let _ = writeln!(out, "{i}url {{");
                let j = format!("{i}    ");
                if let Some(p) = &u.path {
                    let _ = writeln!(out, "{j}path {}", word(p));
                }
                if let Some(d) = &u.digest {
                    let _ = writeln!(out, "{j}digest {}", hex(d, None));
                }
                let codes: Vec<String> = u
                    .status_codes
                    .iter()
                    .map(|r| {
                        if r.first == r.last {
                            r.first.to_string()
                        } else {
                            format!("{}-{}", r.first, r.last)
                        }
                    })
                    .collect();
                if !codes.is_empty() {
                    let _ = writeln!(out, "{j}status_code {}", codes.join(" "));
                }
                if let Some(v) = &u.virtualhost {
                    let _ = writeln!(out, "{j}virtualhost {}", word(v));
                }
                if let Some(r) = &u.regex {
                    let _ = writeln!(
                        out,
                        "{j}regex \"{}\"",
                        r.replace('\\', "\\\\").replace('"', "\\\"")
                    );
                }
                if u.regex_no_match {
                    let _ = writeln!(out, "{j}regex_no_match");
                }
                if !u.regex_options.is_empty() {
                    let _ = writeln!(out, "{j}regex_options {}", u.regex_options.join(" "));
                }
                if let Some(n) = u.regex_min_offset {
                    let _ = writeln!(out, "{j}regex_min_offset {n}");
                }
                if let Some(n) = u.regex_max_offset {
                    let _ = writeln!(out, "{j}regex_max_offset {n}");
                }
                if let Some((a, b)) = u.regex_stack {
                    let _ = writeln!(out, "{j}regex_stack {a} {b}");
                }
                let _ = writeln!(out, "{i}}}");
            }
        }
        Method::Misc(m) => {
            if let Some(s) = &m.script {
                // Arguments with blanks in single quotes, the whole in double quotes: keepalived
                // splits the word again.
                let args: Vec<String> = s
                    .args
                    .iter()
                    .map(|a| {
                        if a.contains([' ', '\t']) {
                            format!("'{a}'")
                        } else {
                            a.clone()
                        }
                    })
                    .collect();
                let _ = writeln!(out, "{i}misc_path \"{}\"", args.join(" "));
            }
            if let Some(t) = m.misc_timeout {
                let _ = writeln!(out, "{i}misc_timeout {t}");
            }
            if m.misc_dynamic {
                let _ = writeln!(out, "{i}misc_dynamic");
            }
            if let Some((u, g)) = &m.user {
                let g = g.as_deref().map(|g| format!(" {g}")).unwrap_or_default();
                let _ = writeln!(out, "{i}user {u}{g}");
            }
        }
        Method::Smtp(s) => {
            if let Some(h) = &s.helo_name {
                let _ = writeln!(out, "{i}helo_name {}", word(h));
            }
            for h in &s.hosts {
                let _ = writeln!(out, "{i}host {{");
                connection(out, h, &format!("{i}    "));
                let _ = writeln!(out, "{i}}}");
            }
        }
        Method::Dns(d) => {
            if let Some(t) = d.dns_type {
                let _ = writeln!(out, "{i}type {}", t.name());
            }
            if let Some(n) = &d.name {
                let _ = writeln!(out, "{i}name {}", word(n));
            }
        }
        Method::Udp(u) => {
            if let Some(p) = &u.payload {
                let _ = writeln!(out, "{i}payload {}", hex(p, None));
            }
            if u.require_reply {
                let reply = u
                    .reply
                    .as_ref()
                    .map(|HexPattern { data, mask }| format!(" {}", hex(data, mask.as_deref())))
                    .unwrap_or_default();
                let _ = writeln!(out, "{i}require_reply{reply}");
            }
            if let Some(n) = u.min_reply_length {
                let _ = writeln!(out, "{i}min_reply_length {n}");
            }
            if let Some(n) = u.max_reply_length {
                let _ = writeln!(out, "{i}max_reply_length {n}");
            }
        }
        Method::File(f) => {
            if let Some((n, _)) = &f.track_file {
                let _ = writeln!(out, "{i}track_file {n}");
            }
            if let Some(w) = f.weight {
                let r = if f.reverse { " reverse" } else { "" };
                let _ = writeln!(out, "{i}weight {w}{r}");
            }
        }
        Method::Bfd(b) => {
            if let Some((n, _)) = &b.name {
                let _ = writeln!(out, "{i}name {n}");
            }
        }
        Method::Tcp | Method::Ping => {}
    }
    let _ = writeln!(out, "{indent}}}");
}
