//! lvsd as a service, on a real IPVS kernel (run in the VM by tests/vm/suite, which adds
//! systemd/lvsd.service, systemd/lvsd.default and Debian's promtool):
//!
//! - the shipped unit's commands, run as systemd runs them ([`service`]), start, reload
//!   (a good file and a refused one) and stop lvsd, which tells its NOTIFY_SOCKET each time,
//!   and its IPVS table follows;
//! - `--metrics` while real traffic flows through a NAT director: each counter, weight and
//!   connection count scraped equals the real ipvsadm's, `lvsadm show --prometheus` equals
//!   the scrape's IPVS part, and promtool's linter passes both;
//! - `lvsadm show` beside a running lvsd: its marks (up, inhibited, held down, with the
//!   checks' failures) and VRRP line, from lvsd's real control socket over the real table.
//!
//! Each test has its network of namespaces ([`net`]); they run side by side. The real servers
//! are this test's threads ([`web`]).

mod net;
mod notify;
mod service;
mod tables;
mod unit;
mod web;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use net::{Net, REAL_SERVERS, VIP};
use service::{Service, NOTICE};

/// The unit's files, which the rig adds under /work/systemd/ (the tests run in /work).
fn read_shipped(name: &str) -> String {
    let path = Path::new("systemd").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (add it to the VM: --add systemd/{name}=systemd/{name})",
            path.display()
        )
    })
}

/// One test's network, real servers and scratch directory.
struct Test {
    work: PathBuf,
    net: Net,
    _servers: Vec<web::Server>,
}

impl Test {
    fn new(name: &str) -> Test {
        let work = std::env::temp_dir().join("service_vm").join(name);
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        let net = Net::new(name);
        let servers = REAL_SERVERS
            .iter()
            .map(|a| web::Server::start(&net.servers, a))
            .collect();
        Test {
            work,
            net,
            _servers: servers,
        }
    }

    /// The configuration file, at `keepalived.conf` in the test's directory.
    fn conf(&self) -> PathBuf {
        self.work.join("keepalived.conf")
    }

    /// What an administrator adds to /etc/default/lvsd for this director: its configuration,
    /// a pid file and control socket of its own (tests run side by side), the log on standard
    /// output (the service's log file here), and `more` options.
    fn admin(&self, more: &str) -> String {
        let w = self.work.display();
        format!(
            "CONFIG={}\nDAEMON_ARGS=\"-l -p {w}/lvsd.pid --control {w}/control{more}\"\n",
            self.conf().display()
        )
    }

    fn write_conf(&self, text: &str) {
        std::fs::write(self.conf(), text).unwrap();
    }
}

/// A check every half second, given up after a second.
const DELAY_LOOP: &str = "0.5";

/// The checker of real server `i`: TCP_CHECK for the first, HTTP_GET for the second, both
/// being the ones a web farm uses.
fn checker(i: usize) -> String {
    let common = format!(
        "connect_timeout 1\n            retry 1\n            delay_before_retry {DELAY_LOOP}\n            warmup 0"
    );
    if i == 0 {
        format!("TCP_CHECK {{\n            {common}\n        }}")
    } else {
        // One keyword a line in `url`: keepalived 2.2.7 misreads some on one line.
        format!(
            "HTTP_GET {{\n            url {{\n                path /\n                status_code 200\n            }}\n            {common}\n        }}"
        )
    }
}

/// A NAT virtual server on VIP:`port` over both real servers (port 80) with `weights`.
fn virtual_server(port: u16, algo: &str, weights: [u32; 2]) -> String {
    let mut out = format!(
        "virtual_server {VIP} {port} {{\n    delay_loop {DELAY_LOOP}\n    lb_algo {algo}\n    \
         lb_kind NAT\n    protocol TCP\n"
    );
    for (i, (rs, w)) in REAL_SERVERS.iter().zip(weights).enumerate() {
        out += &format!(
            "    real_server {rs} 80 {{\n        weight {w}\n        {}\n    }}\n",
            checker(i)
        );
    }
    out + "}\n"
}

/// The rules `ipvsadm -S -n` lists for [`virtual_server`] (round robin), sorted.
fn rules(port: u16, weights: [u32; 2]) -> Vec<String> {
    let svc = format!("-t {VIP}:{port}");
    let mut out = vec![format!("-A {svc} -s rr")];
    for (rs, w) in REAL_SERVERS.iter().zip(weights) {
        out.push(format!("-a {svc} -r {rs}:80 -m -w {w}"));
    }
    out.sort();
    out
}

