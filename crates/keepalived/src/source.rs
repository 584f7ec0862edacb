//! The lines of a configuration as keepalived's `read_line` hands them to its parser: comments
//! gone, `@id` lines kept or dropped, `$NAME` definitions replaced, includes read in place,
//! and every `{` and `}` on a line of its own.

use crate::problem::{Kind, Place, Problem, Problems};
use std::io::Read;
use std::path::{Path, PathBuf};

/// keepalived reads a line at most this long at a time (`MAXBUF`, with its terminator): the
/// rest of a longer line is read as a line of its own, with the same number.
const MAX_LINE: usize = 1023;
/// Bounds that keep a hostile or broken configuration from taking the machine: keepalived has
/// none of these (an include loop makes it recurse until it runs out of files).
const MAX_FILE_BYTES: u64 = 16 << 20;
const MAX_TOTAL_BYTES: u64 = 64 << 20;
const MAX_INCLUDE_DEPTH: usize = 32;
const MAX_FILES: usize = 4096;
/// The most lines one definition holds, and the most lines and bytes a reading makes once
/// definitions are expanded.
const MAX_DEFINITION_LINES: usize = 1024;
const MAX_LINES: usize = 1 << 23;
const MAX_TEXT: usize = 128 << 20;
/// How often a line is rescanned for definitions, which may expand to more definitions.
const MAX_EXPANSIONS: usize = 64;

/// How to read.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The `-i` configuration id: `@ID` lines are kept, `@^ID` lines dropped.
    pub config_id: Option<String>,
    /// Read NO-BREAK SPACE and the other Unicode blanks as blanks (lvsd's reading) rather than
    /// as parts of words (keepalived's).
    pub unicode_blanks: bool,
    /// `-e`: every include problem counts, whatever the include's form.
    pub include_check: u8,
}

/// The include problems `-e` makes count.
pub const ALL_INCLUDE_ERRORS: u8 = READ | MISSING | WILDCARD | BRACE;

/// The files read, in the order first read: [`Place::file`] indexes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Files {
    pub paths: Vec<PathBuf>,
}

impl Files {
    pub fn path(&self, at: Place) -> &Path {
        self.paths
            .get(at.file as usize)
            .map(PathBuf::as_path)
            .unwrap_or(Path::new("?"))
    }
}

/// The lines for the parser, each a `{`, a `}`, or text without either outside quotes; kept
/// in one buffer, since a file of braces makes millions of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lines {
    text: String,
    lines: Vec<(Place, u32, u32)>,
}

impl Lines {
    pub fn get(&self, i: usize) -> Option<(Place, &str)> {
        let &(at, start, end) = self.lines.get(i)?;
        Some((at, self.text.get(start as usize..end as usize)?))
    }

    pub fn iter(&self) -> impl Iterator<Item = (Place, &str)> {
        (0..self.lines.len()).filter_map(|i| self.get(i))
    }

    fn len(&self) -> usize {
        self.lines.len()
    }

    fn text_len(&self) -> usize {
        self.text.len()
    }

    fn last_place(&self) -> Option<Place> {
        self.lines.last().map(|l| l.0)
    }

    fn push(&mut self, at: Place, text: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(text);
        self.lines.push((at, start, self.text.len() as u32));
    }
}

/// Reads the configuration that starts at `path`.
pub fn read(path: &Path, options: &Options, problems: &mut Problems) -> (Files, Lines) {
    let mut reader = Reader {
        options,
        problems,
        files: Files::default(),
        lines: Lines::default(),
        stack: Vec::new(),
        defs: Definitions::standard(options.config_id.as_deref()),
        depth: 0,
        open: Vec::new(),
        indent: 0,
        suspect: None,
        truncated: false,
        total: 0,
    };
    reader.top(path);
    (reader.files, reader.lines)
}

