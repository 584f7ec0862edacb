//! The guide's cluster end to end, in the VM (run by tests/vm/suite): two directors on one
//! link running the guide's keepalived.conf (corrected, [`cluster::render`]) with a VIP and
//! direct routing to two real servers, and a client fetching http://VIP/ all along. The
//! master fails three ways in turn (SIGTERM, SIGKILL, its link down); each time the backup
//! must come to hold the VIP alone and the client's fetches must succeed again, through the
//! backup's own IPVS table (IPVS is per namespace: each director's checker programs its
//! own), from both real servers; then the master comes back and must preempt.
//!
//! Each pairing of programs (lvsd with lvsd, keepalived with lvsd both ways, keepalived with
//! keepalived to prove the rig) is a cluster of its own, side by side on threads. Bounds are
//! generous (the VM is emulated): the times are recorded on each ok line, and measured
//! properly by `--bench` ([`bench`], run by tests/bench/failover).
//!
//! Not a libtest harness: the output reads as libtest's, an argument filters by substring,
//! `--test-threads` says how many clusters at once, libtest's other flags are ignored.

mod bench;
mod cluster;
mod daemon;
mod net;
/// The watcher of vrrp_interop, over this test's network.
#[allow(dead_code)]
#[path = "../vrrp_interop/watch.rs"]
mod watch;
mod web;

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cluster::{Cluster, Failure, Timing, PRIORITIES};
use daemon::Program::{self, Keepalived, Lvsd};
use web::Client;

/// The programs of directors 1 and 2 in each cluster.
const PAIRS: &[[Program; 2]] = &[
    [Lvsd, Lvsd],
    [Keepalived, Lvsd],
    [Lvsd, Keepalived],
    [Keepalived, Keepalived],
];

const FAILURES: [Failure; 3] = [Failure::Term, Failure::Kill, Failure::LinkDown];

