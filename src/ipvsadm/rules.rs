//! Rules texts: ipvsadm command lines, one a line, as `-R` reads them from stdin and `apply`
//! and `diff` read them from a file. Every line is checked before any command is taken (a typo
//! on line 900 must not leave 899 lines applied), in parts on several threads for large texts;
//! `#` starts a comment, and each wrong line is reported with its number.

use super::fast;
use super::failure::Failure;
use super::parse::{parse, Command};

/// The words of one line: blank-separated, `ipvsadm` words dropped (restore files are often
/// written as ipvsadm command lines), and everything from a word starting with `#` ignored.
pub fn words(line: &str) -> impl Iterator<Item = &str> {
    line.split([' ', '\t', '\r'])
        .filter(|w| !w.is_empty())
        .take_while(|w| !w.starts_with('#'))
        .filter(|w| *w != "ipvsadm")
}

/// Items with the line they came from.
pub type Numbered<T> = Vec<(usize, T)>;

/// Texts shorter than this are parsed on one thread.
pub const PARALLEL_BYTES: usize = 128 * 1024;

/// The commands of a rules text, each with its line number, or every line that is wrong.
/// Every line is checked first; the commands are made as they are taken, so that a large text
/// is never held as commands twice.
pub fn parse_rules<'t>(
    prog: &str,
    text: &'t [u8],
    posix: bool,
) -> Result<impl Iterator<Item = (usize, Command)> + 't, Numbered<Failure>> {
    let parts = parse_parts(prog, text, posix, Vec::with_capacity, |part, line, cmd| {
        part.push((line.index, cmd))
    })?;
    Ok(parts.into_iter().flat_map(|(first, part)| {
        part.into_iter()
            .map(move |(line, cmd)| (first + line, cmd.command()))
    }))
}

/// Where a line that makes a command is: its index in its part, and where it starts in the
/// text.
#[derive(Clone, Copy)]
pub struct Place {
    pub index: usize,
    pub at: usize,
}

/// A line's command, made or, for a line read the fast way, still to be made (a fraction of a
/// command's size).
pub enum Parsed<'a> {
    Fast(fast::Line<'a>),
    Made(Box<Command>),
}

impl Parsed<'_> {
    pub fn command(self) -> Command {
        match self {
            Parsed::Fast(line) => line.command(),
            Parsed::Made(cmd) => *cmd,
        }
    }
}

/// Parses a rules text in parts, one per CPU (parsing is most of what a restore costs besides
/// the kernel's own work). Each part's commands go to `keep` with their [`Place`], into a
/// gathering that `start` makes with room for about as many commands as it is given. Returns
/// the parts in order, each with the number of its first line, or every line that is wrong.
pub fn parse_parts<'t, T: Send>(
    prog: &str,
    text: &'t [u8],
    posix: bool,
    start: impl Fn(usize) -> T + Sync,
    keep: impl Fn(&mut T, Place, Parsed<'t>) + Sync,
) -> Result<Vec<(usize, T)>, Numbered<Failure>> {
    let count = if text.len() < PARALLEL_BYTES {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    };
    let (start, keep) = (&start, &keep);
    // Each part with where it starts in the text.
    let mut base = 0;
    let texts: Vec<(usize, &'t [u8])> = split(text, count)
        .into_iter()
        .map(|part| {
            base += part.len();
            (base - part.len(), part)
        })
        .collect();
    let Some((&(base, last), others)) = texts.split_last() else {
        return Ok(Vec::new());
    };
    let results: Vec<_> = std::thread::scope(|scope| {
        // The last part is parsed here: a thread costs milliseconds to start under emulation.
        let workers: Vec<_> = others
            .iter()
            .map(|&(base, part)| {
                scope.spawn(move || parse_part(prog, part, base, posix, start, keep))
            })
            .collect();
        let last = parse_part(prog, last, base, posix, start, keep);
        let mut results: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
        results.push(Ok(last));
        results
    });
    let mut parts = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    let mut first = 1;
    for result in results {
        let (part, e, lines) =
            result.map_err(|_| vec![(0, Failure::new(1, "a parsing thread panicked"))])?;
        errors.extend(e.into_iter().map(|(i, f)| (first + i, f)));
        parts.push((first, part));
        first += lines;
    }
    if errors.is_empty() {
        Ok(parts)
    } else {
        Err(errors)
    }
}

/// One part of [`parse_parts`], starting at `base` in the text: its gathering, its wrong lines,
/// and the number of lines before the next part (the last piece follows the part's last
/// newline).
fn parse_part<'t, T>(
    prog: &str,
    part: &'t [u8],
    base: usize,
    posix: bool,
    start: impl Fn(usize) -> T,
    keep: impl Fn(&mut T, Place, Parsed<'t>),
) -> (T, Numbered<Failure>, usize) {
    let mut gathered = start((part.len() / SHORTEST_LINE + 1).min(MOST_ROOM));
    let mut errors = Vec::new();
    let mut lines = 0;
    let mut at = 0;
    // Where each line ends: at a newline, the last one at the end of the part.
    let ends = memchr::memchr_iter(b'\n', part).chain([part.len()]);
    for (index, end) in ends.enumerate() {
        lines = index;
        let here = Place {
            index,
            at: base + at,
        };
        let line = part.get(at..end).unwrap_or_default();
        at = end + 1;
        if let Some(fast) = fast::Line::read(line) {
            keep(&mut gathered, here, Parsed::Fast(fast));
            continue;
        }
        // As `from_utf8_lossy` of the whole text would read it: a newline byte never occurs
        // inside a UTF-8 sequence.
        let line = String::from_utf8_lossy(line);
        let args: Vec<&str> = words(&line).collect();
        if args.is_empty() {
            continue;
        }
        match parse(prog, &args, true, posix) {
            Ok(cmd) => keep(&mut gathered, here, Parsed::Made(Box::new(cmd))),
            Err(f) => errors.push((index, f)),
        }
    }
    (gathered, errors, lines)
}

/// Room is made for a command per this many bytes: shorter lines are rare, and room that is
/// never written costs nothing...
const SHORTEST_LINE: usize = 24;
/// ...up to this many commands (past it, the gathering grows as it fills), so that a huge text
/// does not ask for an allocation larger than the machine.
const MOST_ROOM: usize = 1 << 18;

/// Splits a text after newlines into at most `count` parts of about equal size. A newline byte
/// never occurs inside a UTF-8 sequence, so each part decodes as it would within the whole.
fn split(text: &[u8], count: usize) -> Vec<&[u8]> {
    let mut parts = Vec::with_capacity(count);
    let mut from = 0;
    for k in 1..count {
        let target = (text.len() * k / count).max(from);
        match text[target..].iter().position(|&b| b == b'\n') {
            Some(at) => {
                parts.push(&text[from..target + at + 1]);
                from = target + at + 1;
            }
            None => break,
        }
    }
    parts.push(&text[from..]);
    parts
}

/// The numbers of lines of a text, found from where they start, asked for in order.
pub struct LineNumbers<'t> {
    text: &'t [u8],
    at: usize,
    line: usize,
}

