//! The VRRP keywords and checks read through [`crate::read`], against what keepalived 2.2.7
//! (`keepalived -t`) says about the same files.

use super::*;
use crate::{Kind, Options, Reading};
use std::sync::atomic::{AtomicU32, Ordering};

fn read(text: &str) -> Reading {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ka-vrrp-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keepalived.conf");
    std::fs::write(&path, text).unwrap();
    let options = Options {
        interfaces: Some(vec!["lo".into(), "eth0".into(), "ifb0".into()]),
        ..Options::default()
    };
    let r = crate::read(&path, &options);
    let _ = std::fs::remove_dir_all(&dir);
    r
}

/// keepalived's complaints: (line or 0, message).
fn complaints(r: &Reading) -> Vec<(u32, String)> {
    r.problems
        .iter()
        .filter(|p| p.kind.is_keepalived())
        .map(|p| {
            let line = if p.keepalived_names_line {
                p.at.map_or(0, |a| a.line)
            } else {
                0
            };
            (line, p.message.clone())
        })
        .collect()
}

const BASIC: &str = "\
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 2
    authentication {
        auth_type PASS
        auth_pass secret
    }
    virtual_ipaddress {
        192.0.2.10/24 dev eth0 label eth0:1
        192.0.2.11
    }
    track_interface {
        ifb0 weight -20
    }
    nopreempt
}
";

#[test]
fn an_instance_is_read_with_its_defaults() {
    let r = read(BASIC);
    assert_eq!(complaints(&r), vec![]);
    assert_eq!(r.exit_status(), 0);
    let i = &r.config.vrrp.instances[0];
    assert_eq!(i.name, "VI_1");
    assert_eq!(i.state, Some(State::Backup));
    assert_eq!(i.interface.as_deref(), Some("eth0"));
    assert_eq!(i.virtual_router_id, Some(51));
    assert_eq!(i.priority, Some(150));
    assert_eq!(i.advert_int, Some(2_000_000));
    assert_eq!(i.version, Some(2));
    assert_eq!(i.auth_type, Some(AuthType::Pass));
    assert_eq!(i.auth_pass.as_deref(), Some("secret"));
    assert_eq!(i.vips.len(), 2);
    assert_eq!(i.vips[0].prefix, 24);
    assert_eq!(i.vips[0].dev.as_deref(), Some("eth0"));
    assert_eq!(i.vips[0].label.as_deref(), Some("eth0:1"));
    assert_eq!(i.vips[1].prefix, 32);
    assert_eq!(i.track_interfaces[0].weight, Some(-20));
    assert!(i.nopreempt);
    assert_eq!(i.garp_master_delay, Some(5));
    assert_eq!(i.garp_master_repeat, Some(5));
    assert_eq!(r.config.global.vrrp_version, Some(2));
    // A VIP without dev goes on the instance's interface: said as advice.
    let advice: Vec<_> = r
        .problems
        .iter()
        .filter(|p| p.kind == Kind::Advice)
        .collect();
    assert_eq!(advice.len(), 1);
    assert_eq!(advice[0].at.map(|a| a.line), Some(13));
}

#[test]
fn tracking_its_own_interface_is_refused() {
    let r = read(&BASIC.replace("ifb0 weight -20", "eth0 weight -20"));
    assert_eq!(
        complaints(&r),
        vec![(
            0,
            "(VI_1) Ignoring track_interface eth0 since own interface".to_string()
        )]
    );
    assert!(r.config.vrrp.instances[0].track_interfaces.is_empty());
}

