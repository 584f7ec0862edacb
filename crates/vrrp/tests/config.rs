//! A file read by the `keepalived` crate, made into the machine's settings: keepalived's
//! defaults, tracking (the instance's own link, scripts with their weights, a sync group's
//! tracking given to each member) and what lvsd refuses.

use std::net::IpAddr;

use vrrp::config::{plan, Tracked};
use vrrp::packet::{Auth, Version};
use vrrp::TrackRef;

fn read(text: &str) -> keepalived::Config {
    let dir =
        std::env::temp_dir().join(format!("vrrp-config-{}-{}", std::process::id(), text.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keepalived.conf");
    std::fs::write(&path, text).unwrap();
    let reading = keepalived::read(&path, &keepalived::Options::default());
    let _ = std::fs::remove_dir_all(&dir);
    reading.config
}

#[test]
fn an_instance_takes_keepalived_defaults() {
    let c = read(
        "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n authentication {\n  auth_type PASS\n  auth_pass secret12345\n }\n virtual_ipaddress {\n  192.0.2.100/24\n }\n}\n",
    );
    let p = plan(&c.vrrp).unwrap();
    let s = &p.instances[0];
    assert_eq!((s.vrid, s.priority, s.version), (51, 100, Version::V2));
    assert_eq!(s.advert_int, 1_000_000);
    assert!(s.preempt && !s.want_master);
    assert_eq!(s.auth, Auth::Pass(*b"secret12"));
    assert_eq!(s.addresses, ["192.0.2.100".parse::<IpAddr>().unwrap()]);
    assert_eq!((s.garp.delay, s.garp.repeat), (5_000_000, 5));
    // keepalived's vrrp_garp_lower_prio_repeat defaults to vrrp_garp_master_repeat: a master
    // hearing a lower priority announces its addresses again.
    assert_eq!(
        (s.garp.lower_prio_repeat, s.garp.lower_prio_delay),
        (5, 5_000_000)
    );
    assert_eq!(s.down_timer_adverts, 3);
    // The instance's own link, followed with weight 0.
    assert_eq!(p.tracked, [Tracked::Interface("eth0".into())]);
    assert_eq!(
        s.tracks,
        [TrackRef {
            track: 0,
            weight: 0,
            reverse: false
        }]
    );
}

#[test]
fn a_sync_groups_tracking_reaches_every_member() {
    let c = read(
        "vrrp_script chk {\n script \"/bin/true\"\n weight -20\n}\n\
         vrrp_sync_group G {\n group {\n  VI_1\n  VI_2\n }\n track_interface {\n  eth1\n }\n}\n\
         vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 150\n track_script {\n  chk\n }\n virtual_ipaddress {\n  192.0.2.100\n }\n}\n\
         vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 52\n priority 150\n virtual_ipaddress {\n  192.0.2.101\n }\n}\n",
    );
    let p = plan(&c.vrrp).unwrap();
    assert_eq!(p.groups[0].members, [0, 1]);
    let eth1 = p
        .tracked
        .iter()
        .position(|t| *t == Tracked::Interface("eth1".into()))
        .unwrap();
    for s in &p.instances {
        assert_eq!(s.group, Some(0));
        assert!(
            s.tracks.iter().any(|t| t.track == eth1 && t.weight == 0),
            "{s:?}"
        );
    }
    // keepalived ignores a weighted script in a sync group altogether ("ignoring tracked
    // script chk with weights due to SYNC group").
    assert!(
        !p.tracked.contains(&Tracked::Script("chk".into())),
        "{:?}",
        p.tracked
    );
}

#[test]
fn what_lvsd_does_not_do_is_refused_by_name() {
    let c = read(
        "vrrp_instance VI_1 {\n interface eth0\n use_vmac\n virtual_router_id 51\n virtual_ipaddress {\n  192.0.2.100\n }\n virtual_routes {\n  198.51.100.0/24 via 192.0.2.1\n }\n}\n",
    );
    let refused = plan(&c.vrrp).unwrap_err();
    let text: Vec<_> = refused.iter().map(|u| u.what.as_str()).collect();
    assert!(text.iter().any(|t| t.contains("use_vmac")), "{text:?}");
    assert!(
        text.iter().any(|t| t.contains("virtual_routes")),
        "{text:?}"
    );
}
