//! The instances and sync groups of one configuration, as keepalived 2.2.7 runs them
//! (vrrp.c, vrrp_scheduler.c, vrrp_sync.c, vrrp_track.c): fed the time, accepted adverts and
//! the state of what the instances track, it keeps every timer and queues [`Action`]s for the
//! daemon to carry out in order.

use std::fmt;
use std::net::IpAddr;

use crate::packet::{Advert, Auth, Version};

/// Microseconds, keepalived's timer unit.
pub type Micros = u64;

/// Index of an instance in the order of [`Machine::new`]'s settings.
pub type InstanceId = usize;
/// Index of a sync group.
pub type GroupId = usize;
/// Index of a tracked object (an interface, a script, a file) in the daemon's list.
pub type TrackId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Init,
    Backup,
    Master,
    Fault,
    Stop,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            State::Init => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
            State::Stop => "STOP",
        })
    }
}

/// Gratuitous ARP / unsolicited NA pacing: counts of announcements per address, delays in
/// microseconds (0: none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Garp {
    pub delay: Micros,
    pub repeat: u32,
    pub refresh: Micros,
    pub refresh_repeat: u32,
    pub lower_prio_delay: Micros,
    pub lower_prio_repeat: u32,
}

/// How an instance follows a tracked object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrackRef {
    pub track: TrackId,
    /// 0: a bad state puts the instance in FAULT; otherwise the priority moves by it.
    pub weight: i32,
    pub reverse: bool,
}

/// What a tracked object says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackValue {
    /// An interface up, a script succeeding (after its rise and fall counts).
    Up(bool),
    /// A tracked file's number.
    Number(i64),
}

/// One `vrrp_instance`, as the machine needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub name: String,
    pub vrid: u8,
    pub version: Version,
    pub priority: u8,
    /// `state MASTER`: only an address owner (priority 255) acts on it at start.
    pub want_master: bool,
    pub advert_int: Micros,
    pub preempt: bool,
    pub preempt_delay: Micros,
    pub auth: Auth,
    /// The addresses the adverts carry (`virtual_ipaddress`).
    pub addresses: Vec<IpAddr>,
    /// This router's address on the instance's link: ties between equal priorities go to
    /// the higher address.
    pub source: Option<IpAddr>,
    pub down_timer_adverts: u32,
    pub garp: Garp,
    pub lower_prio_no_advert: bool,
    pub higher_prio_send_advert: bool,
    pub tracks: Vec<TrackRef>,
    pub group: Option<GroupId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSettings {
    pub name: String,
    pub members: Vec<InstanceId>,
}

/// Whom a notification is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Instance(InstanceId),
    Group(GroupId),
}

/// What the daemon must do, in the order queued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Send {
        instance: InstanceId,
        advert: Advert,
    },
    /// Add (or remove) the instance's virtual addresses, excluded ones included.
    Addresses {
        instance: InstanceId,
        add: bool,
    },
    /// Announce each virtual address `count` times (gratuitous ARP / unsolicited NA).
    Announce {
        instance: InstanceId,
        count: u32,
    },
    Notify {
        subject: Subject,
        state: State,
        priority: u8,
    },
    /// A master heard a lower priority advert (`notify_master_rx_lower_pri`).
    NotifyLowerPriority {
        instance: InstanceId,
    },
    /// The IPVS connection-sync daemon follows the instance named by `lvs_sync_daemon`.
    SyncDaemon {
        instance: InstanceId,
        master: bool,
    },
    Log(String),
}

/// An instance's state as `lvsd status` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub state: State,
    pub priority: u8,
    pub effective_priority: u8,
    /// The master's address as last heard (this router's own when master).
    pub master: Option<IpAddr>,
    pub since: Micros,
    pub why: String,
    /// State changes since the daemon started (a reload keeps the count).
    pub transitions: u64,
}