struct Reader<'a> {
    options: &'a Options,
    problems: &'a mut Problems,
    files: Files,
    lines: Lines,
    /// The files being read, outermost first, canonical, to find include loops.
    stack: Vec<PathBuf>,
    defs: Definitions,
    /// keepalived's `block_depth`: `{`s read less `}`s, never below 0.
    depth: usize,
    /// The blocks open, each with the indentation of the line it opened on.
    open: Vec<(u32, Place)>,
    /// The indentation of the line being read.
    indent: u32,
    /// In the top-level block being read, the first `}` indented otherwise than the line that
    /// opened the block it closes, and that line: the likely cause of an extra `}` after it.
    suspect: Option<(Place, Place)>,
    /// Whether lines were dropped for the bounds.
    truncated: bool,
    total: u64,
}

impl Reader<'_> {
    fn top(&mut self, path: &Path) {
        let found = glob_paths(path, Path::new(""));
        match found {
            Err(e) => self.problems.push(Problem::new(
                None,
                Kind::FileNotFound,
                format!("Unable to find configuration file {} ({e})", path.display()),
            )),
            Ok(m) if m.paths.is_empty() => self.problems.push(
                Problem::new(
                    None,
                    Kind::FileNotFound,
                    format!("Unable to find configuration file {}", path.display()),
                )
                .hint("name an existing file with -f"),
            ),
            Ok(Matched { paths, .. }) => {
                if paths.len() > 1 {
                    self.problems.push(Problem::new(
                        None,
                        Kind::MultipleFiles,
                        format!(
                            "WARNING, multiple configuration file matches of {}, starting with {}",
                            path.display(),
                            paths[0].display()
                        ),
                    ));
                }
                for p in paths {
                    if let Err(message) = self.file(&p) {
                        self.problems
                            .push(Problem::new(None, Kind::FileNotFound, message));
                    }
                }
            }
        }
        if self.depth > 0 {
            let last = self.lines.last_place();
            self.problems.push(
                Problem::new(
                    last,
                    Kind::MissingBlockEnd,
                    format!("There are {} missing '}}'s or extra '{{'s", self.depth),
                )
                .effect("keepalived reads the blocks still open as ending at the end of the file"),
            );
            if let Some(p) = self.problems.list.last_mut() {
                p.keepalived_names_line = false;
            }
        }
    }

    /// Reads one file; `Err` says why it could not be read at all.
    fn file(&mut self, path: &Path) -> Result<(), String> {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if self.stack.contains(&canonical) {
            return Err(format!(
                "{} includes itself (through {}): keepalived would read it again and again until \
                 it runs out of open files",
                path.display(),
                self.stack
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" -> ")
            ));
        }
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            return Err(format!(
                "{}: includes nest deeper than {MAX_INCLUDE_DEPTH} files",
                path.display()
            ));
        }
        if self.files.paths.len() >= MAX_FILES {
            return Err(format!("{}: more than {MAX_FILES} files", path.display()));
        }
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("Configuration file '{}': {e}", path.display()))?;
        if !meta.is_file() || is_executable(&meta) {
            return Err(format!(
                "Configuration file '{}' is not a regular non-executable file - skipping",
                path.display()
            ));
        }
        let too_large = |len: u64| {
            format!(
                "{}: too large ({len} bytes or more; lvsd reads at most {MAX_FILE_BYTES} bytes a \
                 file and {MAX_TOTAL_BYTES} in all)",
                path.display()
            )
        };
        if meta.len() > MAX_FILE_BYTES || self.total + meta.len() > MAX_TOTAL_BYTES {
            return Err(too_large(meta.len()));
        }
        // Files under /proc say they are empty and are not: the size read is what counts.
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| {
                format!(
                    "Configuration file '{}' open problem ({e}) - skipping",
                    path.display()
                )
            })?;
        if bytes.len() as u64 > MAX_FILE_BYTES || self.total + bytes.len() as u64 > MAX_TOTAL_BYTES
        {
            return Err(too_large(bytes.len() as u64));
        }
        self.total += bytes.len() as u64;
        let file = self.files.paths.len() as u32;
        self.files.paths.push(path.to_path_buf());
        let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        // `$_PWD` is the directory keepalived is in: that of the file it reads.
        let pwd = canonical
            .parent()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        let outer_pwd = self.defs.set("_PWD", pwd);
        self.stack.push(canonical);
        let mut number = 0u32;
        for raw in bytes.split_inclusive(|&b| b == b'\n') {
            let ends = raw.last() == Some(&b'\n');
            let body = if ends { &raw[..raw.len() - 1] } else { raw };
            let chunks: Vec<&[u8]> = if body.is_empty() {
                vec![body]
            } else {
                body.chunks(MAX_LINE).collect()
            };
            let last = chunks.len() - 1;
            for (i, chunk) in chunks.into_iter().enumerate() {
                // keepalived counts a line when it reads its end.
                if i == last && ends {
                    number += 1;
                }
                let at = Place {
                    file,
                    line: number.max(1),
                };
                self.raw_line(at, chunk, &dir);
            }
        }
        self.stack.pop();
        self.defs.set("_PWD", outer_pwd);
        Ok(())
    }

    fn raw_line(&mut self, at: Place, bytes: &[u8], dir: &Path) {
        let mut end = bytes.len();
        while end > 0 && matches!(bytes[end - 1], b'\n' | b'\r') {
            end -= 1;
        }
        if end == 0 {
            // A blank line ends a multi-line definition.
            self.defs.continuing = None;
            return;
        }
        let mut text = String::from_utf8_lossy(&bytes[..end]).into_owned();
        if self.options.unicode_blanks {
            text = self.blanks(at, text);
        }
        self.indent = indentation(&text);
        let text = decomment(&text, at, self.problems);
        if self.defs.continuing.is_some() {
            // keepalived skips a line that is all comment or blanks without ending the
            // definition; only an empty line does.
            if !text.is_empty() {
                self.defs.continue_with(&text);
            }
            return;
        }
        self.logical_line(at, text, dir, 0);
    }

    /// A line after its comments are gone (or one a multi-line definition stands for):
    /// conditions, definitions, includes, then the braces.
    fn logical_line(&mut self, at: Place, mut text: String, dir: &Path, depth: usize) {
        let mut rounds = 0;
        let mut more: Vec<String> = Vec::new();
        loop {
            if text.is_empty() {
                return;
            }
            if let Some(rest) = text.strip_prefix('@') {
                let (reverse, rest) = match rest.strip_prefix('^') {
                    Some(r) => (true, r),
                    None => (false, rest),
                };
                let Some(sp) = rest.find([' ', '\t']) else {
                    return;
                };
                let matches = self.options.config_id.as_deref() == Some(&rest[..sp]);
                if matches == reverse {
                    return;
                }
                text = rest[sp..].trim_start_matches([' ', '\t']).to_string();
                continue;
            }
            if text.starts_with('$') {
                match self.defs.define(&text) {
                    Define::Set => return,
                    Define::NotDefinition => {}
                }
            }
            if text.starts_with("~SEQ") || text.starts_with("~LST") {
                self.problems.push(
                    Problem::new(Some(at), Kind::Ignored, "~SEQ and ~LST are not supported")
                        .effect("lvsd drops this line")
                        .hint("write the lines out"),
                );
                return;
            }
            if text.starts_with('~') {
                break;
            }
            if !text.contains('$') {
                break;
            }
            match self.defs.replace(&text) {
                Some((replaced, _)) if replaced.len() > MAX_LINE => {
                    // keepalived refuses the substitution and reads the line as it was.
                    self.problems.push(
                        Problem::new(
                            Some(at),
                            Kind::Advice,
                            "Parameter substitution on this line would exceed the maximum line length",
                        )
                        .effect("keepalived reads the line without substituting and logs this"),
                    );
                    break;
                }
                Some((replaced, rest)) if rounds < MAX_EXPANSIONS && depth < MAX_EXPANSIONS => {
                    rounds += 1;
                    // A multi-line definition's other lines come after this one.
                    if !rest.is_empty() {
                        more = rest;
                    }
                    text = decomment(&replaced, at, self.problems);
                    if !(text.starts_with('@') || text.contains('$')) {
                        break;
                    }
                }
                Some(_) => {
                    self.problems.push(Problem::new(
                        Some(at),
                        Kind::General,
                        "definitions expand without end",
                    ));
                    return;
                }
                None => break,
            }
        }
        self.finish_line(at, text, dir, depth, true);
        for line in more {
            self.logical_line(at, line, dir, depth + 1);
        }
    }

    fn finish_line(&mut self, at: Place, text: String, dir: &Path, depth: usize, first: bool) {
        if let Some((counts, pattern)) = include_pattern(&text) {
            self.include(at, counts, pattern, dir);
        } else if !text.is_empty() {
            self.split_braces(at, text, dir, depth, first);
        }
    }

    /// What follows a brace on a line: keepalived reads it as it reads a line, but for its
    /// comments, already gone.
    fn rest_of_line(&mut self, at: Place, text: String, dir: &Path, depth: usize) {
        if text.starts_with(['{', '}']) || !(text.starts_with('@') || text.contains('$')) {
            return self.finish_line(at, text, dir, depth, false);
        }
        self.logical_line(at, text, dir, depth + 1);
    }

    /// Replaces Unicode blanks by spaces, saying where each line had them.
    fn blanks(&mut self, at: Place, text: String) -> String {
        if text.is_ascii() {
            return text;
        }
        let mut first: Option<(u32, char)> = None;
        let mut count = 0;
        let out: String = text
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if is_unicode_blank(c) {
                    count += 1;
                    first.get_or_insert((i as u32 + 1, c));
                    ' '
                } else {
                    c
                }
            })
            .collect();
        if let Some((column, c)) = first {
            let mut p = Problem::new(
                Some(at),
                Kind::Advice,
                format!(
                    "{} ({}) read as a blank{}",
                    blank_name(c),
                    format_args!("U+{:04X}", c as u32),
                    if count > 1 {
                        format!(" ({count} Unicode blanks on this line)")
                    } else {
                        String::new()
                    }
                ),
            )
            .effect(
                "keepalived reads it as part of a word: a line indented with it is an unknown \
                 keyword, an address next to it is invalid",
            )
            .hint("replace it with a plain space (copying from a web page often brings it)");
            p.column = Some(column);
            self.problems.push(p);
        }
        out
    }

    /// An include problem: keepalived prints it, and counts it in its status only when the
    /// include's form, or `-e`, asks for it.
    fn include_error(&mut self, at: Place, counts: u8, class: u8, message: String) {
        let kind = if (counts | self.options.include_check) & class != 0 {
            Kind::FileNotFound
        } else {
            Kind::Advice
        };
        let mut p = Problem::new(Some(at), kind, message);
        if kind == Kind::Advice {
            p = p.effect(
                "keepalived prints this but reads on, and -t's exit status does not count it",
            );
        }
        self.problems.push(p);
    }

    fn include(&mut self, at: Place, counts: u8, pattern: &str, dir: &Path) {
        let pattern = pattern.trim_matches([' ', '\t']);
        let m = match glob_paths(Path::new(pattern), dir) {
            Ok(m) => m,
            Err(e) => {
                let message = format!(
                    "Error reading config file(s): glob(\"{pattern}\") returned {e}, skipping."
                );
                return self.include_error(at, counts, READ, message);
            }
        };
        let braces = pattern.contains('{');
        if m.paths.is_empty() {
            if m.missing {
                let class = if braces { BRACE } else { MISSING };
                self.include_error(
                    at,
                    counts,
                    class,
                    format!("Config files missing '{pattern}'."),
                );
            } else if (counts | self.options.include_check) & WILDCARD != 0 {
                self.include_error(
                    at,
                    counts,
                    WILDCARD,
                    format!("No config files matched '{pattern}'."),
                );
            } else {
                self.problems.push(
                    Problem::new(
                        Some(at),
                        Kind::Advice,
                        format!("include {pattern}: no file matches"),
                    )
                    .effect("keepalived reads on without it and says nothing")
                    .hint(format!(
                        "an include is relative to the directory of the file that has it ({})",
                        if dir.as_os_str().is_empty() {
                            ".".to_string()
                        } else {
                            dir.display().to_string()
                        }
                    )),
                );
            }
            return;
        }
        if m.missing {
            self.include_error(
                at,
                counts,
                BRACE,
                format!("Some config files missing: \"{pattern}\"."),
            );
            if (counts | self.options.include_check) & BRACE != 0 {
                return;
            }
        }
        for p in m.paths {
            if let Err(message) = self.file(&p) {
                self.include_error(at, counts, READ, message);
            }
        }
    }

    /// Puts the first `{` or `}` outside quotes on a line of its own, as keepalived does; the
    /// rest of the line is read again as a line (conditions, definitions, includes, braces).
    fn split_braces(&mut self, at: Place, text: String, dir: &Path, depth: usize, first: bool) {
        let (head, tail) = match brace_cut(&text) {
            Some(0) => {
                let after = text[1..].trim_start_matches([' ', '\t']);
                (text[..1].to_string(), after.to_string())
            }
            Some(i) => (text[..i].to_string(), text[i..].to_string()),
            None => (text, String::new()),
        };
        let head = head.trim_end_matches([' ', '\t']).to_string();
        self.emit(at, head, first);
        let tail = tail.trim_end_matches([' ', '\t']).to_string();
        if !tail.is_empty() {
            self.rest_of_line(at, tail, dir, depth);
        }
    }

    /// `first`: whether the text starts its line.
    fn emit(&mut self, at: Place, text: String, first: bool) {
        if self.lines.len() >= MAX_LINES || self.lines.text_len() + text.len() > MAX_TEXT {
            if !self.truncated {
                self.truncated = true;
                self.problems.push(Problem::new(
                    Some(at),
                    Kind::Fatal,
                    format!(
                        "the configuration makes more than {MAX_LINES} lines or {MAX_TEXT} bytes once its definitions are expanded: lvsd reads no further"
                    ),
                ));
            }
            return;
        }
        if text == "{" {
            if self.depth == 0 {
                self.suspect = None;
            }
            self.depth += 1;
            self.open.push((self.indent, at));
        } else if text == "}" {
            if self.depth == 0 {
                let mut p = Problem::new(Some(at), Kind::UnexpectedBlockEnd, "Extra '}' found")
                    .effect("keepalived reads the rest of the file at the top level");
                if let Some((close, open)) = self.suspect {
                    p = p.hint(format!(
                        "the '}}' on line {} is probably the one too many: it is not indented \
                         like line {}, whose block it closes",
                        close.line, open.line
                    ));
                }
                self.problems.push(p);
            } else {
                self.depth -= 1;
                if let Some((indent, opened)) = self.open.pop() {
                    let misplaced = first && opened != at && indent != self.indent;
                    if misplaced && self.suspect.is_none() && opened.file == at.file {
                        self.suspect = Some((at, opened));
                    }
                }
            }
        }
        self.lines.push(at, &text);
    }
}

