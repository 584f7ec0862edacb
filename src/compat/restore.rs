//! `-R`: ipvsadm command lines from stdin. Unlike ipvsadm, every line is parsed before any is
//! applied, so a typo on line 900 does not leave 899 lines applied; `#` comments are allowed,
//! and each failure names its line.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use ipvs::{OnError, Request};

use super::exec::{into_request, kernel, Session};
use super::fast;
use super::messages::describe;
use super::revive::{Shape, Shapes};
use super::{parse, Command, Failure};
use crate::interrupt::{self, Deferred};
use ipvs::Table;

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
struct Place {
    index: usize,
    at: usize,
}

/// A line's command, made or, for a line read the fast way, still to be made (a fraction of a
/// command's size).
enum Parsed<'a> {
    Fast(fast::Line<'a>),
    Made(Box<Command>),
}

impl Parsed<'_> {
    fn command(self) -> Command {
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
fn parse_parts<'t, T: Send>(
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

/// What a restore does, in order: runs of changes, each sent as one batch (in the order
/// [`revive`](super::revive) gives, when it gives one), and the commands that are not changes
/// of the table (a listing, say), run in between.
enum Step {
    /// A run of changes: where each one's line starts in the text, and what it does. The
    /// requests of the lines read the fast way are made again while they are sent, on the
    /// framing thread: under emulation, holding tens of thousands of requests in memory costs
    /// more than reading their lines twice. The others (a host name is looked up only once)
    /// are kept, with their index in the run.
    Send {
        starts: Vec<usize>,
        shapes: Shapes,
        kept: Vec<(usize, Request)>,
    },
    /// A command with its line number (within its part until [`Step::join`]).
    Run(usize, Command),
}

impl Step {
    /// The steps of a part: room for `commands` in its first batch.
    fn start(commands: usize) -> Vec<Step> {
        vec![Step::Send {
            starts: Vec::with_capacity(commands),
            shapes: Shapes::default(),
            kept: Vec::new(),
        }]
    }

    fn keep(steps: &mut Vec<Step>, line: Place, parsed: Parsed<'_>) {
        // A line read the fast way adds a service or a destination: a request, made when it
        // is sent.
        let (shape, req) = match parsed {
            Parsed::Fast(fast) => (fast.shape(), None),
            Parsed::Made(cmd) => match into_request(*cmd) {
                Ok(req) => (Shape::of(&req), Some(req)),
                Err(cmd) => return steps.push(Step::Run(line.index, cmd)),
            },
        };
        if !matches!(steps.last(), Some(Step::Send { .. })) {
            steps.push(Step::Send {
                starts: Vec::new(),
                shapes: Shapes::default(),
                kept: Vec::new(),
            });
        }
        if let Some(Step::Send {
            starts,
            shapes,
            kept,
        }) = steps.last_mut()
        {
            kept.extend(req.map(|req| (starts.len(), req)));
            shapes.push(starts.len(), shape);
            starts.push(line.at);
        }
    }

    /// The steps of all parts, numbered from the text's first line, with runs of changes that
    /// meet where one part ends and the next begins made one: one batch, one framing thread.
    fn join(parts: Vec<(usize, Vec<Step>)>) -> Vec<Step> {
        let mut steps: Vec<Step> = Vec::new();
        for (first, part) in parts {
            for step in part {
                match (steps.last_mut(), step) {
                    (_, Step::Send { starts, .. }) if starts.is_empty() => {}
                    (
                        Some(Step::Send {
                            starts,
                            shapes,
                            kept,
                        }),
                        Step::Send {
                            starts: s,
                            shapes: sh,
                            kept: k,
                        },
                    ) => {
                        let shift = starts.len();
                        kept.extend(k.into_iter().map(|(i, req)| (i + shift, req)));
                        starts.extend(s);
                        shapes.append(sh, shift);
                    }
                    (_, Step::Run(i, cmd)) => steps.push(Step::Run(first + i, cmd)),
                    (_, send) => steps.push(send),
                }
            }
        }
        steps
    }
}

/// The requests of some lines of a [`Step::Send`], in the order of `lines` (indexes in the
/// run).
struct Reread<'a, L> {
    text: &'a [u8],
    starts: &'a [usize],
    kept: &'a [(usize, Request)],
    lines: L,
}

