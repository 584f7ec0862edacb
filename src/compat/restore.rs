//! `-R`: ipvsadm command lines from stdin. Unlike ipvsadm, every line is parsed before any is
//! applied, so a typo on line 900 does not leave 899 lines applied; `#` comments are allowed,
//! and each failure names its line.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use ipvs::{OnError, Request};

use super::exec::{into_request, kernel, Session};
use super::fast;
use super::messages::describe;
use super::{parse, Command, Failure};
use crate::interrupt::{self, Deferred};
use crate::table::Table;

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
const PARALLEL_BYTES: usize = 128 * 1024;

/// The commands of a rules text, each with its line number, or every line that is wrong.
pub fn parse_rules(
    prog: &str,
    text: &[u8],
    posix: bool,
) -> Result<Numbered<Command>, Numbered<Failure>> {
    let parts = parse_parts(prog, text, posix, Vec::with_capacity, |part, line, cmd| {
        part.push((line, cmd))
    })?;
    let numbered = parts
        .into_iter()
        .flat_map(|(first, part)| part.into_iter().map(move |(line, cmd)| (first + line, cmd)));
    Ok(numbered.collect())
}

/// Parses a rules text in parts, one per CPU (parsing is most of what a restore costs besides
/// the kernel's own work). Each part's commands go to `keep` with their line's index in the
/// part, into a gathering that `start` makes with room for about as many commands as it is
/// given. Returns the parts in order, each with the number of its first line, or every line
/// that is wrong.
fn parse_parts<T: Send>(
    prog: &str,
    text: &[u8],
    posix: bool,
    start: impl Fn(usize) -> T + Sync,
    keep: impl Fn(&mut T, usize, Command) + Sync,
) -> Result<Vec<(usize, T)>, Numbered<Failure>> {
    let count = if text.len() < PARALLEL_BYTES {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    };
    let (start, keep) = (&start, &keep);
    let results: Vec<_> = std::thread::scope(|scope| {
        let mut parts = split(text, count);
        // The last part is parsed here: a thread costs milliseconds to start under emulation.
        let last = parts.pop().unwrap_or_default();
        let workers: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(move || parse_part(prog, part, posix, start, keep)))
            .collect();
        let last = parse_part(prog, last, posix, start, keep);
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

/// One part of [`parse_parts`]: its gathering, its wrong lines, and the number of lines before
/// the next part (the last piece follows the part's last newline).
fn parse_part<T>(
    prog: &str,
    part: &[u8],
    posix: bool,
    start: impl Fn(usize) -> T,
    keep: impl Fn(&mut T, usize, Command),
) -> (T, Numbered<Failure>, usize) {
    let mut gathered = start((part.len() / SHORTEST_LINE + 1).min(MOST_ROOM));
    let mut errors = Vec::new();
    let mut args = Vec::new();
    let mut lines = 0;
    for (i, line) in utf8(part).split('\n').enumerate() {
        lines = i;
        if let Some(cmd) = fast::line(line) {
            keep(&mut gathered, i, cmd);
            continue;
        }
        args.clear();
        args.extend(words(line));
        if args.is_empty() {
            continue;
        }
        match parse(prog, &args, true, posix) {
            Ok(cmd) => keep(&mut gathered, i, cmd),
            Err(f) => errors.push((i, f)),
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

/// The text of a part, as `from_utf8_lossy` would make it, checked the fast way first.
fn utf8(part: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(part) {
        Ok(text) => text.into(),
        Err(_) => String::from_utf8_lossy(part),
    }
}

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

/// What a restore does, in order: runs of changes, each sent as one batch, and the commands
/// that are not changes of the table (a listing, say), run in between. Lines are numbered
/// within their part.
enum Step {
    Send {
        lines: Vec<usize>,
        reqs: Vec<Request>,
    },
    Run(usize, Command),
}

impl Step {
    /// The steps of a part: room for `commands` in its first batch.
    fn start(commands: usize) -> Vec<Step> {
        vec![Step::Send {
            lines: Vec::with_capacity(commands),
            reqs: Vec::with_capacity(commands),
        }]
    }

    fn keep(steps: &mut Vec<Step>, line: usize, cmd: Command) {
        match (into_request(cmd), steps.last_mut()) {
            (Ok(req), Some(Step::Send { lines, reqs })) => {
                lines.push(line);
                reqs.push(req);
            }
            (Ok(req), _) => steps.push(Step::Send {
                lines: vec![line],
                reqs: vec![req],
            }),
            (Err(cmd), _) => steps.push(Step::Run(line, cmd)),
        }
    }
}

/// The size of stdin when it is a file: room to read it without growing.
fn stdin_size() -> usize {
    std::fs::metadata("/proc/self/fd/0").map_or(0, |m| {
        usize::try_from(m.len()).unwrap_or(0).min(1 << 30) + 1
    })
}

fn report(line: usize, f: &Failure) {
    if !f.message.is_empty() {
        // Like every message, never a panic when stderr is closed.
        let _ = writeln!(std::io::stderr(), "line {line}: {}", f.message.trim_end());
    }
}

/// Reads the rules, checks every line, and only then applies them in order: changes are sent
/// in pipelined batches, each failure reported with its line. With `atomic`, the first
/// failure stops the restore and the table is put back as it was.
pub fn run(
    prog: &str,
    posix: bool,
    atomic: bool,
    mut input: impl BufRead,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let mut text = Vec::with_capacity(stdin_size());
    input
        .read_to_end(&mut text)
        .map_err(|e| Failure::new(1, format!("cannot read the rules from stdin: {e}")))?;
    let parts = match parse_parts(prog, &text, posix, Step::start, Step::keep) {
        Ok(parts) => parts,
        Err(errors) => {
            for (line, f) in &errors {
                report(*line, f);
            }
            let status = errors.last().map_or(2, |(_, f)| f.status);
            return Err(Failure::new(status, "nothing was restored"));
        }
    };
    drop(text);
    let mut session = Session::open()?;
    let _lock = session.lock()?;
    let before = match atomic {
        true => Some(Table::read(session.client()).map_err(kernel)?),
        false => None,
    };
    let on_error = if atomic {
        OnError::Stop
    } else {
        OnError::Continue
    };
    // An atomic restore that is interrupted puts the table back too.
    let deferred = atomic.then(Deferred::new);
    let never = AtomicBool::new(false);
    let stop = match &deferred {
        Some(d) => d.stop_flag(),
        None => &never,
    };
    let mut status = 0;
    let mut refused = None;
    let steps = parts
        .into_iter()
        .flat_map(|(first, steps)| steps.into_iter().map(move |step| (first, step)));
    for (first, step) in steps {
        if (refused.is_some() && atomic) || stop.load(Ordering::SeqCst) {
            break;
        }
        match step {
            Step::Send { lines, reqs } => {
                let lines = lines.iter().map(|i| first + i);
                refused = refused.or(send(&mut session, lines, &reqs, on_error, stop));
            }
            Step::Run(i, cmd) => {
                if let Err(f) = session.execute(prog, cmd, out) {
                    report(first + i, &f);
                    status = f.status;
                }
            }
        }
    }
    if let Some(before) = before {
        if let Some(signal) = deferred.as_ref().and_then(Deferred::caught) {
            let why = format!("interrupted by {}", interrupt::name(signal));
            return Err(undo(&mut session, &before, &why, interrupt::status(signal)));
        }
        if let Some(line) = refused {
            return Err(undo(
                &mut session,
                &before,
                &format!("stopped at line {line}"),
                255,
            ));
        }
    }
    if refused.is_some() {
        status = 255;
    }
    match status {
        0 => Ok(()),
        status => Err(Failure::new(status, "")),
    }
}

/// Sends a run of changes; reports each refusal. Returns the first refused line.
fn send(
    session: &mut Session,
    lines: impl Iterator<Item = usize>,
    reqs: &[Request],
    on_error: OnError,
    stop: &AtomicBool,
) -> Option<usize> {
    if reqs.is_empty() {
        return None;
    }
    let results = session.client().batch_until(reqs, on_error, stop);
    let mut first = None;
    for (line, result) in lines.zip(results) {
        match result {
            Ok(()) | Err(ipvs::Error::NotSent { .. }) => {}
            Err(e) => {
                report(line, &kernel(e));
                first = first.or(Some(line));
            }
        }
    }
    first
}

/// Puts the table back as it was before the restore; `why` it stopped heads the message.
fn undo(session: &mut Session, before: &Table, why: &str, status: i32) -> Failure {
    match before.put_back(session.client()) {
        Ok(()) => Failure::new(
            status,
            format!("{why}; the table is as it was before the restore"),
        ),
        Err(e) => Failure::new(
            status,
            format!(
                "{why}; putting the table back failed too ({}): check it with -S",
                describe(&e)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn lines_keep_their_numbers_across_parts() {
        let text = numbered_text(20_000, &[]);
        assert!(text.len() > PARALLEL_BYTES, "the text is parsed in parts");
        let commands = parse_rules("ipvsadm", text.as_bytes(), false).unwrap();
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
        let errors = parse_rules("ipvsadm", text.as_bytes(), false).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|(n, _)| *n).collect();
        assert_eq!(lines, bad);
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
        let errors = parse_rules("ipvsadm", text, false).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [2, 4]);
        let ok = parse_rules("ipvsadm", b"-A -t 1.2.3.4:80\n-A -u 1.2.3.4:53  ", false).unwrap();
        assert_eq!(ok.len(), 2, "a last line without newline is kept");
    }
}
