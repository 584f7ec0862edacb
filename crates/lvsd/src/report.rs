//! The problems of a reading, for a person: `FILE:LINE[:COLUMN]: severity: message`, then
//! what keepalived does about it and what was probably meant, indented.

use keepalived::Reading;
use std::fmt::Write;

pub fn problems(reading: &Reading) -> String {
    let mut out = String::new();
    for p in &reading.problems {
        let place = match p.at {
            Some(at) => {
                let mut s = format!("{}:{}", reading.files.path(at).display(), at.line);
                if let Some(c) = p.column {
                    let _ = write!(s, ":{c}");
                }
                s
            }
            None => match reading.files.paths.first() {
                Some(f) => f.display().to_string(),
                None => "lvsd".to_string(),
            },
        };
        let _ = writeln!(out, "{place}: {}: {}", p.kind, p.message);
        if let Some(e) = &p.effect {
            let _ = writeln!(out, "    {e}");
        }
        if let Some(h) = &p.hint {
            let _ = writeln!(out, "    hint: {h}");
        }
        if p.benign {
            let _ = writeln!(out, "    (lvsd -C runs the file as written despite it)");
        }
    }
    out
}
