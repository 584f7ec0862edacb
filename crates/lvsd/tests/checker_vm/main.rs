//! Health checking, keepalived against the program under test (run in the VM by
//! tests/vm/suite): two directors run the same keepalived.conf against the same real servers,
//! in namespaces of their own, and after each scripted event (a server stopping, a page
//! failing, a MISC_CHECK script's status flipping, a reload) settles, their IPVS tables must be
//! equal, weights included, and be what keepalived is expected to make of the event.
//!
//! Director A is keepalived's checker; director B is [`director::DIRECTOR_B`], lvsd (a second
//! keepalived there proves the rig itself). The
//! real servers are this test's own threads ([`servers`]), so the test decides what they
//! answer. Timers are short ([`DELAY_LOOP`]) to keep the file fast. [`own`] holds what lvsd does
//! and keepalived does not.

mod director;
mod net;
mod own;
mod servers;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;

use director::{Pair, Table};
use net::Net;
use servers::{md5, Misc, Protocol, Server};

/// One test's network and scratch directory.
struct Test {
    name: &'static str,
    work: PathBuf,
    net: Net,
}

impl Test {
    /// The real servers' namespace answers on every address of `addrs`.
    fn new(name: &'static str, addrs: &[&str]) -> Test {
        let work = std::env::temp_dir().join("checker_vm").join(name);
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        let started = std::time::Instant::now();
        let net = Net::new(name, addrs);
        println!("network set up in {:.1?}", started.elapsed());
        Test { name, net, work }
    }

    fn server(&self, protocol: Protocol, addr: &str) -> Server {
        let addr: SocketAddr = addr
            .parse()
            .unwrap_or_else(|_| panic!("{}: bad address {addr}", self.name));
        Server::new(&self.net.servers, protocol, addr)
    }

    fn http(&self, addr: &str) -> Server {
        self.server(Protocol::Http, addr)
    }

    /// A socket listening on `addr` that never accepts: the kernel completes connections,
    /// which then never get an answer.
    fn unresponsive(&self, addr: &str) -> TcpListener {
        let addr: SocketAddr = addr.parse().unwrap();
        net::within(&self.net.servers, move || TcpListener::bind(addr)).expect("bind")
    }

    fn start(&self, conf: &str) -> Pair {
        Pair::start(&self.net, &self.work, conf)
    }
}

/// Every virtual server's `delay_loop` in seconds, and every checker's `delay_before_retry`
/// (keepalived's timers take fractions): a failing server is out within about a second and a
/// half, a working one back within one, which keeps the file at about two minutes in the VM.
const DELAY_LOOP: f64 = 0.5;

/// A checker block: `kind` (HTTP_GET, TCP_CHECK...) with `options`, checking at once (no
/// random `warmup`) and retrying once, giving up on a connection after a second.
fn check(kind: &str, options: &str) -> String {
    // MISC_CHECK times its script with misc_timeout: connect_timeout is unknown to it.
    check_timeout(kind, options, (kind != "MISC_CHECK").then_some(1))
}

/// [`check`] with a `connect_timeout` of its own, in seconds.
fn check_timeout(kind: &str, options: &str, connect_timeout: Option<u32>) -> String {
    let timeout =
        connect_timeout.map_or(String::new(), |t| format!("connect_timeout {t}\n        "));
    format!(
        "{kind} {{\n        {options}\n        {timeout}retry 1\n        \
         delay_before_retry {DELAY_LOOP}\n        warmup 0\n      }}"
    )
}

/// A `url` block of HTTP_GET, one keyword a line: written on one line, the block's digest was
/// never checked by keepalived 2.2.7.
fn url(path: &str, options: &[String]) -> String {
    format!(
        "url {{\n          path {path}\n          {}\n        }}",
        options.join("\n          ")
    )
}

/// HTTP_GET of `/` expecting a 200.
fn http_get() -> String {
    check("HTTP_GET", &url("/", &["status_code 200".into()]))
}

/// A real server `addr` ("192.0.2.11 80", or without a port for a fwmark service).
fn real_server(addr: &str, weight: u32, checker: &str) -> String {
    format!("    real_server {addr} {{\n      weight {weight}\n      {checker}\n    }}\n")
}

/// Real servers `addrs`, each of weight 1 with `checker`.
fn real_servers(addrs: &[&str], checker: &str) -> Vec<String> {
    addrs.iter().map(|a| real_server(a, 1, checker)).collect()
}