#[derive(Clone, Debug)]
struct Instance {
    settings: Settings,
    state: State,
    want: State,
    /// The base priority, lowered to 254 when another router also claims to own the addresses.
    base: u8,
    effective: u8,
    master_adver_int: Micros,
    /// When the next advert is due (master) or the master is declared down (backup).
    deadline: Option<Micros>,
    preempt_at: Option<Micros>,
    master: Option<IpAddr>,
    addresses_set: bool,
    /// Weight-0 tracks in a bad state.
    faults: usize,
    garp_at: Option<Micros>,
    lower_garp_at: Option<Micros>,
    refresh_at: Option<Micros>,
    since: Micros,
    why: String,
    transitions: u64,
    /// The last advert a backup followed: when, and from whom.
    heard: Option<(Micros, IpAddr)>,
    /// A master that said priority 0 since.
    stopped_master: Option<IpAddr>,
}

#[derive(Clone, Debug)]
struct Group {
    settings: GroupSettings,
    state: State,
}

/// Every instance and group of a configuration.
#[derive(Clone, Debug)]
pub struct Machine {
    instances: Vec<Instance>,
    groups: Vec<Group>,
    tracks: Vec<Option<TrackValue>>,
    /// What each tracked object is, for the reasons given in logs and status.
    track_names: Vec<String>,
    actions: Vec<Action>,
}

impl Machine {
    /// `track_names` names the tracked objects the settings' [`TrackRef`]s index (as "interface
    /// eth0", "script chk"); their values are unknown (neither fault nor weight) until
    /// [`Machine::track`] gives them.
    pub fn new(
        settings: Vec<Settings>,
        groups: Vec<GroupSettings>,
        track_names: Vec<String>,
    ) -> Machine {
        let instances = settings
            .into_iter()
            .map(|s| Instance {
                base: s.priority,
                effective: s.priority,
                master_adver_int: s.advert_int,
                want: if s.want_master {
                    State::Master
                } else {
                    State::Backup
                },
                state: State::Init,
                deadline: None,
                preempt_at: None,
                master: None,
                addresses_set: false,
                faults: 0,
                garp_at: None,
                lower_garp_at: None,
                refresh_at: None,
                since: 0,
                why: String::new(),
                transitions: 0,
                heard: None,
                stopped_master: None,
                settings: s,
            })
            .collect();
        Machine {
            instances,
            groups: groups
                .into_iter()
                .map(|settings| Group {
                    settings,
                    state: State::Init,
                })
                .collect(),
            tracks: vec![None; track_names.len()],
            track_names,
            actions: Vec::new(),
        }
    }

    pub fn instances(&self) -> usize {
        self.instances.len()
    }

    pub fn settings(&self, id: InstanceId) -> &Settings {
        &self.instances[id].settings
    }

    pub fn status(&self, id: InstanceId) -> Status {
        let i = &self.instances[id];
        Status {
            state: i.state,
            priority: i.settings.priority,
            effective_priority: i.effective,
            master: if i.state == State::Master {
                i.settings.source
            } else {
                i.master
            },
            since: i.since,
            why: i.why.clone(),
            transitions: i.transitions,
        }
    }

    /// The instance's own address, once the daemon knows its interface's.
    pub fn set_source(&mut self, id: InstanceId, source: Option<IpAddr>) {
        if let Some(i) = self.instances.get_mut(id) {
            i.settings.source = source;
        }
    }