/// Slack over a computed interval in the emulated VM: scheduling, the address's change, a
/// fetch in flight.
const MARGIN: Duration = Duration::from_secs(2);
/// Two directors may both hold the VIP for a moment in a transition (the new master adds
/// it, the old one drops it when it hears the new one); longer is a split brain.
const OVERLAP_MAX: Duration = Duration::from_secs(1);
/// How the client fetches in the test (the bench fetches more often and gives up sooner).
const CLIENT: Client = Client {
    interval: Duration::from_millis(50),
    connect_timeout: Duration::from_millis(100),
    threads: 1,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--bench") {
        bench::main(&args);
        return;
    }
    let mut filter = None;
    let mut threads = PAIRS.len();
    let mut list = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.split_once('=') {
            Some(("--test-threads", n)) => threads = n.parse().unwrap_or(threads),
            _ if a == "--test-threads" => {
                threads = it.next().and_then(|n| n.parse().ok()).unwrap_or(threads)
            }
            _ if a == "--list" => list = true,
            _ if a.starts_with('-') => {}
            _ => filter = Some(a.clone()),
        }
    }
    let all: Vec<(usize, String, [Program; 2])> = PAIRS
        .iter()
        .enumerate()
        .map(|(n, p)| {
            (
                n,
                format!("guide_cluster::{}_{}", p[0].name(), p[1].name()),
                *p,
            )
        })
        .collect();
    let total = all.len();
    let jobs: VecDeque<_> = all
        .into_iter()
        .filter(|(_, name, _)| filter.as_ref().is_none_or(|f| name.contains(f.as_str())))
        .collect();
    let filtered_out = total - jobs.len();
    if list {
        for (_, name, _) in &jobs {
            println!("{name}: test");
        }
        return;
    }
    let started = Instant::now();
    println!("\nrunning {} tests", jobs.len());
    // Failures are reported with their cluster, not as they happen on some thread.
    std::panic::set_hook(Box::new(|_| {}));
    let jobs = Arc::new(Mutex::new(jobs));
    let results = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..threads.max(1))
        .map(|_| {
            let (jobs, results) = (jobs.clone(), results.clone());
            std::thread::spawn(move || loop {
                let Some((n, name, programs)) = jobs.lock().unwrap().pop_front() else {
                    return;
                };
                let outcome = run(n, programs);
                match &outcome {
                    Ok(summary) => println!("test {name} ... ok ({summary})"),
                    Err(_) => println!("test {name} ... FAILED"),
                }
                results.lock().unwrap().push((name, outcome));
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let results = results.lock().unwrap();
    let failed: Vec<_> = results.iter().filter(|(_, r)| r.is_err()).collect();
    if !failed.is_empty() {
        println!("\nfailures:\n");
        for (name, report) in &failed {
            println!("---- {name} ----\n{}\n", report.as_ref().unwrap_err());
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed; 0 ignored; 0 measured; {filtered_out} filtered out; finished in {:.2}s\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        results.len() - failed.len(),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        std::process::exit(101);
    }
}

/// Builds cluster `n` and runs the failures through it: Ok(the times seen) or Err(what
/// went wrong, what was seen, the daemons' logs). The cluster is gone when this returns.
fn run(n: usize, programs: [Program; 2]) -> Result<String, String> {
    let prefix = format!("fo{}n{n}", std::process::id() % 10000);
    let work = PathBuf::from("/tmp/failover_vm").join(&prefix);
    let cluster =
        catch_unwind(|| Cluster::new(&prefix, programs, Timing::V2, CLIENT, work.clone()))
            .map_err(|e| format!("setting up: {}", message(&*e)))?;
    let mut cluster = AssertUnwindSafe(cluster);
    let outcome = catch_unwind(AssertUnwindSafe(|| failovers(&mut cluster)));
    let result = outcome.map_err(|e| {
        format!(
            "{}\nfiles in {}\n{}",
            message(&*e),
            cluster.work.display(),
            cluster.report()
        )
    });
    drop(cluster);
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&work);
    }
    result
}

/// The scenario: director 1 is master and the client is served; then, for each failure,
/// director 2 takes over and serves, and director 1, back, preempts.
fn failovers(c: &mut Cluster) -> String {
    let timing = c.timing;
    let vip = Cluster::vip();
    let mut notes = Vec::new();
    // keepalived 2.2.7 starts every instance below priority 255 as BACKUP, `state MASTER`
    // or not: director 1 becomes master after its master-down interval.
    let start = timing.master_down(PRIORITIES[0]) + MARGIN * 2;
    let held = c.start(start);
    c.expect_fetch("served at start", held, MARGIN);
    expect_both_servers(c, "at start", held);
    expect_sync(c, 0, "at start");
    let mut overlap = Duration::ZERO;
    for failure in FAILURES {
        let what = failure.name();
        let t = c.fail(0, failure);
        // SIGTERM: director 1 says priority 0 on its way out and director 2 waits its skew
        // time only; otherwise it waits out its master-down interval.
        let expected = match failure {
            Failure::Term => timing.skew(PRIORITIES[1]),
            _ => timing.master_down(PRIORITIES[1]),
        };
        let held = c.expect_holder(&format!("takeover after {what}"), 1, t, expected + MARGIN);
        let back = c.expect_fetch(&format!("served after {what}"), held, MARGIN);
        expect_both_servers(c, &format!("via director 2 after {what}"), held);
        expect_sync(c, 1, &format!("after {what}"));
        overlap = overlap.max(c.watch.overlap(vip, t));
        notes.push(format!(
            "{what}: takeover {:.2} s, fetches back {:.2} s",
            (held - t).as_secs_f64(),
            (back - t).as_secs_f64()
        ));
        let t = c.recover(0, failure);
        let held = c.expect_holder(&format!("preempt after {what}"), 0, t, start);
        c.expect_fetch(&format!("served after preempting ({what})"), held, MARGIN);
        expect_sync(c, 0, &format!("after preempting ({what})"));
        overlap = overlap.max(c.watch.overlap(vip, t));
        notes.push(format!("preempt {:.2} s", (held - t).as_secs_f64()));
    }
    assert!(
        overlap <= OVERLAP_MAX,
        "two directors held {vip} together for {overlap:?}"
    );
    notes.push(format!(
        "max overlap {:.0} ms",
        overlap.as_secs_f64() * 1000.0
    ));
    notes.join(", ")
}

/// `lvs_sync_daemon`: the master's IPVS runs the connection-sync daemon as master and the
/// backup's as backup (a director just killed may still run the master's; only the master
/// is asked then), and the backup has the master's connections.
fn expect_sync(c: &Cluster, master: usize, what: &str) {
    let backup = 1 - master;
    let deadline = Instant::now() + MARGIN * 4;
    loop {
        let states = [c.sync_state(master), c.sync_state(backup)];
        let running = c.daemons[backup].running();
        let ok = states[0] == "master" && (!running || states[1] == "backup");
        if ok && (!running || c.connections(backup) > 0) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: sync daemons {states:?} (director {} master), {} connections synced to the backup",
            master + 1,
            c.connections(backup)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until both real servers have answered since `since`: the holder's IPVS table
/// (programmed by its own checker) balances over both.
fn expect_both_servers(c: &Cluster, what: &str, since: Instant) {
    let deadline = Instant::now() + MARGIN * 2;
    loop {
        let fetches = c.web.fetches();
        let seen = |name: &str| {
            fetches
                .iter()
                .any(|f| f.at > since && f.server.as_deref() == Some(name))
        };
        if seen("rs1") && seen("rs2") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not both real servers answered"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into())
}
