//! The scenarios: each a function of a [`Rig`] whose directors run the programs of one
//! pair. Director A (0) is the preferred master unless said; B (1) the backup. A step
//! panics with what went wrong; the measured times go to the ok line.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::daemon::Program;
use crate::rig::{Conf, Rig, VRID};
use crate::watch::What;

const A: usize = 0;
const B: usize = 1;
const C: usize = 2;

/// How long a director with `state MASTER` may take to hold its VIP after starting.
/// keepalived 2.2.7 starts every instance below priority 255 as BACKUP, `state MASTER` or
/// not, so this is a master-down interval (3.4 s at priority 150) and a margin.
const START: Duration = Duration::from_secs(5);
/// Slack over a computed interval: scheduling on a loaded machine, the address's change.
const MARGIN: Duration = Duration::from_millis(600);

pub type Scenario = fn(&mut Rig);

/// Each scenario's name, its number of directors (a third runs A's program) and itself.
pub const ALL: &[(&str, usize, Scenario)] = &[
    ("v2_multicast", 2, v2_multicast),
    ("v3_fractional", 2, v3_fractional),
    ("v3_ipv6", 2, v3_ipv6),
    ("unicast", 2, unicast),
    ("unicast_ipv6", 2, unicast_ipv6),
    ("auth_match", 2, auth_match),
    ("auth_mismatch", 2, auth_mismatch),
    ("nopreempt", 2, nopreempt),
    ("preempt_delay", 2, preempt_delay),
    ("owner_255", 2, owner_255),
    ("owner_255_master", 2, owner_255_master),
    ("sigkill", 2, sigkill),
    ("link_down", 2, link_down),
    ("track_script_fault", 2, track_script_fault),
    ("track_script_weight", 2, track_script_weight),
    ("sync_group", 2, sync_group),
    ("split_brain", 2, split_brain),
    ("split_brain_master_first", 2, split_brain_master_first),
    ("three_routers", 3, three_routers),
    ("reload_keeps_roles", 2, reload_keeps_roles),
    ("reload_added_vip", 2, reload_added_vip),
    ("reload_broken_file", 2, reload_broken_file),
    ("dont_release_vrrp", 2, dont_release_vrrp),
    ("notify", 2, notify),
    ("forged", 2, forged),
    ("equal_priority", 2, equal_priority),
    ("track_file", 2, track_file),
    ("garp_refresh", 2, garp_refresh),
    ("garp_paced_stop", 2, garp_paced_stop),
    ("mcast_dst_ip", 2, mcast_dst_ip),
    ("link_made_again", 2, link_made_again),
];

/// A starts as master; B takes over after A's SIGTERM (A says priority 0, so B waits only
/// its skew time); A, restarted, preempts back.
fn failover(rig: &mut Rig, conf: &Conf) {
    rig.configure(conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);

    let t = rig.daemons[A].stop();
    rig.expect_advert("SIGTERM sends priority 0", A, VRID, t, MARGIN, |p| p == 0);
    let skew = conf.master_down(conf.priorities[B]) - conf.master_down(255);
    let took = rig.expect("takeover after SIGTERM", vip, &[B], t, skew + MARGIN);
    rig.note("takeover", took);
    let first = rig.expect_advert("B adverts as master", B, VRID, t, skew + MARGIN, |_| true);
    rig.note("B's first advert", first.at - t);

    let t = rig.daemons[A].start();
    let took = rig.expect("preempt after restart", vip, &[A], t, START);
    rig.note("preempt", took);
}

fn v2_multicast(rig: &mut Rig) {
    failover(rig, &Conf::new(&[150, 100]));
}

/// VRRPv3 with adverts every 100 ms: a SIGKILLed master (nothing said) is replaced within
/// the master-down interval (0.36 s) and a margin, well under half a second.
fn v3_fractional(rig: &mut Rig) {
    let conf = Conf {
        version: 3,
        advert_int: "0.1",
        ..Conf::new(&[150, 100])
    };
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);
    let t = rig.kill(A);
    let took = rig.expect(
        "takeover after SIGKILL",
        vip,
        &[B],
        t,
        Duration::from_millis(500),
    );
    rig.note("takeover", took);
    let t = rig.daemons[A].start();
    let took = rig.expect("preempt after restart", vip, &[A], t, START);
    rig.note("preempt", took);
}

