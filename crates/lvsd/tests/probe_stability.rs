//! Failing checks leave nothing behind: 10,000 of them against hostile servers, 200 at a time,
//! and the process has the file descriptors it had before and about the memory. A test binary
//! of its own, so that no other test's sockets count.

mod probe_support;

use lvsd::probe::{Outcome, Probe};
use probe_support::*;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

const CHECKS: usize = 10_000;
const BATCH: usize = 200;

/// Runs `probes` round, `count` checks in all, `BATCH` at a time; every one must fail.
async fn run_all(probes: &[Probe], count: usize) {
    let mut done = 0;
    while done < count {
        let mut batch = tokio::task::JoinSet::new();
        for i in done..(done + BATCH).min(count) {
            let p = probes[i % probes.len()].clone();
            batch.spawn(async move {
                let start = Instant::now();
                let o = p.run().await;
                // The bound itself is hostile_servers_cannot_hold_a_check's; here 200 checks
                // share one thread of a loaded machine, so only a check that hangs fails.
                assert!(
                    start.elapsed() <= p.timeout() + Duration::from_secs(2),
                    "{o:?} after {:?}",
                    start.elapsed()
                );
                assert!(matches!(o, Outcome::Down(_)), "{p:?}: {o:?}");
            });
        }
        while let Some(r) = batch.join_next().await {
            r.unwrap();
        }
        done += BATCH;
    }
}

#[test]
fn ten_thousand_failing_checks_leave_no_trace() {
    in_netns(|| async {
        let closed = {
            let l = std::net::TcpListener::bind((V4, 0)).unwrap();
            l.local_addr().unwrap().port()
        };
        let silent = silent_server(V4);
        let reset = resetting_server(V4);
        let endless = serve(V4, |mut s| async move {
            let _ = read_request(&mut s).await;
            let _ = s.write_all(b"HTTP/1.0 200 OK\r\n").await;
            while s.write_all(b"X-More: yes\r\n").await.is_ok() {}
        });
        let garbage = serve(V4, |mut s| async move {
            let _ = s
                .write_all(&[0x16, 0x03, 0x03, 0x00, 0x05, 9, 9, 9, 9, 9])
                .await;
            until_closed(&mut s).await;
        });
        let http = "HTTP_GET {\n connect_timeout 0.1\n url { path /\n digest 00000000000000000000000000000000 }\n }";
        let ssl = "SSL_GET {\n connect_timeout 0.1\n url { path / }\n }";
        let probes = vec![
            probe(closed, http),
            probe(silent, http),
            probe(reset, http),
            probe(endless, http),
            probe(garbage, ssl),
            probe(silent, ssl),
            probe(closed, "TCP_CHECK {\n connect_timeout 0.1\n }"),
            probe(silent, "SMTP_CHECK {\n connect_timeout 0.1\n }"),
            probe_of(&service(
                V4,
                closed,
                "UDP",
                "",
                "",
                "UDP_CHECK {\n connect_timeout 0.1\n require_reply\n }",
            )),
            probe_of(&service(
                V4,
                closed,
                "UDP",
                "",
                "",
                "DNS_CHECK {\n connect_timeout 0.1\n }",
            )),
            probe_of(&service(
                "198.51.100.7",
                closed,
                "TCP",
                "",
                "",
                "PING_CHECK {\n connect_timeout 0.1\n }",
            )),
        ];
        // A first round brings the runtime and the allocator to their working size.
        run_all(&probes, 2 * BATCH).await;
        settle().await;
        let fds = open_fds();
        let rss = rss_kb();
        run_all(&probes, CHECKS).await;
        settle().await;
        let mut now = open_fds();
        for _ in 0..20 {
            if now <= fds {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            now = open_fds();
        }
        assert!(now <= fds, "{fds} descriptors open before, {now} after");
        let grown = rss_kb().saturating_sub(rss);
        assert!(grown < 20 * 1024, "RSS grew by {grown} kB");
    });
}

/// Lets the servers see their clients go.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}
