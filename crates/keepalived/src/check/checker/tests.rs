//! The checker keywords read through the parser under a stand-in `virtual_server` /
//! `real_server` tree; the expected complaints and lines are those `keepalived -t` 2.2.7
//! gives for the same text (measured).

use super::*;
use crate::check::{Protocol, Service};
use crate::parse::{read_view, Owner, Root, View};
use crate::source::Lines;
use crate::Config;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};

fn vs_open(ctx: &mut Ctx<'_>, _words: &[String]) {
    ctx.config.check.virtual_servers.push(VirtualServer {
        at: ctx.at,
        service: Service::Address {
            addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            port: 80,
        },
        family: None,
        protocol: Some(Protocol::Tcp),
        scheduler: None,
        flags: Vec::new(),
        forwarding: None,
        persistence_timeout: None,
        persistence_granularity: None,
        persistence_engine: None,
        delay_loop: 60 * SECOND,
        connect_timeout: 5 * SECOND,
        retry: None,
        delay_before_retry: None,
        warmup: None,
        inhibit_on_failure: false,
        alpha: false,
        omega: false,
        quorum: 1,
        hysteresis: 0,
        quorum_up: None,
        quorum_down: None,
        ha_suspend: false,
        smtp_alert: None,
        virtualhost: None,
        weight: 1,
        sorry_server: None,
        real_servers: Vec::new(),
    });
}

fn rs_open(ctx: &mut Ctx<'_>, words: &[String]) {
    let addr = words.get(1).and_then(|w| crate::value::address(w));
    let port = words.get(2).and_then(|w| w.parse().ok()).unwrap_or(0);
    let at = ctx.at;
    let (Some(addr), Some(vs)) = (addr, ctx.config.check.virtual_servers.last_mut()) else {
        ctx.skip_block(true);
        return;
    };
    vs.real_servers.push(RealServer {
        at,
        addr,
        port,
        weight: None,
        forwarding: None,
        uthreshold: 0,
        lthreshold: 0,
        inhibit_on_failure: None,
        notify_up: None,
        notify_down: None,
        alpha: None,
        retry: None,
        delay_before_retry: None,
        warmup: None,
        connect_timeout: None,
        delay_loop: None,
        smtp_alert: None,
        virtualhost: None,
        checkers: Vec::new(),
    });
}

fn roots() -> Vec<Root> {
    let rs = Keyword::block("real_server", Some(rs_open), keywords(), None);
    vec![Root {
        owner: Owner::Checker,
        keyword: Keyword::block("virtual_server", Some(vs_open), vec![rs], None),
    }]
}

/// `text` as the parser's lines, through a file as the crate reads one.
fn lines_of(text: &str) -> Lines {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "lvsd-checker-test-{}-{}.conf",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, text).expect("temporary file");
    let mut problems = Problems::default();
    let (_, lines) = crate::source::read(&path, &crate::source::Options::default(), &mut problems);
    let _ = std::fs::remove_file(&path);
    lines
}

/// Reads `body` inside `virtual_server 10.0.0.1 80 { real_server 10.0.0.2 80 { … } }` (the
/// body's first line is line 3).
fn read(body: &str) -> (Config, Vec<Problem>) {
    let text =
        format!("virtual_server 10.0.0.1 80 {{\nreal_server 10.0.0.2 80 {{\n{body}\n}}\n}}\n");
    let lines = lines_of(&text);
    let mut config = Config::default();
    let mut problems = Problems::default();
    read_view(&lines, &roots(), View::Checker, &mut config, &mut problems);
    (config, problems.list)
}

/// The keepalived complaints as `(line, message)`. `value`'s readers word number complaints
/// as keepalived's daemon does ("WARNING - "), `keepalived -t` without: compared without.
fn complaints(problems: &[Problem]) -> Vec<(u32, String)> {
    problems
        .iter()
        .filter(|p| p.kind.is_keepalived())
        .map(|p| {
            let m = p.message.strip_prefix("WARNING - ").unwrap_or(&p.message);
            (p.at.map_or(0, |a| a.line), m.to_string())
        })
        .collect()
}

fn checkers(config: &Config) -> &[Checker] {
    &config.check.virtual_servers[0].real_servers[0].checkers
}

fn resolved(config: &Config) -> Vec<Checker> {
    let vs = &config.check.virtual_servers[0];
    let rs = &vs.real_servers[0];
    let mut problems = Problems::default();
    rs.checkers
        .iter()
        .map(|c| {
            let mut c = c.clone();
            resolve(vs, rs, &mut c, &mut problems);
            c
        })
        .collect()
}