#[test]
fn sync_groups_ignore_weights() {
    // Measured: keepalived -t prints these, without lines, and exits 5.
    let r = read(
        "vrrp_sync_group G {\n group {\n  A\n  B\n }\n}\nvrrp_sync_group H {\n group {\n  A\n }\n}\n\
         vrrp_instance A {\n interface eth0\n virtual_router_id 1\n track_interface {\n  ifb0 weight 10\n }\n \
         virtual_ipaddress {\n  10.0.0.1 dev eth0\n }\n}\n\
         vrrp_instance B {\n interface eth0\n virtual_router_id 2\n priority 255\n nopreempt\n \
         virtual_ipaddress {\n  10.0.0.2 dev eth0\n }\n}\n",
    );
    assert_eq!(
        complaints(&r),
        vec![
            (
                0,
                "Virtual router A cannot exist in more than one sync group; ignoring H".to_string()
            ),
            (
                0,
                "Sync group H, no matching virtual router found in group declaration - removing"
                    .to_string()
            ),
            (
                0,
                "(A) ignoring ifb0 tracked interface weight due to SYNC group".to_string()
            ),
            (
                0,
                "(B) nopreempt is incompatible with priority 255. resetting nopreempt".to_string()
            ),
        ]
    );
    assert_eq!(r.config.vrrp.instances[0].sync_group.as_deref(), Some("G"));
    assert_eq!(
        r.config.vrrp.instances[0].track_interfaces[0].weight,
        Some(0)
    );
    // B owns its addresses but shares a sync group with A, a backup: keepalived's -d dump
    // shows both starting as backups.
    assert_eq!(r.config.vrrp.instances[1].state, Some(State::Backup));
}

#[test]
fn missing_interfaces_stop_before_the_checks() {
    // keepalived -t: the three lined warnings, then the unlined one, and no "No VIP".
    let r = read(
        "vrrp_instance VI_3 {\n interface eth1\n virtual_router_id 3\n track_interface {\n  eth2\n }\n \
         virtual_ipaddress {\n  10.0.0.1 dev eth3\n }\n}\nvrrp_instance V4 {\n interface eth0\n virtual_router_id 4\n}\n",
    );
    assert_eq!(
        complaints(&r),
        vec![
            (
                2,
                "WARNING - interface eth1 for vrrp_instance VI_3 doesn't exist".to_string()
            ),
            (5, "(VI_3) tracked interface eth2 doesn't exist".to_string()),
            (
                8,
                "WARNING - interface eth3 for ip address 10.0.0.1 doesn't exist".to_string()
            ),
            (
                0,
                "Non-existent interface specified in configuration".to_string()
            ),
        ]
    );
    assert_eq!(r.exit_status(), 5);
}

#[test]
fn instance_rules_after_reading() {
    // Measured against keepalived -t: each message, no line; exit status 5.
    let r = read(
        "vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 100\n \
         authentication {\n  auth_type AH\n  auth_pass 1111\n }\n}\n\
         vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 51\n advert_int 1.5\n \
         virtual_ipaddress {\n  10.0.0.1/24\n  2001:db8::1\n }\n}\n",
    );
    let c = complaints(&r);
    for want in [
        (0, "(VI_1) No VIP specified; at least one is sensible"),
        (
            0,
            "(VI_1) Initial state master is incompatible with AH authentication - clearing",
        ),
        (
            0,
            "(VI_2) VRRPv2 advertisement interval 1.500000s must be an integer. rounding",
        ),
        (
            0,
            "VI_1 and VI_2 both use VRID 51 with IPv4 on interface eth0",
        ),
        (
            17,
            "(VI_2): address family must match VRRP instance [2001:db8::1] - ignoring",
        ),
    ] {
        assert!(
            c.contains(&(want.0, want.1.to_string())),
            "{want:?} not in {c:?}"
        );
    }
    assert_eq!(r.config.vrrp.instances[0].state, Some(State::Backup));
    assert_eq!(r.config.vrrp.instances[1].advert_int, Some(2_000_000));
    assert_eq!(r.exit_status(), 5);
}

#[test]
fn handler_complaints_name_their_line() {
    let r = read(
        "vrrp_instance VI_3 {\n interface eth0\n virtual_router_id 52\n version 3\n advert_int 300\n \
         priority 300\n state FOO\n virtual_ipaddress {\n  10.0.0.2 dev eth0 brd + scope foo\n }\n}\n",
    );
    let c = complaints(&r);
    assert_eq!(
        c,
        vec![
            (
                5,
                "number '300' outside range [0.010000, 255.000000]".to_string()
            ),
            (
                5,
                "(VI_3) Advert interval (300) not valid! Must be > 0 - ignoring".to_string()
            ),
            (6, "number '300' outside range [1, 255]".to_string()),
            (
                6,
                "(VI_3) Priority not valid! must be between 1 & 255. Using default 100".to_string()
            ),
            (
                7,
                "(VI_3) unknown state 'FOO', defaulting to BACKUP".to_string()
            ),
            (
                9,
                "Invalid scope 'foo' specified for 10.0.0.2 - ignoring".to_string()
            ),
            (
                9,
                "Address prefix length 32 too long for broadcast".to_string()
            ),
        ]
    );
}

