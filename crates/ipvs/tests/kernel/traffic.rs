//! Live counters from real connections inside the VM, read by the library and by ipvsadm.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use ipvs::{Destination, Protocol, Service, ServiceKey, Stats};

use crate::rig::{fresh, ipvsadm, sh};

const IP: &str = "/usr/bin/ip";

/// A client namespace joined to the test's namespace by a veth pair, and a web server in the
/// test's namespace. Dropping it tears both down.
struct Lan {
    client: String,
    httpd: Child,
}

impl Lan {
    fn new() -> Lan {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let client = format!(
            "cl{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        sh(&[IP, "netns", "add", &client]);
        sh(&[
            IP, "link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", &client,
        ]);
        sh(&[IP, "addr", "add", "10.10.0.1/24", "dev", "v0"]);
        sh(&[IP, "addr", "add", "10.10.0.100/32", "dev", "v0"]);
        sh(&[IP, "link", "set", "v0", "up"]);
        sh(&[
            IP,
            "-n",
            &client,
            "addr",
            "add",
            "10.10.0.2/24",
            "dev",
            "v1",
        ]);
        sh(&[IP, "-n", &client, "link", "set", "v1", "up"]);
        sh(&[IP, "-n", &client, "link", "set", "lo", "up"]);
        let root = format!("/tmp/www-{client}");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(format!("{root}/index.html"), "hello from the director\n").unwrap();
        let httpd = Command::new("/bin/busybox")
            .args(["httpd", "-f", "-p", "80", "-h", &root])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Lan { client, httpd }
    }

    fn fetch(&self, url: &str) -> String {
        sh(&[
            IP,
            "netns",
            "exec",
            &self.client,
            "/bin/busybox",
            "timeout",
            "5",
            "/bin/busybox",
            "wget",
            "-q",
            "-O",
            "-",
            url,
        ])
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        let _ = self.httpd.kill();
        let _ = self.httpd.wait();
        let _ = Command::new(IP)
            .args(["netns", "del", &self.client])
            .status();
    }
}

/// Polls `read` until `done` holds (the kernel's counters lag by up to two seconds).
fn settled<T: std::fmt::Debug>(mut read: impl FnMut() -> T, done: impl Fn(&T) -> bool) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let v = read();
        if done(&v) || std::time::Instant::now() > deadline {
            assert!(done(&v), "never settled: {v:?}");
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// The five counters of a `--stats --exact` line.
fn counters(line: &str) -> Vec<u64> {
    line.split_whitespace()
        .rev()
        .take(5)
        .map(|f| f.parse().unwrap())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

fn five(s: &Stats) -> Vec<u64> {
    vec![s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes]
}

#[test]
fn counters_from_real_traffic_match_ipvsadm_and_zero_clears_them() {
    let mut ipvs = fresh();
    let lan = Lan::new();
    let key = ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: "10.10.0.100".parse().unwrap(),
        port: 80,
    };
    let mut svc = Service::new(key);
    svc.scheduler = "rr".into();
    ipvs.add_service(&svc).unwrap();
    ipvs.add_destination(&key, &Destination::new("10.10.0.1".parse().unwrap(), 80))
        .unwrap();
    // A second service that gets no traffic, to see that zeroing one leaves the other alone.
    let quiet = ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: "10.10.0.100".parse().unwrap(),
        port: 53,
    };
    ipvs.add_service(&Service::new(quiet)).unwrap();

    for _ in 0..5 {
        assert_eq!(
            lan.fetch("http://10.10.0.100/"),
            "hello from the director\n"
        );
    }

    // The kernel folds its per-CPU counters into what it reports every two seconds.
    let svc = settled(|| ipvs.service(&key).unwrap(), |s| s.stats.conns == 5);
    assert!(
        svc.stats.inpkts >= 15 && svc.stats.inbytes > 0,
        "{:?}",
        svc.stats
    );
    let dests = ipvs.destinations(&key).unwrap();
    assert_eq!(dests[0].stats.conns, 5);
    assert_eq!(dests[0].active_conns + dests[0].inactive_conns, 5);

    let listing = ipvsadm(&["-L", "-n", "--stats", "--exact", "-t", "10.10.0.100:80"]);
    let mut lines = listing.lines().skip(2);
    assert_eq!(
        counters(lines.next().unwrap()),
        five(&svc.stats),
        "{listing}"
    );
    assert_eq!(
        counters(lines.next().unwrap()),
        five(&dests[0].stats),
        "{listing}"
    );
    let conns = ipvsadm(&["-L", "-n", "-t", "10.10.0.100:80"]);
    let dest_line = conns.lines().nth(3).unwrap();
    let f: Vec<&str> = dest_line.split_whitespace().collect();
    assert_eq!(
        f[2..],
        [
            "Route".to_string(),
            "1".to_string(),
            dests[0].active_conns.to_string(),
            dests[0].inactive_conns.to_string(),
        ]
    );

    ipvs.zero(Some(&key)).unwrap();
    assert_eq!(ipvs.service(&key).unwrap().stats.conns, 0);
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(
        ipvs.service(&key).unwrap().stats.conns,
        0,
        "zeroed counters came back"
    );
    assert_eq!(ipvs.destinations(&key).unwrap()[0].stats.conns, 0);
    let listing = ipvsadm(&["-L", "-n", "--stats", "--exact", "-t", "10.10.0.100:80"]);
    assert_eq!(counters(listing.lines().nth(2).unwrap()), vec![0; 5]);

    lan.fetch("http://10.10.0.100/");
    settled(|| ipvs.service(&key).unwrap(), |s| s.stats.conns == 1);
    ipvs.zero(None).unwrap();
    assert!(ipvs
        .services()
        .unwrap()
        .iter()
        .all(|s| s.stats.conns == 0 && s.stats.inbytes == 0));
}
