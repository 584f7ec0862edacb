//! What lvsd does that keepalived does not, each against the real kernel: the table repaired
//! after someone else changed it, one probe per endpoint however many virtual servers share
//! it, a reload that leaves untouched entries (and their connections) alone and refuses a
//! broken file, `lvsd status`; and the classic guide's configuration doing its job.

use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::director::{control, Director, Pair, Program, Table};
use crate::net::{self, director_addr};
use crate::{check, http_get, real_server, real_servers, table, url, virtual_server, Test, VS};

/// Runs ipvsadm in `ns`; its standard output.
fn ipvsadm(ns: &str, args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out =
        net::within(ns, move || Command::new("ipvsadm").args(&args).output()).expect("run ipvsadm");
    assert!(
        out.status.success(),
        "ipvsadm in {ns}: {}",
        net::text(&out.stderr)
    );
    net::text(&out.stdout)
}

/// Polls `d`'s table until it is `expected` (sorted), for at most `within`; how long it took.
fn wait_for(d: &Director, expected: &[String], within: Duration, step: &str) -> Duration {
    let mut expected = expected.to_vec();
    expected.sort();
    let start = Instant::now();
    loop {
        let now: Table = d.table();
        if now == expected {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "step `{step}`: the table is not back after {within:?}\nexpected:\n    {}\nnow:\n    {}\nlvsd's log:\n{}",
            expected.join("\n    "),
            now.join("\n    "),
            d.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// lvsd alone in director B's namespace, on `conf` written to the test's directory.
fn lvsd(t: &Test, conf: &str) -> (Director, std::path::PathBuf) {
    let file = t.work.join("keepalived.conf");
    std::fs::write(&file, conf).unwrap();
    let d = Director::start(
        "B",
        Program::Lvsd,
        &t.net.directors[1],
        &file,
        t.work.join("b"),
    );
    (d, file)
}

/// `lvsd status` of the lvsd `d`.
fn status(d: &Director, json: bool) -> String {
    let mut cmd = Command::new("/work/bin/lvsd");
    cmd.arg("status").arg("--control").arg(control(d.dir()));
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().expect("run lvsd status");
    assert!(
        out.status.success(),
        "lvsd status: {}",
        net::text(&out.stderr)
    );
    net::text(&out.stdout)
}

/// After `ipvsadm -C`, and after a destination deleted by hand, lvsd puts its entries back
/// within a `delay_loop` (and a read of the table); a service and a destination it does not
/// name are never touched.
#[test]
fn drift_is_repaired_and_other_entries_are_left_alone() {
    let t = Test::new("drift", &["192.0.2.11", "192.0.2.12"]);
    let _servers = ["192.0.2.11:80", "192.0.2.12:80"].map(|a| t.http(a));
    let conf = virtual_server(
        "192.0.2.100 80",
        "",
        &real_servers(&["192.0.2.11 80", "192.0.2.12 80"], &http_get()),
    )
    .replace(&format!("delay_loop {}", crate::DELAY_LOOP), "delay_loop 1");
    let (mut d, _) = lvsd(&t, &conf);
    let ns = &t.net.directors[1];
    let both = table(VS, &[("192.0.2.11:80", 1), ("192.0.2.12:80", 1)]);
    wait_for(&d, &both, Duration::from_secs(10), "start");
    // An operator's own entries: a service of theirs, a destination of theirs in lvsd's.
    let foreign = |ns: &str| {
        ipvsadm(ns, &["-A", "-t", "198.51.100.1:80", "-s", "wlc"]);
        ipvsadm(
            ns,
            &["-a", "-t", "192.0.2.100:80", "-r", "192.0.2.50:80", "-g"],
        );
    };
    let mut with_foreign = both.clone();
    with_foreign.extend([
        "-A -t 198.51.100.1:80 -s wlc".to_string(),
        "-a -t 192.0.2.100:80 -r 192.0.2.50:80 -g -w 1".to_string(),
    ]);
    let bound = Duration::from_millis(2500);
    ipvsadm(ns, &["-C"]);
    let took = wait_for(&d, &both, bound, "after ipvsadm -C");
    println!("table back {took:.1?} after ipvsadm -C");
    foreign(ns);
    ipvsadm(ns, &["-d", "-t", "192.0.2.100:80", "-r", "192.0.2.11:80"]);
    let took = wait_for(
        &d,
        &with_foreign,
        bound,
        "after a destination was deleted by hand",
    );
    println!("destination back {took:.1?} after it was deleted by hand");
    // A weight changed by hand is put back too; the foreign entries stay as they are.
    ipvsadm(
        ns,
        &[
            "-e",
            "-t",
            "192.0.2.100:80",
            "-r",
            "192.0.2.12:80",
            "-g",
            "-w",
            "9",
        ],
    );
    wait_for(
        &d,
        &with_foreign,
        bound,
        "after a weight was changed by hand",
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        d.table(),
        sorted(&with_foreign),
        "the table moved on its own"
    );
    assert!(
        d.log().contains("drifted"),
        "lvsd logged no repair:\n{}",
        d.log()
    );
    d.stop();
    // On stop lvsd removes its service (with the foreign destination in it, as keepalived
    // does) and leaves the foreign service.
    assert_eq!(d.table(), ["-A -t 198.51.100.1:80 -s wlc"]);
}

fn sorted(t: &[String]) -> Table {
    let mut t = t.to_vec();
    t.sort();
    t
}

/// One real server behind three virtual servers with the same checker: keepalived probes it
/// three times per interval, lvsd once.
#[test]
fn one_probe_per_endpoint() {
    let t = Test::new("shared", &["192.0.2.11"]);
    let server = t.http("192.0.2.11:80");
    let checker = check("TCP_CHECK", "connect_port 80");
    let conf: String = (0..3)
        .map(|i| {
            virtual_server(
                &format!("192.0.2.{} 80", 100 + i),
                "",
                &[real_server("192.0.2.11 80", 1, &checker)],
            )
        })
        .collect();
    let mut pair = Pair::start(&t.net, &t.work, &conf);
    let expected: Vec<String> = (0..3)
        .flat_map(|i| {
            table(
                &format!("-t 192.0.2.{}:80", 100 + i),
                &[("192.0.2.11:80", 1)],
            )
        })
        .collect();
    pair.settle("start", &expected);
    let peer: IpAddr = "192.0.2.11".parse().unwrap();
    let [a, b] = [0, 1].map(|i| director_addr(i, peer));
    let before = [a, b].map(|p| server.contacts_from(p));
    std::thread::sleep(Duration::from_secs(4));
    let [keepalived, lvsd] = [a, b].map(|p| server.contacts_from(p)).map({
        let mut i = 0;
        move |n| {
            i += 1;
            n - before[i - 1]
        }
    });
    println!("in 4 s: keepalived connected {keepalived} times, lvsd {lvsd}");
    assert!(
        lvsd >= 4,
        "lvsd checked {lvsd} times in 4 s with delay_loop 0.5"
    );
    assert!(
        lvsd * 2 <= keepalived,
        "lvsd connected {lvsd} times, keepalived {keepalived}: lvsd should probe once per interval"
    );
    pair.stop();
}

/// A reload that changes one virtual server leaves the other's service, destinations,
/// counters and live connections alone; a file with errors is refused and changes nothing;
/// `lvsd status` says what it knows.
#[test]
fn reload_keeps_untouched_entries_and_refuses_a_broken_file() {
    let t = Test::new("reload", &["192.0.2.11"]);
    let _health = t.http("192.0.2.11:80");
    // The service forwards to port 8080, where a listener holds what it is sent; its health
    // is checked on port 80. NAT, so that the director itself can be its client.
    let held_server = t.unresponsive("192.0.2.11:8080");
    let nat = |head: &str, weight: u32| {
        let checker = check(
            "HTTP_GET",
            &format!("{}\n        connect_port 80", url("/", &[])),
        );
        virtual_server(
            head,
            "",
            &[real_server("192.0.2.11 8080", weight, &checker)],
        )
        .replace("lb_kind DR", "lb_kind NAT")
    };
    let conf = nat("192.0.2.100 8080", 1) + &nat("192.0.2.101 8080", 1);
    let (mut d, file) = lvsd(&t, &conf);
    let ns = t.net.directors[1].clone();
    let nat_table = |svc: &str, w: u32| {
        vec![
            format!("-A {svc} -s rr"),
            format!("-a {svc} -r 192.0.2.11:8080 -m -w {w}"),
        ]
    };
    let mut expected = nat_table("-t 192.0.2.100:8080", 1);
    expected.extend(nat_table("-t 192.0.2.101:8080", 1));
    wait_for(&d, &expected, Duration::from_secs(10), "start");
    // A connection through the untouched service, held open across the reload. (IPVS
    // counts no statistics for a client on the director itself; its connection entry and
    // the connection working afterwards say the service and destination stayed.)
    let mut held =
        net::within(&ns, || TcpStream::connect("192.0.2.100:8080")).expect("connect to the VIP");
    held.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let established = |ns: &str| {
        ipvsadm(ns, &["-L", "-n", "-c"])
            .lines()
            .any(|l| l.contains("ESTABLISHED") && l.contains("192.0.2.100:8080"))
    };
    assert!(established(&ns), "the connection did not go through IPVS");
    reload(
        &d,
        &file,
        &(nat("192.0.2.100 8080", 1) + &nat("192.0.2.101 8080", 5)),
    );
    let mut changed = nat_table("-t 192.0.2.100:8080", 1);
    changed.extend(nat_table("-t 192.0.2.101:8080", 5));
    wait_for(
        &d,
        &changed,
        Duration::from_secs(5),
        "reload with a weight changed",
    );
    assert!(d.log().contains("reloaded"), "{}", d.log());
    assert!(
        established(&ns),
        "the reload dropped the held connection's entry"
    );
    // The real server takes the connection only now, and both ends still talk.
    let (mut server_side, _) = held_server.accept().expect("accept the held connection");
    server_side.write_all(b"still here").unwrap();
    let mut got = [0u8; 10];
    held.read_exact(&mut got)
        .expect("the held connection broke");
    assert_eq!(&got, b"still here");
    held.write_all(b"and here").unwrap();
    let mut back = [0u8; 8];
    server_side.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"and here");
    // A broken file: refused, the running configuration stays.
    reload(
        &d,
        &file,
        "virtual_server 192.0.2.100 80 {\n    lb_kind DR\n",
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        d.table(),
        sorted(&changed),
        "a broken file changed the table"
    );
    assert!(d.log().contains("reload refused"), "{}", d.log());
    let text = status(&d, false);
    assert!(
        text.contains("192.0.2.11:8080") && text.contains("alive"),
        "{text}"
    );
    let json = status(&d, true);
    assert!(
        json.contains("\"alive\":true") && json.contains("\"weight\":5"),
        "{json}"
    );
    d.stop();
}

fn reload(d: &Director, file: &Path, conf: &str) {
    std::fs::write(file, conf).unwrap();
    d.signal(Signal::SIGHUP);
}

/// The classic guide's configuration, corrected as `lvsd -t` says (`protocol TCP`, `lb_kind
/// DR`, the extra `}` gone): its two web servers stay in the table while they answer, and each
/// leaves within the configured bound when it stops (delay_loop 6, then 1 + nb_get_retry 3
/// failures 3 s apart; a refused connection fails at once).
#[test]
fn the_guides_configuration() {
    let guide = include_str!("../guide/virtual_server.fragment");
    // The page's NO-BREAK SPACEs are plain spaces here: keepalived would drop every line they
    // indent (lvsd reads them as blanks, but says the file is not keepalived's).
    let corrected = guide
        .replace('\u{a0}', " ")
        .replace(
            "delay_loop 6",
            "delay_loop 6\n    protocol TCP\n    lb_kind DR",
        )
        .replacen("            }\n            }\n", "            }\n", 1);
    let t = Test::new("guide", &["192.168.88.62", "192.168.88.63"]);
    net::within(&t.net.directors[1], || {
        Command::new("ip")
            .args(["addr", "add", "192.168.88.61/24", "dev", "eth0"])
            .status()
    })
    .expect("address the director");
    let servers = ["192.168.88.62:80", "192.168.88.63:80"].map(|a| t.http(a));
    let (mut d, _) = lvsd(&t, &corrected);
    // keepalived still complains of the default scheduler and of nb_get_retry (`-t` exits 5),
    // but runs the file as written, and so does lvsd.
    // The guide names no scheduler: keepalived's default, wlc.
    let guide_table = |rs: &[&str]| {
        let mut t = vec!["-A -t 192.168.88.60:80 -s wlc".to_string()];
        t.extend(
            rs.iter()
                .map(|r| format!("-a -t 192.168.88.60:80 -r {r}:80 -g -w 1")),
        );
        t
    };
    let both = guide_table(&["192.168.88.62", "192.168.88.63"]);
    // The first checks run within a delay_loop of the start (keepalived's warmup).
    wait_for(&d, &both, Duration::from_secs(2), "start");
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(
        d.table(),
        sorted(&both),
        "a server that answers left the table"
    );
    let bound = Duration::from_secs(6 + 3 * 3 + 1);
    servers[0].stop();
    let took = wait_for(&d, &guide_table(&["192.168.88.63"]), bound, ".62 stopped");
    println!(".62 out {took:.1?} after its web server stopped (bound {bound:?})");
    servers[1].stop();
    let took = wait_for(&d, &guide_table(&[]), bound, ".63 stopped");
    println!(".63 out {took:.1?} after its web server stopped (bound {bound:?})");
    d.stop();
}