fn v3_ipv6(rig: &mut Rig) {
    failover(
        rig,
        &Conf {
            version: 3,
            ipv6: true,
            ..Conf::new(&[150, 100])
        },
    );
}

fn unicast(rig: &mut Rig) {
    failover(
        rig,
        &Conf {
            unicast: true,
            ..Conf::new(&[150, 100])
        },
    );
}

fn unicast_ipv6(rig: &mut Rig) {
    failover(
        rig,
        &Conf {
            version: 3,
            ipv6: true,
            unicast: true,
            ..Conf::new(&[150, 100])
        },
    );
}

/// The master's interface deleted (B takes over) and made again under its name, with
/// another index: A hears and sends on the new one, so it preempts and B steps down (a
/// socket left on the old index would leave A deaf, and two masters).
fn link_made_again(rig: &mut Rig) {
    let conf = Conf::new(&[150, 100]);
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);
    let t = Instant::now();
    rig.net.delete_link(A);
    let took = rig.expect(
        "takeover when the link is gone",
        vip,
        &[B],
        t,
        conf.master_down(100) + MARGIN,
    );
    rig.note("takeover", took);
    let t = Instant::now();
    rig.net.make_link(A);
    let took = rig.expect(
        "preempt on the link made again",
        vip,
        &[A],
        t,
        conf.master_down(150) + START,
    );
    rig.note("preempt", took);
    rig.expect_steady("A alone", vip, &[A], Instant::now(), Duration::from_secs(3));
}

/// An instance's own multicast group (`mcast_dst_ip`): adverts go to it and are heard on it,
/// so the failover goes as on the standard group (a director sending to 224.0.0.18 would not
/// be heard by one that joined only this group).
fn mcast_dst_ip(rig: &mut Rig) {
    failover(
        rig,
        &Conf {
            extra: "    mcast_dst_ip 224.0.0.100\n",
            ..Conf::new(&[150, 100])
        },
    );
}

fn auth_match(rig: &mut Rig) {
    failover(
        rig,
        &Conf {
            passwords: vec!["secret", "secret"],
            ..Conf::new(&[150, 100])
        },
    );
}

/// keepalived drops an advert with the wrong password, so each thinks itself alone: two
/// masters is the expected outcome.
fn auth_mismatch(rig: &mut Rig) {
    let conf = Conf {
        passwords: vec!["secret", "other"],
        ..Conf::new(&[150, 100])
    };
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    let limit = conf.master_down(100) + MARGIN;
    let took = rig.expect("both masters", vip, &[A, B], t, limit);
    rig.note("B master too", took);
}

/// B is master alone; A (higher, both BACKUP, nopreempt) starts and leaves it there.
fn nopreempt(rig: &mut Rig) {
    let conf = Conf {
        all_backup: true,
        nopreempt: true,
        ..Conf::new(&[150, 100])
    };
    late_higher(rig, &conf);
}

/// As nopreempt, but with preempt_delay 2: A takes over, not before the delay.
fn preempt_delay(rig: &mut Rig) {
    let conf = Conf {
        all_backup: true,
        preempt_delay: Some(2),
        ..Conf::new(&[150, 100])
    };
    late_higher(rig, &conf);
}

fn late_higher(rig: &mut Rig, conf: &Conf) {
    rig.configure(conf);
    let vip = conf.vip(0);
    let t = rig.daemons[B].start();
    let took = rig.expect("B alone", vip, &[B], t, conf.master_down(100) + MARGIN);
    rig.note("B master", took);
    let t = rig.daemons[A].start();
    match conf.preempt_delay {
        None => rig.expect_steady(
            "A must not preempt",
            vip,
            &[B],
            t,
            conf.master_down(150) + MARGIN,
        ),
        Some(delay) => {
            // keepalived 2.2.7 starts the delay at the first lower-priority advert it hears
            // (up to an advert after starting), then waits out a master-down interval.
            let delay = Duration::from_secs(delay.into());
            let advert = conf.master_down(255) / 3;
            let limit = advert + delay + conf.master_down(150) + MARGIN;
            let took = rig.expect("preempt after the delay", vip, &[A], t, limit);
            assert!(
                took >= delay,
                "A preempted after {took:?}, before the delay {delay:?}"
            );
            rig.note("preempt", took);
        }
    }
}