    /// After a reload: each instance of the same name as one of `old` takes its state,
    /// timers, master and held addresses, so that a reload moves nothing the file did not
    /// change (a backup stays backup, its master-down timer running; a master keeps sending
    /// on time). Tracked values carry over by position when the tracked objects are the same.
    /// Returns the instances carried over; the others start afresh at `now`.
    pub fn inherit(&mut self, old: &Machine, now: Micros) -> Vec<InstanceId> {
        if old.track_names == self.track_names {
            self.tracks.clone_from(&old.tracks);
        }
        let mut kept = Vec::new();
        for id in 0..self.instances.len() {
            self.recompute(id);
            let name = &self.instances[id].settings.name;
            let Some(o) = old.instances.iter().find(|o| &o.settings.name == name) else {
                continue;
            };
            let o = o.clone();
            let i = &mut self.instances[id];
            let same_timing = o.settings.advert_int == i.settings.advert_int;
            i.state = o.state;
            i.want = o.want;
            i.master = o.master;
            i.master_adver_int = if same_timing {
                o.master_adver_int
            } else {
                i.settings.advert_int
            };
            i.deadline = o.deadline;
            i.preempt_at = o.preempt_at;
            i.addresses_set = o.addresses_set;
            i.garp_at = o.garp_at;
            i.lower_garp_at = o.lower_garp_at;
            i.refresh_at = o.refresh_at;
            i.since = o.since;
            i.why = o.why.clone();
            i.transitions = o.transitions;
            i.heard = o.heard;
            i.stopped_master = o.stopped_master;
            kept.push(id);
        }
        for group in &mut self.groups {
            if let Some(o) = old
                .groups
                .iter()
                .find(|o| o.settings.name == group.settings.name)
            {
                group.state = o.state;
            }
        }
        for id in 0..self.instances.len() {
            if !kept.contains(&id) {
                self.start_one(id, now);
            }
        }
        kept
    }

    pub fn group_state(&self, id: GroupId) -> State {
        self.groups[id].state
    }

    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    /// Every instance leaves INIT: FAULT when a weight-0 track is bad, otherwise BACKUP,
    /// waiting out the master-down interval; an address owner that wants to be master takes
    /// over at once (vrrp_init_state).
    pub fn start(&mut self, now: Micros) {
        for id in 0..self.instances.len() {
            self.start_one(id, now);
        }
        for g in 0..self.groups.len() {
            let members = &self.groups[g].settings.members;
            let state = if members
                .iter()
                .any(|&m| self.instances[m].state == State::Fault)
            {
                State::Fault
            } else {
                State::Backup
            };
            if state == State::Fault {
                self.sync_fault(g, now);
            } else {
                self.groups[g].state = state;
                self.notify_group(g);
            }
        }
    }

    fn start_one(&mut self, id: InstanceId, now: Micros) {
        self.recompute(id);
        let i = &mut self.instances[id];
        i.master_adver_int = i.settings.advert_int;
        if i.faults > 0 {
            i.want = State::Fault;
            let why = format!("started with {}", self.fault_reason(id));
            self.set_state(id, State::Fault, now, why);
            return;
        }
        let owner = i.base == 255 && i.settings.want_master;
        let group_backup = i.settings.group.is_some() && i.settings.want_master && !owner;
        let down = if owner {
            1
        } else if group_backup {
            i.master_adver_int + skew(i, 1)
        } else {
            down_interval(i)
        };
        i.deadline = Some(now + down);
        self.set_state(id, State::Backup, now, "started".into());
    }

    /// The earliest time [`Machine::tick`] has something to do.
    pub fn next_due(&self) -> Option<Micros> {
        self.instances
            .iter()
            .flat_map(|i| [i.deadline, i.garp_at, i.lower_garp_at])
            .flatten()
            .min()
    }

    /// Fires every timer due by `now`.
    pub fn tick(&mut self, now: Micros) {
        for id in 0..self.instances.len() {
            let i = &mut self.instances[id];
            if i.garp_at.is_some_and(|t| t <= now) {
                i.garp_at = None;
                if i.state == State::Master {
                    let count = i.settings.garp.repeat;
                    self.actions.push(Action::Announce {
                        instance: id,
                        count,
                    });
                }
            }
            let i = &mut self.instances[id];
            if i.lower_garp_at.is_some_and(|t| t <= now) {
                i.lower_garp_at = None;
                if i.state == State::Master {
                    let count = i.settings.garp.lower_prio_repeat;
                    self.actions.push(Action::Announce {
                        instance: id,
                        count,
                    });
                }
            }
            if self.instances[id].deadline.is_none_or(|t| t > now) {
                continue;
            }
            match self.instances[id].state {
                State::Backup => {
                    let i = &mut self.instances[id];
                    let why = match (i.stopped_master, i.heard) {
                        _ if i.base == 255 && i.settings.want_master => "address owner".to_string(),
                        (Some(m), _) => format!("the master {m} stopped (priority 0)"),
                        (None, Some((at, m))) => {
                            format!("no advert from the master {m} for {}", seconds(now - at))
                        }
                        (None, None) => {
                            format!(
                                "no master heard in the {} since the start",
                                seconds(now - i.since)
                            )
                        }
                    };
                    i.want = State::Master;
                    self.goto_master(id, now, why);
                }
                State::Master => self.master_tx(id, now),
                _ => self.instances[id].deadline = None,
            }
        }
    }