/// How far a line is indented, tabs to the next multiple of 8.
fn indentation(text: &str) -> u32 {
    let mut col = 0u32;
    for c in text.chars() {
        match c {
            ' ' => col += 1,
            '\t' => col = (col / 8 + 1) * 8,
            _ => break,
        }
    }
    col
}

/// Where the line is cut: at its first `{` or `}` outside double quotes (a line that starts
/// with one is cut right after it).
fn brace_cut(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    if b[0] == b'{' || b[0] == b'}' {
        return if s.len() > 1 { Some(0) } else { None };
    }
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' | b'}' => return Some(i),
            b'"' => match b[i + 1..].iter().position(|&c| c == b'"') {
                Some(j) => i += j + 2,
                None => return None,
            },
            _ => i += 1,
        }
    }
    None
}

/// keepalived's `decomment`: leading blanks, comments from `#` or `!` outside double quotes
/// (`\#` and `\!` stand for themselves), and trailing blanks removed.
fn decomment(s: &str, at: Place, problems: &mut Problems) -> String {
    let s = s.trim_start_matches([' ', '\t']);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut quote = false;
    let mut cont = false;
    // Where the comment starts in `out`: keepalived goes on reading past it, for a backslash
    // that ends the line (which continues the line even after a comment).
    let mut comment: Option<usize> = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                if comment.is_none() {
                    quote = !quote;
                }
                out.push(b'"');
                i += 1;
            }
            b'\\' if i + 1 < b.len() => {
                if !quote && (b[i + 1] == b'#' || b[i + 1] == b'!') {
                    out.push(b[i + 1]);
                } else {
                    out.extend_from_slice(&b[i..i + 2]);
                }
                i += 2;
            }
            b'\\' => {
                cont = true;
                break;
            }
            b'#' | b'!' if !quote && comment.is_none() => {
                comment = Some(out.len());
                out.push(b[i]);
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    if let Some(start) = comment {
        out.truncate(start);
    }
    if quote {
        problems.push(Problem::new(
            Some(at),
            Kind::General,
            format!("Unterminated quote '{s}'"),
        ));
    }
    while matches!(out.last(), Some(b' ' | b'\t')) {
        out.pop();
    }
    if cont {
        out.push(b'\\');
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// keepalived's include error classes: a file it cannot read, files it names that are
/// missing, a wildcard matching nothing, some of `{a,b}`'s files missing.
const READ: u8 = 1;
const MISSING: u8 = 2;
const WILDCARD: u8 = 4;
const BRACE: u8 = 8;

/// An `include` line's pattern, and the errors its form (`include`, `includer`, `includem`,
/// `includew`, `includeb`, `includea`) makes count.
fn include_pattern(text: &str) -> Option<(u8, &str)> {
    let rest = text.strip_prefix("include")?;
    let b = rest.as_bytes();
    match b {
        [c, ..] if c.is_ascii_whitespace() => Some((0, &rest[1..])),
        [k, c, ..] if c.is_ascii_whitespace() => {
            let counts = match k {
                b'r' => READ,
                b'm' => READ | MISSING,
                b'w' => READ | MISSING | WILDCARD,
                b'b' => READ | BRACE,
                b'a' => READ | MISSING | WILDCARD | BRACE,
                _ => return None,
            };
            Some((counts, &rest[2..]))
        }
        _ => None,
    }
}

/// What a pattern matched: the files, and whether some files it names without a wildcard
/// are missing.
struct Matched {
    paths: Vec<PathBuf>,
    missing: bool,
    wildcards: bool,
}

/// The files a pattern names, sorted, relative to `dir` unless absolute, as glibc's `glob`
/// finds them (a leading dot matched only by a dot, `**` no more than `*`).
fn glob_paths(pattern: &Path, dir: &Path) -> Result<Matched, String> {
    let full = if pattern.is_absolute() || dir.as_os_str().is_empty() {
        pattern.to_path_buf()
    } else {
        dir.join(pattern)
    };
    let mut text = full.to_string_lossy().into_owned();
    while text.contains("**") {
        text = text.replace("**", "*");
    }
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let mut m = Matched {
        paths: Vec::new(),
        missing: false,
        wildcards: false,
    };
    for expanded in expand_braces(&text) {
        if !expanded.contains(['*', '?', '[']) {
            if Path::new(&expanded).exists() {
                m.paths.push(PathBuf::from(expanded));
            } else {
                m.missing = true;
            }
            continue;
        }
        m.wildcards = true;
        let found = glob::glob_with(&expanded, options).map_err(|e| e.to_string())?;
        let mut found: Vec<PathBuf> = found.filter_map(Result::ok).take(MAX_FILES).collect();
        found.sort();
        m.paths.extend(found);
    }
    Ok(m)
}

/// The most patterns one `include` line's `{a,b}` alternatives make.
const MAX_ALTERNATIVES: usize = 1024;

/// `{a,b}` alternatives, as glibc's `GLOB_BRACE` (which keepalived uses) expands them, at
/// most [`MAX_ALTERNATIVES`].
fn expand_braces(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    expand_into(s, &mut out);
    out
}

fn expand_into(s: &str, out: &mut Vec<String>) {
    if out.len() >= MAX_ALTERNATIVES {
        return;
    }
    let Some(open) = s.find('{') else {
        out.push(s.to_string());
        return;
    };
    let mut depth = 0;
    let mut close = None;
    let mut commas = Vec::new();
    for (i, c) in s[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            ',' if depth == 1 => commas.push(open + i),
            _ => {}
        }
    }
    let Some(close) = close else {
        out.push(s.to_string());
        return;
    };
    let mut bounds = vec![open];
    bounds.extend(commas);
    bounds.push(close);
    let (head, tail) = (&s[..open], &s[close + 1..]);
    for w in bounds.windows(2) {
        expand_into(&format!("{head}{}{tail}", &s[w[0] + 1..w[1]]), out);
    }
}

fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

/// The characters that look like a blank but are not one to keepalived.
pub fn is_unicode_blank(c: char) -> bool {
    matches!(
        c,
        '\u{00A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200B}' | '\u{202F}' | '\u{205F}' | '\u{3000}' | '\u{FEFF}'
    )
}

fn blank_name(c: char) -> &'static str {
    match c {
        '\u{00A0}' => "NO-BREAK SPACE",
        '\u{202F}' => "NARROW NO-BREAK SPACE",
        '\u{3000}' => "IDEOGRAPHIC SPACE",
        '\u{200B}' => "ZERO WIDTH SPACE",
        '\u{FEFF}' => "ZERO WIDTH NO-BREAK SPACE",
        _ => "a Unicode space",
    }
}