#[test]
fn a_keyword_without_its_value_aborts() {
    let r = read("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id\n}\n");
    assert_eq!(r.exit_status(), 2);
    assert_eq!(complaints(&r).len(), 1);
    assert_eq!(r.problems[0].at.map(|a| a.line), Some(3));
}

#[test]
fn scripts_sync_groups_and_security() {
    let r = read(
        "vrrp_script chk {\n script \"/bin/true\"\n interval 0\n weight 300\n}\n\
         vrrp_script empty {\n interval 2\n}\n\
         vrrp_sync_group G {\n group {\n }\n}\n\
         vrrp_instance V {\n interface eth0\n virtual_router_id 5\n \
         virtual_ipaddress {\n  10.1.1.1 dev eth0\n }\n track_script {\n  chk\n  empty\n }\n}\n",
    );
    let c = complaints(&r);
    for want in [
        (
            3,
            "(chk): vrrp script interval must be greater than 0, setting to 1",
        ),
        (4, "number '300' outside range [-253, 253]"),
        (4, "vrrp_script chk weight 300 must be in [-253, 253]"),
        (8, "No script set for vrrp_script empty - removing"),
        (11, "Warning - sync group G has empty group block"),
        (0, "Sync group G has no virtual router(s). removing"),
        (21, "(V) track script empty not found, ignoring..."),
        (
            0,
            "SECURITY VIOLATION - scripts are being executed but script_security not enabled.",
        ),
    ] {
        assert!(
            c.contains(&(want.0, want.1.to_string())),
            "{want:?} not in {c:?}"
        );
    }
    assert_eq!(r.exit_status(), 6);
    let s = &r.config.vrrp.scripts;
    assert_eq!(s.len(), 1);
    assert_eq!((s[0].interval, s[0].weight), (1, 0));
    assert_eq!(r.config.vrrp.instances[0].track_scripts.len(), 1);
}

#[test]
fn a_refused_instance_is_skipped_whole() {
    // keepalived reads the '{' as a line of its own, so the refused block is skipped: no
    // complaint about its state, and VI_1 keeps its priority (measured).
    let r = read(
        "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n\
         vrrp_instance VI_1 {\n priority 50\n state FOO\n}\n",
    );
    assert_eq!(
        complaints(&r),
        vec![(8, "vrrp instance VI_1 already defined".to_string())]
    );
    assert_eq!(r.config.vrrp.instances.len(), 1);
    assert_eq!(r.config.vrrp.instances[0].priority, Some(100));
}

#[test]
fn routes_and_rules_complaints() {
    let r = read(
        "static_routes {\n 192.168.112.0/24 via 192.168.100.254\n 0.0.0.0/0 gw 192.168.0.1\n}\n\
         static_rules {\n from 192.168.100.0/24 table 1\n to 192.168.100./24 table 1\n}\n",
    );
    assert_eq!(
        complaints(&r),
        vec![
            (2, "Warning - cannot track route 192.168.112.0/24 with no interface specified, not tracking".to_string()),
            (3, "\"gw\" for routes is deprecated. Please use \"via\"".to_string()),
            (3, "Warning - cannot track route 0.0.0.0/0 with no interface specified, not tracking".to_string()),
            (6, "Rule has no preference specified - setting to 16384. This is probably not what you want.".to_string()),
            (7, "VRRP parsed invalid IP 192.168.100./24. skipping IP...".to_string()),
            (7, "Invalid rule to address 192.168.100./24".to_string()),
        ]
    );
}

#[test]
fn track_files_are_kept_once() {
    let r = read("track_file tf {\n file /tmp/x\n weight 5\n}\ntrack_file none {\n weight 1\n}\n");
    assert_eq!(r.config.vrrp.track_files.len(), 1);
    assert_eq!(r.config.vrrp.track_files[0].weight, 5);
    assert!(complaints(&r).contains(&(7, "No file set for track_file none - ignoring".to_string())));
}