    /// An advert that passed [`crate::receive`]'s checks for instance `id`, from `src`.
    pub fn advert(&mut self, now: Micros, id: InstanceId, src: IpAddr, advert: &Advert) {
        match self.instances[id].state {
            State::Backup => self.backup_rx(id, now, src, advert),
            State::Master => self.master_rx(id, now, src, advert),
            // keepalived reads nothing while in FAULT or INIT.
            _ => {}
        }
    }

    /// A tracked object's new value.
    pub fn track(&mut self, now: Micros, track: TrackId, value: TrackValue) {
        let Some(slot) = self.tracks.get_mut(track) else {
            return;
        };
        if *slot == Some(value) {
            return;
        }
        *slot = Some(value);
        for id in 0..self.instances.len() {
            if !self.instances[id]
                .settings
                .tracks
                .iter()
                .any(|t| t.track == track)
            {
                continue;
            }
            let faults = self.instances[id].faults;
            let effective = self.instances[id].effective;
            self.recompute(id);
            let i = &mut self.instances[id];
            if i.effective != effective {
                self.actions.push(Action::Log(format!(
                    "({}) Changing effective priority from {effective} to {}",
                    i.settings.name, i.effective
                )));
                if i.state == State::Backup {
                    // The deadline moves with the new skew, as vrrp_set_effective_priority does.
                    let old = down_interval_with(i, effective);
                    let new = down_interval(i);
                    i.deadline = i.deadline.map(|d| (d + new).saturating_sub(old));
                }
            }
            if self.instances[id].state == State::Init {
                continue;
            }
            match (faults, self.instances[id].faults) {
                (0, n) if n > 0 => self.down_instance(id, now),
                (n, 0) if n > 0 => self.try_up_instance(id, now),
                _ => {}
            }
        }
    }

    /// Shutting down: masters send priority 0 and give their addresses back; every
    /// instance reports STOP.
    pub fn stop(&mut self, now: Micros) {
        for id in 0..self.instances.len() {
            if self.instances[id].state == State::Master {
                self.send(id, 0);
                self.release(id);
            }
            let i = &mut self.instances[id];
            i.deadline = None;
            i.garp_at = None;
            i.lower_garp_at = None;
            i.want = State::Stop;
            self.set_state(id, State::Stop, now, "stopped".into());
        }
    }

    fn backup_rx(&mut self, id: InstanceId, now: Micros, src: IpAddr, advert: &Advert) {
        let i = &mut self.instances[id];
        if advert.priority == 0 {
            i.deadline = Some(now + skew(i, 256 - u64::from(i.effective)));
            i.stopped_master = Some(src);
            return;
        }
        let delaying = i.settings.preempt_delay > 0 && i.preempt_at.is_none_or(|t| t > now);
        if !i.settings.preempt || advert.priority >= i.effective || delaying {
            if i.settings.version == Version::V3 {
                i.master_adver_int = u64::from(advert.interval) * 10_000;
            }
            i.deadline = Some(now + down_interval(i));
            i.master = Some(src);
            i.heard = Some((now, src));
            i.stopped_master = None;
            if i.settings.preempt_delay > 0 {
                if advert.priority >= i.effective {
                    i.preempt_at = None;
                } else if i.preempt_at.is_none() {
                    i.preempt_at = Some(now + i.settings.preempt_delay);
                }
            }
            i.want = State::Backup;
        } else {
            self.actions.push(Action::Log(format!(
                "({}) received lower priority ({}) advert from {src} - discarding",
                i.settings.name, advert.priority
            )));
            i.master = Some(src);
        }
    }