/// The shipped unit's commands start lvsd (READY=1 once its table is in), reload it with a
/// changed file (RELOADING=1, READY=1, the change in), refuse to reload a broken file (its
/// check fails, so no SIGHUP: the daemon hears nothing and keeps its table), and stop it
/// (STOPPING=1, exit 0, its services gone).
#[test]
fn the_unit_starts_reloads_and_stops_lvsd() {
    let t = Test::new("unit");
    let director = t.net.director.clone();
    t.write_conf(&virtual_server(80, "rr", [1, 1]));
    let mut svc = Service::new(&director, &t.work, &t.admin(""));
    let started = Instant::now();
    svc.start();
    println!("READY=1 after {:.1?}", started.elapsed());
    let main = svc.main_pid();
    // READY=1 means the first table is applied: it must be there already, not soon.
    assert_eq!(
        tables::rules(&director),
        rules(80, [1, 1]),
        "at READY=1; the log:\n{}",
        svc.log()
    );

    // A good change: another weight, another service.
    let changed = virtual_server(80, "rr", [1, 3]) + &virtual_server(8080, "rr", [1, 1]);
    t.write_conf(&changed);
    let (ran, ok) = svc.reload();
    assert!(ok && ran.len() == 2, "ExecReload: {ran:#?}");
    assert_eq!(ran[1].argv, ["/bin/kill", "-HUP", &main.to_string()]);
    let before = svc.notify().expect(main, "RELOADING=1", NOTICE);
    assert!(before.is_empty(), "said before RELOADING=1: {before:?}");
    svc.notify().expect(main, "READY=1", NOTICE);
    let both = [rules(80, [1, 3]), rules(8080, [1, 1])].concat();
    let mut both_sorted = both.clone();
    both_sorted.sort();
    assert_eq!(
        tables::rules(&director),
        both_sorted,
        "after the reload's READY=1; the log:\n{}",
        svc.log()
    );

    // A broken change: ExecReload's check refuses it, so its kill never runs.
    t.write_conf(&changed.replace("lb_algo rr", "lb_algo nonsense"));
    let (ran, ok) = svc.reload();
    assert!(
        !ok && !ran[0].status.success(),
        "ExecReload passed a broken file: {ran:#?}"
    );
    assert_eq!(
        ran.len(),
        1,
        "the kill ran after the check failed: {ran:#?}"
    );
    assert!(
        ran[0].output.contains("nonsense"),
        "the check says why: {ran:#?}"
    );
    // Nothing was sent, so lvsd must say nothing; a second is ample for a daemon that did
    // hear something (it answered SIGHUP above within milliseconds).
    svc.notify().expect_silence(Duration::from_secs(1));
    assert_eq!(
        tables::rules(&director),
        both_sorted,
        "after the refused reload"
    );
    // The daemon refuses it too, when signalled past the check (an administrator's kill -HUP):
    // ready again at once, with the running configuration.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(main),
        nix::sys::signal::Signal::SIGHUP,
    )
    .unwrap();
    svc.notify().expect(main, "RELOADING=1", NOTICE);
    svc.notify().expect(main, "READY=1", NOTICE);
    assert_eq!(
        tables::rules(&director),
        both_sorted,
        "after SIGHUP with a broken file; the log:\n{}",
        svc.log()
    );

    let status = svc.stop();
    svc.notify().expect(main, "STOPPING=1", NOTICE);
    assert!(
        status.success(),
        "lvsd exited with {status}; its log:\n{}",
        svc.log()
    );
    assert_eq!(
        tables::rules(&director),
        Vec::<String>::new(),
        "after the stop"
    );
}

/// The port lvsd serves metrics on, in the director's namespace.
const METRICS_PORT: u16 = 9732;

/// GET /metrics from lvsd, in the director's namespace.
fn scrape(ns: &str) -> String {
    use std::io::{Read, Write};
    net::within(ns, || {
        let addr = format!("127.0.0.1:{METRICS_PORT}").parse().unwrap();
        let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .expect("connect to lvsd's metrics");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
        assert!(head.starts_with("HTTP/1.0 200"), "{head}");
        body.to_string()
    })
}