/// `$NAME=value` definitions; a value that ends in `\` goes on to the next lines, one line
/// of the value each, up to one that does not (or a blank line).
struct Definitions {
    /// Each definition's lines.
    defs: Vec<(String, Vec<String>)>,
    /// The multi-line definition being read.
    continuing: Option<usize>,
}

enum Define {
    Set,
    NotDefinition,
}

/// A value line's text without its trailing `\` and the blanks before it, and whether it
/// had one.
fn continued(text: &str) -> (&str, bool) {
    match text.strip_suffix('\\') {
        Some(t) => (t.trim_end_matches([' ', '\t']), true),
        None => (text, false),
    }
}

impl Definitions {
    fn standard(config_id: Option<&str>) -> Definitions {
        let one = |n: &str, v: String| (n.to_string(), vec![v]);
        let pwd = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        Definitions {
            defs: vec![
                one("_PWD", pwd),
                one("_INSTANCE", config_id.unwrap_or_default().to_string()),
                one("_HASH", "#".into()),
                one("_BANG", "!".into()),
            ],
            continuing: None,
        }
    }

    fn define(&mut self, text: &str) -> Define {
        let b = text.as_bytes();
        if b.len() < 2 || !(b[1].is_ascii_alphabetic() || b[1] == b'_') {
            return Define::NotDefinition;
        }
        let name_end = b[2..]
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
            .map_or(b.len(), |i| i + 2);
        // keepalived takes nothing but the name before the `=`: `$X = 1` is no definition.
        let Some(value) = text[name_end..].strip_prefix('=') else {
            return Define::NotDefinition;
        };
        let (value, more) = continued(value.trim_start_matches([' ', '\t']));
        let lines = if value.is_empty() && more {
            Vec::new()
        } else {
            vec![value.to_string()]
        };
        let name = &text[1..name_end];
        let i = match self.defs.iter().position(|(n, _)| n == name) {
            Some(i) => {
                self.defs[i].1 = lines;
                i
            }
            None => {
                self.defs.push((name.to_string(), lines));
                self.defs.len() - 1
            }
        };
        self.continuing = more.then_some(i);
        Define::Set
    }