/// A virtual server `head` ("192.0.2.100 80", "fwmark 1") checked every [`DELAY_LOOP`]. An
/// address and port is TCP unless `options` name a protocol: keepalived's default is UDP.
fn virtual_server(head: &str, options: &str, real_servers: &[String]) -> String {
    let protocol = if head.starts_with("fwmark") || options.contains("protocol") {
        ""
    } else {
        "protocol TCP"
    };
    format!(
        "virtual_server {head} {{\n    delay_loop {DELAY_LOOP}\n    lb_algo rr\n    lb_kind DR\n    \
         {protocol}\n    {options}\n{}}}\n",
        real_servers.concat()
    )
}

/// The service of the IPv4 tests, as `ipvsadm -S -n` writes it.
const VS: &str = "-t 192.0.2.100:80";

/// The table `ipvsadm -S -n` lists for service `svc` (round robin) with `real_servers`, each
/// an address:port and a weight.
fn table(svc: &str, real_servers: &[(&str, u32)]) -> Table {
    let mut t = vec![format!("-A {svc} -s rr")];
    t.extend(
        real_servers
            .iter()
            .map(|(rs, w)| format!("-a {svc} -r {rs} -g -w {w}")),
    );
    t
}

/// Default start: keepalived adds every real server at once and removes those that fail; then
/// a server stops and starts, a page fails and recovers, and a reload removes, adds and
/// reweighs real servers.
#[test]
fn http_get_default_start_and_reload() {
    let t = Test::new(
        "http",
        &["192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14"],
    );
    let [rs1, rs2, _rs4] = ["192.0.2.11:80", "192.0.2.12:80", "192.0.2.14:80"].map(|a| t.http(a));
    // rs3 fails from the start, slowly: it takes connections but never answers, and its
    // check waits five seconds for an answer, long enough for the test to see rs3 in the
    // table of both directors first. (Retries would not do: keepalived does not retry a first
    // check, whatever it logs.)
    let _rs3 = t.unresponsive("192.0.2.13:80");
    let rs3_check = check_timeout("HTTP_GET", &url("/", &["status_code 200".into()]), Some(5));
    let conf = |servers: &[(&str, u32)]| {
        let rs: Vec<String> = servers
            .iter()
            .map(|&(a, w)| {
                let checker = if a == "192.0.2.13" {
                    rs3_check.clone()
                } else {
                    http_get()
                };
                real_server(&format!("{a} 80"), w, &checker)
            })
            .collect();
        virtual_server("192.0.2.100 80", "", &rs)
    };
    let mut pair = t.start(&conf(&[
        ("192.0.2.11", 1),
        ("192.0.2.12", 1),
        ("192.0.2.13", 1),
    ]));
    let seen = pair.settle(
        "start",
        &table(VS, &[("192.0.2.11:80", 1), ("192.0.2.12:80", 1)]),
    );
    for history in &seen {
        assert!(
            history
                .iter()
                .any(|t| t.iter().any(|l| l.contains("192.0.2.13:80"))),
            "without alpha, the failing rs3 is in the table until it has failed: {history:?}"
        );
    }

    rs1.stop();
    pair.settle("rs1 stopped", &table(VS, &[("192.0.2.12:80", 1)]));
    rs1.start();
    pair.settle(
        "rs1 started",
        &table(VS, &[("192.0.2.11:80", 1), ("192.0.2.12:80", 1)]),
    );

    rs2.page("/", 500, "oops");
    pair.settle("rs2 answers 500", &table(VS, &[("192.0.2.11:80", 1)]));
    rs2.page("/", 200, "ok");
    pair.settle(
        "rs2 answers 200",
        &table(VS, &[("192.0.2.11:80", 1), ("192.0.2.12:80", 1)]),
    );

    // rs3, still failing, stays out; rs4, new, is in at once (no alpha).
    pair.reload(&conf(&[
        ("192.0.2.12", 3),
        ("192.0.2.13", 1),
        ("192.0.2.14", 1),
    ]));
    pair.settle(
        "reload: rs1 removed, rs4 added, rs2 weighs 3",
        &table(VS, &[("192.0.2.12:80", 3), ("192.0.2.14:80", 1)]),
    );
    pair.stop();
}