#[test]
fn common_keywords_complain_as_keepalived() {
    let (config, problems) = read(
        "TCP_CHECK {
nb_get_retry 3
retry x
delay_loop 0
warmup -1
alpha maybe
connect_ip 1.2.3
bindto ::1
connect_port 0
fwmark x
bind_if 01234567890123456789
connect_timeout 0
}",
    );
    let got = complaints(&problems);
    let lines: Vec<u32> = got.iter().map(|(l, _)| *l).collect();
    assert_eq!(
        lines,
        [4, 5, 5, 6, 6, 7, 7, 8, 9, 11, 11, 12, 12, 13, 14, 14]
    );
    assert_eq!(got[0].1, "Unknown keyword 'nb_get_retry'");
    assert!(got
        .iter()
        .any(|(_, m)| m == "Invalid connect_ip address 1.2.3 - ignoring"));
    assert!(got
        .iter()
        .any(|(_, m)| m == "Interface name 01234567890123456789 is too long - ignoring"));
    let c = &checkers(&config)[0];
    let conn = c.conn.as_ref().unwrap();
    assert!(conn.connect_ip_invalid);
    assert_eq!(conn.bindto, Some("::1".parse().unwrap()));
}

#[test]
fn bindto_of_the_other_family_is_refused() {
    let (config, problems) = read("TCP_CHECK {\nconnect_ip 10.0.0.5\nbindto ::1\n}");
    assert_eq!(
        complaints(&problems),
        [(
            5,
            "bindto address ::1 does not match address family of connect_ip - skipping".to_string()
        )]
    );
    assert_eq!(checkers(&config)[0].conn.as_ref().unwrap().bindto, None);
}

#[test]
fn link_local_needs_bind_if() {
    let (config, problems) = read("SSL_GET {\nurl {\npath /x\n}\nconnect_ip fe80::1\n}");
    assert_eq!(
        complaints(&problems),
        [(
            8,
            "Checker link local address fe80::1 requires a bind_if".to_string()
        )]
    );
    assert!(checkers(&config).is_empty());
}

#[test]
fn http_keywords() {
    let (config, problems) = read(
        "HTTP_GET {
virtualhost
http_protocol 2
enable_sni x
url {
digest 123
status_code 99 200-100 300-301 abc
virtualhost
}
url {
path /
digest 0123456789abcdef0123456789abcdeg
regex_options foo
regex_min_offset 5
}
}",
    );
    assert_eq!(
        complaints(&problems),
        [
            (4, "HTTP_GET virtualhost name missing".to_string()),
            (5, "Invalid http_protocol version 2".to_string()),
            (6, "Invalid enable_sni parameter x".to_string()),
            (8, "digest '123' character length should be 32 rather than 3".to_string()),
            (9, "Invalid HTTP_GET status code '99'".to_string()),
            (9, "Invalid HTTP_GET status code '200-100'".to_string()),
            (9, "Invalid HTTP_GET status code 'abc'".to_string()),
            (10, "Missing HTTP_GET virtualhost name".to_string()),
            (11, "HTTP/SSL_GET checker url has no path - ignoring".to_string()),
            (
                14,
                "Unable to interpret hex digit in '0123456789abcdef0123456789abcdeg' at offset 30/31"
                    .to_string()
            ),
        ]
    );
    let Method::Http(h) = &checkers(&config)[0].method else {
        panic!("not HTTP");
    };
    assert_eq!(h.urls.len(), 1);
    assert_eq!(h.urls[0].status_codes, [DEFAULT_STATUS_FOR_TEST]);
    // The regex settings without a regex are dropped, as keepalived does (it only logs).
    assert!(h.urls[0].regex_options.is_empty());
    assert!(problems.iter().any(|p| p.kind == Kind::Advice));
}

const DEFAULT_STATUS_FOR_TEST: StatusRange = StatusRange {
    first: 200,
    last: 299,
};

#[test]
fn http_without_url_is_dropped() {
    let (config, problems) = read("HTTP_GET {\n}\nTCP_CHECK {\n}");
    assert_eq!(
        complaints(&problems),
        [(
            4,
            "HTTP/SSL_GET checker has no urls specified - ignoring".to_string()
        )]
    );
    assert_eq!(checkers(&config).len(), 1);
}

#[test]
fn nb_get_retry_is_read_in_http_only() {
    let (config, problems) = read("HTTP_GET {\nnb_get_retry 4\nurl {\npath /\n}\n}");
    assert_eq!(
        complaints(&problems),
        [(
            4,
            "nb_get_retry is deprecated - please use 'retry'".to_string()
        )]
    );
    assert_eq!(checkers(&config)[0].retry, Some(4));
    let (_, problems) = read("HTTP_GET {\nnb_get_retry\n}");
    assert!(problems
        .iter()
        .any(|p| p.kind == Kind::Aborted && p.at.map(|a| a.line) == Some(4)));
}

