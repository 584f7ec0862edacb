//! VRRP interoperability on the host: keepalived 2.2.7 and lvsd as the two (or more)
//! routers of one virtual router, in network namespaces joined by a bridge, through the
//! scenarios of [`scenarios`], for each pair of [`PAIRS`].
//!
//! Not a libtest harness: every scenario waits on timers for seconds, so they run side by
//! side on threads ([`PARALLEL`] at once), each in namespaces of its own. The output reads
//! as libtest's (one line a scenario, then `test result:`), an argument filters by
//! substring, and libtest's own flags are ignored. Needs root, iproute2 and keepalived.

mod daemon;
mod net;
mod rig;
mod scenarios;
mod watch;

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use daemon::Program::{self, Keepalived, Lvsd};
use rig::Rig;

/// The programs of directors A and B in each run of a scenario. (keepalived, keepalived)
/// proves the rig and measures what the others must match.
const PAIRS: &[[Program; 2]] = &[
    [Keepalived, Keepalived],
    [Keepalived, Lvsd],
    [Lvsd, Keepalived],
    [Lvsd, Lvsd],
];

/// Scenarios at once unless `--test-threads` says: they mostly wait, so more than the cores.
const PARALLEL: usize = 12;

struct Job {
    n: usize,
    name: String,
    /// The programs of its directors.
    programs: Vec<Program>,
    run: scenarios::Scenario,
}

fn main() {
    let Arguments {
        filter,
        skips,
        list,
        threads,
    } = arguments();
    let mut jobs: VecDeque<Job> = VecDeque::new();
    let mut filtered_out = 0;
    for (name, directors, run) in scenarios::ALL {
        for pair in PAIRS {
            let name = format!("{name}::{}_{}", pair[0].name(), pair[1].name());
            let chosen = filter.as_ref().is_none_or(|f| name.contains(f.as_str()))
                && !skips.iter().any(|s| name.contains(s.as_str()));
            if chosen {
                let n = jobs.len();
                let programs = (0..*directors).map(|i| pair[i % 2]).collect();
                jobs.push_back(Job {
                    n,
                    name,
                    programs,
                    run: *run,
                });
            } else {
                filtered_out += 1;
            }
        }
    }
    if list {
        for j in &jobs {
            println!("{}: test", j.name);
        }
        return;
    }
    let started = Instant::now();
    println!("\nrunning {} tests", jobs.len());
    // Failures are reported with their scenario, not as they happen on some thread.
    // (VRRP_INTEROP_PANICS=1 shows them all as they happen, helper threads' too.)
    if std::env::var_os("VRRP_INTEROP_PANICS").is_none() {
        std::panic::set_hook(Box::new(|_| {}));
    }
    let jobs = Arc::new(Mutex::new(jobs));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let passed = Arc::new(Mutex::new(0usize));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (jobs, failures, passed) = (jobs.clone(), failures.clone(), passed.clone());
            std::thread::spawn(move || loop {
                let Some(job) = jobs.lock().unwrap().pop_front() else {
                    return;
                };
                match run(&job) {
                    Ok(summary) => {
                        println!("test {} ... ok ({summary})", job.name);
                        *passed.lock().unwrap() += 1;
                    }
                    Err(report) => {
                        println!("test {} ... FAILED", job.name);
                        failures.lock().unwrap().push((job.name, report));
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let failures = failures.lock().unwrap();
    let passed = *passed.lock().unwrap();
    if !failures.is_empty() {
        println!("\nfailures:\n");
        for (name, report) in failures.iter() {
            println!("---- {name} ----\n{report}\n");
        }
        println!("failures:");
        for (name, _) in failures.iter() {
            println!("    {name}");
        }
    }
    let result = if failures.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {result}. {passed} passed; {} failed; 0 ignored; 0 measured; {filtered_out} filtered out; finished in {:.2}s\n",
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    if !failures.is_empty() {
        std::process::exit(101);
    }
}

/// Runs one scenario in a rig of its own: Ok(its measured times) or Err(the failure, what
/// was seen, and the daemons' logs). The rig is dropped (daemons killed, namespaces gone)
/// before this returns, whatever happened.
fn run(job: &Job) -> Result<String, String> {
    let prefix = format!("vi{}s{}", std::process::id(), job.n);
    let work = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("vrrp_interop")
        .join(&prefix);
    let rig = catch_unwind(|| Rig::new(&prefix, &job.programs, work.clone()))
        .map_err(|e| format!("setting up: {}", message(&*e)))?;
    let mut rig = AssertUnwindSafe(rig);
    let outcome = catch_unwind(AssertUnwindSafe(|| (job.run)(&mut rig)));
    let result = match outcome {
        Ok(()) => Ok(rig.summary()),
        Err(e) => Err(format!(
            "{}\nfiles in {}\n{}",
            message(&*e),
            rig.work().display(),
            rig.report()
        )),
    };
    drop(rig);
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&work);
    }
    result
}

fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into())
}

struct Arguments {
    /// A substring of the names of the scenarios to run.
    filter: Option<String>,
    /// Substrings of names not to run (`--skip`).
    skips: Vec<String>,
    /// `--list`: name them only.
    list: bool,
    /// `--test-threads`: scenarios at once.
    threads: usize,
}

/// libtest's flags that matter here; the others, which cargo may pass, are ignored.
fn arguments() -> Arguments {
    let mut a = Arguments {
        filter: None,
        skips: Vec::new(),
        list: false,
        threads: PARALLEL,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        // A flag's value is the next word unless given as --flag=value.
        let value =
            |args: &mut std::iter::Skip<std::env::Args>| inline.clone().or_else(|| args.next());
        match flag.as_str() {
            "--list" => a.list = true,
            "--skip" => a.skips.extend(value(&mut args)),
            "--test-threads" => {
                if let Some(n) = value(&mut args).and_then(|v| v.parse().ok()) {
                    a.threads = std::cmp::max(n, 1);
                }
            }
            "--format" | "--color" | "--logfile" | "-Z" | "--shuffle-seed" => {
                value(&mut args);
            }
            f if f.starts_with('-') => {}
            _ => a.filter = Some(arg),
        }
    }
    a
}
