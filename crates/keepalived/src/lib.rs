//! Reads keepalived.conf as keepalived 2.2.7 reads it, into a typed model with keepalived's
//! defaults filled in, and names every problem: where it is, what keepalived does with it and
//! what was probably meant.
//!
//! keepalived's reading of a broken file is kept exactly (an unknown keyword's block read at
//! the level it is at, an extra `}` ending the block it is in, each process reading the file
//! on its own), because that is what the daemon would run with. One deliberate difference:
//! with [`Options::unicode_blanks`], NO-BREAK SPACEs and the other Unicode blanks are read as
//! blanks, since a file copied from a web page means them as blanks; keepalived's complaints
//! about them are still reported, so the exit status stays keepalived's.
//!
//! Nothing here does I/O beyond reading the configuration files and the few host facts that
//! change `keepalived -t`'s exit status (whether scripts, users, groups and SSL files exist);
//! the interfaces that exist are given in [`Options::interfaces`].

pub mod check;
pub mod global;
mod hints;
mod host;
mod parse;
pub mod print;
mod problem;
pub mod script;
mod source;
pub mod value;
pub mod vrrp;

pub use problem::{exit_status, Kind, Place, Problem, Problems};
pub use source::Files;

use parse::{Keyword, Root, View};
use std::path::Path;

/// How to read.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `-i`: the id that `@ID` lines must name.
    pub config_id: Option<String>,
    /// Read Unicode blanks as blanks (see the crate's docs).
    pub unicode_blanks: bool,
    /// The network interfaces that exist, to check the names the file uses; `None` checks
    /// none.
    pub interfaces: Option<Vec<String>>,
    /// `-e`: an included file that is missing or cannot be read is an error, whatever the
    /// form of the `include`.
    pub all_config: bool,
}

/// Everything a configuration says, with keepalived's defaults filled in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    pub global: global::Global,
    pub vrrp: vrrp::Vrrp,
    pub check: check::Check,
}

/// A configuration as read: the files it came from, what it says, and what is wrong with it.
#[derive(Debug)]
pub struct Reading {
    pub files: Files,
    pub config: Config,
    pub problems: Vec<Problem>,
}

impl Reading {
    /// `keepalived -t`'s exit status for this reading.
    pub fn exit_status(&self) -> i32 {
        exit_status(&self.problems)
    }

    /// Whether keepalived would start with this configuration at all: it exits on a keyword
    /// without its value, crashes on some mistakes, and stops on some that `-t` misses.
    pub fn keepalived_starts(&self) -> bool {
        !self
            .problems
            .iter()
            .any(|p| matches!(p.kind, Kind::Aborted | Kind::Crash | Kind::WontStart))
    }
}

/// Reads the configuration at `path` (and what it includes).
pub fn read(path: &Path, options: &Options) -> Reading {
    let mut problems = Problems::default();
    let source_options = source::Options {
        config_id: options.config_id.clone(),
        unicode_blanks: false,
        include_check: if options.all_config {
            source::ALL_INCLUDE_ERRORS
        } else {
            0
        },
    };
    let (files, lines) = source::read(path, &source_options, &mut problems);
    let has_blanks = options.unicode_blanks
        && lines
            .iter()
            .any(|(_, text)| text.chars().any(source::is_unicode_blank));
    let mut config = read_lines(&lines, options, &mut problems);
    if has_blanks {
        // keepalived's complaints come from the text as it is; what lvsd runs with from the
        // text with blanks for blanks.
        let blank_options = source::Options {
            unicode_blanks: true,
            ..source_options
        };
        let mut more = Problems::default();
        let (_, lines) = source::read(path, &blank_options, &mut more);
        config = read_lines(&lines, options, &mut more);
        // The same complaint from both readings is said once, with lvsd's reading's details.
        let raw = std::mem::replace(&mut problems, more);
        let said: std::collections::HashSet<(Option<Place>, Kind, String)> = problems
            .list
            .iter()
            .map(|p| (p.at, p.kind, p.message.clone()))
            .collect();
        for mut p in raw.list {
            if !said.contains(&(p.at, p.kind, p.message.clone())) {
                let note = "so keepalived reads the text as it is; lvsd reads its Unicode blanks as blanks";
                p.effect = Some(match p.effect {
                    Some(e) => format!("{e} ({note})"),
                    None => note.to_string(),
                });
                problems.push(p);
            }
        }
        problems.dropped += raw.dropped;
    }
    let dropped = problems.dropped;
    let mut problems = problems.list;
    if dropped > 0 {
        problems.push(Problem::new(
            None,
            Kind::Advice,
            format!("{dropped} more problems not shown"),
        ));
    }
    hints::add(&mut problems, &keyword_blocks());
    problems.sort_by_key(|p| (p.at.is_none(), p.at));
    Reading {
        files,
        config,
        problems,
    }
}