/// Priority 255 with `state BACKUP`: the owner still waits a master-down interval (with its
/// skew of 1/256 s), as keepalived does; B never holds.
fn owner_255(rig: &mut Rig) {
    let conf = Conf {
        all_backup: true,
        ..Conf::new(&[255, 100])
    };
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    let took = rig.expect("owner master", vip, &[A], t, conf.master_down(255) + MARGIN);
    rig.note("owner master", took);
    rig.expect_steady("B stays backup", vip, &[A], t, Duration::from_secs(1));
}

/// The address owner that also says `state MASTER` takes over at start, without waiting
/// for a master-down interval (keepalived's vrrp_init_state; its binary does it too).
fn owner_255_master(rig: &mut Rig) {
    let conf = Conf::new(&[255, 100]);
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    let took = rig.expect("owner master at once", vip, &[A], t, MARGIN);
    rig.note("owner master", took);
    rig.expect_steady("B stays backup", vip, &[A], t, Duration::from_secs(4));
}

/// A SIGKILLed master says nothing: B takes over after its master-down interval.
fn sigkill(rig: &mut Rig) {
    let conf = Conf::new(&[150, 100]);
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);
    // From A's last advert, which B's timer counts from.
    let t = rig.kill(A);
    let down = conf.master_down(100);
    let took = rig.expect("takeover after SIGKILL", vip, &[B], t, down + MARGIN);
    rig.note("takeover", took);
    let first = rig.expect_advert("B adverts as master", B, VRID, t, down + MARGIN, |p| {
        p == 100
    });
    rig.note("B's first advert", first.at - t);
    if let Some(last) = last_advert(rig, A, t) {
        let d = (t + took) - last;
        assert!(
            d + MARGIN >= down,
            "B took over {d:?} after A's last advert, before {down:?}"
        );
        rig.note("after last advert", d);
    }
}

/// The time of the last advert `d` sent before `t`.
fn last_advert(rig: &Rig, d: usize, t: Instant) -> Option<Instant> {
    rig.watch
        .packets()
        .iter()
        .rev()
        .find(|p| p.from == Some(d) && p.at < t && matches!(p.what, What::Advert { .. }))
        .map(|p| p.at)
}

/// A's link goes down: B takes over; up again: A preempts back.
fn link_down(rig: &mut Rig) {
    let conf = Conf::new(&[150, 100]);
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);
    let t = Instant::now();
    rig.net.in_director(A, "link set eth0 down");
    let took = rig.expect(
        "takeover on link down",
        vip,
        &[B],
        t,
        conf.master_down(100) + MARGIN,
    );
    rig.note("takeover", took);
    let t = Instant::now();
    rig.net.in_director(A, "link set eth0 up");
    let took = rig.expect(
        "preempt on link up",
        vip,
        &[A],
        t,
        conf.master_down(150) + START,
    );
    rig.note("preempt", took);
}

/// A's tracking script (no weight) fails: A goes to FAULT and gives the VIP up.
fn track_script_fault(rig: &mut Rig) {
    track_script(rig, None);
}

/// A's tracking script of weight -60 fails: 150 - 60 < 100, B preempts.
fn track_script_weight(rig: &mut Rig) {
    track_script(rig, Some(-60));
}

