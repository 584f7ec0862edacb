//! The state machine on a simulated link: routers whose adverts reach each other at once,
//! stepped from timer to timer, so every election, takeover and fault is exact and fast.

use std::net::IpAddr;

use vrrp::packet::{Auth, Version};
use vrrp::{
    Action, Garp, GroupSettings, Machine, Micros, Settings, State, Subject, TrackRef, TrackValue,
};

const S: Micros = 1_000_000;

fn addr(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn settings(name: &str, priority: u8, source: &str) -> Settings {
    Settings {
        name: name.into(),
        vrid: 51,
        version: Version::V2,
        priority,
        want_master: false,
        advert_int: S,
        preempt: true,
        preempt_delay: 0,
        auth: Auth::None,
        addresses: vec![addr("192.0.2.100")],
        source: Some(addr(source)),
        down_timer_adverts: 3,
        garp: Garp {
            delay: 5 * S,
            repeat: 5,
            refresh: 0,
            refresh_repeat: 1,
            lower_prio_delay: 5 * S,
            lower_prio_repeat: 5,
        },
        lower_prio_no_advert: false,
        higher_prio_send_advert: false,
        tracks: Vec::new(),
        group: None,
    }
}

/// Routers on one link; `up[n]` false cuts router n off (its adverts go nowhere, it hears
/// none).
struct Lan {
    routers: Vec<Router>,
    now: Micros,
}

struct Router {
    machine: Machine,
    source: IpAddr,
    up: bool,
    /// Everything the router did, with the time.
    done: Vec<(Micros, Action)>,
}

impl Lan {
    fn new(routers: Vec<(Machine, &str)>) -> Lan {
        let mut lan = Lan {
            routers: routers
                .into_iter()
                .map(|(machine, source)| Router {
                    machine,
                    source: addr(source),
                    up: true,
                    done: Vec::new(),
                })
                .collect(),
            now: 0,
        };
        for n in 0..lan.routers.len() {
            lan.routers[n].machine.start(0);
        }
        lan.deliver();
        lan
    }

    fn one(priorities: &[u8]) -> Lan {
        let routers = priorities
            .iter()
            .enumerate()
            .map(|(n, &p)| {
                let source = ["192.0.2.1", "192.0.2.2", "192.0.2.3"][n];
                (
                    Machine::new(vec![settings("VI_1", p, source)], Vec::new(), Vec::new()),
                    source,
                )
            })
            .collect();
        Lan::new(routers)
    }

    /// Moves the clock to `until`, firing every timer on the way.
    fn run(&mut self, until: Micros) {
        for _ in 0..100_000 {
            let next = self
                .routers
                .iter()
                .filter_map(|r| r.machine.next_due())
                .min();
            match next {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    for r in &mut self.routers {
                        r.machine.tick(self.now);
                    }
                    self.deliver();
                }
                _ => {
                    self.now = until;
                    return;
                }
            }
        }
        panic!("the machines never went quiet");
    }

    /// Takes every router's actions and hands each advert to the other routers.
    fn deliver(&mut self) {
        for _ in 0..1000 {
            let mut sent = Vec::new();
            for (n, r) in self.routers.iter_mut().enumerate() {
                for a in r.machine.take_actions() {
                    if let Action::Send { advert, .. } = &a {
                        if r.up {
                            sent.push((n, r.source, advert.clone()));
                        }
                    }
                    r.done.push((self.now, a));
                }
            }
            if sent.is_empty() {
                return;
            }
            for (from, src, advert) in sent {
                for (n, r) in self.routers.iter_mut().enumerate() {
                    if n != from && r.up {
                        r.machine.advert(self.now, 0, src, &advert);
                    }
                }
            }
        }
        panic!("adverts never stopped");
    }

    fn state(&self, n: usize) -> State {
        self.routers[n].machine.status(0).state
    }

    fn states(&self) -> Vec<State> {
        (0..self.routers.len()).map(|n| self.state(n)).collect()
    }

    /// When router n last entered `state`.
    fn entered(&self, n: usize, state: State) -> Option<Micros> {
        self.routers[n]
            .done
            .iter()
            .rev()
            .find(|(_, a)| matches!(a, Action::Notify { subject: Subject::Instance(0), state: s, .. } if *s == state))
            .map(|(t, _)| *t)
    }

    fn actions(&self, n: usize) -> Vec<&Action> {
        self.routers[n].done.iter().map(|(_, a)| a).collect()
    }

    fn clear(&mut self) {
        for r in &mut self.routers {
            r.done.clear();
        }
    }
}

