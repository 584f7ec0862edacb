//! `failover_vm --bench [--rounds N]`: the figures of BENCHMARKS.md ("Failover"). For each
//! program (both directors run it) and each timing (VRRPv2 at advert_int 1, VRRPv3 at 0.1),
//! one cluster, one at a time so they do not disturb each other's timing, and N rounds of
//! each failure of the master (SIGTERM, SIGKILL):
//!
//! * takeover: from the failure to director 2's first advert as master, seen on the bridge;
//! * client outage: the longest gap between two successful fetches around the failure (the
//!   client fetches every 10 ms and gives up on a connection after
//!   [`crate::web::CONNECT_TIMEOUT`], which bounds the resolution).
//!
//! Prints a Markdown table: median and worst of the rounds, and the target.

use std::path::PathBuf;
use std::time::Duration;

use crate::cluster::{Cluster, Failure, Timing, PRIORITIES};
use crate::daemon::Program;

const INTERVAL: Duration = Duration::from_millis(10);
const MARGIN: Duration = Duration::from_secs(2);

struct Row {
    program: Program,
    timing: Timing,
    failure: Failure,
    takeovers: Vec<Duration>,
    outages: Vec<Duration>,
}

pub fn main(args: &[String]) {
    let rounds: usize = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(5);
    let mut rows = Vec::new();
    for timing in [Timing::V2, Timing::V3_FAST] {
        for program in [Program::Keepalived, Program::Lvsd] {
            eprintln!("bench: {} with {}", program.name(), timing.name());
            let prefix = format!("fb{}", rows.len());
            let work = PathBuf::from("/tmp/failover_bench").join(&prefix);
            let mut c = Cluster::new(&prefix, [program; 2], timing, INTERVAL, work);
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                measure(&mut c, rounds)
            }));
            match outcome {
                Ok(measured) => {
                    for (failure, takeovers, outages) in measured {
                        rows.push(Row {
                            program,
                            timing,
                            failure,
                            takeovers,
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

type Measured = (Failure, Vec<Duration>, Vec<Duration>);

fn measure(c: &mut Cluster, rounds: usize) -> Vec<Measured> {
    let timing = c.timing;
    let start = timing.master_down(PRIORITIES[0]) + MARGIN * 2;
    let held = c.start(start);
    c.expect_fetch("served at start", held, MARGIN);
    let mut out = Vec::new();
    for failure in [Failure::Term, Failure::Kill] {
        let (mut takeovers, mut outages) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            let t = c.fail(0, failure);
            let limit = timing.master_down(PRIORITIES[1]) + MARGIN;
            let advert = c
                .first_advert(1, t, limit)
                .unwrap_or_else(|| panic!("{failure:?} round {round}: no advert from director 2"));
            let held = c.expect_holder("takeover", 1, t, limit);
            let back = c.expect_fetch("served again", held.max(advert), MARGIN);
            takeovers.push(advert - t);
            outages.push(c.web.outage(t, back));
            eprintln!(
                "bench: {} {failure:?} round {round}: takeover {:.3} s, outage {:.3} s",
                c.daemons[0].program.name(),
                (advert - t).as_secs_f64(),
                c.web.outage(t, back).as_secs_f64()
            );
            let t = c.recover(0, failure);
            let held = c.expect_holder("preempt", 0, t, start);
            // Settled: director 2 back to backup and the client served by director 1.
            c.expect_fetch("served after preempting", held + timing.advert(), MARGIN);
        }
        out.push((failure, takeovers, outages));
    }
    out
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
    println!("| program | VRRP | failure | expected (RFC) | takeover | client outage | targets met |");
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        // SIGTERM: a priority-0 advert, then the skew time; SIGKILL: the master-down
        // interval.
        let expected = match r.failure {
            Failure::Term => r.timing.skew(PRIORITIES[1]),
            _ => r.timing.master_down(PRIORITIES[1]),
        };
        let worst_takeover = *r.takeovers.iter().max().unwrap();
        let worst_outage = *r.outages.iter().max().unwrap();
        let mut met = Vec::new();
        met.push(format!(
            "takeover ≤ expected + 20 ms: {}",
            yes(worst_takeover <= expected + Duration::from_millis(20))
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
        println!(
            "| {} | {} | {} | {} | {} / {} | {} / {} | {} |",
            r.program.name(),
            r.timing.name(),
            r.failure.name(),
            ms(expected),
            ms(median(&r.takeovers)),
            ms(worst_takeover),
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