#[test]
fn unknown_keywords_in_an_instance() {
    let r = read(
        "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n virtual_server 1.2.3.4 80 {\n }\n \
         virtual_ipaddress {\n  10.0.0.1\n }\n}\n",
    );
    assert!(complaints(&r).contains(&(4, "Unknown keyword 'virtual_server'".to_string())));
}

#[test]
fn a_later_interface_line_does_not_hide_a_missing_one() {
    // keepalived looks each name up as it reads it (measured).
    let r = read(
        "vrrp_instance VI_1 {\n interface eth9\n interface eth0\n virtual_router_id 1\n \
         virtual_ipaddress {\n  10.0.0.1 dev eth0\n }\n}\n",
    );
    assert_eq!(
        complaints(&r),
        vec![
            (
                2,
                "WARNING - interface eth9 for vrrp_instance VI_1 doesn't exist".to_string()
            ),
            (
                0,
                "Non-existent interface specified in configuration".to_string()
            ),
        ]
    );
}

#[test]
fn a_route_keyword_without_its_value_aborts() {
    // Measured: keepalived names the keyword before the missing word and its position.
    let r = read("static_routes {\n 10.1.0.0/16 via 10.0.0.1 dev eth0 1\n 10.2.0.0/16 dev\n}\n");
    assert_eq!(r.exit_status(), 2);
    let p = r.problems.iter().find(|p| p.kind == Kind::Aborted).unwrap();
    assert_eq!(p.at.map(|a| a.line), Some(2));
    assert_eq!(
        p.message,
        "*** Configuration line starting `10.1.0.0/16` is missing a parameter after keyword `1` at word position 7"
    );
}

#[test]
fn an_unclosed_quote_on_a_notify_line() {
    let r = read(
        "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n notify_master \"/bin/x a\n \
         virtual_ipaddress {\n  10.0.0.1 dev eth0\n }\n}\n",
    );
    assert!(complaints(&r).contains(&(
        4,
        "String 'notify_master \"/bin/x a': missing terminating \"".to_string()
    )));
    assert_ne!(r.exit_status(), 2);
}

#[test]
fn bfd_instances_as_the_bfd_and_vrrp_processes_read_them() {
    let r = read(
        "bfd_instance b {\n min_rx 0\n weight 300\n}\nbfd_instance c {\n neighbor_ip 10.0.0.1\n \
         weight -20\n}\nvrrp_instance V {\n interface eth0\n virtual_router_id 1\n \
         virtual_ipaddress {\n  10.0.0.9 dev eth0\n }\n track_bfd {\n  c\n  zz\n }\n}\n",
    );
    let c = complaints(&r);
    for want in [
        (2, "Configuration error: BFD instance b min_rx value 0 is not valid (must be in range [1-4294967]), ignoring"),
        (3, "Configuration error: BFD instance b weight value 300 not valid (must be in range [-253-253]), ignoring"),
        (4, "Configuration error: BFD instance b has no neighbor address set, disabling instance"),
        (17, "(V) track bfd zz not found, ignoring..."),
    ] {
        assert!(c.contains(&(want.0, want.1.to_string())), "{want:?} not in {c:?}");
    }
    let b = &r.config.vrrp.bfd_instances;
    assert_eq!(b.len(), 2);
    assert!(!b[0].enabled && b[1].enabled);
    assert_eq!(b[1].weight, Some(-20));
    assert_eq!(r.config.vrrp.instances[0].track_bfds.len(), 1);
}

#[test]
fn a_route_dropped_at_a_missing_device_does_not_abort() {
    // keepalived drops the route at `dev eth9` before it reaches the value-less `table`
    // (measured); with a device that exists it stops at `table`.
    let r = read("static_routes {\n 10.1.0.0/16 dev eth9 table\n}\n");
    assert_eq!(r.exit_status(), 5);
    let r = read("static_routes {\n 10.1.0.0/16 dev eth0 table\n}\n");
    assert_eq!(r.exit_status(), 2);
}
