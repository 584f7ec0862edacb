//! `-R`: ipvsadm command lines from stdin. Unlike ipvsadm, every line is parsed before any is
//! applied, so a typo on line 900 does not leave 899 lines applied; `#` comments are allowed,
//! and each failure names its line.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use ipvs::{OnError, Request};

use super::exec::{into_request, kernel, Session};
use super::messages::describe;
use super::{parse, Command, Failure};
use crate::interrupt::{self, Deferred};
use crate::table::Table;

/// The words of one line: blank-separated, `ipvsadm` words dropped (restore files are often
/// written as ipvsadm command lines), and everything from a word starting with `#` ignored.
pub fn words(line: &str) -> Vec<&str> {
    line.split([' ', '\t', '\r'])
        .filter(|w| !w.is_empty())
        .take_while(|w| !w.starts_with('#'))
        .filter(|w| *w != "ipvsadm")
        .collect()
}

/// Items with the line they came from.
pub type Numbered<T> = Vec<(usize, T)>;

/// The commands of a rules text, each with its line number, or every line that is wrong.
/// Large texts are parsed in parallel, one part per CPU: parsing is most of what a restore
/// costs besides the kernel's own work.
pub fn parse_rules(
    prog: &str,
    text: &[u8],
    posix: bool,
) -> Result<Numbered<Command>, Numbered<Failure>> {
    let text = String::from_utf8_lossy(text);
    let lines: Vec<&str> = text.split('\n').collect();
    let parts = if lines.len() < 4096 {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    };
    let share = lines.len().div_ceil(parts).max(1);
    let results: Vec<_> = std::thread::scope(|scope| {
        let workers: Vec<_> = lines
            .chunks(share)
            .enumerate()
            .map(|(i, part)| scope.spawn(move || parse_lines(prog, part, i * share, posix)))
            .collect();
        workers.into_iter().map(|w| w.join()).collect()
    });
    let mut commands = Vec::with_capacity(lines.len());
    let mut errors = Vec::new();
    for result in results {
        let (c, e) = result.map_err(|_| vec![(0, Failure::new(1, "a parsing thread panicked"))])?;
        commands.extend(c);
        errors.extend(e);
    }
    if errors.is_empty() {
        Ok(commands)
    } else {
        Err(errors)
    }
}

/// Parses lines numbered from `first + 1`.
fn parse_lines(
    prog: &str,
    lines: &[&str],
    first: usize,
    posix: bool,
) -> (Numbered<Command>, Numbered<Failure>) {
    let mut commands = Vec::with_capacity(lines.len());
    let mut errors = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let args = words(line);
        if args.is_empty() {
            continue;
        }
        match parse(prog, &args, true, posix) {
            Ok(cmd) => commands.push((first + i + 1, cmd)),
            Err(f) => errors.push((first + i + 1, f)),
        }
    }
    (commands, errors)
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
    let mut text = Vec::new();
    input
        .read_to_end(&mut text)
        .map_err(|e| Failure::new(1, format!("cannot read the rules from stdin: {e}")))?;
    let commands = match parse_rules(prog, &text, posix) {
        Ok(commands) => commands,
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
    let mut pending: Numbered<Request> = Vec::new();
    for (line, cmd) in commands {
        match into_request(cmd) {
            Ok(req) => pending.push((line, req)),
            Err(cmd) => {
                refused = refused.or(send(&mut session, &mut pending, on_error, stop));
                if (refused.is_some() && atomic) || stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Err(f) = session.execute(prog, cmd, out) {
                    report(line, &f);
                    status = f.status;
                }
            }
        }
    }
    if refused.is_none() || !atomic {
        refused = refused.or(send(&mut session, &mut pending, on_error, stop));
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

/// Sends the pending changes; reports each refusal. Returns the first refused line.
fn send(
    session: &mut Session,
    pending: &mut Numbered<Request>,
    on_error: OnError,
    stop: &AtomicBool,
) -> Option<usize> {
    if pending.is_empty() {
        return None;
    }
    let (lines, reqs): (Vec<usize>, Vec<Request>) = pending.drain(..).unzip();
    let results = session.client().batch_until(&reqs, on_error, stop);
    let mut first = None;
    for (line, result) in lines.into_iter().zip(results) {
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
        assert_eq!(
            words("ipvsadm -A -t 1.2.3.4:80\r"),
            ["-A", "-t", "1.2.3.4:80"]
        );
        assert_eq!(words("-A -t 1.2.3.4:80 # web"), ["-A", "-t", "1.2.3.4:80"]);
        assert!(words("   # just a comment").is_empty());
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