#[test]
fn dns_keywords() {
    let (config, problems) = read(
        "DNS_CHECK {
name a.example.com
name foo
type XX
}
DNS_CHECK {
name ab.c..d
}
DNS_CHECK {
name .
}
DNS_CHECK {
name a
name b
}",
    );
    assert_eq!(
        complaints(&problems),
        [
            (
                4,
                "DNS_CHECK name 'a.example.com' has empty label - ignoring".to_string()
            ),
            (6, "Unknown DNS check type XX - ignoring".to_string()),
            (
                9,
                "DNS_CHECK name 'ab.c..d' has empty label - ignoring".to_string()
            ),
            (
                16,
                "DNS_CHECK name already specified - ignoring".to_string()
            ),
        ]
    );
    let r = resolved(&config);
    let Method::Dns(d) = &r[0].method else {
        panic!("not DNS");
    };
    assert_eq!(d.name.as_deref(), Some("foo"));
    assert_eq!(d.dns_type, Some(DnsType::Soa));
    assert_eq!(r[0].retry, Some(3));
    assert_eq!(r[0].delay_before_retry, Some(60 * SECOND));
}

#[test]
fn udp_keywords() {
    let (config, problems) = read(
        "UDP_CHECK {
payload zz
require_reply 0aXX
min_reply_length 10
max_reply_length 5
}
UDP_CHECK {
payload
min_reply_length 70000
max_reply_length -1
}",
    );
    let got = complaints(&problems);
    assert_eq!(
        got[0],
        (4, "Invalid hex string for UDP_CHECK payload".to_string())
    );
    assert_eq!(
        got[1],
        (
            8,
            "UDP_CHECK min_reply length 10 > max_reply_length 5 - will always fail".to_string()
        )
    );
    assert_eq!(
        got[2],
        (10, "UDP_CHECK payload requires a payload".to_string())
    );
    assert_eq!(
        got[4],
        (
            11,
            "UDP_CHECK min length 70000 not valid - must be between 0 & 65535".to_string()
        )
    );
    assert_eq!(got.len(), 7);
    let Method::Udp(u) = &checkers(&config)[0].method else {
        panic!("not UDP");
    };
    assert_eq!(
        u.reply,
        Some(HexPattern {
            data: vec![0x0a, 0],
            mask: Some(vec![0, 0xff])
        })
    );
}

#[test]
fn misc_keywords() {
    let (config, problems) = read(
        "MISC_CHECK {
misc_timeout 5x
user
misc_dynamic
}
MISC_CHECK {
misc_path /bin/echo a b
}
MISC_CHECK {
misc_path \"/bin/echo a 'b c'\" d
}",
    );
    let got = complaints(&problems);
    // keepalived -t says both that the number is bad and that the timeout is.
    assert_eq!(got[0], (4, "invalid number '5x'".to_string()));
    assert_eq!(got[1], (4, "Invalid misc_timeout value '5x'".to_string()));
    assert_eq!(got[2].0, 5);
    assert_eq!(
        got.last().cloned(),
        Some((
            7,
            "No script path has been specified for MISC_CHECKER - skipping".to_string()
        ))
    );
    let list = checkers(&config);
    assert_eq!(list.len(), 2);
    let Method::Misc(m) = &list[0].method else {
        panic!("not MISC");
    };
    assert_eq!(m.script.as_ref().unwrap().args, ["/bin/echo"]);
    let Method::Misc(m) = &list[1].method else {
        panic!("not MISC");
    };
    assert_eq!(m.script.as_ref().unwrap().args, ["/bin/echo", "a", "b c"]);
    let r = resolved(&config);
    assert_eq!(r[0].retry, Some(0));
    assert_eq!(r[0].delay_before_retry, Some(SECOND));
    assert!(r[0].conn.is_none());
}