impl<'t> LineNumbers<'t> {
    pub fn new(text: &'t [u8]) -> Self {
        LineNumbers {
            text,
            at: 0,
            line: 1,
        }
    }

    /// The number of the line that starts at `at`.
    pub fn of(&mut self, at: usize) -> usize {
        if at < self.at {
            *self = LineNumbers::new(self.text);
        }
        let between = self.text.get(self.at..at).unwrap_or_default();
        self.line += memchr::memchr_iter(b'\n', between).count();
        self.at = at;
        self.line
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    /// The commands of a rules text, or every line that is wrong.
    fn rules(text: &[u8]) -> Result<Numbered<Command>, Numbered<Failure>> {
        parse_rules("ipvsadm", text, false).map(Iterator::collect)
    }

    /// A large text, line `n` naming service 10.0.x.y:80 with x.y = n, with blank lines.
    fn numbered_text(lines: usize, bad: &[usize]) -> String {
        let mut text = String::new();
        for n in 1..=lines {
            if bad.contains(&n) {
                text += "-A -t 1.2.3.4:80 -s\n";
            } else if n % 7 == 0 {
                text += "\n";
            } else {
                text += &format!("-A -t 10.0.{}.{}:80\n", n / 256, n % 256);
            }
        }
        text
    }

    #[test]
    fn words_drop_comments_and_ipvsadm() {
        let words = |line| words(line).collect::<Vec<_>>();
        assert_eq!(
            words("ipvsadm -A -t 1.2.3.4:80\r"),
            ["-A", "-t", "1.2.3.4:80"]
        );
        assert_eq!(words("-A -t 1.2.3.4:80 # web"), ["-A", "-t", "1.2.3.4:80"]);
        assert!(words("   # just a comment").is_empty());
    }

    #[test]
    fn lines_keep_their_numbers_across_parts() {
        let text = numbered_text(20_000, &[]);
        assert!(text.len() > PARALLEL_BYTES, "the text is parsed in parts");
        let commands = rules(text.as_bytes()).unwrap();
        assert_eq!(commands.len(), 20_000 - 20_000 / 7);
        for (n, cmd) in commands {
            let Command::AddService(s) = cmd else {
                panic!("line {n}: {cmd:?}")
            };
            let want = format!("10.0.{}.{}", n / 256, n % 256);
            assert!(
                matches!(s.key, ipvs::ServiceKey::Addr { addr, .. } if addr.to_string() == want),
                "line {n}"
            );
        }
        let bad = [3, 12_345, 19_999];
        let text = numbered_text(20_000, &bad);
        let errors = rules(text.as_bytes()).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|(n, _)| *n).collect();
        assert_eq!(lines, bad);
    }

    #[test]
    fn line_numbers_count_from_one_in_any_order() {
        let text = b"a\nbb\n\nccc\nd";
        let mut lines = LineNumbers::new(text);
        assert_eq!(lines.of(0), 1);
        assert_eq!(lines.of(5), 3);
        assert_eq!(lines.of(6), 4);
        assert_eq!(lines.of(2), 2);
        assert_eq!(lines.of(10), 5);
        assert_eq!(lines.of(99), 5, "past the end: the last line, and no panic");
    }

    #[test]
    fn parts_end_after_a_newline_and_make_up_the_text() {
        let text = numbered_text(3_000, &[]);
        for count in 1..=5 {
            let parts = split(text.as_bytes(), count);
            assert!(parts.len() <= count);
            assert_eq!(parts.concat(), text.as_bytes());
            for part in &parts[..parts.len() - 1] {
                assert_eq!(part.last(), Some(&b'\n'));
            }
        }
        assert_eq!(split(b"", 4), [b""]);
        assert_eq!(split(b"no newline", 3), [b"no newline"]);
    }

    #[test]
    fn every_bad_line_is_reported_and_nothing_runs() {
        let text = b"-A -t 1.2.3.4:80\n-A -t 1.2.3.4:80 -s\n\n-a -t 1.2.3.4:80 -w x -r 1.1.1.1\n-A -u 1.2.3.4:53";
        let errors = rules(text).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [2, 4]);
        let ok = rules(b"-A -t 1.2.3.4:80\n-A -u 1.2.3.4:53  ").unwrap();
        assert_eq!(ok.len(), 2, "a last line without newline is kept");
    }
}
