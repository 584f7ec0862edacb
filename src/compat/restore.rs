//! `-R`: ipvsadm command lines from stdin. Unlike ipvsadm, every line is parsed before any is
//! applied, so a typo on line 900 does not leave 899 lines applied; `#` comments are allowed,
//! and each failure names its line.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use ipvs::{OnError, Request};

use super::exec::Session;
use crate::ipvsadm::revive::{Shape, Shapes};
use crate::ipvsadm::rules::{parse_parts, LineNumbers, Parsed, Place};
use crate::ipvsadm::{describe, fast, into_request, kernel, Command, Failure};
use crate::interrupt::{self, Deferred};
use ipvs::Table;

/// What a restore does, in order: runs of changes, each sent as one batch (in the order
/// [`Shapes::order`] gives, when it gives one), and the commands that are not changes of the
/// table (a listing, say), run in between.
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
    run: &'a Run<'a>,
    lines: L,
}

impl<L: ExactSizeIterator<Item = usize>> Iterator for Reread<'_, L> {
    type Item = Request;

    fn next(&mut self) -> Option<Request> {
        let index = self.lines.next()?;
        let run = self.run;
        if let Ok(k) = run.kept.binary_search_by_key(&index, |(i, _)| *i) {
            return Some(run.kept[k].1.clone());
        }
        let at = *run.starts.get(index)?;
        let rest = run.text.get(at..).unwrap_or_default();
        let line = &rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())];
        // A line that was not kept was read the fast way, and reads so again.
        fast::line(line).and_then(|cmd| into_request(cmd).ok())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Every line has its request, made again or kept.
        (self.lines.len(), Some(self.lines.len()))
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
pub fn restore(
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

impl<'a> Run<'a> {
    /// The requests of `lines`, in that order.
    fn requests<L>(&'a self, lines: L) -> Reread<'a, L::IntoIter>
    where
        L: IntoIterator<Item = usize>,
        L::IntoIter: ExactSizeIterator,
    {
        Reread {
            run: self,
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
    use crate::ipvsadm::rules::{parse_rules, Numbered, PARALLEL_BYTES};
    use ipvs::ServiceKey;

    /// The commands of a rules text, or every line that is wrong.
    fn rules(text: &[u8]) -> Result<Numbered<Command>, Numbered<Failure>> {
        parse_rules("ipvsadm", text, false).map(Iterator::collect)
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



}