impl<L: ExactSizeIterator<Item = usize>> Iterator for Reread<'_, L> {
    type Item = Request;

    fn next(&mut self) -> Option<Request> {
        let index = self.lines.next()?;
        if let Ok(k) = self.kept.binary_search_by_key(&index, |(i, _)| *i) {
            return Some(self.kept[k].1.clone());
        }
        let at = *self.starts.get(index)?;
        let rest = self.text.get(at..).unwrap_or_default();
        let line = &rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())];
        // A line that was not kept was read the fast way, and reads so again.
        fast::line(line).and_then(|cmd| into_request(cmd).ok())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Every line has its request, made again or kept.
        (self.lines.len(), Some(self.lines.len()))
    }
}

/// The numbers of lines of a text, found from where they start, asked for in order.
struct LineNumbers<'t> {
    text: &'t [u8],
    at: usize,
    line: usize,
}

impl<'t> LineNumbers<'t> {
    fn new(text: &'t [u8]) -> Self {
        LineNumbers {
            text,
            at: 0,
            line: 1,
        }
    }

    /// The number of the line that starts at `at`.
    fn of(&mut self, at: usize) -> usize {
        if at < self.at {
            *self = LineNumbers::new(self.text);
        }
        let between = self.text.get(self.at..at).unwrap_or_default();
        self.line += memchr::memchr_iter(b'\n', between).count();
        self.at = at;
        self.line
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
    for step in Step::join(parts) {
        if (refused.is_some() && atomic) || stop.load(Ordering::SeqCst) {
            break;
        }
        match step {
            Step::Send {
                starts,
                shapes,
                kept,
            } => {
                let run = Run {
                    text: &text,
                    starts: &starts,
                    kept: &kept,
                };
                refused = refused.or(send(&mut session, &run, &shapes, on_error, stop));
            }
            Step::Run(line, cmd) => {
                if let Err(f) = session.execute(prog, cmd, out) {
                    report(line, &f);
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

/// A run of changes (a [`Step::Send`]) to send.
struct Run<'a> {
    text: &'a [u8],
    starts: &'a [usize],
    kept: &'a [(usize, Request)],
}

impl Run<'_> {
    /// The requests of `lines`, in that order.
    fn requests<L>(&self, lines: L) -> Reread<'_, L::IntoIter>
    where
        L: IntoIterator<Item = usize>,
        L::IntoIter: ExactSizeIterator,
    {
        Reread {
            text: self.text,
            starts: self.starts,
            kept: self.kept,
            lines: lines.into_iter(),
        }
    }
}

/// Sends a run of changes, in the order [`Shapes::order`] gives it when it gives one;
/// reports each refusal in the order of the lines. Returns the first refused line.
fn send(
    session: &mut Session,
    run: &Run,
    shapes: &Shapes,
    on_error: OnError,
    stop: &AtomicBool,
) -> Option<usize> {
    let client = session.client();
    let refused = |(index, result): (usize, Result<(), ipvs::Error>)| match result {
        Ok(()) | Err(ipvs::Error::NotSent { .. }) => None,
        Err(e) => Some((index, e)),
    };
    // The refusals, with the index of their line in the run, in the order of the lines.
    let refusals: Vec<(usize, ipvs::Error)> = match shapes.order() {
        None => {
            let sent = client.batch_until(run.requests(0..run.starts.len()), on_error, stop);
            sent.into_iter().enumerate().filter_map(refused).collect()
        }
        Some(order) => {
            let lines = order.iter().map(|&line| line as usize);
            let sent = client.batch_until(run.requests(lines.clone()), on_error, stop);
            let mut refusals: Vec<_> = lines.zip(sent).filter_map(refused).collect();
            refusals.sort_unstable_by_key(|(index, _)| *index);
            refusals
        }
    };
    let mut lines = LineNumbers::new(run.text);
    let mut first = None;
    for (index, e) in refusals {
        let line = lines.of(run.starts.get(index).copied().unwrap_or_default());
        report(line, &kernel(e));
        first = first.or(Some(line));
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
    use ipvs::ServiceKey;

    /// The commands of a rules text, or every line that is wrong.
    fn rules(text: &[u8]) -> Result<Numbered<Command>, Numbered<Failure>> {
        parse_rules("ipvsadm", text, false).map(Iterator::collect)
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

    /// What a restore of `text` would do, step by step: each request with the number of its
    /// line, made again from the text as it is when sent, or a command run in between.
    fn plan(text: &[u8]) -> Vec<(usize, Result<Request, Command>)> {
        let parts = parse_parts("ipvsadm", text, false, Step::start, Step::keep).unwrap();
        let mut lines = LineNumbers::new(text);
        let mut plan = Vec::new();
        for step in Step::join(parts) {
            match step {
                Step::Send { starts, kept, .. } => {
                    let run = Run {
                        text,
                        starts: &starts,
                        kept: &kept,
                    };
                    let reqs = run.requests(0..starts.len());
                    assert_eq!(reqs.size_hint(), (starts.len(), Some(starts.len())));
                    let numbered = starts.iter().map(|&at| lines.of(at));
                    plan.extend(numbered.zip(reqs.map(Ok)));
                }
                Step::Run(line, cmd) => plan.push((line, Err(cmd))),
            }
        }
        plan
    }

    #[test]
    fn a_restore_sends_what_its_lines_say_in_order() {
        let mut text = String::new();
        for n in 0..6000 {
            let vip = format!("10.0.{}.{}:80", n / 256, n % 256);
            text += &format!("-A -t {vip} -s rr\n-a -t {vip} -r 192.168.0.1:8080 -m -w 1\n");
            match n % 1000 {
                // Lines for the general parser, kept whole, between lines read the fast way.
                7 => text += &format!("ipvsadm -a -t {vip}  -r 192.168.0.2 -g # two\n"),
                8 => text += &format!("-e -t {vip} -r 192.168.0.1:8080 -m -w 3\n"),
                9 => text += "# a comment\n\n",
                _ => {}
            }
            if n == 3000 {
                text += "-L -n\n";
            }
        }
        assert!(text.len() > PARALLEL_BYTES, "the text is parsed in parts");
        let want: Vec<_> = rules(text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|(line, cmd)| (line, into_request(cmd)))
            .collect();
        let plan = plan(text.as_bytes());
        assert_eq!(plan.len(), want.len());
        for (got, want) in plan.iter().zip(&want) {
            assert_eq!(got, want);
        }
        // One batch before the listing and one after, though the text was read in parts.
        let parts = parse_parts("ipvsadm", text.as_bytes(), false, Step::start, Step::keep);
        let kinds: Vec<bool> = Step::join(parts.unwrap())
            .iter()
            .map(|step| matches!(step, Step::Send { .. }))
            .collect();
        assert_eq!(kinds, [true, false, true]);
    }

    #[test]
    fn a_large_run_of_additions_goes_service_by_service_in_key_order() {
        let mut text = String::new();
        for n in (0..4000).rev() {
            let (vip, net) = match n % 9 {
                // Lines for the general parser, kept whole.
                4 => (format!("-t [2001:db8::{n:x}]:443"), "[2001:db8:1::"),
                _ => (format!("-t 10.0.{}.{}:80", n / 256, n % 256), "192.168.0."),
            };
            let close = if net.starts_with('[') { "]" } else { "" };
            text += &format!("-A {vip} -s rr\n");
            for d in 1..=2 {
                text += &format!("-a {vip} -r {net}{d}{close}:8080 -m -w {d}\n");
            }
        }
        assert!(text.len() > PARALLEL_BYTES, "the text is parsed in parts");
        let want: Vec<Request> = rules(text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|(_, cmd)| into_request(cmd).unwrap())
            .collect();
        let parts = parse_parts("ipvsadm", text.as_bytes(), false, Step::start, Step::keep);
        let steps = Step::join(parts.unwrap());
        let [Step::Send {
            starts,
            shapes,
            kept,
        }] = &steps[..]
        else {
            panic!("one run of changes");
        };
        let order: Vec<usize> = shapes
            .order()
            .expect("reordered")
            .into_iter()
            .map(|l| l as usize)
            .collect();
        let run = Run {
            text: text.as_bytes(),
            starts,
            kept,
        };
        let sent: Vec<Request> = run.requests(order.iter().copied()).collect();
        // Each line's own request, every line once.
        for (&line, req) in order.iter().zip(&sent) {
            assert_eq!(req, &want[line], "line index {line}");
        }
        let mut lines = order.clone();
        lines.sort_unstable();
        assert_eq!(lines, (0..want.len()).collect::<Vec<_>>());
        // Service by service in ascending key order, each service's lines as in the text.
        let keys: Vec<ServiceKey> = sent
            .iter()
            .map(|r| match r {
                Request::AddService(s) => s.key,
                Request::AddDest(key, _) => *key,
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]), "ascending keys");
        for (chunk, lines) in sent.chunks(3).zip(order.chunks(3)) {
            assert!(matches!(chunk[0], Request::AddService(_)), "{chunk:?}");
            assert!(lines.windows(2).all(|w| w[0] < w[1]), "in line order");
        }
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
