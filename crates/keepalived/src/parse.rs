//! keepalived's `process_stream`: the lines matched against a tree of keywords, block by block,
//! with its handling of unknown keywords and stray braces kept exactly, since that is what
//! decides what a broken file means.
//!
//! keepalived reads the file once in each of its processes, and each process knows only its
//! own blocks: the others' are skipped by counting braces, which reads a broken block
//! differently than parsing it does. [`read_view`] reads as one of those processes.

use crate::problem::{Kind, Place, Problem, Problems};
use crate::source::Lines;
use crate::Config;

/// A keyword's handler: it gets the line's words, the keyword first.
pub type Handler = fn(&mut Ctx<'_>, &[String]);
/// Runs when a keyword's block ends.
pub type Close = fn(&mut Ctx<'_>);

/// A keyword of a block.
pub struct Keyword {
    pub name: &'static str,
    pub handler: Option<Handler>,
    /// The keywords of its block, if it opens one that is parsed as keywords.
    pub sub: Option<Vec<Keyword>>,
    pub close: Option<Close>,
}

impl Keyword {
    pub fn new(name: &'static str, handler: Handler) -> Keyword {
        Keyword {
            name,
            handler: Some(handler),
            sub: None,
            close: None,
        }
    }

    pub fn block(
        name: &'static str,
        handler: Option<Handler>,
        sub: Vec<Keyword>,
        close: Option<Close>,
    ) -> Keyword {
        Keyword {
            name,
            handler,
            sub: Some(sub),
            close,
        }
    }
}

/// Which of keepalived's processes a top-level keyword belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Global,
    Vrrp,
    Checker,
    Bfd,
    TrackFile,
}

pub struct Root {
    pub owner: Owner,
    pub keyword: Keyword,
}

/// One of keepalived's processes, as a reader of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The parent: `global_defs` and the top-level settings.
    Parent,
    Checker,
    Vrrp,
}

impl View {
    fn reads(self, owner: Owner) -> bool {
        match self {
            View::Parent => owner == Owner::Global,
            View::Checker => matches!(owner, Owner::Checker | Owner::Bfd | Owner::TrackFile),
            View::Vrrp => matches!(owner, Owner::Vrrp | Owner::Bfd | Owner::TrackFile),
        }
    }
}

/// The reading in progress, as the keyword handlers see it.
pub struct Ctx<'a> {
    lines: &'a Lines,
    pos: usize,
    /// keepalived's `skip_sublevel`: -1 when a skipped keyword's `{` may come on the next
    /// line, else how many blocks deep the skipping is.
    skip: i64,
    level: usize,
    pub view: View,
    /// The line being handled.
    pub at: Place,
    pub problems: &'a mut Problems,
    pub config: &'a mut Config,
    /// Set when a handler finds a value missing: keepalived would exit there, so the
    /// keyword's block is not read as its block.
    aborted: bool,
}