fn track_script(rig: &mut Rig, weight: Option<i32>) {
    let conf = Conf {
        script: Some(weight),
        ..Conf::new(&[150, 100])
    };
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);
    let t = rig.fail_script(A);
    // FAULT: A says priority 0 as it leaves; weighted: it advertises 150 + weight.
    let said = weight.map_or(0, |w| (150 + w) as u8);
    let advert = rig.expect_advert(
        "A's advert on failure",
        A,
        VRID,
        t,
        Duration::from_secs(1) + MARGIN,
        |p| p == said,
    );
    rig.note("A's advert", advert.at - t);
    // The script runs every second; then a FAULT master says priority 0, a lowered one
    // goes on advertising and B waits out its master-down interval.
    let limit = Duration::from_secs(1) + conf.master_down(100) + MARGIN;
    let took = rig.expect("takeover on script failure", vip, &[B], t, limit);
    rig.note("takeover", took);
}

/// Two instances in a sync group; the second tracks trk0. trk0 down on A: both VIPs move.
fn sync_group(rig: &mut Rig) {
    let conf = Conf {
        sync_group: true,
        ..Conf::new(&[150, 100])
    };
    rig.configure(&conf);
    let vips: [IpAddr; 2] = [conf.vip(0), conf.vip(1)];
    let t = rig.start_all();
    for vip in vips {
        rig.expect("start", vip, &[A], t, START);
    }
    let t = Instant::now();
    rig.net.in_director(A, "link set trk0 down");
    for vip in vips {
        let took = rig.expect("both move", vip, &[B], t, conf.master_down(100) + MARGIN);
        rig.note(&format!("{vip} moved"), took);
    }
}

/// B's port leaves the bridge: both become master. Back on the bridge (just after an
/// advert of A's, so that B, now master at a lower priority, most likely speaks first): A
/// answers B's advert at once, B gives up, and the VIP is announced again.
fn split_brain(rig: &mut Rig) {
    let conf = Conf::new(&[150, 100]);
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);
    let t = Instant::now();
    rig.net.in_switch("link set p1 nomaster");
    let took = rig.expect(
        "split: both masters",
        vip,
        &[A, B],
        t,
        conf.master_down(100) + MARGIN,
    );
    rig.note("B master", took);

    let advert = rig.expect_advert(
        "A adverts",
        A,
        VRID,
        Instant::now(),
        Duration::from_secs(2),
        |_| true,
    );
    let t = Instant::now();
    rig.net.in_switch("link set p1 master br0");
    let heal = t.saturating_duration_since(advert.at);
    let took = rig.converge("healed: one master", vip, &[A], t, Duration::from_secs(3));
    rig.note("one master", took);
    let b_spoke = rig.watch.packets().into_iter().find(|p| {
        p.at > t && p.from == Some(B) && matches!(p.what, What::Advert { priority: 100, .. })
    });
    match b_spoke {
        Some(b) => {
            let answer = rig.expect_advert(
                "A answers",
                A,
                VRID,
                b.at,
                Duration::from_millis(300),
                |p| p == 150,
            );
            rig.note("answer", answer.at - b.at);
            let announce = rig.watch.wait_packet(b.at, Duration::from_secs(2), |p| {
                p.from == Some(A) && p.what == What::Announce { ip: vip }
            });
            let announce = announce.unwrap_or_else(|| panic!("A did not announce {vip} again"));
            rig.note("announce", announce.at - b.at);
        }
        None => rig.note(
            &format!("B silent (healed {} ms after A's advert)", heal.as_millis()),
            took,
        ),
    }
}

/// As [`split_brain`], healed just before A's next advert, so that A most likely speaks
/// first and B, hearing a higher priority, gives up. keepalived's B gives up silently and
/// A never announces the VIP again: clients keep B's MAC (#166). lvsd's B answers once
/// before it gives up, so A hears a lower priority and announces the VIP again.
fn split_brain_master_first(rig: &mut Rig) {
    let conf = Conf::new(&[150, 100]);
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);
    let t = Instant::now();
    rig.net.in_switch("link set p1 nomaster");
    rig.expect(
        "split: both masters",
        vip,
        &[A, B],
        t,
        conf.master_down(100) + MARGIN,
    );
    let advert = rig.expect_advert(
        "A adverts",
        A,
        VRID,
        Instant::now(),
        Duration::from_secs(2),
        |_| true,
    );
    let heal_at = advert.at + Duration::from_millis(930);
    std::thread::sleep(heal_at.saturating_duration_since(Instant::now()));
    let t = Instant::now();
    rig.net.in_switch("link set p1 master br0");
    let took = rig.converge("healed: one master", vip, &[A], t, Duration::from_secs(3));
    rig.note("one master", took);
    let announce = rig.watch.wait_packet(t, Duration::from_secs(2), |p| {
        p.from == Some(A) && p.what == What::Announce { ip: vip }
    });
    let first = rig
        .watch
        .packets()
        .into_iter()
        .find(|p| p.at > t && matches!(p.what, What::Advert { .. }))
        .and_then(|p| p.from);
    match (first, rig.daemons[B].program, announce) {
        (_, _, Some(a)) => rig.note(&format!("first {first:?}, announce again"), a.at - t),
        (Some(A), Program::Keepalived, None) => rig.note(
            "A first, no announcement (keepalived's B gave up silently, #166)",
            took,
        ),
        (_, _, None) => {
            panic!("A did not announce {vip} again after the partition (first to speak: {first:?})")
        }
    }
}

