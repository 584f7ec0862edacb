//! Reads `cases.txt`.

use std::collections::HashMap;

/// A step that prepares a namespace.
pub enum Step {
    /// Run with `sh -c`.
    Shell(String),
    /// Lines fed to the real `ipvsadm -R`.
    Rules(String),
}

#[derive(Default)]
pub struct Setup {
    pub steps: Vec<Step>,
    /// Shell commands that undo what the steps made outside the namespace.
    pub cleanup: Vec<String>,
}

pub struct Case {
    pub setup: String,
    /// Both tools list the same, already prepared namespace (for live connections and
    /// counters, which no two namespaces can reproduce).
    pub live: bool,
    pub args: Vec<String>,
    pub stdin: Option<String>,
    pub env: Vec<(String, String)>,
    /// A stand-in for /proc/net/ip_vs_conn.
    pub conn: Option<String>,
}

impl Case {
    pub fn name(&self) -> String {
        let mut s = self.setup.clone();
        if self.live {
            s.push_str(" (live)");
        }
        s.push(':');
        for (k, v) in &self.env {
            s.push_str(&format!(" env={k}={v}"));
        }
        if let Some(c) = &self.conn {
            s.push_str(&format!(" conn={c}"));
        }
        for a in &self.args {
            if a.is_empty() || a.contains(' ') {
                s.push_str(&format!(" '{a}'"));
            } else {
                s.push(' ');
                s.push_str(a);
            }
        }
        if let Some(i) = &self.stdin {
            s.push_str(&format!(" < {i}"));
        }
        s
    }
}

#[derive(Default)]
pub struct Suite {
    pub setups: HashMap<String, Setup>,
    /// Texts for stdin (`< NAME`) and connection files (`conn=NAME`).
    pub texts: HashMap<String, String>,
    pub cases: Vec<Case>,
}

/// Splits a case line into words; `'…'` quotes a word (possibly empty or with blanks).
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        if let Some(q) = rest.strip_prefix('\'') {
            let end = q.find('\'').ok_or("unterminated quote")?;
            out.push(q[..end].to_string());
            rest = q[end + 1..].trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
    }
    Ok(out)
}

pub fn load(text: &str) -> Result<Suite, String> {
    let mut suite = Suite::default();
    let mut setup = String::from("empty");
    suite.setups.insert(setup.clone(), Setup::default());
    let mut live = false;
    // Not `lines()`: text blocks keep their carriage returns.
    let mut lines = text.split('\n').enumerate();
    while let Some((n, line)) = lines.next() {
        let at = |e: String| format!("line {}: {e}", n + 1);
        let line = line.trim_end();
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(head) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let (kind, name) = head
                .split_once(' ')
                .ok_or_else(|| at("block needs a name".into()))?;
            let mut body = Vec::new();
            let mut newline = true;
            loop {
                let (_, l) = lines
                    .next()
                    .ok_or_else(|| at("block without [end]".into()))?;
                match l {
                    "[end]" => break,
                    "[end-without-newline]" => {
                        newline = false;
                        break;
                    }
                    l => body.push(l),
                }
            }
            match kind {
                "setup" => {
                    suite.setups.insert(name.to_string(), parse_setup(&body));
                }
                "text" => {
                    let mut t = body.join("\n");
                    if newline && !body.is_empty() {
                        t.push('\n');
                    }
                    suite.texts.insert(name.to_string(), t);
                }
                k => return Err(at(format!("unknown block kind {k}"))),
            }
            continue;
        }
        if let Some(name) = line.strip_prefix("@use ") {
            (setup, live) = (name.trim().to_string(), false);
        } else if let Some(name) = line.strip_prefix("@live ") {
            (setup, live) = (name.trim().to_string(), true);
        } else if line == "@matrix" {
            suite.cases.extend(crate::matrix::cases(&setup));
        } else {
            let mut args = if line == "(none)" {
                Vec::new()
            } else {
                words(line).map_err(at)?
            };
            let mut case = Case {
                setup: setup.clone(),
                live,
                args: Vec::new(),
                stdin: None,
                env: Vec::new(),
                conn: None,
            };
            if args.len() >= 2 && args[args.len() - 2] == "<" {
                case.stdin = args.pop();
                args.pop();
            }
            let mut args = args.into_iter().peekable();
            while let Some(a) = args.next_if(|a| a.starts_with("env=") || a.starts_with("conn=")) {
                if let Some(kv) = a.strip_prefix("env=") {
                    let (k, v) = kv.split_once('=').ok_or_else(|| at(format!("bad {a}")))?;
                    case.env.push((k.to_string(), v.to_string()));
                } else if let Some(c) = a.strip_prefix("conn=") {
                    case.conn = Some(c.to_string());
                }
            }
            case.args = args.collect();
            suite.cases.push(case);
        }
    }
    for c in &suite.cases {
        if !suite.setups.contains_key(&c.setup) {
            return Err(format!("no setup named {}", c.setup));
        }
        for t in c.stdin.iter().chain(&c.conn) {
            if !suite.texts.contains_key(t) {
                return Err(format!("no text named {t}"));
            }
        }
    }
    Ok(suite)
}

fn parse_setup(body: &[&str]) -> Setup {
    let mut setup = Setup::default();
    let mut rules = String::new();
    for l in body {
        if let Some(cmd) = l.strip_prefix("$ ") {
            if !rules.is_empty() {
                setup.steps.push(Step::Rules(std::mem::take(&mut rules)));
            }
            setup.steps.push(Step::Shell(cmd.to_string()));
        } else if let Some(cmd) = l.strip_prefix("! ") {
            setup.cleanup.push(cmd.to_string());
        } else if !l.trim().is_empty() && !l.starts_with('#') {
            rules.push_str(l);
            rules.push('\n');
        }
    }
    if !rules.is_empty() {
        setup.steps.push(Step::Rules(rules));
    }
    setup
}