impl<'a> Ctx<'a> {
    /// The text of the line being handled, for keywords that read it again their own way.
    pub fn line_text(&self) -> &'a str {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .map_or("", |(_, text)| text)
    }

    /// Reports a problem on the line being handled, as keepalived reports it.
    pub fn report(&mut self, kind: Kind, message: impl Into<String>) {
        let p = Problem::new(Some(self.at), kind, message);
        self.problems.push(p);
    }

    /// Reports a problem with what keepalived does about it and what was probably meant.
    pub fn explain(
        &mut self,
        kind: Kind,
        message: impl Into<String>,
        effect: Option<&str>,
        hint: Option<&str>,
    ) {
        let mut p = Problem::new(Some(self.at), kind, message);
        p.effect = effect.map(str::to_string);
        p.hint = hint.map(str::to_string);
        self.problems.push(p);
    }

    /// Says that lvsd reads the keyword but does not act on it.
    pub fn ignored(&mut self, words: &[String], why: &str) {
        let name = words.first().map_or("", String::as_str);
        self.explain(
            Kind::Ignored,
            format!("'{name}' is read but lvsd does not act on it"),
            Some(why),
            None,
        );
    }

    /// Word `i` of a line, or `None` after reporting, as keepalived does, that it is missing
    /// (keepalived then exits).
    pub fn arg<'w>(&mut self, words: &'w [String], i: usize) -> Option<&'w str> {
        if let Some(w) = words.get(i) {
            return Some(w);
        }
        let name = words.first().map_or("***MISSING ***", String::as_str);
        let before = i
            .checked_sub(1)
            .and_then(|j| words.get(j))
            .map_or(name, String::as_str);
        self.aborted = true;
        self.explain(
            Kind::Aborted,
            format!(
                "*** Configuration line starting `{name}` is missing a parameter after keyword \
                 `{before}` at word position {}",
                i + 1
            ),
            Some("keepalived stops reading here and exits with status 2"),
            Some("give the keyword its value"),
        );
        None
    }

    /// Skips the block of the keyword being handled (keepalived's `skip_block`).
    pub fn skip_block(&mut self, need_block_start: bool) {
        self.skip = if need_block_start { -1 } else { 1 };
    }

    fn next_line(&mut self) -> Option<(Place, &'a str)> {
        let (at, text) = self.lines.get(self.pos)?;
        self.pos += 1;
        self.at = at;
        Some((at, text))
    }

    /// The lines of a block of values, as words, for keywords such as `virtual_ipaddress`
    /// whose block holds values rather than keywords (keepalived's `alloc_value_block`).
    pub fn value_block(&mut self, words: &[String]) -> Vec<(Place, Vec<String>)> {
        let mut out = Vec::new();
        let mut need_start = true;
        if words.len() > 1 {
            if words[1] == "{" {
                need_start = false;
                if words.len() > 2 {
                    let mut first: Vec<String> = words[2..].to_vec();
                    let closed = first.last().is_some_and(|w| w == "}");
                    if closed {
                        first.pop();
                    }
                    out.push((self.at, first));
                    if closed {
                        return out;
                    }
                }
            } else {
                self.report(
                    Kind::General,
                    format!("Block {} has extra parameters {} ...", words[0], words[1]),
                );
            }
        }
        while let Some((at, text)) = self.next_line() {
            let Some(mut vec) = words_of(text, at, self.problems) else {
                continue;
            };
            if need_start {
                need_start = false;
                if vec[0] == "{" {
                    if vec.len() == 1 {
                        continue;
                    }
                    vec.remove(0);
                }
            }
            let mut closed = false;
            if vec.last().is_some_and(|w| w == "}") {
                if vec.len() == 1 {
                    break;
                }
                closed = true;
                vec.pop();
            }
            if !vec.is_empty() {
                out.push((at, vec));
            }
            if closed {
                break;
            }
        }
        out
    }
}

/// Splits a line into words as keepalived's `alloc_strvec` does: blanks separate words, a
/// double-quoted string is one word without its quotes.
pub fn words_of(text: &str, at: Place, problems: &mut Problems) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(is_white);
        if rest.is_empty() {
            break;
        }
        if let Some(q) = rest.strip_prefix('"') {
            match q.find('"') {
                Some(end) => {
                    out.push(q[..end].to_string());
                    rest = &q[end + 1..];
                }
                None => {
                    problems.push(Problem::new(
                        Some(at),
                        Kind::UnmatchedQuote,
                        format!("Unmatched quote: '{text}'"),
                    ));
                    break;
                }
            }
        } else {
            let end = rest.find(|c| is_white(c) || c == '"').unwrap_or(rest.len());
            out.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    (!out.is_empty()).then_some(out)
}