/// Three routers, 150, 100 and 50: A's SIGTERM hands over to B (the shorter skew wins, C
/// stays backup), B's SIGKILL to C, and A, restarted, preempts both.
fn three_routers(rig: &mut Rig) {
    let conf = Conf::new(&[150, 100, 50]);
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);

    let t = rig.daemons[A].stop();
    let skew = conf.master_down(100) - conf.master_down(255);
    let took = rig.expect("B after A's SIGTERM", vip, &[B], t, skew + MARGIN);
    rig.note("B takeover", took);
    assert!(
        !rig.watch.held_since(vip, C, t),
        "C held {vip} though B outranks it"
    );

    let t = rig.kill(B);
    let took = rig.expect(
        "C after B's SIGKILL",
        vip,
        &[C],
        t,
        conf.master_down(50) + MARGIN,
    );
    rig.note("C takeover", took);

    let t = rig.daemons[A].start();
    let took = rig.expect("A preempts", vip, &[A], t, START);
    rig.note("preempt", took);
}

/// SIGHUP on both directors, again and again: a reload carries each instance's state over,
/// so the master keeps advertising on time and the backup never takes over (keepalived
/// #2159, where a slow reload outlasted the master-down timer).
fn reload_keeps_roles(rig: &mut Rig) {
    let conf = Conf::new(&[150, 100]);
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);
    let t = Instant::now();
    for round in 0..8 {
        for d in [A, B] {
            rig.daemons[d].signal(nix::sys::signal::Signal::SIGHUP);
        }
        rig.expect_steady(
            &format!("reload {round}"),
            vip,
            &[A],
            t,
            Duration::from_millis(400),
        );
    }
    rig.expect_steady("after the reloads", vip, &[A], t, Duration::from_secs(4));
    let b_master = rig
        .watch
        .packets()
        .into_iter()
        .any(|p| p.at > t && p.from == Some(B) && matches!(p.what, What::Advert { .. }));
    assert!(
        !b_master,
        "B advertised during the reloads: it took itself for master"
    );
}

/// The backup's file gains a VIP and it reloads, before the master's file does. keepalived
/// then drops the master's adverts (their address list differs) and becomes a second master
/// (#1603); lvsd logs the difference and stays backup.
fn reload_added_vip(rig: &mut Rig) {
    let mut conf = Conf::new(&[150, 100]);
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);
    conf.extra_vip_on = Some(B);
    rig.configure(&conf);
    let t = rig.daemons[B].signal(nix::sys::signal::Signal::SIGHUP);
    if rig.daemons[B].program == Program::Keepalived {
        let took = rig.converge(
            "keepalived: a second master",
            vip,
            &[A, B],
            t,
            conf.master_down(100) + MARGIN,
        );
        rig.note("second master (keepalived #1603)", took);
        return;
    }
    rig.expect_steady(
        "B stays backup",
        vip,
        &[A],
        t,
        conf.master_down(100) + Duration::from_secs(1),
    );
    assert!(
        rig.daemons[B].log().contains("192.0.2.150"),
        "B's log does not name the address the master's adverts lack:\n{}",
        rig.daemons[B].log()
    );
}