use State::{Backup, Fault, Master};

#[test]
fn the_higher_priority_becomes_master_after_the_master_down_interval() {
    let mut lan = Lan::one(&[150, 100]);
    assert_eq!(lan.states(), [Backup, Backup]);
    lan.run(10 * S);
    assert_eq!(lan.states(), [Master, Backup]);
    assert_eq!(
        lan.routers[0].machine.status(0).why,
        "no master heard in the 3.41 s since the start"
    );
    // 3 adverts of 1 s plus the skew of priority 150: (256 - 150) / 256 s.
    assert_eq!(lan.entered(0, Master), Some(3 * S + 106 * S / 256));
    let a = lan.actions(0);
    let add = a
        .iter()
        .position(|a| matches!(a, Action::Addresses { add: true, .. }))
        .unwrap();
    let send = a
        .iter()
        .position(|a| matches!(a, Action::Send { .. }))
        .unwrap();
    assert!(
        send < add,
        "the advert goes out before the addresses are taken: {a:?}"
    );
    // Announced at once and again garp_master_delay later.
    let announces: Vec<_> = lan.routers[0]
        .done
        .iter()
        .filter(|(_, a)| matches!(a, Action::Announce { count: 5, .. }))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(announces, [3 * S + 106 * S / 256, 8 * S + 106 * S / 256]);
    assert!(!lan
        .actions(1)
        .iter()
        .any(|a| matches!(a, Action::Addresses { .. })));
}

#[test]
fn a_master_that_stops_sends_priority_zero_and_the_backup_takes_over_after_its_skew() {
    let mut lan = Lan::one(&[150, 100]);
    lan.run(10 * S);
    lan.clear();
    lan.routers[0].machine.stop(lan.now);
    lan.deliver();
    lan.routers[0].up = false;
    let stopped = lan.now;
    let a = lan.actions(0);
    assert!(a
        .iter()
        .any(|a| matches!(a, Action::Send { advert, .. } if advert.priority == 0)));
    assert!(a
        .iter()
        .any(|a| matches!(a, Action::Addresses { add: false, .. })));
    lan.run(20 * S);
    assert_eq!(lan.entered(1, Master), Some(stopped + 156 * S / 256));
    assert_eq!(
        lan.routers[1].machine.status(0).why,
        "the master 192.0.2.1 stopped (priority 0)"
    );
}

#[test]
fn a_silent_master_is_replaced_after_three_adverts_and_the_skew() {
    let mut lan = Lan::one(&[150, 100]);
    lan.run(10 * S);
    let last = lan.routers[0]
        .done
        .iter()
        .rev()
        .find(|(_, a)| matches!(a, Action::Send { .. }))
        .unwrap()
        .0;
    lan.routers[0].up = false;
    lan.run(20 * S);
    assert_eq!(lan.entered(1, Master), Some(last + 3 * S + 156 * S / 256));
    assert_eq!(
        lan.routers[1].machine.status(0).why,
        "no advert from the master 192.0.2.1 for 3.61 s"
    );
    // Back on the link, the higher priority takes over at once: the old backup hears it.
    lan.routers[0].up = true;
    lan.run(30 * S);
    assert_eq!(lan.states(), [Master, Backup]);
}