#[test]
fn misc_script_security() {
    let (config, _) = read("MISC_CHECK {\nmisc_path /bin/true\n}");
    let mut problems = Problems::default();
    script_security(&config, &ScriptFlags::default(), &mut problems);
    assert_eq!(problems.list.len(), 1);
    assert_eq!(problems.list[0].kind, Kind::Security);
    assert_eq!(crate::exit_status(&problems.list), 6);

    let flags = ScriptFlags {
        enable_script_security: true,
        ..ScriptFlags::default()
    };
    let mut problems = Problems::default();
    script_security(&config, &flags, &mut problems);
    assert_eq!(
        complaints(&problems.list),
        [
            (
                5,
                "Unable to set default user keepalived_script for script".to_string()
            ),
            (
                5,
                "Unable to set default user for misc script '/bin/true' - removing".to_string()
            ),
        ]
    );

    let flags = ScriptFlags {
        enable_script_security: true,
        script_user: Some(("root".into(), None)),
        ..ScriptFlags::default()
    };
    let mut problems = Problems::default();
    script_security(&config, &flags, &mut problems);
    assert!(problems.list.is_empty());
}

#[test]
fn smtp_hosts() {
    let (config, problems) = read(
        "SMTP_CHECK {
helo_name
host {
connect_ip 10.0.0.9
retry 4
}
host {
connect_ip 10.0.0.10
connect_timeout 2
}
}",
    );
    assert_eq!(
        complaints(&problems),
        [(4, "SMTP_CHECK helo name missing".to_string())]
    );
    let r = resolved(&config);
    let c = &r[0];
    assert_eq!(c.retry, Some(4));
    let conn = c.conn.as_ref().unwrap();
    assert_eq!(conn.connect_ip, Some("10.0.0.9".parse().unwrap()));
    assert_eq!(conn.connect_timeout, Some(0));
    assert_eq!(conn.connect_port, Some(80));
    let Method::Smtp(s) = &c.method else {
        panic!("not SMTP");
    };
    assert_eq!(s.hosts.len(), 1);
    assert_eq!(s.hosts[0].connect_timeout, Some(2 * SECOND));
    assert_eq!(s.helo_name.as_deref(), Some(smtp::DEFAULT_HELO));
}

#[test]
fn file_and_bfd() {
    let (mut config, problems) = read(
        "FILE_CHECK {
track_file nothere
weight 300
}
FILE_CHECK {
weight
weight 5 foo
weight x
}
BFD_CHECK {
name a b
alpha x
}
BFD_CHECK {
alpha x
}
BFD_CHECK {
name b1
}",
    );
    assert_eq!(
        complaints(&problems),
        [
            (8, "track file weight missing".to_string()),
            (
                9,
                "unknown track file weight option foo - ignoring".to_string()
            ),
            (10, "invalid number 'x'".to_string()),
            (
                10,
                "weight for track file must be in [-2147483647..2147483647] inclusive. Ignoring..."
                    .to_string()
            ),
            (
                11,
                "FILE_CHECK has no track_file specified - ignoring".to_string()
            ),
            (
                13,
                "([10.0.0.2]:tcp:80) BFD_CHECK - No or too many names specified - skipping checker"
                    .to_string()
            ),
            (17, "Invalid alpha parameter x".to_string()),
            (
                18,
                "([10.0.0.2]:tcp:80) No name has been specified for BFD_CHECKER - skipping"
                    .to_string()
            ),
        ]
    );
    assert_eq!(checkers(&config).len(), 2);
    let mut problems = Problems::default();
    references(&mut config, &[], &["b1"], &mut problems);
    assert_eq!(
        complaints(&problems.list),
        [
            (4, "track_file nothere not found".to_string()),
            (
                6,
                "FILE_CHECK has no track_file specified - ignoring".to_string()
            ),
        ]
    );
    assert_eq!(checkers(&config).len(), 1);
}

#[test]
fn inheritance() {
    let (mut config, _) = read(
        "HTTP_GET {
url {
path /
}
}
TCP_CHECK {
retry 7
delay_loop 2
connect_port 8080
}",
    );
    {
        let rs = &mut config.check.virtual_servers[0].real_servers[0];
        rs.retry = Some(5);
        rs.connect_timeout = Some(3 * SECOND);
    }
    let r = resolved(&config);
    assert_eq!(r[0].retry, Some(5));
    assert_eq!(r[0].delay_loop, Some(60 * SECOND));
    assert_eq!(r[0].warmup, Some(60 * SECOND));
    assert_eq!(r[0].delay_before_retry, Some(3 * SECOND));
    let conn = r[0].conn.as_ref().unwrap();
    assert_eq!(conn.connect_timeout, Some(3 * SECOND));
    assert_eq!(conn.connect_ip, Some("10.0.0.2".parse().unwrap()));
    assert_eq!(r[1].retry, Some(7));
    assert_eq!(r[1].warmup, Some(2 * SECOND));
    assert_eq!(r[1].delay_before_retry, Some(SECOND));
    assert_eq!(r[1].conn.as_ref().unwrap().connect_port, Some(8080));
    assert_eq!(r[1].alpha, Some(false));
}

