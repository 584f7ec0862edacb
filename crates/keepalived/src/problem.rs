//! What is wrong with a configuration, where, what keepalived does about it and what was
//! probably meant; and the exit status `keepalived -t` gives for a set of problems.

use std::fmt;

/// A line of a configuration file: the file's index in [`crate::Files`] and its line number,
/// counted from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Place {
    pub file: u32,
    pub line: u32,
}

/// How keepalived 2.2.7 classes a problem (its `config_err_t`, in its order: the status of a
/// reading is its highest class), and the classes that are lvsd's alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    FileNotFound,
    BadInterface,
    Fatal,
    MultipleFiles,
    UnknownKeyword,
    UnexpectedBlockStart,
    MissingBlockStart,
    UnexpectedBlockEnd,
    MissingBlockEnd,
    UnmatchedQuote,
    MissingParameter,
    InvalidNumber,
    General,
    Warning,
    Deprecated,
    Security,
    /// A keyword without the value it needs: keepalived stops reading and exits with status
    /// 2 at once, `-t` included.
    Aborted,
    /// Something keepalived 2.2.7 crashes on (`-t` included): lvsd reports it as an error.
    Crash,
    /// lvsd's advice on something keepalived accepts silently (its meaning is probably not
    /// what was meant): keepalived's exit status is not changed by it.
    Advice,
    /// A keyword lvsd reads but does not act on.
    Ignored,
    /// Something `keepalived -t` accepts and keepalived then fails to start on.
    WontStart,
}

impl Kind {
    /// Whether keepalived reports it (and so counts it in its exit status).
    pub fn is_keepalived(self) -> bool {
        !matches!(self, Kind::Advice | Kind::Ignored | Kind::WontStart)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Problem {
    /// Where: keepalived names no line for some of its complaints (those it makes once the
    /// whole file is read), lvsd names the line of the block they are about.
    pub at: Option<Place>,
    /// 1-based column of the character in question, counted in characters.
    pub column: Option<u32>,
    pub kind: Kind,
    /// keepalived's own words, or lvsd's for [`Kind::Advice`] and [`Kind::Ignored`].
    pub message: String,
    /// Whether keepalived prints the message with the line (`(FILE: Line N) ...`).
    pub keepalived_names_line: bool,
    /// What keepalived then does, when the message does not say it.
    pub effect: Option<String>,
    /// What was probably meant.
    pub hint: Option<String>,
    /// keepalived complains but does what is written: it fills in its documented default
    /// (`lb_algo` wlc) or reads a deprecated keyword as its replacement (`nb_get_retry`). The
    /// daemon runs a file whose only complaints are such.
    pub benign: bool,
}

impl Problem {
    pub fn new(at: Option<Place>, kind: Kind, message: impl Into<String>) -> Problem {
        Problem {
            at,
            column: None,
            kind,
            message: message.into(),
            keepalived_names_line: at.is_some(),
            effect: None,
            hint: None,
            benign: false,
        }
    }

    pub fn benign(mut self) -> Problem {
        self.benign = true;
        self
    }

    /// Whether the daemon refuses a file for it: keepalived reads the file otherwise than it
    /// is written (a keyword dropped, a block ended early, a value refused, a default the
    /// file probably did not mean), or will not start.
    pub fn changes_meaning(&self) -> bool {
        (self.kind.is_keepalived() || self.kind == Kind::WontStart) && !self.benign
    }

    pub fn effect(mut self, effect: impl Into<String>) -> Problem {
        self.effect = Some(effect.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Problem {
        self.hint = Some(hint.into());
        self
    }
}

/// `keepalived -t`'s exit status for a reading with these problems: 0 clean, 2 when a keyword
/// lacks its value (keepalived exits there), 4 when the worst is a missing file, an unknown
/// interface or a fatal error, 6 for script security, 5 for anything else, and 5 where
/// keepalived crashes.
pub fn exit_status<'a>(problems: impl IntoIterator<Item = &'a Problem>) -> i32 {
    let kinds: Vec<Kind> = problems
        .into_iter()
        .map(|p| p.kind)
        .filter(|k| k.is_keepalived())
        .collect();
    // keepalived stops at either of these before it could report anything else.
    if kinds.contains(&Kind::Aborted) {
        return 2;
    }
    if kinds.contains(&Kind::Crash) {
        return 5;
    }
    match kinds.into_iter().max() {
        None => 0,
        Some(Kind::FileNotFound | Kind::BadInterface | Kind::Fatal) => 4,
        Some(Kind::Security) => 6,
        Some(_) => 5,
    }
}

/// The most problems kept: a file of garbage has one on each line.
const MAX_PROBLEMS: usize = 10_000;

/// The problems found so far, in the order found.
#[derive(Debug, Default)]
pub struct Problems {
    pub list: Vec<Problem>,
    seen: std::collections::HashSet<Problem>,
    kinds: std::collections::HashSet<Kind>,
    /// How many more there were beyond [`MAX_PROBLEMS`].
    pub dropped: usize,
}

impl Problems {
    /// Whether a problem of this kind was found.
    pub fn has(&self, kind: Kind) -> bool {
        self.kinds.contains(&kind)
    }

    pub fn push(&mut self, p: Problem) {
        // keepalived reads the file once for each of its processes, so the same complaint
        // comes more than once: say it once.
        if self.seen.contains(&p) {
            return;
        }
        if self.list.len() >= MAX_PROBLEMS {
            // The worst kind still counts for the exit status.
            if self.kinds.insert(p.kind) {
                self.list.push(p);
            } else {
                self.dropped += 1;
            }
            return;
        }
        self.seen.insert(p.clone());
        self.kinds.insert(p.kind);
        self.list.push(p);
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Advice => "advice",
            Kind::WontStart => "keepalived would not start",
            Kind::Ignored => "not acted on",
            Kind::Warning | Kind::Deprecated | Kind::MultipleFiles => "warning",
            _ => "error",
        })
    }
}