#[test]
fn after_a_partition_one_master_remains_and_announces_again() {
    // Whichever of the two masters advertises first once the link is back.
    for first in [0, 1] {
        let mut lan = Lan::one(&[150, 100]);
        lan.routers[1].up = false;
        lan.run(10 * S);
        assert_eq!(lan.states(), [Master, Master]);
        lan.routers[1].up = true;
        let other = 1 - first;
        lan.routers[other].up = false;
        lan.run(lan.now + S);
        lan.routers[other].up = true;
        lan.clear();
        lan.run(lan.now + 3 * S);
        assert_eq!(lan.states(), [Master, Backup], "{first} first");
        let a = lan.actions(0);
        assert!(
            a.iter()
                .any(|a| matches!(a, Action::NotifyLowerPriority { .. })),
            "{a:?}"
        );
        assert!(
            a.iter()
                .any(|a| matches!(a, Action::Announce { count: 5, .. })),
            "{a:?}"
        );
        assert!(lan
            .actions(1)
            .iter()
            .any(|a| matches!(a, Action::Addresses { add: false, .. })));
    }
}

#[test]
fn a_master_hearing_a_lower_priority_answers_at_once() {
    let mut lan = Lan::one(&[150]);
    lan.run(10 * S);
    lan.clear();
    let now = lan.now + S / 3;
    let advert = vrrp::packet::Advert {
        version: Version::V2,
        vrid: 51,
        priority: 100,
        interval: 100,
        auth: Auth::None,
        addresses: vec![addr("192.0.2.100")],
    };
    lan.routers[0]
        .machine
        .advert(now, 0, addr("192.0.2.9"), &advert);
    let a = lan.routers[0].machine.take_actions();
    assert!(
        matches!(&a[1], Action::Send { advert, .. } if advert.priority == 150),
        "{a:?}"
    );
    assert_eq!(lan.routers[0].machine.next_due(), Some(now + S));
}

#[test]
fn equal_priorities_go_to_the_higher_address() {
    let mut lan = Lan::one(&[100, 100]);
    lan.run(10 * S);
    assert_eq!(lan.states(), [Backup, Master]);
}

#[test]
fn an_address_owner_that_wants_master_takes_over_at_once() {
    let mut owner = settings("VI_1", 255, "192.0.2.1");
    owner.want_master = true;
    let mut lan = Lan::new(vec![
        (
            Machine::new(vec![owner], Vec::new(), Vec::new()),
            "192.0.2.1",
        ),
        (
            Machine::new(
                vec![settings("VI_1", 100, "192.0.2.2")],
                Vec::new(),
                Vec::new(),
            ),
            "192.0.2.2",
        ),
    ]);
    lan.run(S / 2);
    assert_eq!(lan.states(), [Master, Backup]);
    assert_eq!(lan.entered(0, Master), Some(1));
}

#[test]
fn state_master_below_255_still_starts_as_backup_and_waits() {
    let mut first = settings("VI_1", 150, "192.0.2.1");
    first.want_master = true;
    let mut lan = Lan::new(vec![(
        Machine::new(vec![first], Vec::new(), Vec::new()),
        "192.0.2.1",
    )]);
    lan.run(3 * S);
    assert_eq!(lan.states(), [Backup]);
    lan.run(4 * S);
    assert_eq!(lan.states(), [Master]);
}

#[test]
fn nopreempt_keeps_the_lower_priority_master() {
    let mut lan = Lan::one(&[150, 100]);
    lan.routers[0].up = false;
    lan.run(10 * S);
    lan.routers[0].up = true;
    let mut high = settings("VI_1", 150, "192.0.2.1");
    high.preempt = false;
    lan.routers[0].machine = Machine::new(vec![high], Vec::new(), Vec::new());
    lan.routers[0].machine.start(lan.now);
    lan.run(30 * S);
    assert_eq!(lan.states(), [Backup, Master]);
}

#[test]
fn preempt_delay_waits_before_taking_over() {
    let mut lan = Lan::one(&[150, 100]);
    lan.routers[0].up = false;
    lan.run(10 * S);
    lan.routers[0].up = true;
    let mut high = settings("VI_1", 150, "192.0.2.1");
    high.preempt_delay = 10 * S;
    lan.routers[0].machine = Machine::new(vec![high], Vec::new(), Vec::new());
    let start = lan.now;
    lan.routers[0].machine.start(start);
    lan.run(start + 9 * S);
    assert_eq!(lan.states(), [Backup, Master]);
    lan.run(start + 20 * S);
    assert_eq!(lan.states(), [Master, Backup]);
    let took = lan.entered(0, Master).unwrap() - start;
    // The delay starts with the first lower-priority advert heard (within an advert of the
    // start) and the takeover comes one master-down interval after it ends.
    assert!(took > 10 * S && took < 11 * S + 4 * S, "took {took} µs");
}