/// The `notify` script and the notify FIFO see the same changes, with the same arguments
/// and lines, as keepalived gives them: each director enters BACKUP, A MASTER; A's SIGTERM
/// makes B MASTER and A STOP; B's SIGTERM B STOP. keepalived stops the FIFO's script before
/// it writes STOP, so its reader never sees that line; lvsd writes it before closing.
fn notify(rig: &mut Rig) {
    let conf = Conf {
        notify: true,
        ..Conf::new(&[150, 100])
    };
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);
    let t = rig.daemons[A].stop();
    rig.expect("takeover", vip, &[B], t, Duration::from_secs(2));
    rig.daemons[B].stop();
    let expected = [
        (A, ["BACKUP 150", "MASTER 150", "STOP 150"]),
        (B, ["BACKUP 100", "MASTER 100", "STOP 100"]),
    ];
    for (d, states) in expected {
        let dir = rig.daemons[d].dir().to_path_buf();
        let script: Vec<String> = states
            .iter()
            .map(|s| format!("INSTANCE VI_0 {s}"))
            .collect();
        let fifo: Vec<String> = states
            .iter()
            .map(|s| format!("INSTANCE \"VI_0\" {s}"))
            .collect();
        let keepalived = rig.daemons[d].program == Program::Keepalived;
        for (file, mut want) in [("notify.log", script), ("fifo.log", fifo)] {
            if keepalived && file == "fifo.log" {
                want.pop();
            }
            let path = dir.join(file);
            let deadline = Instant::now() + Duration::from_secs(3);
            let read = || std::fs::read_to_string(&path).unwrap_or_default();
            while read().lines().count() < want.len() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let got: Vec<String> = read().lines().map(str::to_string).collect();
            assert_eq!(got, want, "{}'s {file}", rig.daemons[d].label);
        }
    }
}

/// Forged adverts claiming priority 254 from B's address, each wrong in one way (TTL 254,
/// bad checksum, wrong password, cut short, version 3 to a version 2 instance), reach A again and again: A drops
/// them and stays master; lvsd counts each kind in `lvsd status`.
fn forged(rig: &mut Rig) {
    use vrrp::packet::{Advert, Auth, Version};
    let conf = Conf {
        passwords: vec!["secret1", "secret1"],
        ..Conf::new(&[150, 100])
    };
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);
    let src: IpAddr = crate::net::director_v4(B).parse().unwrap();
    let dst: IpAddr = "224.0.0.18".parse().unwrap();
    let advert = |pass: &str| Advert {
        version: Version::V2,
        vrid: VRID,
        priority: 254,
        interval: 100,
        auth: Auth::Pass(vrrp::config::password(pass)),
        addresses: vec![vip],
    };
    let good = advert("secret1").encode(src, dst);
    let mut bad_sum = good.clone();
    bad_sum[6] ^= 0xff;
    // A whole version-3 advert: keepalived checks the length a packet's own version
    // implies before the version.
    let v3 = Advert {
        version: Version::V3,
        auth: Auth::None,
        ..advert("secret1")
    }
    .encode(src, dst);
    let forgeries: Vec<(&str, u8, Vec<u8>)> = vec![
        ("ip_ttl_err", 254, good.clone()),
        ("chk_err", 255, bad_sum),
        ("auth_failure", 255, advert("guessed").encode(src, dst)),
        ("packet_len_err", 255, good[..good.len() - 4].to_vec()),
        ("vers_err", 255, v3),
    ];
    let t = Instant::now();
    let sent: Vec<(&str, u8, Vec<u8>)> = forgeries.clone();
    crate::net::within(&rig.net.directors[B], move || {
        for _ in 0..3 {
            for (_, ttl, vrrp) in &sent {
                send_raw(src, dst, *ttl, vrrp);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    rig.expect_steady(
        "A ignores the forgeries",
        vip,
        &[A],
        t,
        Duration::from_secs(2),
    );
    if rig.daemons[A].program != Program::Lvsd {
        return;
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lvsd"))
        .args(["status", "--json", "--control"])
        .arg(rig.daemons[A].control())
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("lvsd status --json: {e}: {}", crate::net::text(&out.stdout)));
    let dropped = &status["vrrp_instances"][0]["dropped"];
    for (counter, ..) in &forgeries {
        let n = dropped[counter].as_u64().unwrap_or(0);
        assert!(n >= 3, "A counted {n} {counter} drops: {status}");
    }
}

/// Sends one VRRP message in an IPv4 datagram of its own making (TTL included) out of eth0.
fn send_raw(src: IpAddr, dst: IpAddr, ttl: u8, vrrp: &[u8]) {
    use socket2::{Domain, Protocol, Socket, Type};
    let (IpAddr::V4(s), IpAddr::V4(d)) = (src, dst) else {
        panic!("IPv4 only");
    };
    let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112))).unwrap();
    socket.set_header_included_v4(true).unwrap();
    socket.bind_device(Some(b"eth0")).unwrap();
    let mut datagram = vec![0x45, 0xc0];
    datagram.extend_from_slice(&((20 + vrrp.len()) as u16).to_be_bytes());
    datagram.extend_from_slice(&[0, 0, 0, 0, ttl, 112, 0, 0]);
    datagram.extend_from_slice(&s.octets());
    datagram.extend_from_slice(&d.octets());
    datagram.extend_from_slice(vrrp);
    let to = std::net::SocketAddr::new(dst, 0);
    socket.send_to(&datagram, &to.into()).unwrap();
}