/// `promtool check metrics` on `text`: it must pass without a complaint.
fn promtool(what: &str, text: &str) {
    use std::io::Write;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool (add Debian's /usr/bin/promtool to the VM: --add /usr/bin/promtool)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = net::text(&out.stdout) + &net::text(&out.stderr);
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool check metrics on {what}: {} {said}\n{text}",
        out.status
    );
}

/// Prometheus text from `read` once two reads in a row agree on their IPVS part (rates
/// aside), for the reason [`tables::ipvsadm`] gives.
fn agreed(read: impl Fn() -> String) -> String {
    let mut last = read();
    for _ in 0..20 {
        let now = read();
        if tables::ipvs_part(&now) == tables::ipvs_part(&last) {
            return now;
        }
        last = now;
    }
    panic!("never read the same twice; last:\n{last}");
}

/// How many fetches the client makes through the VIP.
const FETCHES: usize = 300;

/// `--metrics` (given in DAEMON_ARGS, as an administrator would) with real traffic through
/// a NAT director: once the traffic has stopped, every IPVS counter, weight and connection
/// count of the scrape equals the real ipvsadm's, both real servers are up, `lvsadm show
/// --prometheus` equals the scrape's IPVS part, and promtool finds nothing to say of either.
#[test]
fn metrics_equal_ipvsadm_while_traffic_flows() {
    let t = Test::new("metrics");
    let director = t.net.director.clone();
    t.write_conf(&virtual_server(80, "rr", [1, 2]));
    let more = format!(" --metrics 127.0.0.1:{METRICS_PORT}");
    let mut svc = Service::new(&director, &t.work, &t.admin(&more));
    svc.start();

    let started = Instant::now();
    let client = t.net.client.clone();
    let fetching = std::thread::spawn(move || web::fetch(&client, VIP, FETCHES));
    // Scrapes while the traffic flows: each answered with the table, the connections
    // counted never going back. (The one service's line, read as a line: a scrape while
    // another test changes its table may list it twice, see [`tables::ipvsadm`].)
    let mut seen = Vec::new();
    while !fetching.is_finished() {
        let metrics = scrape(&director);
        assert!(metrics.contains("\nlvsd_ipvs_up 1\n"), "{metrics}");
        let conns = metrics
            .lines()
            .filter_map(|l| l.strip_prefix("ipvs_service_connections_total{"))
            .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
            .max();
        seen.push(conns.expect("the service's connections"));
        // A scraper's pace, leaving the CPUs to the traffic.
        std::thread::sleep(Duration::from_millis(50));
    }
    let bodies = fetching.join().unwrap();
    let took = started.elapsed();
    println!("{FETCHES} fetches through the VIP in {took:.1?}, connections scraped: {seen:?}");
    assert!(!seen.is_empty() && seen.is_sorted(), "{seen:?}");
    for rs in REAL_SERVERS {
        let n = bodies.iter().filter(|b| *b == rs).count();
        assert!(n > 0, "{rs} served none of {FETCHES}: {bodies:?}");
    }

    // The kernel folds its per-CPU counters into the ones it reports every two seconds (its
    // estimator's round), so they lag the traffic: wait for every connection to be counted.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let stats = tables::ipvsadm(&director, &["-Ln", "--stats", "--exact"]);
        let counted: u64 = tables::services(&stats).iter().map(|s| s.1).sum();
        if counted == FETCHES as u64 {
            println!("all counted after {:.1?}", started.elapsed() - took);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "ipvsadm never counted the {FETCHES} connections:\n{stats}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The last packets of the last connections (the final ACKs) may still be on their way:
    // compare in a window where ipvsadm reads the same before and after the scrape.
    let read = || {
        (
            tables::ipvsadm(&director, &["-Ln", "--stats", "--exact"]),
            tables::ipvsadm(&director, &["-Ln"]),
        )
    };
    let show = || {
        let out = net::run(&director, "lvsadm", &["show", "--prometheus"]);
        assert!(out.status.success(), "lvsadm show --prometheus: {out:?}");
        net::text(&out.stdout)
    };
    let mut attempt = 0;
    let (before, metrics, shown) = loop {
        attempt += 1;
        let before = read();
        let metrics = agreed(|| scrape(&director));
        let shown = agreed(show);
        if read() == before {
            break (before, metrics, shown);
        }
        assert!(attempt < 10, "the table never stayed still for a scrape");
        std::thread::sleep(Duration::from_millis(200));
    };

    let scraped = tables::samples(&metrics);
    let expected = tables::expected(&before.0, &before.1);
    let got: tables::Samples = scraped
        .iter()
        .filter(|(k, _)| tables::compared(k.split('{').next().unwrap()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(
        got, expected,
        "the scrape against ipvsadm:\n{}\n{}\nthe scrape:\n{metrics}",
        before.0, before.1
    );
    // The numbers are the traffic's, not zeros that happen to agree.
    let conns = |rs: &str| -> u64 {
        let key = format!(
            "ipvs_destination_connections_total{{local_address=\"{VIP}\",local_mark=\"\",\
             local_port=\"80\",proto=\"tcp\",remote_address=\"{rs}\",remote_port=\"80\"}}"
        );
        expected[&key].parse().unwrap()
    };
    assert_eq!(
        conns(REAL_SERVERS[0]) + conns(REAL_SERVERS[1]),
        FETCHES as u64,
        "{}",
        before.0
    );

    for rs in REAL_SERVERS {
        let up: Vec<_> = scraped
            .iter()
            .filter(|(k, _)| {
                k.starts_with("lvsd_real_server_up{")
                    && k.contains(&format!("remote_address=\"{rs}\""))
            })
            .collect();
        assert!(
            up.len() == 1 && up[0].1 == "1",
            "lvsd_real_server_up of {rs}: {up:?}\n{metrics}"
        );
    }
    assert_eq!(
        tables::ipvs_part(&shown),
        tables::ipvs_part(&metrics),
        "lvsadm show --prometheus against the scrape"
    );

    promtool("the scrape", &metrics);
    promtool("lvsadm show --prometheus", &shown);

    let status = svc.stop();
    assert!(
        status.success(),
        "lvsd exited with {status}; its log:\n{}",
        svc.log()
    );
}

/// The VRRP address of [`lvsadm_show_gives_lvsds_word`]'s instance, on the client's link.
const VRRP_VIP: &str = "198.51.100.50";

/// `lvsadm show` in a namespace where lvsd runs (started by the unit, its control socket
/// where `--namespace` puts it): the destination lvsd checks and finds alive marked up, the
/// one it keeps at weight 0 (`inhibit_on_failure`) marked inhibited with its check's failure,
/// the one it took out listed as held down, and its VRRP instance's state before the table;
/// `--json` carries the same. The kernel's table and lvsd's control socket are the real
/// ones, so the names both sides use for a service and a real server must meet.
#[test]
fn lvsadm_show_gives_lvsds_word() {
    let t = Test::new("show");
    let director = t.net.director.clone();
    let [up, down] = REAL_SERVERS;
    // Port 81 of the real servers has no listener: a check there is refused.
    let refused =
        |rs: &str, inhibit: bool| {
            format!(
            "    real_server {rs} 80 {{\n        weight 1\n{}        TCP_CHECK {{\n            \
             connect_port 81\n            connect_timeout 1\n            retry 1\n            \
             delay_before_retry {DELAY_LOOP}\n        }}\n    }}\n",
            if inhibit { "        inhibit_on_failure\n" } else { "" }
        )
        };
    let conf = format!(
        "vrrp_instance VI_show {{\n    state MASTER\n    interface c0\n    virtual_router_id 51\n    \
         priority 100\n    advert_int 1\n    virtual_ipaddress {{\n        {VRRP_VIP}/24 dev c0\n    }}\n}}\n\
         virtual_server {VIP} 80 {{\n    delay_loop {DELAY_LOOP}\n    lb_algo rr\n    lb_kind NAT\n    \
         protocol TCP\n    real_server {up} 80 {{\n        weight 1\n        {}\n    }}\n}}\n\
         virtual_server {VIP} 8080 {{\n    delay_loop {DELAY_LOOP}\n    lb_algo rr\n    lb_kind NAT\n    \
         protocol TCP\n{}{}}}\n",
        checker(0),
        refused(up, true),
        refused(down, false)
    );
    t.write_conf(&conf);
    let w = t.work.display();
    let admin = format!(
        "CONFIG={}\nDAEMON_ARGS=\"-l -p {w}/lvsd.pid --namespace {director}\"\n",
        t.conf().display()
    );
    let mut svc = Service::new(&director, &t.work, &admin);
    svc.start();

    let show = |args: &[&str]| {
        let mut argv = vec!["--netns", director.as_str(), "show"];
        argv.extend(args);
        let out = net::run(&director, "lvsadm", &argv);
        assert!(out.status.success(), "lvsadm {argv:?}: {out:?}");
        net::text(&out.stdout)
    };
    // Settled: the refused checks have failed (the inhibited destination at weight 0, the
    // other gone) and the instance is master.
    let settled = |doc: &serde_json::Value| {
        let dests = |port: u64| {
            doc["services"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| s["port"] == port)
                .map(|s| s["destinations"].as_array().cloned().unwrap_or_default())
        };
        doc["vrrp_instances"][0]["state"] == "MASTER"
            && dests(8080).is_some_and(|d| d.len() == 1 && d[0]["weight"] == 0)
            && dests(80).is_some_and(|d| d.len() == 1 && d[0]["lvsd"]["alive"] == true)
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let doc = loop {
        let doc: serde_json::Value = serde_json::from_str(&show(&["--json"])).unwrap();
        if settled(&doc) {
            break doc;
        }
        assert!(
            Instant::now() < deadline,
            "lvsd never settled as lvsadm show --json sees it:\n{doc}\nlvsd's log:\n{}",
            svc.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };

    let service = |port: u64| {
        doc["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["port"] == port)
            .unwrap_or_else(|| panic!("no service on port {port}: {doc:#}"))
            .clone()
    };
    let web = service(80);
    assert_eq!(web["destinations"][0]["address"], up, "{doc:#}");
    assert_eq!(
        web["destinations"][0]["lvsd"]["failure"],
        serde_json::Value::Null,
        "{doc:#}"
    );
    assert!(web.get("held_down").is_none(), "{doc:#}");
    let broken = service(8080);
    let kept = &broken["destinations"][0];
    assert_eq!(kept["address"], up, "{doc:#}");
    assert_eq!(kept["lvsd"]["alive"], false, "{doc:#}");
    let kept_why = kept["lvsd"]["failure"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        kept_why.contains("refused"),
        "the inhibited one's failure: {doc:#}"
    );
    let held = broken["held_down"].as_array().cloned().unwrap_or_default();
    assert_eq!(held.len(), 1, "{doc:#}");
    assert_eq!(held[0]["address"], format!("{down}:80"), "{doc:#}");
    let held_why = held[0]["failure"].as_str().unwrap_or_default().to_string();
    assert!(
        held_why.contains("refused"),
        "the held-down one's failure: {doc:#}"
    );
    let vrrp = &doc["vrrp_instances"][0];
    assert_eq!(vrrp["name"], "VI_show", "{doc:#}");

    // The text view says the same.
    let text = show(&[]);
    println!("{text}");
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("VRRP VI_show (vrid 51 on c0): MASTER priority 100 (configured 100)"),
        "{text}"
    );
    let line = |service: &str, dest: &str| -> String {
        let mut lines = text.lines().skip_while(|l| !l.contains(service)).skip(1);
        lines
            .find(|l| l.contains(dest))
            .unwrap_or_else(|| panic!("no {dest} under {service}:\n{text}"))
            .trim_end()
            .to_string()
    };
    assert!(line(&format!("{VIP}:80 "), up).ends_with(" up"), "{text}");
    assert!(
        line(&format!("{VIP}:8080"), up).ends_with(&format!("inhibited: {kept_why}")),
        "{text}"
    );
    assert!(
        line(&format!("{VIP}:8080"), down).ends_with(&format!("held down: {held_why}")),
        "{text}"
    );

    // Inside the namespace without its name, as `ip netns exec NAME lvsadm show` runs: the
    // same daemon is found.
    let inside = net::run(&director, "lvsadm", &["show"]);
    let inside = net::text(&inside.stdout);
    assert_eq!(inside.lines().next(), Some(first), "{inside}");

    let status = svc.stop();
    assert!(
        status.success(),
        "lvsd exited with {status}; its log:\n{}",
        svc.log()
    );
    // Stopped: no lvsd answers, so no column and no VRRP line.
    let after = show(&[]);
    assert!(
        !after.contains("LVSD") && !after.contains("VRRP"),
        "{after}"
    );
}