#[test]
fn version_3_backups_learn_the_masters_interval() {
    let mut a = settings("VI_1", 150, "192.0.2.1");
    a.version = Version::V3;
    a.advert_int = S / 10;
    let mut b = settings("VI_1", 100, "192.0.2.2");
    b.version = Version::V3;
    b.advert_int = S;
    let mut lan = Lan::new(vec![
        (Machine::new(vec![a], Vec::new(), Vec::new()), "192.0.2.1"),
        (Machine::new(vec![b], Vec::new(), Vec::new()), "192.0.2.2"),
    ]);
    lan.run(5 * S);
    assert_eq!(lan.states(), [Master, Backup]);
    let last = lan.routers[0]
        .done
        .iter()
        .rev()
        .find(|(_, a)| matches!(a, Action::Send { .. }))
        .unwrap()
        .0;
    lan.routers[0].up = false;
    lan.run(10 * S);
    // 3 × 0.1 s learned, plus (256 − 100) / 256 × 0.1 s.
    assert_eq!(
        lan.entered(1, Master),
        Some(last + 3 * S / 10 + 156 * 10 * 625 / 16)
    );
}

#[test]
fn a_tracked_interface_down_is_fault_with_priority_zero_sent() {
    let mut a = settings("VI_1", 150, "192.0.2.1");
    a.tracks = vec![TrackRef {
        track: 0,
        weight: 0,
        reverse: false,
    }];
    let mut lan = Lan::new(vec![
        (
            Machine::new(vec![a], Vec::new(), vec!["interface eth0".into()]),
            "192.0.2.1",
        ),
        (
            Machine::new(
                vec![settings("VI_1", 100, "192.0.2.2")],
                Vec::new(),
                Vec::new(),
            ),
            "192.0.2.2",
        ),
    ]);
    lan.routers[0].machine.track(0, 0, TrackValue::Up(true));
    lan.run(10 * S);
    assert_eq!(lan.states(), [Master, Backup]);
    let at = lan.now;
    lan.routers[0].machine.track(at, 0, TrackValue::Up(false));
    lan.deliver();
    assert_eq!(lan.state(0), Fault);
    assert!(lan.routers[0]
        .machine
        .status(0)
        .why
        .contains("interface eth0"));
    lan.run(at + 5 * S);
    // Priority 0 from the failing master: the backup waits only its skew.
    assert_eq!(lan.entered(1, Master), Some(at + 156 * S / 256));
    lan.routers[0]
        .machine
        .track(lan.now, 0, TrackValue::Up(true));
    lan.deliver();
    assert_eq!(lan.state(0), Backup);
    lan.run(lan.now + 10 * S);
    assert_eq!(lan.states(), [Master, Backup]);
}

#[test]
fn a_weighted_script_moves_the_priority_and_the_master() {
    let mut a = settings("VI_1", 150, "192.0.2.1");
    a.tracks = vec![TrackRef {
        track: 0,
        weight: -60,
        reverse: false,
    }];
    let mut lan = Lan::new(vec![
        (
            Machine::new(vec![a], Vec::new(), vec!["script chk".into()]),
            "192.0.2.1",
        ),
        (
            Machine::new(
                vec![settings("VI_1", 100, "192.0.2.2")],
                Vec::new(),
                Vec::new(),
            ),
            "192.0.2.2",
        ),
    ]);
    lan.run(10 * S);
    assert_eq!(lan.states(), [Master, Backup]);
    lan.routers[0]
        .machine
        .track(lan.now, 0, TrackValue::Up(false));
    assert_eq!(lan.routers[0].machine.status(0).effective_priority, 90);
    lan.run(lan.now + 10 * S);
    // The master keeps sending, now at 90; the backup (100) preempts it.
    assert_eq!(lan.states(), [Backup, Master]);
    lan.routers[0]
        .machine
        .track(lan.now, 0, TrackValue::Up(true));
    lan.run(lan.now + 10 * S);
    assert_eq!(lan.states(), [Master, Backup]);
}

