//! `failover_vm --bench [--rounds N]`: the figures of BENCHMARKS.md ("Failover"). For each
//! program (both directors run it) and each timing (VRRPv2 at advert_int 1, VRRPv3 at 0.1),
//! one cluster, one at a time so they do not disturb each other's timing, and N rounds of
//! each failure of the master (SIGTERM, SIGKILL):
//!
//! * takeover: from the failure to director 2's first advert as master, seen on the bridge;
//! * client outage: the longest gap between two successful fetches around the failure (the
//!   client's two threads fetch every 10 ms, and give up on a connection after 40 ms, which
//!   bounds the resolution: a SYN sent to the old master's MAC just before the new one's
//!   gratuitous ARP costs that much).
//!
//! Prints a Markdown table: median and worst of the rounds, and the target.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::cluster::{Cluster, Failure, Timing, PRIORITIES, VRID};
use crate::daemon::Program;
use crate::watch::What;
use crate::web::Client;

const CLIENT: Client = Client {
    interval: Duration::from_millis(10),
    connect_timeout: Duration::from_millis(40),
    threads: 2,
};
const MARGIN: Duration = Duration::from_secs(2);
/// Linux's neighbour locktime (1 s) and a margin.
const ARP_QUIET: Duration = Duration::from_millis(1200);

struct Row {
    program: Program,
    timing: Timing,
    failure: Failure,
    takeovers: Vec<Duration>,
    /// From director 1's last advert before the failure to director 2's first: what the
    /// backup's timer runs on (after a SIGKILL, the master-down interval itself).
    silences: Vec<Duration>,
    outages: Vec<Duration>,
}

pub fn main(args: &[String]) {
    let rounds: usize = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(5);
    // `--only WORDS`: the clusters whose "program timing" name contains WORDS.
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let mut rows = Vec::new();
    for timing in [Timing::V2, Timing::V3_FAST] {
        for program in [Program::Keepalived, Program::Lvsd] {
            let name = format!("{} {}", program.name(), timing.name());
            if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
                continue;
            }
            eprintln!("bench: {} with {}", program.name(), timing.name());
            let prefix = format!("fb{}", rows.len());
            let work = PathBuf::from("/tmp/failover_bench").join(&prefix);
            let mut c = Cluster::new(&prefix, [program; 2], timing, CLIENT, work);
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| measure(&mut c, rounds)));
            match outcome {
                Ok(measured) => {
                    for (failure, takeovers, silences, outages) in measured {
                        rows.push(Row {
                            program,
                            timing,
                            failure,
                            takeovers,
                            silences,
                            outages,
                        });
                    }
                }
                Err(e) => {
                    eprintln!("bench: failed: {}\n{}", crate::message(&*e), c.report());
                    std::process::exit(1);
                }
            }
        }
    }
    print_table(&rows, rounds);
}

type Measured = (Failure, Vec<Duration>, Vec<Duration>, Vec<Duration>);

fn measure(c: &mut Cluster, rounds: usize) -> Vec<Measured> {
    let timing = c.timing;
    let start = timing.master_down(PRIORITIES[0]) + MARGIN * 2;
    let held = c.start(start);
    c.expect_fetch("served at start", held, MARGIN);
    let mut out = Vec::new();
    for failure in [Failure::Term, Failure::Kill] {
        let (mut takeovers, mut silences, mut outages) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            quiet_arp(c);
            let t = c.fail(0, failure);
            let limit = timing.master_down(PRIORITIES[1]) + MARGIN;
            let advert = c
                .first_advert(1, t, limit)
                .unwrap_or_else(|| panic!("{failure:?} round {round}: no advert from director 2"));
            let held = c.expect_holder("takeover", 1, t, limit);
            let back = c.expect_fetch("served again", held.max(advert), MARGIN);
            // Director 1's last advert of its priority (SIGTERM's priority 0 comes after),
            // taken before director 2's first rather than before the failure: the watcher
            // stamps a frame when it reads it, and one sent just before the failure may be
            // read after it; a failed director sends nothing of its priority.
            let last = c
                .watch
                .packets()
                .into_iter()
                .rev()
                .find(|p| {
                    p.at <= advert
                        && p.from == Some(0)
                        && matches!(p.what, What::Advert { vrid, priority, .. } if vrid == VRID && priority > 0)
                })
                .unwrap_or_else(|| panic!("{failure:?} round {round}: no advert from director 1"))
                .at;
            takeovers.push(advert - t);
            silences.push(advert - last);
            outages.push(c.web.outage(t, back));
            // When the VIP came and was announced, for the progress line: what an outage
            // longer than the takeover is made of.
            let since = |at: Option<Instant>| {
                at.map_or("-".into(), |at| format!("{:.3}", (at - t).as_secs_f64()))
            };
            eprintln!(
                "bench: {} {failure:?} round {round}: takeover {:.3} s (VIP added {}, gratuitous ARP {}, fetch back {}), outage {:.3} s",
                c.daemons[0].program.name(),
                (advert - t).as_secs_f64(),
                since(Some(held)),
                since(c.first_announce(1, t)),
                since(Some(back)),
                c.web.outage(t, back).as_secs_f64()
            );
            let t = c.recover(0, failure);
            let held = c.expect_holder("preempt", 0, t, start);
            // Settled: director 2 back to backup and the client served by director 1.
            c.expect_fetch("served after preempting", held + timing.advert(), MARGIN);
        }
        out.push((failure, takeovers, silences, outages));
    }
    out
}

