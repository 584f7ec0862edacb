//! The checker's part of a configuration: virtual servers, their groups, real and sorry
//! servers, as keepalived 2.2.7 reads them (the messages are its binary's, measured).

use keepalived::check::{Forwarding, GroupEntry, Protocol, Service};
use keepalived::{Kind, Options, Reading};
use std::net::IpAddr;

fn read(name: &str, text: &str) -> Reading {
    let dir = std::env::temp_dir().join(format!("ka-check-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("keepalived.conf");
    std::fs::write(&file, text).unwrap();
    let reading = keepalived::read(&file, &Options::default());
    std::fs::remove_dir_all(&dir).ok();
    reading
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The problems keepalived reports, as (line, message).
fn complaints(r: &Reading) -> Vec<(u32, String)> {
    r.problems
        .iter()
        .filter(|p| p.kind.is_keepalived())
        .map(|p| (p.at.map_or(0, |a| a.line), p.message.clone()))
        .collect()
}

#[test]
fn defaults_and_inheritance() {
    let r = read(
        "defaults",
        "virtual_server 192.0.2.1 80 {\n\
         \x20   protocol TCP\n\
         \x20   lb_kind DR\n\
         \x20   lb_algo rr\n\
         \x20   delay_before_retry 2\n\
         \x20   real_server 192.0.2.11 {\n\
         \x20   }\n\
         \x20   real_server 192.0.2.12 80 {\n\
         \x20       weight 3\n\
         \x20       connect_timeout 1.5\n\
         \x20   }\n\
         }\n",
    );
    assert_eq!(complaints(&r), [], "{:?}", r.problems);
    assert_eq!(r.exit_status(), 0);
    let vs = &r.config.check.virtual_servers[0];
    assert_eq!(vs.delay_loop, 60_000_000);
    assert_eq!(vs.connect_timeout, 5_000_000);
    let (a, b) = (&vs.real_servers[0], &vs.real_servers[1]);
    assert_eq!(
        (a.port, a.weight, a.forwarding),
        (80, Some(1), Some(Forwarding::Dr))
    );
    assert_eq!(a.connect_timeout, Some(5_000_000));
    assert_eq!(a.delay_before_retry, Some(2_000_000));
    assert_eq!((b.weight, b.connect_timeout), (Some(3), Some(1_500_000)));
}

#[test]
fn what_keepalived_fills_in_it_says() {
    let r = read(
        "fills",
        "virtual_server 192.0.2.1 80 {\n    real_server 192.0.2.11 80 {\n    }\n}\n",
    );
    let c = complaints(&r);
    let messages: Vec<&str> = c.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(
        messages,
        [
            "Virtual server [192.0.2.1]:none:80: no protocol set - defaulting to UDP",
            "Virtual server [192.0.2.1]:udp:80: no scheduler set, setting default 'wlc'",
            "Virtual server [192.0.2.1]:udp:80: no forwarding method set, setting default NAT",
        ]
    );
    // keepalived prints them without a line; lvsd names the virtual server's.
    assert!(c.iter().all(|(l, _)| *l == 1));
    assert!(r.problems.iter().all(|p| !p.keepalived_names_line));
    assert_eq!(r.exit_status(), 5);
    let vs = &r.config.check.virtual_servers[0];
    assert_eq!(vs.protocol, Some(Protocol::Udp));
    assert_eq!(vs.real_servers[0].forwarding, Some(Forwarding::Nat));
}

#[test]
fn bad_real_server_is_skipped_with_its_block() {
    let r = read(
        "badrs",
        "virtual_server 192.0.2.1 80 {\n\
         \x20   protocol TCP\n    lb_kind NAT\n    lb_algo wlc\n\
         \x20   real_server 192.0.2.300 80 {\n        weight 2\n    }\n\
         \x20   real_server 192.0.2.12 80 {\n        weight nine\n    }\n\
         }\n",
    );
    assert_eq!(
        complaints(&r),
        [
            (
                5,
                "Invalid real server ip address/port 192.0.2.300/80 - skipping".to_string()
            ),
            (9, "invalid number 'nine'".to_string()),
            (
                9,
                "Real server weight nine is outside range 0-2147483647".to_string()
            ),
        ]
    );
    let vs = &r.config.check.virtual_servers[0];
    assert_eq!(vs.real_servers.len(), 1);
    assert_eq!(vs.real_servers[0].addr, ip("192.0.2.12"));
    assert_eq!(vs.real_servers[0].weight, Some(1));
}

#[test]
fn groups_of_ranges_and_marks() {
    let r = read(
        "groups",
        "virtual_server_group G {\n\
         \x20   192.0.2.1-3 80\n\
         \x20   198.51.100.0/30 443\n\
         \x20   fwmark 7\n\
         }\n\
         virtual_server group G {\n    protocol TCP\n    lb_kind DR\n    lb_algo rr\n\
         \x20   real_server 203.0.113.1 {\n    }\n}\n",
    );
    let g = &r.config.check.groups[0];
    assert_eq!(g.entries.len(), 3);
    assert!(matches!(
        g.entries[0],
        GroupEntry::Range { first, last, port: 80, .. } if first == ip("192.0.2.1") && last == ip("192.0.2.3")
    ));
    assert!(matches!(
        g.entries[1],
        GroupEntry::Range { last, port: 443, .. } if last == ip("198.51.100.3")
    ));
    assert_eq!(
        r.config.check.virtual_servers[0].service,
        Service::Group("G".into())
    );
}

#[test]
fn a_group_that_does_not_exist_is_advice() {
    let r = read(
        "nogroup",
        "virtual_server group NOPE {\n    protocol TCP\n    lb_kind DR\n    lb_algo rr\n\
         \x20   real_server 203.0.113.1 80 {\n    }\n}\n",
    );
    // keepalived drops the virtual server and says so only in its log: -t exits 0.
    assert_eq!(r.exit_status(), 0);
    assert!(r.config.check.virtual_servers.is_empty());
    assert!(r
        .problems
        .iter()
        .any(|p| p.kind == Kind::Advice && p.message.contains("NOPE")));
}

#[test]
fn fwmark_services_clear_real_server_ports() {
    let r = read(
        "fwmark",
        "virtual_server fwmark 5 {\n    lb_kind DR\n    lb_algo rr\n\
         \x20   real_server 203.0.113.1 80 {\n    }\n}\n",
    );
    assert_eq!(
        complaints(&r),
        [(
            1,
            "WARNING - fwmark virtual server FWM 5, real server [203.0.113.1]:none:80 has port specified - clearing"
                .to_string()
        )]
    );
    assert_eq!(r.config.check.virtual_servers[0].real_servers[0].port, 0);
}

#[test]
fn one_line_blocks_and_tunnels() {
    let r = read(
        "oneline",
        "virtual_server 2001:db8::1 443 { protocol TCP\nlb_algo sh\nsh-port\nlb_kind TUN type gue port 6080 csum\n\
         real_server 2001:db8::2 443 { weight 5 } }\n",
    );
    assert_eq!(complaints(&r), [], "{:?}", r.problems);
    let vs = &r.config.check.virtual_servers[0];
    assert_eq!(vs.flags, ["sh-port"]);
}