fn read_lines(lines: &source::Lines, options: &Options, problems: &mut Problems) -> Config {
    let mut config = Config::default();
    let roots = roots();
    for view in [View::Parent, View::Checker, View::Vrrp] {
        parse::read_view(lines, &roots, view, &mut config, problems);
    }
    check::validate(&mut config, problems);
    // keepalived looks the names up as it reads the checkers: all the blocks are given, as
    // the order of blocks across included files cannot be told from the model.
    let track_files: Vec<String> = config
        .vrrp
        .track_files
        .iter()
        .map(|t| t.name.clone())
        .collect();
    let bfds: Vec<String> = config
        .vrrp
        .bfd_instances
        .iter()
        .map(|b| b.name.clone())
        .collect();
    let track_files: Vec<&str> = track_files.iter().map(String::as_str).collect();
    let bfds: Vec<&str> = bfds.iter().map(String::as_str).collect();
    check::checker::references(&mut config, &track_files, &bfds, problems);
    let fifo = |s: &Option<String>| {
        s.as_deref()
            .and_then(script::quoted_escaped)
            .map(|args| script::Script {
                at: Place { file: 0, line: 0 },
                args,
                user: None,
                group: None,
            })
    };
    let flags = check::checker::ScriptFlags {
        enable_script_security: config.global.enable_script_security,
        script_user: config.global.script_user.clone(),
        notify_fifo_script: fifo(&config.global.notify_fifo.script),
        lvs_notify_fifo_script: fifo(&config.global.lvs_notify_fifo.script),
        keepalived_script_user_exists: host::user_found("keepalived_script", None),
        script_found: Some(host::script_found),
        user_found: Some(host::user_found),
    };
    check::checker::script_security(&config, &flags, problems);
    ssl_files(&config, problems);
    vrrp::validate(&mut config, options.interfaces.as_deref(), problems);
    config
}

/// keepalived loads the `SSL` block's files when it starts its checker, if any `SSL_GET` is
/// there; one it cannot load stops the checker, which `-t` never tries.
fn ssl_files(config: &Config, problems: &mut Problems) {
    let Some(ssl) = &config.check.ssl else { return };
    let ssl_get = config
        .check
        .virtual_servers
        .iter()
        .flat_map(|vs| &vs.real_servers)
        .find_map(|rs| {
            rs.checkers
                .iter()
                .find(|c| matches!(&c.method, check::checker::Method::Http(h) if h.ssl))
        });
    let Some(checker) = ssl_get else { return };
    for (what, file) in [
        ("certificate", &ssl.certificate),
        ("key", &ssl.key),
        ("ca", &ssl.ca),
    ] {
        let Some(file) = file.as_deref().filter(|f| !host::file_readable(f)) else {
            continue;
        };
        problems.push(
            Problem::new(
                Some(checker.at),
                Kind::WontStart,
                format!("SSL {what} file {file} cannot be read"),
            )
            .effect("keepalived -t does not look; keepalived's checker then stops at start (\"SSL error : Cant load ...\") and sets up nothing")
            .hint("give the SSL block readable PEM files, or leave it out to check without a client certificate"),
        );
    }
}

/// The top-level keywords, in keepalived's order.
fn roots() -> Vec<Root> {
    let mut roots = Vec::new();
    roots.extend(global::roots());
    roots.extend(vrrp::roots());
    roots.extend(check::roots());
    roots
}

/// Every keyword keepalived 2.2.7 knows, as the path of block keywords that leads to it, in
/// keepalived's order, with which of its processes reads the top-level block.
pub fn keyword_paths() -> Vec<(&'static str, Vec<&'static str>)> {
    fn walk(
        k: &Keyword,
        path: &mut Vec<&'static str>,
        owner: &'static str,
        out: &mut Vec<(&'static str, Vec<&'static str>)>,
    ) {
        path.push(k.name);
        out.push((owner, path.clone()));
        if let Some(sub) = &k.sub {
            for s in sub {
                walk(s, path, owner, out);
            }
        }
        path.pop();
    }
    let mut out = Vec::new();
    for r in roots() {
        let owner = match r.owner {
            parse::Owner::Global => "global",
            parse::Owner::Vrrp => "vrrp",
            parse::Owner::Checker => "checker",
            parse::Owner::Bfd => "bfd",
            parse::Owner::TrackFile => "track_file",
        };
        walk(&r.keyword, &mut Vec::new(), owner, &mut out);
    }
    out
}

/// Every keyword and the blocks it is valid in, for hints about misplaced keywords.
fn keyword_blocks() -> Vec<(&'static str, String)> {
    fn walk(k: &Keyword, path: &str, out: &mut Vec<(&'static str, String)>) {
        out.push((k.name, path.to_string()));
        if let Some(sub) = &k.sub {
            for s in sub {
                walk(s, k.name, out);
            }
        }
    }
    let mut out = Vec::new();
    for r in roots() {
        walk(&r.keyword, "the top level", &mut out);
    }
    out
}