/// `alpha`: a real server is in the table only once a check has passed, so one that fails
/// from the start never shows.
#[test]
fn http_get_alpha_start() {
    let t = Test::new("alpha", &["192.0.2.11", "192.0.2.12"]);
    let [_rs1, rs2] = ["192.0.2.11:80", "192.0.2.12:80"].map(|a| t.http(a));
    rs2.stop();
    let rs = real_servers(&["192.0.2.11 80", "192.0.2.12 80"], &http_get());
    let mut pair = t.start(&virtual_server("192.0.2.100 80", "alpha", &rs));
    let seen = pair.settle("start", &table(VS, &[("192.0.2.11:80", 1)]));
    for history in &seen {
        assert!(
            !history
                .iter()
                .any(|t| t.iter().any(|l| l.contains("192.0.2.12:80"))),
            "with alpha, the failing rs2 is never in the table: {history:?}"
        );
    }
    rs2.start();
    pair.settle(
        "rs2 started",
        &table(VS, &[("192.0.2.11:80", 1), ("192.0.2.12:80", 1)]),
    );
    pair.stop();
}

/// `inhibit_on_failure`: a failing real server stays, with weight 0.
#[test]
fn inhibit_on_failure() {
    let t = Test::new("inhibit", &["192.0.2.11", "192.0.2.12"]);
    let [rs1, _rs2] = ["192.0.2.11:80", "192.0.2.12:80"].map(|a| t.http(a));
    let rs = [
        real_server("192.0.2.11 80", 2, &http_get()),
        real_server("192.0.2.12 80", 1, &http_get()),
    ];
    let mut pair = t.start(&virtual_server("192.0.2.100 80", "inhibit_on_failure", &rs));
    pair.settle(
        "start",
        &table(VS, &[("192.0.2.11:80", 2), ("192.0.2.12:80", 1)]),
    );
    rs1.stop();
    pair.settle(
        "rs1 stopped",
        &table(VS, &[("192.0.2.11:80", 0), ("192.0.2.12:80", 1)]),
    );
    rs1.start();
    pair.settle(
        "rs1 started",
        &table(VS, &[("192.0.2.11:80", 2), ("192.0.2.12:80", 1)]),
    );
    pair.stop();
}

/// `quorum 2` with `hysteresis 1`: quorum is lost below 1 (all three servers down), when the
/// sorry server replaces them, and gained again only at 3.
#[test]
fn quorum_hysteresis_sorry_server() {
    let t = Test::new(
        "quorum",
        &["192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.19"],
    );
    let [rs1, rs2, rs3] = ["192.0.2.11:80", "192.0.2.12:80", "192.0.2.13:80"].map(|a| t.http(a));
    let rs = real_servers(
        &["192.0.2.11 80", "192.0.2.12 80", "192.0.2.13 80"],
        &http_get(),
    );
    let options = "quorum 2\n    hysteresis 1\n    sorry_server 192.0.2.19 80";
    let mut pair = t.start(&virtual_server("192.0.2.100 80", options, &rs));
    let all = table(
        VS,
        &[
            ("192.0.2.11:80", 1),
            ("192.0.2.12:80", 1),
            ("192.0.2.13:80", 1),
        ],
    );
    pair.settle("start", &all);
    rs1.stop();
    rs2.stop();
    pair.settle(
        "rs1 and rs2 stopped: weight 1, quorum kept",
        &table(VS, &[("192.0.2.13:80", 1)]),
    );
    rs3.stop();
    pair.settle(
        "rs3 stopped: quorum lost",
        &table(VS, &[("192.0.2.19:80", 1)]),
    );
    rs1.start();
    rs2.start();
    rs1.await_checks();
    rs2.await_checks();
    pair.settle(
        "rs1 and rs2 started: weight 2, still no quorum",
        &table(VS, &[("192.0.2.19:80", 1)]),
    );
    rs3.start();
    pair.settle("rs3 started: quorum gained", &all);
    pair.stop();
}