    fn master_rx(&mut self, id: InstanceId, now: Micros, src: IpAddr, advert: &Advert) {
        let i = &mut self.instances[id];
        let cmp = match i.settings.source {
            Some(own) => src.cmp(&own),
            None => std::cmp::Ordering::Equal,
        };
        let theirs = advert.priority;
        let higher = theirs > i.effective || (theirs == i.effective && cmp.is_gt());
        // Unlike keepalived by default, answer a higher priority once before stepping down
        // (its higher_prio_send_advert) unless lower priorities must stay silent (strict
        // mode): after a partition the remaining master then hears a lower priority and
        // announces the addresses again, so that no client keeps the old master's MAC (#166).
        let answer = i.settings.higher_prio_send_advert || !i.settings.lower_prio_no_advert;
        if theirs == 0 || (answer && higher) {
            let prio = i.effective;
            self.send(id, prio);
            if theirs == 0 {
                self.instances[id].deadline = Some(now + self.instances[id].settings.advert_int);
                return;
            }
        }
        let i = &mut self.instances[id];
        if theirs == i.effective {
            if cmp.is_eq() {
                self.actions.push(Action::Log(format!(
                    "({}) WARNING - equal priority advert received from remote host with our IP address.",
                    i.settings.name
                )));
            } else if i.effective == 255 {
                self.actions.push(Action::Log(format!(
                    "({}) CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner, please fix - reducing local priority",
                    i.settings.name
                )));
                i.effective = 254;
                i.base = 254;
            }
        }
        let i = &mut self.instances[id];
        if theirs < i.effective || (theirs == i.effective && cmp.is_lt()) {
            let forcing = if i.settings.lower_prio_no_advert {
                ""
            } else {
                ", forcing new election"
            };
            self.actions.push(Action::Log(format!(
                "({}) Received advert from {src} with lower priority {theirs}, ours {}{forcing}",
                i.settings.name, i.effective
            )));
            let (quiet, prio) = (i.settings.lower_prio_no_advert, i.effective);
            if !quiet {
                self.send(id, prio);
                self.instances[id].deadline = Some(now + self.instances[id].settings.advert_int);
            }
            let members = match self.instances[id].settings.group {
                Some(g) => self.groups[g].settings.members.clone(),
                None => vec![id],
            };
            for m in members {
                let garp = &self.instances[m].settings.garp;
                if garp.lower_prio_repeat == 0 {
                    continue;
                }
                let (count, delay) = (garp.lower_prio_repeat, garp.lower_prio_delay);
                self.actions.push(Action::Announce { instance: m, count });
                if delay > 0 {
                    self.instances[m].lower_garp_at = Some(now + delay);
                }
            }
            self.actions
                .push(Action::NotifyLowerPriority { instance: id });
            return;
        }
        let i = &mut self.instances[id];
        if i.settings.version == Version::V3 {
            i.master_adver_int = u64::from(advert.interval) * 10_000;
        }
        i.master = Some(src);
        i.heard = Some((now, src));
        i.want = State::Backup;
        let why = if theirs > i.effective {
            format!(
                "advert from {src} with higher priority {theirs}, ours {}",
                i.effective
            )
        } else {
            format!("advert from {src} with the same priority {theirs} and a higher address")
        };
        self.actions.push(Action::Log(format!(
            "({}) Master received {why}",
            i.settings.name
        )));
        self.leave_master(id, now, State::Backup, why);
        if let Some(g) = self.instances[id].settings.group {
            self.sync_backup(g, id, now);
        }
    }