/// Equal priorities: the first to time out becomes master and the other stays backup (a
/// backup defers to an equal priority); when both are masters, after a partition, the
/// higher address (B's) wins.
fn equal_priority(rig: &mut Rig) {
    let conf = Conf {
        all_backup: true,
        ..Conf::new(&[100, 100])
    };
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    let first = rig.watch.wait_holders(vip, &[A], START).map(|_| A);
    let first = first.or_else(|| rig.watch.wait_holders(vip, &[B], MARGIN).map(|_| B));
    let Some(first) = first else {
        panic!("nobody took {vip} within {START:?}");
    };
    rig.expect_steady("the first stays", vip, &[first], t, Duration::from_secs(2));
    let t = Instant::now();
    rig.net.in_switch("link set p1 nomaster");
    rig.expect(
        "split: both masters",
        vip,
        &[A, B],
        t,
        conf.master_down(100) + MARGIN,
    );
    let t = Instant::now();
    rig.net.in_switch("link set p1 master br0");
    let took = rig.converge(
        "healed: the higher address",
        vip,
        &[B],
        t,
        Duration::from_secs(3),
    );
    rig.note("B alone", took);
}

/// A `vrrp_track_file` of weight -60: A's file says 1, A advertises 90 and B (100) takes
/// over; back to 0, A preempts.
fn track_file(rig: &mut Rig) {
    let conf = Conf {
        track_file: Some(-60),
        ..Conf::new(&[150, 100])
    };
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);
    let file = rig.daemons[A].dir().join("track");
    let t = Instant::now();
    std::fs::write(&file, "1\n").unwrap();
    // keepalived reads the file when it changes; lvsd every tenth of a second.
    rig.expect_advert(
        "A advertises 90",
        A,
        VRID,
        t,
        Duration::from_secs(2) + MARGIN,
        |p| p == 90,
    );
    let took = rig.expect(
        "B takes over",
        vip,
        &[B],
        t,
        Duration::from_secs(2) + conf.master_down(100) + MARGIN,
    );
    rig.note("takeover", took);
    let t = Instant::now();
    std::fs::write(&file, "0\n").unwrap();
    let took = rig.expect(
        "A preempts",
        vip,
        &[A],
        t,
        Duration::from_secs(2) + conf.master_down(150) + MARGIN,
    );
    rig.note("preempt", took);
}