/// Several `url`s, one with a `digest` of its body and one with a `status_code` other than 200:
/// a server is up only while every url answers as configured.
#[test]
fn http_get_urls_status_code_digest() {
    let t = Test::new("urls", &["192.0.2.11", "192.0.2.12"]);
    let [rs1, rs2] = ["192.0.2.11:80", "192.0.2.12:80"].map(|a| t.http(a));
    for rs in [&rs1, &rs2] {
        rs.page("/a", 200, "page a");
        rs.page("/b", 201, "created");
    }
    let urls = [
        url(
            "/a",
            &[
                format!("digest {}", md5("page a")),
                "status_code 200".into(),
            ],
        ),
        url("/b", &["status_code 201-202".into()]),
    ]
    .join("\n        ");
    let rs = real_servers(
        &["192.0.2.11 80", "192.0.2.12 80"],
        &check("HTTP_GET", &urls),
    );
    let mut pair = t.start(&virtual_server("192.0.2.100 80", "", &rs));
    let both = table(VS, &[("192.0.2.11:80", 1), ("192.0.2.12:80", 1)]);
    pair.settle("start", &both);
    rs1.page("/a", 200, "page A");
    pair.settle(
        "rs1's /a has another digest",
        &table(VS, &[("192.0.2.12:80", 1)]),
    );
    rs1.page("/a", 200, "page a");
    pair.settle("rs1's /a is right again", &both);
    rs2.page("/b", 200, "created");
    pair.settle("rs2's /b answers 200", &table(VS, &[("192.0.2.11:80", 1)]));
    rs2.page("/b", 202, "created");
    pair.settle("rs2's /b answers 202", &both);
    pair.stop();
}

/// SSL_GET: HTTP_GET over TLS, its page failing and recovering.
#[test]
fn ssl_get() {
    let t = Test::new("ssl", &["192.0.2.11", "192.0.2.12"]);
    let [rs1, _rs2] = ["192.0.2.11:443", "192.0.2.12:443"].map(|a| t.server(Protocol::Https, a));
    let checker = check("SSL_GET", &url("/", &["status_code 200".into()]));
    let rs = real_servers(&["192.0.2.11 443", "192.0.2.12 443"], &checker);
    let mut pair = t.start(&virtual_server("192.0.2.100 443", "", &rs));
    let svc = "-t 192.0.2.100:443";
    let both = table(svc, &[("192.0.2.11:443", 1), ("192.0.2.12:443", 1)]);
    pair.settle("start", &both);
    rs1.page("/", 503, "busy");
    pair.settle("rs1 answers 503", &table(svc, &[("192.0.2.12:443", 1)]));
    rs1.page("/", 200, "ok");
    pair.settle("rs1 answers 200", &both);
    pair.stop();
}

/// TCP_CHECK: a port closed, then open again.
#[test]
fn tcp_check() {
    let t = Test::new("tcp", &["192.0.2.11", "192.0.2.12"]);
    let [rs1, _rs2] = ["192.0.2.11:8080", "192.0.2.12:8080"].map(|a| t.http(a));
    let rs = real_servers(
        &["192.0.2.11 8080", "192.0.2.12 8080"],
        &check("TCP_CHECK", ""),
    );
    let mut pair = t.start(&virtual_server("192.0.2.100 8080", "", &rs));
    let svc = "-t 192.0.2.100:8080";
    let both = table(svc, &[("192.0.2.11:8080", 1), ("192.0.2.12:8080", 1)]);
    pair.settle("start", &both);
    rs1.stop();
    pair.settle("rs1's port closed", &table(svc, &[("192.0.2.12:8080", 1)]));
    rs1.start();
    pair.settle("rs1's port open again", &both);
    pair.stop();
}

/// MISC_CHECK: the script's exit status flips.
#[test]
fn misc_check() {
    let t = Test::new("misc", &["192.0.2.11", "192.0.2.12"]);
    let [m1, m2] = ["rs1.status", "rs2.status"].map(|n| Misc::new(&t.work, n, 0));
    let rs = [(&m1, "192.0.2.11 80"), (&m2, "192.0.2.12 80")].map(|(m, a)| {
        real_server(
            a,
            1,
            &check(
                "MISC_CHECK",
                &format!("misc_path \"{}\"\n        misc_timeout 2", m.path()),
            ),
        )
    });
    // With script security, as a director should run scripts (lvsd runs no file that
    // `-t` finds fault with, and keepalived's -t exits 6 without it).
    let conf = format!(
        "global_defs {{\n    enable_script_security\n    script_user root\n}}\n{}",
        virtual_server("192.0.2.100 80", "", &rs)
    );
    let mut pair = t.start(&conf);
    let both = table(VS, &[("192.0.2.11:80", 1), ("192.0.2.12:80", 1)]);
    pair.settle("start", &both);
    m1.set(1);
    pair.settle("rs1's script exits 1", &table(VS, &[("192.0.2.12:80", 1)]));
    m1.set(0);
    pair.settle("rs1's script exits 0", &both);
    pair.stop();
}

