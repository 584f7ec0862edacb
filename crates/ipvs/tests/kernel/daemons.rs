//! Sync daemons: start, list and stop, both directions.

use ipvs::{Daemon, DaemonState};

use crate::rig::{fresh, ipvsadm, sh};

fn dummy(name: &str) {
    sh(&["/usr/bin/ip", "link", "add", name, "type", "dummy"]);
    sh(&["/usr/bin/ip", "link", "set", name, "up", "multicast", "on"]);
}

#[test]
fn daemons_started_by_the_library_are_listed_by_ipvsadm() {
    let mut ipvs = fresh();
    dummy("sync0");
    let mut master = Daemon::new(DaemonState::Master, "sync0", 5);
    master.mcast_group = Some("239.1.2.3".parse().unwrap());
    master.mcast_port = 8849;
    master.mcast_ttl = 2;
    master.sync_maxlen = 1400;
    ipvs.start_daemon(&master).unwrap();
    let backup = Daemon::new(DaemonState::Backup, "sync0", 7);
    ipvs.start_daemon(&backup).unwrap();
    let listed = ipvsadm(&["-L", "--daemon"]);
    let mut lines = listed.lines();
    assert_eq!(
        lines.next(),
        Some("master sync daemon (mcast=sync0, syncid=5, maxlen=1400, group=239.1.2.3, port=8849, ttl=2)")
    );
    assert!(lines
        .next()
        .unwrap()
        .starts_with("backup sync daemon (mcast=sync0, syncid=7"));
    let got = ipvs.daemons().unwrap();
    assert_eq!(got[0], master);
    assert_eq!(got.len(), 2);

    let e = ipvs.start_daemon(&master).unwrap_err();
    assert_eq!(
        (e.errno(), e.op()),
        (Some(libc::EEXIST), ipvs::Op::StartDaemon)
    );
    ipvs.stop_daemon(DaemonState::Master, 5).unwrap();
    ipvs.stop_daemon(DaemonState::Backup, 7).unwrap();
    assert_eq!(ipvsadm(&["-L", "--daemon"]), "");
    let e = ipvs.stop_daemon(DaemonState::Master, 0).unwrap_err();
    assert_eq!(e.errno(), Some(libc::ESRCH));
}

#[test]
fn daemons_started_by_ipvsadm_are_read_back_exactly() {
    let mut ipvs = fresh();
    dummy("sync1");
    ipvsadm(&[
        "--start-daemon",
        "backup",
        "--mcast-interface",
        "sync1",
        "--syncid",
        "200",
        "--mcast-group",
        "ff02::1:81",
        "--mcast-port",
        "9000",
        "--mcast-ttl",
        "9",
        "--sync-maxlen",
        "1200",
    ]);
    let got = ipvs.daemons().unwrap();
    let mut want = Daemon::new(DaemonState::Backup, "sync1", 200);
    want.mcast_group = Some("ff02::1:81".parse().unwrap());
    want.mcast_port = 9000;
    want.mcast_ttl = 9;
    want.sync_maxlen = 1200;
    assert_eq!(got, vec![want]);
    ipvsadm(&["--stop-daemon", "backup"]);
    assert!(ipvs.daemons().unwrap().is_empty());
}