#[test]
fn a_sync_group_moves_together() {
    let group = |source: &str, p: u8, with_track: bool| {
        let mut one = settings("VI_1", p, source);
        one.group = Some(0);
        if with_track {
            one.tracks = vec![TrackRef {
                track: 0,
                weight: 0,
                reverse: false,
            }];
        }
        let mut two = settings("VI_2", p, source);
        two.vrid = 52;
        two.group = Some(0);
        Machine::new(
            vec![one, two],
            vec![GroupSettings {
                name: "G".into(),
                members: vec![0, 1],
            }],
            vec!["interface eth1".into()],
        )
    };
    let mut m = group("192.0.2.1", 150, true);
    m.track(0, 0, TrackValue::Up(true));
    m.start(0);
    for t in 1..=10 {
        m.tick(t * S);
    }
    assert_eq!((m.status(0).state, m.status(1).state), (Master, Master));
    assert_eq!(m.group_state(0), Master);
    m.take_actions();
    m.track(11 * S, 0, TrackValue::Up(false));
    assert_eq!((m.status(0).state, m.status(1).state), (Fault, Fault));
    let a = m.take_actions();
    for id in [0, 1] {
        assert!(a
            .iter()
            .any(|a| matches!(a, Action::Addresses { instance, add: false } if *instance == id)));
        assert!(a.iter().any(|a| matches!(a, Action::Send { instance, advert } if *instance == id && advert.priority == 0)));
    }
    assert!(a.iter().any(|a| matches!(
        a,
        Action::Notify {
            subject: Subject::Group(0),
            state: Fault,
            ..
        }
    )));
    m.track(12 * S, 0, TrackValue::Up(true));
    assert_eq!((m.status(0).state, m.status(1).state), (Backup, Backup));
    let _ = group("192.0.2.2", 100, false);
}

#[test]
fn stop_reports_every_instance_and_releases_only_held_addresses() {
    let mut lan = Lan::one(&[150, 100]);
    lan.run(10 * S);
    lan.clear();
    for n in 0..2 {
        lan.routers[n].machine.stop(lan.now);
    }
    lan.deliver();
    for n in 0..2 {
        assert_eq!(lan.state(n), State::Stop);
        let released = lan
            .actions(n)
            .iter()
            .any(|a| matches!(a, Action::Addresses { add: false, .. }));
        assert_eq!(released, n == 0);
    }
}

#[test]
fn a_reload_carries_each_instance_over_by_name() {
    let mut lan = Lan::one(&[150, 100]);
    lan.run(10 * S);
    assert_eq!(lan.states(), [Master, Backup]);
    let now = lan.now;
    let due = lan.routers[1].machine.next_due();
    // The backup's file gains an instance; VI_1 keeps its state, master and timer.
    let mut fresh = Machine::new(
        vec![
            settings("VI_1", 100, "192.0.2.2"),
            Settings {
                vrid: 52,
                ..settings("VI_2", 100, "192.0.2.2")
            },
        ],
        Vec::new(),
        Vec::new(),
    );
    let kept = fresh.inherit(&lan.routers[1].machine, now);
    assert_eq!(kept, [0]);
    let st = fresh.status(0);
    assert_eq!((st.state, st.master), (Backup, Some(addr("192.0.2.1"))));
    assert_eq!(fresh.status(1).state, Backup);
    assert!(fresh
        .take_actions()
        .iter()
        .all(|a| !matches!(a, Action::Addresses { instance: 0, .. })));
    // VI_1's master-down deadline is the old one; VI_2 starts its own from now.
    assert_eq!(fresh.next_due(), due);
    // The master, reloaded, keeps sending on time and holds its addresses.
    let mut master = Machine::new(
        vec![settings("VI_1", 150, "192.0.2.1")],
        Vec::new(),
        Vec::new(),
    );
    master.inherit(&lan.routers[0].machine, now);
    assert_eq!(master.status(0).state, Master);
    assert_eq!(master.next_due(), lan.routers[0].machine.next_due());
    master.stop(now);
    assert!(master
        .take_actions()
        .iter()
        .any(|a| matches!(a, Action::Addresses { add: false, .. })));
}