    /// The master's advert timer: send, and refresh the announcements when due.
    fn master_tx(&mut self, id: InstanceId, now: Micros) {
        let prio = self.instances[id].effective;
        self.send(id, prio);
        let i = &mut self.instances[id];
        i.deadline = Some(now + i.settings.advert_int);
        if i.settings.garp.refresh > 0 && i.refresh_at.is_some_and(|t| now > t) {
            let count = i.settings.garp.refresh_repeat;
            i.refresh_at = Some(now + i.settings.garp.refresh);
            self.actions.push(Action::Announce {
                instance: id,
                count,
            });
        }
    }

    /// vrrp_state_goto_master: a group member waits while another member does not want to
    /// be master.
    fn goto_master(&mut self, id: InstanceId, now: Micros, why: String) {
        if let Some(g) = self.instances[id].settings.group {
            if !self.group_can_go_master(g, id) {
                let i = &mut self.instances[id];
                i.deadline = Some(now + down_interval(i));
                return;
            }
        }
        let i = &mut self.instances[id];
        i.preempt_at = None;
        i.stopped_master = None;
        i.master_adver_int = i.settings.advert_int;
        let prio = i.effective;
        // The advert goes first, so that the old master drops the addresses before the
        // announcements arrive.
        self.send(id, prio);
        let i = &mut self.instances[id];
        i.deadline = Some(now + i.settings.advert_int);
        if !i.addresses_set {
            i.addresses_set = true;
            let garp = i.settings.garp.clone();
            self.actions.push(Action::Addresses {
                instance: id,
                add: true,
            });
            self.actions.push(Action::Announce {
                instance: id,
                count: garp.repeat,
            });
            let i = &mut self.instances[id];
            if garp.refresh > 0 {
                i.refresh_at = Some(now + garp.refresh);
            }
            if garp.delay > 0 {
                i.garp_at = Some(now + garp.delay);
            }
            self.actions.push(Action::SyncDaemon {
                instance: id,
                master: true,
            });
        }
        self.set_state(id, State::Master, now, why);
        if let Some(g) = self.instances[id].settings.group {
            self.sync_master(g, id, now);
        }
    }

    /// vrrp_state_leave_master, to BACKUP or FAULT.
    fn leave_master(&mut self, id: InstanceId, now: Micros, to: State, why: String) {
        if to == State::Fault {
            self.send(id, 0);
        }
        self.release(id);
        let i = &mut self.instances[id];
        i.preempt_at = None;
        i.deadline = (to == State::Backup).then(|| now + down_interval(i));
        self.set_state(id, to, now, why);
    }

    /// Gives the addresses back and stops announcing them.
    fn release(&mut self, id: InstanceId) {
        let i = &mut self.instances[id];
        i.garp_at = None;
        i.lower_garp_at = None;
        i.refresh_at = None;
        if i.addresses_set {
            i.addresses_set = false;
            self.actions.push(Action::SyncDaemon {
                instance: id,
                master: false,
            });
            self.actions.push(Action::Addresses {
                instance: id,
                add: false,
            });
        }
    }

    /// A weight-0 track went bad (down_instance).
    fn down_instance(&mut self, id: InstanceId, now: Micros) {
        let why = self.fault_reason(id);
        self.instances[id].want = State::Fault;
        match self.instances[id].state {
            State::Master => self.leave_master(id, now, State::Fault, why),
            State::Fault | State::Stop => return,
            _ => {
                self.instances[id].deadline = None;
                self.set_state(id, State::Fault, now, why);
            }
        }
        if let Some(g) = self.instances[id].settings.group {
            self.sync_fault(g, now);
        }
    }