/// Waits (10 s at most) until no gratuitous ARP has been seen for [`ARP_QUIET`]: a client's
/// neighbour entry ignores a second announcement within a second of the first (locktime),
/// so a failure just after the previous round's preemption would measure the client's ARP
/// cache, not the failover. (keepalived's second announcement, `garp_master_delay` 5 s after
/// a transition, can restart the wait.)
fn quiet_arp(c: &Cluster) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let last = c
            .watch
            .packets()
            .into_iter()
            .rev()
            .find(|p| matches!(p.what, What::Announce { .. }))
            .map(|p| p.at);
        if last.is_none_or(|at| at.elapsed() >= ARP_QUIET) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1000.0)
}

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[v.len() / 2]
}

fn print_table(rows: &[Row], rounds: usize) {
    println!(
        "Failover of the guide's cluster in the VM (qemu TCG, 2 vCPUs), {rounds} rounds each; \
         times in ms, median / worst.\n"
    );
    println!(
        "| program | VRRP | failure | expected (RFC) | takeover | master's last advert to backup's first | client outage | targets met |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in rows {
        // SIGTERM: a priority-0 advert, then the skew time; SIGKILL: the master-down
        // interval.
        let expected = match r.failure {
            Failure::Term => r.timing.skew(PRIORITIES[1]),
            _ => r.timing.master_down(PRIORITIES[1]),
        };
        let worst_takeover = *r.takeovers.iter().max().unwrap();
        let worst_silence = *r.silences.iter().max().unwrap();
        let worst_outage = *r.outages.iter().max().unwrap();
        let mut met = Vec::new();
        // After a SIGKILL the backup's timer runs from the last advert it heard, not from
        // the failure: the target holds of that time (SIGTERM's runs from the priority-0
        // advert, sent at the failure).
        let timed = match r.failure {
            Failure::Term => worst_takeover,
            _ => worst_silence,
        };
        met.push(format!(
            "takeover ≤ expected + 20 ms: {}",
            yes(timed <= expected + Duration::from_millis(20))
        ));
        // Each round's outage against its own takeover.
        let outage_ok = r
            .outages
            .iter()
            .zip(&r.takeovers)
            .all(|(o, t)| *o <= *t + Duration::from_millis(100));
        met.push(format!("outage ≤ takeover + 100 ms: {}", yes(outage_ok)));
        if r.timing.version == 3 {
            met.push(format!(
                "takeover < 500 ms: {}",
                yes(worst_takeover < Duration::from_millis(500))
            ));
        }
        // Only a silent failure leaves the backup to its timer.
        let silence = match r.failure {
            Failure::Term => "—".to_string(),
            _ => format!("{} / {}", ms(median(&r.silences)), ms(worst_silence)),
        };
        println!(
            "| {} | {} | {} | {} | {} / {} | {} | {} / {} | {} |",
            r.program.name(),
            r.timing.name(),
            r.failure.name(),
            ms(expected),
            ms(median(&r.takeovers)),
            ms(worst_takeover),
            silence,
            ms(median(&r.outages)),
            ms(worst_outage),
            met.join("; ")
        );
    }
}

fn yes(ok: bool) -> &'static str {
    if ok {
        "yes"
    } else {
        "no"
    }
}