/// `garp_master_refresh 1` with `garp_master_refresh_repeat 2`: the master announces its VIP
/// again every second or so, two at a time.
fn garp_refresh(rig: &mut Rig) {
    let conf = Conf {
        extra:
            "    garp_master_refresh 1\n    garp_master_refresh_repeat 2\n    garp_master_delay 0\n",
        ..Conf::new(&[150, 100])
    };
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);
    // Past the first burst of announcements.
    std::thread::sleep(Duration::from_millis(500));
    let from = Instant::now();
    std::thread::sleep(Duration::from_millis(3500));
    let seen = rig
        .watch
        .packets()
        .into_iter()
        .filter(|p| p.at > from && p.from == Some(A) && p.what == What::Announce { ip: vip })
        .count();
    assert!(
        (4..=10).contains(&seen),
        "{seen} announcements in 3.5 s, expected about 3 × 2"
    );
    rig.note(&format!("{seen} announcements over"), from.elapsed());
}

/// Paced announcements (`vrrp_garp_interval`) stop when the master steps down: B, master
/// alone, is announcing its VIP every 0.4 s (twenty of them) when A, of higher priority, starts
/// and takes over; B announces nothing once it has given the VIP up, which would draw the
/// clients back from the new master. keepalived 2.2.7 stops too (measured).
fn garp_paced_stop(rig: &mut Rig) {
    let conf = Conf {
        global: "    vrrp_garp_interval 0.4\n",
        extra: "    garp_master_repeat 20\n    garp_master_delay 0\n",
        ..Conf::new(&[150, 100])
    };
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.daemons[B].start();
    rig.expect("B alone", vip, &[B], t, START);
    let t = rig.daemons[A].start();
    let took = rig.expect("A preempts", vip, &[A], t, START);
    // B's last announcement may be on its way as A takes over.
    let from = Instant::now() + Duration::from_millis(100);
    std::thread::sleep(Duration::from_millis(3000));
    let late = rig
        .watch
        .packets()
        .into_iter()
        .filter(|p| p.at > from && p.from == Some(B) && p.what == What::Announce { ip: vip })
        .count();
    assert_eq!(
        late, 0,
        "B announced the VIP {late} times after giving it up"
    );
    rig.note(
        &format!("B's announcements after stepping down: {late}; A took over"),
        took,
    );
}

/// The master's file is broken (a brace missing, so that keepalived would read the rest
/// otherwise) and it is reloaded: lvsd refuses the file, says why, and stays master with
/// what it ran. (keepalived runs what it makes of such a file; not asserted.)
fn reload_broken_file(rig: &mut Rig) {
    let conf = Conf::new(&[150, 100]);
    rig.configure(&conf);
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);
    if rig.daemons[A].program != Program::Lvsd {
        return;
    }
    let file = rig.daemons[A].conf();
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replacen("virtual_ipaddress {", "virtual_ipaddress", 1),
    )
    .unwrap();
    let t = rig.daemons[A].signal(nix::sys::signal::Signal::SIGHUP);
    rig.expect_steady(
        "A stays master",
        vip,
        &[A],
        t,
        conf.master_down(100) + MARGIN,
    );
    let log = rig.daemons[A].log();
    assert!(
        log.contains("reload refused"),
        "A's log says nothing of the refusal:\n{log}"
    );
}

/// `-V` (`--dont-release-vrrp`): the master stopped leaves its VIP in place and sends no
/// priority 0, as keepalived does; the backup takes over only after its master-down
/// interval.
fn dont_release_vrrp(rig: &mut Rig) {
    let conf = Conf::new(&[150, 100]);
    rig.configure(&conf);
    rig.daemons[A].extra = vec!["-V".into()];
    let vip = conf.vip(0);
    let t = rig.start_all();
    rig.expect("start", vip, &[A], t, START);
    let t = rig.daemons[A].stop();
    rig.expect_steady("A keeps its VIP", vip, &[A], t, Duration::from_secs(2));
    let zero = rig.watch.packets().into_iter().any(|p| {
        p.at > t && p.from == Some(A) && matches!(p.what, What::Advert { priority: 0, .. })
    });
    assert!(!zero, "A sent priority 0 though told to keep its VIPs");
    // B takes over after its interval; A's address stays where the stopped daemon left it.
    let took = rig.converge(
        "B master too",
        vip,
        &[A, B],
        t,
        conf.master_down(100) + MARGIN,
    );
    rig.note("B master", took);
}