    /// Every weight-0 track is good again (try_up_instance).
    fn try_up_instance(&mut self, id: InstanceId, now: Micros) {
        if self.instances[id].state != State::Fault {
            return;
        }
        let group = self.instances[id].settings.group;
        if let Some(g) = group {
            let faulty = self.groups[g]
                .settings
                .members
                .iter()
                .any(|&m| self.instances[m].faults > 0);
            if faulty {
                return;
            }
        }
        let i = &mut self.instances[id];
        let owner = i.base == 255 && i.settings.want_master;
        i.master_adver_int = i.settings.advert_int;
        i.want = if owner { State::Master } else { State::Backup };
        if owner && group.is_none() {
            self.goto_master(id, now, "tracked objects up again (address owner)".into());
        } else {
            let i = &mut self.instances[id];
            i.deadline = Some(now + down_interval(i));
            self.set_state(id, State::Backup, now, "tracked objects up again".into());
        }
        if let Some(g) = group {
            for m in self.groups[g].settings.members.clone() {
                if m != id && self.instances[m].state == State::Fault {
                    let i = &mut self.instances[m];
                    i.want = State::Backup;
                    i.master_adver_int = i.settings.advert_int;
                    i.deadline = Some(now + down_interval(i));
                    let name = self.groups[g].settings.name.clone();
                    self.set_state(m, State::Backup, now, format!("sync group {name} up again"));
                }
            }
            self.groups[g].state = State::Backup;
            self.notify_group(g);
        }
    }

    fn group_can_go_master(&mut self, g: GroupId, id: InstanceId) -> bool {
        self.groups[g].state == State::Master
            || self.groups[g]
                .settings
                .members
                .iter()
                .all(|&m| m == id || self.instances[m].want == State::Master)
    }

    fn sync_master(&mut self, g: GroupId, id: InstanceId, now: Micros) {
        if self.groups[g].state == State::Master {
            return;
        }
        let name = self.groups[g].settings.name.clone();
        self.actions.push(Action::Log(format!(
            "VRRP_Group({name}) Syncing instances to MASTER state"
        )));
        self.groups[g].state = State::Master;
        for m in self.groups[g].settings.members.clone() {
            if m != id && self.instances[m].state != State::Master {
                self.instances[m].want = State::Master;
                self.goto_master(m, now, format!("sync group {name} became master"));
            }
        }
        self.notify_group(g);
    }

    fn sync_backup(&mut self, g: GroupId, id: InstanceId, now: Micros) {
        if self.groups[g].state == State::Backup {
            return;
        }
        let name = self.groups[g].settings.name.clone();
        self.actions.push(Action::Log(format!(
            "VRRP_Group({name}) Syncing instances to BACKUP state"
        )));
        for m in self.groups[g].settings.members.clone() {
            if m == id || self.instances[m].state == State::Backup {
                continue;
            }
            self.instances[m].want = State::Backup;
            let why = format!("sync group {name} became backup");
            if self.instances[m].state == State::Master {
                self.leave_master(m, now, State::Backup, why);
            } else {
                let i = &mut self.instances[m];
                i.deadline = Some(now + down_interval(i));
                self.set_state(m, State::Backup, now, why);
            }
        }
        self.groups[g].state = State::Backup;
        self.notify_group(g);
    }

    fn sync_fault(&mut self, g: GroupId, now: Micros) {
        if self.groups[g].state == State::Fault {
            return;
        }
        let name = self.groups[g].settings.name.clone();
        self.actions.push(Action::Log(format!(
            "VRRP_Group({name}) Syncing instances to FAULT state"
        )));
        for m in self.groups[g].settings.members.clone() {
            let why = format!("sync group {name} in fault");
            self.instances[m].want = State::Fault;
            match self.instances[m].state {
                State::Master => self.leave_master(m, now, State::Fault, why),
                State::Fault => {}
                _ => {
                    self.instances[m].deadline = None;
                    self.set_state(m, State::Fault, now, why);
                }
            }
        }
        self.groups[g].state = State::Fault;
        self.notify_group(g);
    }