fn is_white(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Reads `lines` as keepalived's process `view` does, with these top-level keywords.
pub fn read_view(
    lines: &Lines,
    roots: &[Root],
    view: View,
    config: &mut Config,
    problems: &mut Problems,
) {
    let mut ctx = Ctx {
        lines,
        pos: 0,
        skip: 0,
        level: 0,
        view,
        at: Place { file: 0, line: 0 },
        problems,
        config,
        aborted: false,
    };
    let top: Vec<(&Keyword, bool)> = roots
        .iter()
        .map(|r| (&r.keyword, view.reads(r.owner)))
        .collect();
    stream(&mut ctx, &top, false);
}

/// keepalived's `process_stream` for one block: returns whether the block ended inside a
/// skipped block (its close handler then does not run).
fn stream(ctx: &mut Ctx<'_>, keywords: &[(&Keyword, bool)], mut need_start: bool) -> bool {
    while let Some((at, text)) = ctx.next_line() {
        let Some(words) = words_of(text, at, ctx.problems) else {
            continue;
        };
        let first = words[0].as_str();
        if ctx.skip == -1 {
            if first == "{" {
                ctx.skip = 1;
                need_start = false;
                continue;
            }
            ctx.skip = 0;
        }
        if ctx.skip > 0 {
            let mut last = first;
            for w in &words {
                last = w;
                if w == "{" {
                    ctx.skip += 1;
                } else if w == "}" {
                    ctx.skip -= 1;
                    if ctx.skip == 0 {
                        break;
                    }
                }
            }
            if last == "}" && ctx.skip == 0 && ctx.level > 0 {
                return true;
            }
            continue;
        }
        if need_start {
            need_start = false;
            if first == "{" && ctx.level > 0 {
                continue;
            }
            ctx.explain(
                Kind::MissingBlockStart,
                "Missing '{' at beginning of configuration block",
                Some("keepalived reads this line as the block's first"),
                Some("put '{' at the end of the keyword's line"),
            );
        } else if first == "{" {
            ctx.explain(
                Kind::UnexpectedBlockStart,
                "Unexpected '{' - ignoring",
                Some("keepalived reads what follows at the level it is at"),
                None,
            );
            continue;
        }
        if first == "}" && ctx.level > 0 {
            return false;
        }
        match keywords.iter().find(|(k, _)| k.name == first) {
            Some(&(keyword, active)) => {
                let mut words = words;
                if !active {
                    ctx.skip = if words.last().is_some_and(|w| w == "{") {
                        1
                    } else {
                        -1
                    };
                    continue;
                }
                let mut block_needs_start = false;
                if keyword.sub.is_some() {
                    if words.last().is_some_and(|w| w == "{") {
                        words.pop();
                    } else {
                        block_needs_start = true;
                    }
                }
                ctx.aborted = false;
                if let Some(handler) = keyword.handler {
                    handler(ctx, &words);
                }
                if keyword.sub.is_some() && std::mem::take(&mut ctx.aborted) {
                    ctx.skip = if block_needs_start { -1 } else { 1 };
                    continue;
                }
                if let Some(sub) = &keyword.sub {
                    let sub: Vec<(&Keyword, bool)> = sub.iter().map(|k| (k, true)).collect();
                    ctx.level += 1;
                    let skipped = stream(ctx, &sub, block_needs_start);
                    ctx.level -= 1;
                    // keepalived runs no close handler for a skipped block, nor once it has
                    // stopped reading at a keyword without its value.
                    if !skipped && !ctx.problems.has(Kind::Aborted) {
                        if let Some(close) = keyword.close {
                            close(ctx);
                        }
                    }
                }
            }
            None => unknown(ctx, &words),
        }
    }
    false
}

fn unknown(ctx: &mut Ctx<'_>, words: &[String]) {
    let name = &words[0];
    let (effect, hint) = if name == "}" {
        (
            Some("keepalived ignores it"),
            Some("a '}' too many: the block it was meant to close ended earlier"),
        )
    } else if name
        .chars()
        .next()
        .is_some_and(crate::source::is_unicode_blank)
    {
        (
            Some("keepalived drops the line"),
            Some("the line starts with a Unicode blank (a NO-BREAK SPACE copied from a web page?)"),
        )
    } else {
        (
            Some("keepalived drops the line; a block that follows is read at this level"),
            None,
        )
    };
    ctx.explain(
        Kind::UnknownKeyword,
        format!("Unknown keyword '{name}'"),
        effect,
        hint,
    );
}