    /// Sets a one-line definition, returning its value before.
    fn set(&mut self, name: &str, value: String) -> String {
        match self.defs.iter_mut().find(|(n, _)| n == name) {
            Some((_, lines)) => {
                let before = lines.first().cloned().unwrap_or_default();
                *lines = vec![value];
                before
            }
            None => {
                self.defs.push((name.to_string(), vec![value]));
                String::new()
            }
        }
    }

    /// The next line of the multi-line definition being read.
    fn continue_with(&mut self, text: &str) {
        let Some(i) = self.continuing else { return };
        let (line, more) = continued(text);
        if let Some((_, lines)) = self.defs.get_mut(i) {
            if !line.is_empty() && lines.len() < MAX_DEFINITION_LINES {
                lines.push(line.to_string());
            }
        }
        if !more {
            self.continuing = None;
        }
    }

    /// The line with `$NAME` and `${NAME}` replaced, and the further lines of a multi-line
    /// definition that ends it; `None` when it names no definition.
    fn replace(&self, text: &str) -> Option<(String, Vec<String>)> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        let mut found = false;
        let mut more = Vec::new();
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            match self.lookup(after) {
                Some((lines, used)) => {
                    found = true;
                    out.push_str(lines.first().map_or("", String::as_str));
                    if lines.len() > 1 {
                        more = lines[1..].to_vec();
                        rest = "";
                        break;
                    }
                    rest = &after[used..];
                }
                None => {
                    out.push('$');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        found.then_some((out, more))
    }

    /// The definition named at the start of `s` and how many bytes its name takes there: a
    /// multi-line one only where it ends the line.
    fn lookup<'s>(&'s self, s: &str) -> Option<(&'s [String], usize)> {
        let (braces, body) = match s.strip_prefix('{') {
            Some(b) => (true, b),
            None => (false, s),
        };
        let b = body.as_bytes();
        if b.is_empty() || !(b[0].is_ascii_alphabetic() || b[0] == b'_') {
            return None;
        }
        let len = b
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
            .unwrap_or(b.len());
        let next = b.get(len).copied();
        let used = if braces {
            if next != Some(b'}') {
                return None;
            }
            len + 2
        } else {
            if !matches!(next, None | Some(b' ' | b'\t' | b',' | b')')) {
                return None;
            }
            len
        };
        let ends_line = used == s.len();
        let name = &body[..len];
        self.defs
            .iter()
            .find(|(n, lines)| n == name && (lines.len() <= 1 || ends_line))
            .map(|(_, lines)| (lines.as_slice(), used))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str, options: &Options) -> (Vec<(u32, String)>, Problems) {
        let dir = std::env::temp_dir().join(format!("ka-src-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!(
            "{:x}.conf",
            text.len() * 7919 + text.as_bytes()[0] as usize
        ));
        std::fs::write(&path, text).unwrap();
        let mut problems = Problems::default();
        let (_, lines) = read(&path, options, &mut problems);
        std::fs::remove_file(&path).ok();
        (
            lines
                .iter()
                .map(|(at, t)| (at.line, t.to_string()))
                .collect(),
            problems,
        )
    }