    /// Effective priority and fault count from the tracks (vrrp_track.c): a weighted track
    /// adds its weight when good and takes it when bad; an owner's priority never moves.
    fn recompute(&mut self, id: InstanceId) {
        let i = &mut self.instances[id];
        let mut total = i32::from(i.base);
        let mut faults = 0;
        for t in &i.settings.tracks {
            let Some(value) = self.tracks.get(t.track).copied().flatten() else {
                continue;
            };
            let sign = if t.reverse { -1 } else { 1 };
            match value {
                TrackValue::Up(up) => {
                    if t.weight == 0 {
                        faults += usize::from(up == t.reverse);
                    } else if (up && t.weight > 0) || (!up && t.weight < 0) {
                        total += t.weight * sign;
                    }
                }
                TrackValue::Number(n) => {
                    if t.weight == 0 {
                        faults += usize::from((n != 0) != t.reverse);
                    } else {
                        let moved = n
                            .saturating_mul(i64::from(t.weight * sign))
                            .clamp(-254, 253);
                        total += moved as i32;
                    }
                }
            }
        }
        i.faults = faults;
        if i.base != 255 {
            i.effective = total.clamp(1, 254) as u8;
        }
    }

    fn fault_reason(&self, id: InstanceId) -> String {
        let i = &self.instances[id];
        let bad = i
            .settings
            .tracks
            .iter()
            .filter(|t| t.weight == 0)
            .find(|t| match self.tracks.get(t.track).copied().flatten() {
                Some(TrackValue::Up(up)) => up == t.reverse,
                Some(TrackValue::Number(n)) => (n != 0) != t.reverse,
                None => false,
            });
        match bad.and_then(|t| self.track_names.get(t.track)) {
            Some(name) => format!("{name} bad"),
            None => "a tracked object bad".into(),
        }
    }

    fn send(&mut self, id: InstanceId, priority: u8) {
        let s = &self.instances[id].settings;
        let interval = match s.version {
            // v2 carries whole seconds.
            Version::V2 => (s.advert_int / 1_000_000).clamp(1, 255) as u16 * 100,
            Version::V3 => (s.advert_int / 10_000).clamp(1, 4095) as u16,
        };
        let advert = Advert {
            version: s.version,
            vrid: s.vrid,
            priority,
            interval,
            auth: s.auth,
            addresses: s.addresses.clone(),
        };
        self.actions.push(Action::Send {
            instance: id,
            advert,
        });
    }

    fn set_state(&mut self, id: InstanceId, state: State, now: Micros, why: String) {
        let i = &mut self.instances[id];
        let was = i.state;
        i.state = state;
        i.since = now;
        i.why = why;
        if was != state {
            i.transitions += 1;
            let suffix = if was == State::Init { " (init)" } else { "" };
            self.actions.push(Action::Log(format!(
                "({}) Entering {state} STATE{suffix}: {}",
                i.settings.name, i.why
            )));
            self.actions.push(Action::Notify {
                subject: Subject::Instance(id),
                state,
                priority: i.effective,
            });
        }
    }

    fn notify_group(&mut self, g: GroupId) {
        // keepalived gives a group's notifications priority 0.
        self.actions.push(Action::Notify {
            subject: Subject::Group(g),
            state: self.groups[g].state,
            priority: 0,
        });
    }
}

/// keepalived's skew for `value` = 256 − priority (or 1 for the minimum): v2 in units of
/// 1/256 s, v3 in 1/256 of the master's advert interval.
fn skew(i: &Instance, value: u64) -> Micros {
    match i.settings.version {
        Version::V2 => value * 1_000_000 / 256,
        Version::V3 => value * (i.master_adver_int / 10_000) * 625 / 16,
    }
}

fn down_interval_with(i: &Instance, priority: u8) -> Micros {
    u64::from(i.settings.down_timer_adverts) * i.master_adver_int
        + skew(i, 256 - u64::from(priority))
}

/// Master_Down_Interval: the adverts a backup waits for, plus the skew of its priority.
fn down_interval(i: &Instance) -> Micros {
    down_interval_with(i, i.effective)
}

fn seconds(us: Micros) -> String {
    format!("{:.2} s", us as f64 / 1e6)
}