#[test]
fn no_real_server_no_panic() {
    let text = "virtual_server 10.0.0.1 80 {\nreal_server bad 80 {\nHTTP_GET {\nurl {\npath /\n}\n}\n}\n}\n";
    let lines = lines_of(text);
    let mut config = Config::default();
    let mut problems = Problems::default();
    read_view(&lines, &roots(), View::Checker, &mut config, &mut problems);
    assert!(config.check.virtual_servers[0].real_servers.is_empty());
    // Each checker keyword straight under a virtual server whose real server was refused.
    for k in keywords() {
        let body = format!(
            "{} {{\nname x\npath /\nretry 1\nhost {{\nconnect_ip 1.2.3.4\n}}\n}}",
            k.name
        );
        let text = format!("virtual_server 10.0.0.1 80 {{\n{body}\n}}\n");
        let lines = lines_of(&text);
        let vs = Keyword::block("virtual_server", Some(vs_open), keywords(), None);
        let roots = vec![Root {
            owner: Owner::Checker,
            keyword: vs,
        }];
        let mut config = Config::default();
        let mut problems = Problems::default();
        read_view(&lines, &roots, View::Checker, &mut config, &mut problems);
    }
}

#[test]
fn bfd_names_in_keepalived_order() {
    let body = "BFD_CHECK {
name b1
}
BFD_CHECK {
name b1
name b2
}
BFD_CHECK {
name 0123456789012345678901234567890123
}
BFD_CHECK {
name b1
}";
    let (mut config, problems) = read(body);
    assert!(complaints(&problems).is_empty());
    let mut problems = Problems::default();
    references(&mut config, &[], &[], &mut problems);
    assert_eq!(
        complaints(&problems.list),
        [
            (4, "([10.0.0.2]:tcp:80) BFD_CHECK - BFD b1 not configured".to_string()),
            (7, "([10.0.0.2]:tcp:80) BFD_CHECK - BFD b1 not configured".to_string()),
            (11, "([10.0.0.2]:tcp:80) BFD_CHECK - BFD 0123456789012345678901234567890123 not configured".to_string()),
            (14, "([10.0.0.2]:tcp:80) BFD_CHECK - BFD b1 not configured".to_string()),
        ]
    );
    assert!(checkers(&config).is_empty());
    let (mut config, _) = read(body);
    let mut problems = Problems::default();
    let long = "0123456789012345678901234567890123";
    references(&mut config, &[], &["b1", "b2", long], &mut problems);
    assert_eq!(
        complaints(&problems.list),
        [
            (
                7,
                "([10.0.0.2]:tcp:80) BFD_CHECK - RS already monitoring b1".to_string()
            ),
            (
                11,
                format!("([10.0.0.2]:tcp:80) BFD_CHECK - BFD name {long} too long")
            ),
            (
                14,
                "([10.0.0.2]:tcp:80) BFD_CHECK - RS already monitoring b1".to_string()
            ),
        ]
    );
    assert_eq!(checkers(&config).len(), 1);
}

#[test]
fn second_bfd_name_is_refused() {
    let (mut config, _) = read("BFD_CHECK {\nname b1\nname b2\n}");
    let mut problems = Problems::default();
    references(&mut config, &[], &["b1", "b2"], &mut problems);
    assert_eq!(
        complaints(&problems.list),
        [(
            5,
            "([10.0.0.2]:tcp:80) BFD_CHECK - BFD b2 already specified as b1".to_string()
        )]
    );
}

#[test]
fn missing_scripts_do_not_count() {
    // Debian's misc_check sample names a script that is not there: keepalived -t exits 0.
    let (config, _) = read("MISC_CHECK {\nmisc_path \"/usr/local/bin/script.sh arg1\"\n}");
    let flags = ScriptFlags {
        script_found: Some(|_| false),
        ..ScriptFlags::default()
    };
    let mut problems = Problems::default();
    script_security(&config, &flags, &mut problems);
    assert!(problems.list.is_empty());
}

#[test]
fn misc_user_not_found() {
    let (config, _) = read("MISC_CHECK {\nmisc_path /bin/echo a b\nuser nosuchuser\n}");
    let flags = ScriptFlags {
        enable_script_security: true,
        script_user: Some(("root".into(), None)),
        user_found: Some(|u, _| u == "root"),
        ..ScriptFlags::default()
    };
    let mut problems = Problems::default();
    script_security(&config, &flags, &mut problems);
    assert_eq!(
        complaints(&problems.list),
        [(
            5,
            "Failed to set uid/gid for misc checker script '/bin/echo' - removing".to_string()
        )]
    );
}