    #[test]
    fn braces_get_lines_of_their_own_and_comments_go() {
        let (l, p) = lines("a b { c } # x\n\"q{\" {\n}}\n", &Options::default());
        let texts: Vec<&str> = l.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, ["a b", "{", "c", "}", "\"q{\"", "{", "}", "}"]);
        assert_eq!(p.list.len(), 1, "{:?}", p.list);
        assert_eq!(p.list[0].message, "Extra '}' found");
        assert_eq!(p.list[0].at.map(|a| a.line), Some(3));
    }

    #[test]
    fn multi_line_definitions() {
        let (l, p) = lines(
            "$RS=real_server 192.0.2.2 80 { \\\n    weight 2 \\\n}\nx {\n  $RS\n  y $RS z\n}\n",
            &Options::default(),
        );
        let texts: Vec<&str> = l.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "x",
                "{",
                "real_server 192.0.2.2 80",
                "{",
                "weight 2",
                "}",
                "y $RS z",
                "}"
            ]
        );
        assert!(p.list.is_empty(), "{:?}", p.list);
    }

    #[test]
    fn definitions_and_conditionals() {
        let options = Options {
            config_id: Some("one".into()),
            ..Options::default()
        };
        let (l, _) = lines(
            "$IP=192.0.2.1\n@one a $IP\n@two b\n@^one c\n@^two d ${IP}x\n",
            &options,
        );
        let texts: Vec<&str> = l.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, ["a 192.0.2.1", "d 192.0.2.1x"]);
    }

    #[test]
    fn unicode_blanks_are_blanks_only_when_asked() {
        let text = "\u{a0}\u{a0}delay_loop 6\n";
        let (l, p) = lines(text, &Options::default());
        assert_eq!(l[0].1, "\u{a0}\u{a0}delay_loop 6");
        assert!(p.list.is_empty());
        let (l, p) = lines(
            text,
            &Options {
                unicode_blanks: true,
                ..Options::default()
            },
        );
        assert_eq!(l[0].1, "delay_loop 6");
        assert_eq!(p.list[0].column, Some(1));
        assert_eq!(p.list[0].kind, Kind::Advice);
    }

    #[test]
    fn brace_expansion() {
        assert_eq!(expand_braces("a{b,c}d"), ["abd", "acd"]);
        assert_eq!(expand_braces("x"), ["x"]);
    }
}