/// A fwmark service, its real servers checked on the port `connect_port` names.
#[test]
fn fwmark_service() {
    let t = Test::new("fwmark", &["192.0.2.11", "192.0.2.12"]);
    let [rs1, _rs2] = ["192.0.2.11:80", "192.0.2.12:80"].map(|a| t.http(a));
    let rs = real_servers(
        &["192.0.2.11", "192.0.2.12"],
        &check("TCP_CHECK", "connect_port 80"),
    );
    let mut pair = t.start(&virtual_server("fwmark 1", "", &rs));
    // A fwmark service's real servers have no port.
    let both = table("-f 1", &[("192.0.2.11:0", 1), ("192.0.2.12:0", 1)]);
    pair.settle("start", &both);
    rs1.stop();
    pair.settle("rs1 stopped", &table("-f 1", &[("192.0.2.12:0", 1)]));
    rs1.start();
    pair.settle("rs1 started", &both);
    pair.stop();
}

/// An IPv6 service checked over IPv6.
#[test]
fn ipv6_service() {
    let t = Test::new("ipv6", &["2001:db8::11", "2001:db8::12"]);
    let [rs1, _rs2] = ["[2001:db8::11]:80", "[2001:db8::12]:80"].map(|a| t.http(a));
    let rs = real_servers(&["2001:db8::11 80", "2001:db8::12 80"], &http_get());
    let mut pair = t.start(&virtual_server("2001:db8::100 80", "", &rs));
    let svc = "-t [2001:db8::100]:80";
    let both = table(svc, &[("[2001:db8::11]:80", 1), ("[2001:db8::12]:80", 1)]);
    pair.settle("start", &both);
    rs1.stop();
    pair.settle("rs1 stopped", &table(svc, &[("[2001:db8::12]:80", 1)]));
    rs1.start();
    pair.settle("rs1 started", &both);
    pair.stop();
}

/// The other checkers that need nothing but a server: DNS_CHECK and UDP_CHECK on a UDP
/// service, SMTP_CHECK and PING_CHECK on a TCP one, failing and recovering two at a time.
#[test]
fn dns_udp_smtp_ping_checks() {
    let t = Test::new(
        "others",
        &["192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14"],
    );
    let dns = t.server(Protocol::Udp, "192.0.2.11:53");
    let udp = t.server(Protocol::Udp, "192.0.2.12:53");
    let smtp = t.server(Protocol::Smtp, "192.0.2.13:25");
    let udp_check = "payload 0102030405060708\n        require_reply";
    let conf = virtual_server(
        "192.0.2.100 53",
        "protocol UDP",
        &[
            real_server(
                "192.0.2.11 53",
                1,
                &check("DNS_CHECK", "type A\n        name example."),
            ),
            real_server("192.0.2.12 53", 1, &check("UDP_CHECK", udp_check)),
        ],
    ) + &virtual_server(
        "192.0.2.100 25",
        "",
        &[
            real_server(
                "192.0.2.13 25",
                1,
                &check("SMTP_CHECK", "helo_name checker"),
            ),
            real_server("192.0.2.14 25", 1, &check("PING_CHECK", "")),
        ],
    );
    let mut pair = t.start(&conf);
    let (dns_vs, smtp_vs) = ("-u 192.0.2.100:53", "-t 192.0.2.100:25");
    let both = |udp: &[(&str, u32)], tcp: &[(&str, u32)]| {
        [table(dns_vs, udp), table(smtp_vs, tcp)].concat()
    };
    let all = both(
        &[("192.0.2.11:53", 1), ("192.0.2.12:53", 1)],
        &[("192.0.2.13:25", 1), ("192.0.2.14:25", 1)],
    );
    pair.settle("start", &all);
    dns.dns_rcode(2);
    smtp.stop();
    pair.settle(
        "DNS answers SERVFAIL, SMTP stopped",
        &both(&[("192.0.2.12:53", 1)], &[("192.0.2.14:25", 1)]),
    );
    dns.dns_rcode(0);
    smtp.start();
    pair.settle("DNS answers NOERROR, SMTP started", &all);
    udp.stop();
    t.net.answer_pings(false);
    pair.settle(
        "UDP port closed, pings unanswered",
        &both(&[("192.0.2.11:53", 1)], &[("192.0.2.13:25", 1)]),
    );
    udp.start();
    t.net.answer_pings(true);
    pair.settle("UDP port open, pings answered", &all);
    pair.stop();
}
