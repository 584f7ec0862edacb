//! The checker as a state machine: fed the time and each check's outcome, it says which
//! checks are due, which real servers are alive, what each virtual server's IPVS services
//! should hold, and what to log and run. It holds no socket and reads no clock.
//!
//! Its rules are keepalived 2.2.7's (check/ipwrapper.c): a real server is alive when all its
//! checkers are up; without `alpha` its checkers start up (it is in the pool at start), with
//! it they start down; a dead real server leaves the pool, or stays at weight 0 with
//! `inhibit_on_failure`; the live servers' weights make the quorum, with `hysteresis` around
//! it, and while it is lost the sorry server replaces the pool. Unlike keepalived, what the
//! pool should hold is computed from the state, not kept as a history of commands, so the
//! daemon can compare it with the kernel's table at any time and repair drift.
//!
//! Checks that would do exactly the same thing (same probe, same timers) are one check, its
//! result shared by every real server that has it: a real server behind many virtual servers
//! is probed once per interval, not once per virtual server.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::net::IpAddr;

use ipvs::table::Entry;
use ipvs::ServiceKey;
use keepalived::check::checker::{Checker, Method};
use keepalived::check::{RealServer, VirtualServer};
use keepalived::script::Script;
use keepalived::{Config, Place};

use crate::pool::{into_service, pools, Pool};
use crate::retry::{Count, Policy};
use crate::Micros;

/// keepalived's `BOOTSTRAP_DELAY`: checks start a second after the daemon.
pub const BOOTSTRAP: Micros = 1_000_000;

/// What one check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Passed; `weight` is the weight a `misc_dynamic` script asked for.
    Up { weight: Option<u32> },
    /// Failed, and why ("HTTP 500 from /health", "connect timeout after 3 s").
    Down(String),
}

/// What the daemon should do besides changing the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A line for the log: one per change of a real server or a quorum.
    Log(String),
    /// A `notify_up`, `notify_down`, `quorum_up` or `quorum_down` script to run.
    Run(Script),
}

/// Why a configuration cannot be checked by this program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    pub at: Place,
    pub message: String,
}

/// The index of a check.
pub type CheckId = usize;

/// One check and the real servers that share it.
#[derive(Clone, Debug)]
pub struct Check<P> {
    pub probe: P,
    /// keepalived's name for it (`HTTP_GET`, `TCP_CHECK`, ...).
    pub method: &'static str,
    pub policy: Policy,
    pub count: Count,
    /// The weight its last `misc_dynamic` result asked for.
    pub dynamic: Option<u32>,
    /// When it is next due; meaningless while it runs.
    pub due: Micros,
    pub running: bool,
    /// When its current (or last) run started.
    pub started: Micros,
    /// How long its last run took.
    pub duration: Option<Micros>,
    /// When it last finished, and how.
    pub last: Option<(Micros, Outcome)>,
    /// When its state last changed.
    pub since: Micros,
    /// (pool, real server) of each real server that has it.
    pub users: Vec<(usize, usize)>,
    alpha: bool,
}

/// A real server's state.
#[derive(Clone, Debug)]
pub struct RealState {
    pub checks: Vec<CheckId>,
    /// Its `FILE_CHECK`s: indexes into [`Machine::files`].
    pub files: Vec<usize>,
    pub alive: bool,
    pub since: Micros,
}

/// A `FILE_CHECK`: a number in a file (a `track_file` block's) that moves the real server's
/// weight, or takes it down (keepalived's trackers/track_file.c). It is read by the daemon,
/// not run.
#[derive(Clone, Debug)]
pub struct FileCheck {
    /// The `track_file` block's name and its file.
    pub name: String,
    pub path: String,
    pub weight: i32,
    pub reverse: bool,
    /// The number last read (0 for a missing or empty file, as keepalived reads it).
    pub value: i64,
    /// Whether it takes the real server down.
    pub fault: bool,
    pub users: Vec<(usize, usize)>,
}

impl FileCheck {
    /// What `value` makes of it: down, or a weight to add. keepalived multiplies the number
    /// by the weight (negated with `reverse`); at the lowest weight there is (or below) the
    /// server is down. With weight 0, any number but 0 is down (0 is, with `reverse`).
    fn judge(&self, value: i64) -> (bool, i64) {
        let sign = if self.reverse { -1 } else { 1 };
        if self.weight == 0 {
            return ((value != 0) == (sign == 1), 0);
        }
        let status = value
            .saturating_mul(i64::from(self.weight) * sign)
            .clamp(i64::from(i32::MIN), i64::from(i32::MAX));
        (status == i64::from(i32::MIN), status)
    }

    /// The weight it adds to its real servers' now.
    pub fn weight_added(&self) -> i64 {
        if self.fault {
            0
        } else {
            self.judge(self.value).1
        }
    }
}

/// A virtual server's state.
#[derive(Clone, Debug)]
pub struct PoolState {
    pub pool: Pool,
    pub quorum_up: bool,
    pub since: Micros,
    pub real: Vec<RealState>,
    quorum_up_script: Option<Script>,
    quorum_down_script: Option<Script>,
}

impl PoolState {
    /// The sum of the live real servers' weights (keepalived's `weigh_live_realservers`).
    pub fn live_weight(&self, checks: &[Check<impl Sized>], files: &[FileCheck]) -> u64 {
        self.real
            .iter()
            .enumerate()
            .filter(|(_, r)| r.alive)
            .map(|(i, _)| u64::from(self.weight_of(i, checks, files)))
            .sum()
    }

    /// A real server's weight now: its own, or what its `misc_dynamic` scripts asked for,
    /// moved by its `FILE_CHECK`s.
    pub fn weight_of(&self, real: usize, checks: &[Check<impl Sized>], files: &[FileCheck]) -> u32 {
        let own = i64::from(self.pool.real[real].dest.weight);
        let asked: i64 = self.real[real]
            .checks
            .iter()
            .filter_map(|&c| checks[c].dynamic)
            .map(|w| i64::from(w) - own)
            .sum();
        let moved: i64 = self.real[real]
            .files
            .iter()
            .map(|&f| files[f].weight_added())
            .sum();
        (own + asked + moved).clamp(0, i64::from(i32::MAX)) as u32
    }

    fn sorry_in(&self) -> bool {
        self.pool.sorry.is_some() && !self.quorum_up
    }

    /// What its services should hold now.
    pub fn entries(&self, checks: &[Check<impl Sized>], files: &[FileCheck]) -> Vec<Entry> {
        let sorry_in = self.sorry_in();
        self.pool
            .keys
            .iter()
            .map(|key| {
                let mut service = self.pool.service.clone();
                service.key = *key;
                let mut dests: Vec<ipvs::Destination> = Vec::new();
                // A destination named twice is the first's.
                let put = |dests: &mut Vec<ipvs::Destination>, d: ipvs::Destination| {
                    if !dests.iter().any(|x| x.addr == d.addr && x.port == d.port) {
                        dests.push(d);
                    }
                };
                for (i, real) in self.pool.real.iter().enumerate() {
                    let weight = if sorry_in || !self.real[i].alive {
                        // An inhibited server stays, at weight 0; the others leave.
                        if !real.inhibit {
                            continue;
                        }
                        0
                    } else {
                        self.weight_of(i, checks, files)
                    };
                    let mut d = into_service(key, &real.dest);
                    d.weight = weight;
                    put(&mut dests, d);
                }
                if let Some(sorry) = &self.pool.sorry {
                    let mut d = into_service(key, &sorry.dest);
                    if sorry_in {
                        dests.retain(|x| x.addr != d.addr || x.port != d.port);
                        put(&mut dests, d);
                    } else if sorry.inhibit && !sorry.is_real {
                        d.weight = 0;
                        put(&mut dests, d);
                    }
                }
                // The kernel lists destinations newest first; the table engine adds them
                // last first, so this is the order they are added in.
                dests.reverse();
                Entry { service, dests }
            })
            .collect()
    }

    /// Every destination its services may hold, by address and port: the ones the daemon
    /// owns. Others an operator added by hand are left alone.
    pub fn named(&self, key: &ServiceKey) -> Vec<(IpAddr, u16)> {
        let real = self.pool.real.iter().map(|r| &r.dest);
        real.chain(self.pool.sorry.as_ref().map(|s| &s.dest))
            .map(|d| {
                let d = into_service(key, d);
                (d.addr, d.port)
            })
            .collect()
    }
}

/// The checker.
#[derive(Clone, Debug)]
pub struct Machine<P> {
    pub pools: Vec<PoolState>,
    pub checks: Vec<Check<P>>,
    pub files: Vec<FileCheck>,
    /// The checks not running, by when they are due: finding the next is a lookup, not a scan
    /// of ten thousand checks after each result.
    schedule: BTreeSet<(Micros, CheckId)>,
    events: Vec<Event>,
    dirty: BTreeSet<usize>,
    rng: u64,
}

impl<P: Clone + Eq + Hash> Machine<P> {
    /// The checker of `config` at time `now`, every real server in its starting state.
    /// `probe` makes what runs a checker (it may refuse one); `seed` spreads the checks'
    /// first runs over their `warmup`.
    pub fn new(
        config: &Config,
        now: Micros,
        seed: u64,
        mut probe: impl FnMut(&VirtualServer, &RealServer, &Checker) -> Result<P, String>,
    ) -> Result<Machine<P>, Vec<Unsupported>> {
        let mut m = Machine {
            pools: Vec::new(),
            checks: Vec::new(),
            files: Vec::new(),
            schedule: BTreeSet::new(),
            events: Vec::new(),
            dirty: BTreeSet::new(),
            rng: seed | 1,
        };
        let mut unsupported = Vec::new();
        let mut index: HashMap<(P, Policy, bool), CheckId> = HashMap::new();
        for (p, (vs, pool)) in config
            .check
            .virtual_servers
            .iter()
            .zip(pools(config))
            .enumerate()
        {
            let mut real = Vec::new();
            for (r, rs) in vs.real_servers.iter().enumerate() {
                let mut ids = Vec::new();
                let mut files = Vec::new();
                for c in &rs.checkers {
                    if let Method::File(f) = &c.method {
                        match m.file_check(config, f, (p, r)) {
                            Ok(id) => files.push(id),
                            Err(message) => unsupported.push(Unsupported { at: c.at, message }),
                        }
                        continue;
                    }
                    let made = match probe(vs, rs, c) {
                        Ok(made) => made,
                        Err(message) => {
                            unsupported.push(Unsupported { at: c.at, message });
                            continue;
                        }
                    };
                    let policy = Policy::of(
                        &c.method,
                        c.retry.unwrap_or(0),
                        c.delay_before_retry,
                        c.delay_loop.unwrap_or(vs.delay_loop),
                    );
                    // A BFD session starts down, as an alpha checker.
                    let alpha = c.alpha == Some(true) || matches!(c.method, Method::Bfd(_));
                    let id = *index
                        .entry((made.clone(), policy, alpha))
                        .or_insert_with(|| {
                            let warmup = c.warmup.unwrap_or(0);
                            let spread = if warmup == 0 { 0 } else { m.random() % warmup };
                            m.checks.push(Check {
                                probe: made,
                                method: c.method.keyword(),
                                policy,
                                count: Count::at_start(!alpha, &policy),
                                dynamic: None,
                                due: now + BOOTSTRAP + spread,
                                running: false,
                                started: 0,
                                duration: None,
                                last: None,
                                since: now,
                                users: Vec::new(),
                                alpha,
                            });
                            m.checks.len() - 1
                        });
                    m.checks[id].users.push((p, r));
                    ids.push(id);
                }
                let alive = ids.iter().all(|&c| m.checks[c].count.up);
                real.push(RealState {
                    checks: ids,
                    files,
                    alive,
                    since: now,
                });
            }
            let mut state = PoolState {
                pool,
                quorum_up: false,
                since: now,
                real,
                quorum_up_script: vs.quorum_up.clone(),
                quorum_down_script: vs.quorum_down.clone(),
            };
            let live = state.live_weight(&m.checks, &m.files);
            state.quorum_up =
                live >= u64::from(state.pool.quorum) + u64::from(state.pool.hysteresis);
            if !state.quorum_up && state.pool.sorry.is_some() {
                m.events.push(Event::Log(format!(
                    "{}: starting with quorum down (live weight {live} < {}): the sorry server \
                     is in the pool",
                    state.pool.name,
                    state.pool.quorum + state.pool.hysteresis
                )));
            }
            m.pools.push(state);
            m.dirty.insert(p);
        }
        m.reschedule();
        if unsupported.is_empty() {
            Ok(m)
        } else {
            Err(unsupported)
        }
    }

    /// The file check a `FILE_CHECK` block makes, shared by the real servers that watch the
    /// same file the same way.
    fn file_check(
        &mut self,
        config: &Config,
        f: &keepalived::check::checker::File,
        user: (usize, usize),
    ) -> Result<usize, String> {
        let Some((name, _)) = &f.track_file else {
            return Err("FILE_CHECK without a track_file".into());
        };
        let Some(block) = config.vrrp.track_files.iter().find(|t| &t.name == name) else {
            return Err(format!("no track_file {name}"));
        };
        let Some(path) = &block.file else {
            return Err(format!("track_file {name} names no file"));
        };
        let weight = f.weight.unwrap_or(block.weight);
        let reverse = f.reverse || (f.weight.is_none() && block.weight_reverse);
        let found = self
            .files
            .iter()
            .position(|w| &w.path == path && w.weight == weight && w.reverse == reverse);
        let id = found.unwrap_or_else(|| {
            self.files.push(FileCheck {
                name: name.clone(),
                path: path.clone(),
                weight,
                reverse,
                value: 0,
                fault: false,
                users: Vec::new(),
            });
            self.files.len() - 1
        });
        self.files[id].users.push(user);
        Ok(id)
    }

    /// Takes the number read from file check `id`'s file. `start`: read before the first
    /// check, when keepalived judges a weight-0 file without `reverse` and says nothing.
    pub fn file_value(&mut self, id: usize, value: i64, now: Micros, start: bool) {
        let Some(f) = self.files.get_mut(id) else {
            return;
        };
        if f.value == value && !start {
            return;
        }
        let (mut fault, _) = f.judge(value);
        if start && f.weight == 0 {
            fault = value != 0;
        }
        let changed = fault != f.fault || f.value != value;
        f.value = value;
        f.fault = fault;
        if !changed {
            return;
        }
        let why = format!("{} reads {value}", f.path);
        for (p, r) in f.users.clone() {
            if start {
                let alive = self.is_alive(p, r);
                self.pools[p].real[r].alive = alive;
                self.dirty.insert(p);
            } else {
                self.update_real(p, r, now, "FILE_CHECK", Some(&why));
            }
        }
        if start {
            for p in 0..self.pools.len() {
                let pool = &mut self.pools[p];
                pool.quorum_up = pool.live_weight(&self.checks, &self.files)
                    >= u64::from(pool.pool.quorum) + u64::from(pool.pool.hysteresis);
            }
        }
    }

    /// Whether all of a real server's checks are up and none of its files down.
    fn is_alive(&self, p: usize, r: usize) -> bool {
        let real = &self.pools[p].real[r];
        real.checks.iter().all(|&c| self.checks[c].count.up)
            && real.files.iter().all(|&f| !self.files[f].fault)
    }

    fn random(&mut self) -> u64 {
        // xorshift64: enough to spread first checks, and repeatable in tests.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// The checks due at `now`, marked as running: start each and report its outcome to
    /// [`Machine::finished`].
    pub fn due(&mut self, now: Micros) -> Vec<CheckId> {
        let mut out = Vec::new();
        while let Some(&(at, id)) = self.schedule.first() {
            if at > now {
                break;
            }
            self.schedule.pop_first();
            self.checks[id].running = true;
            self.checks[id].started = now;
            out.push(id);
        }
        out
    }

    /// When the next check falls due, if one is not running already.
    pub fn next_due(&self) -> Option<Micros> {
        self.schedule.first().map(|&(at, _)| at)
    }

    /// Makes the schedule hold every check that is not running, at its time.
    fn reschedule(&mut self) {
        self.schedule = self
            .checks
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.running)
            .map(|(id, c)| (c.due, id))
            .collect();
    }

    /// Takes the outcome of check `id`, finished at `now`.
    pub fn finished(&mut self, id: CheckId, outcome: Outcome, now: Micros) {
        let Some(c) = self.checks.get_mut(id) else {
            return;
        };
        let was = c.count;
        let success = matches!(outcome, Outcome::Up { .. });
        let delay = c.count.take(&c.policy, success);
        if c.running {
            c.duration = Some(now.saturating_sub(c.started));
        } else {
            // An outcome no one asked for (the daemon drops those): it moves the check.
            self.schedule.remove(&(c.due, id));
        }
        c.running = false;
        c.due = now + delay;
        self.schedule.insert((c.due, id));
        let old_dynamic = c.dynamic;
        match &outcome {
            Outcome::Up { weight } => c.dynamic = *weight,
            // keepalived forgets a dynamic weight once the failure is decided.
            Outcome::Down(_) if !c.count.up => c.dynamic = None,
            Outcome::Down(_) => {}
        }
        let changed = was.up != c.count.up;
        if changed {
            c.since = now;
        }
        let first_down = !was.decided && c.count.decided && !c.count.up && !changed;
        let reason = match &outcome {
            Outcome::Down(why) => Some(why.clone()),
            Outcome::Up { .. } => None,
        };
        c.last = Some((now, outcome));
        let (method, dynamic_changed) = (c.method, old_dynamic != c.dynamic);
        // Most outcomes change nothing: only those that do look at the check's servers.
        if !(changed || dynamic_changed || first_down) {
            return;
        }
        for u in 0..self.checks[id].users.len() {
            let (p, r) = self.checks[id].users[u];
            if changed || dynamic_changed {
                self.update_real(p, r, now, method, reason.as_deref());
            } else if first_down {
                // keepalived reports a server that starts down once its first check decides.
                if let Some(s) = &self.pools[p].pool.real[r].notify_down {
                    self.events.push(Event::Run(s.clone()));
                }
            }
        }
    }

    /// A real server after one of its checks changed state or weight.
    fn update_real(&mut self, p: usize, r: usize, now: Micros, method: &str, why: Option<&str>) {
        let alive = self.is_alive(p, r);
        let pool = &self.pools[p];
        let real = &pool.real[r];
        let dest = &pool.pool.real[r];
        let at = ipvs::SocketAddrDisplay(&dest.dest.addr, dest.dest.port).to_string();
        self.dirty.insert(p);
        if alive != real.alive {
            let what = match (alive, dest.inhibit) {
                (true, false) => "added to the pool".to_string(),
                (true, true) => format!("weight {}", pool.weight_of(r, &self.checks, &self.files)),
                (false, false) => "removed from the pool".to_string(),
                (false, true) => "weight 0 (inhibit_on_failure)".to_string(),
            };
            let state = if alive { "up" } else { "down" };
            let why = why.map_or(String::new(), |w| format!(": {w}"));
            self.events.push(Event::Log(format!(
                "{}: real server {at} {state} ({method}{why}): {what}",
                pool.pool.name
            )));
            let script = if alive {
                &dest.notify_up
            } else {
                &dest.notify_down
            };
            if let Some(s) = script {
                self.events.push(Event::Run(s.clone()));
            }
            let real = &mut self.pools[p].real[r];
            real.alive = alive;
            real.since = now;
        }
        self.update_quorum(p, now);
    }

    /// keepalived's `update_quorum_state`: the quorum is gained at `quorum` + `hysteresis`
    /// and lost below `quorum` - `hysteresis` (or with no live weight at all).
    fn update_quorum(&mut self, p: usize, now: Micros) {
        let pool = &self.pools[p];
        let live = pool.live_weight(&self.checks, &self.files);
        let (q, h) = (i64::from(pool.pool.quorum), i64::from(pool.pool.hysteresis));
        let live = live as i64;
        let gained = !pool.quorum_up && live >= q + h;
        let lost = pool.quorum_up && (live == 0 || live < q - h);
        if !gained && !lost {
            return;
        }
        let sorry = pool
            .pool
            .sorry
            .as_ref()
            .map(|s| ipvs::SocketAddrDisplay(&s.dest.addr, s.dest.port).to_string());
        let mut line = match gained {
            true => format!(
                "{}: gained quorum (live weight {live} >= {q}+{h})",
                pool.pool.name
            ),
            false => format!(
                "{}: lost quorum (live weight {live} < {q}-{h})",
                pool.pool.name
            ),
        };
        match (gained, sorry) {
            (true, Some(s)) => line += &format!(": the real servers replace the sorry server {s}"),
            (false, Some(s)) => {
                line += &format!(": the sorry server {s} replaces the real servers")
            }
            (_, None) => {}
        }
        self.events.push(Event::Log(line));
        let script = if gained {
            &pool.quorum_up_script
        } else {
            &pool.quorum_down_script
        };
        if let Some(s) = script {
            self.events.push(Event::Run(s.clone()));
        }
        let pool = &mut self.pools[p];
        pool.quorum_up = gained;
        pool.since = now;
        self.dirty.insert(p);
    }

    /// The logs and scripts since the last call.
    pub fn events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// The virtual servers whose services should hold something new since the last call.
    pub fn take_dirty(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.dirty).into_iter().collect()
    }

    /// What every service should hold now.
    pub fn table(&self) -> Vec<Entry> {
        self.pools
            .iter()
            .flat_map(|p| p.entries(&self.checks, &self.files))
            .collect()
    }

    /// Carries what `old` learnt into this newly made machine: a check the new configuration
    /// still has (same probe, same timers) keeps its state and schedule, a virtual server it
    /// still has keeps its quorum state, so a reload adds no server that is down and drops
    /// none that is up.
    pub fn inherit(&mut self, old: &Machine<P>, now: Micros) {
        // What the new machine said of a fresh start is not what happens on a reload.
        self.events.clear();
        let index: HashMap<(&P, &Policy, bool), &Check<P>> = old
            .checks
            .iter()
            .map(|c| ((&c.probe, &c.policy, c.alpha), c))
            .collect();
        for c in &mut self.checks {
            match index.get(&(&c.probe, &c.policy, c.alpha)) {
                Some(o) => {
                    c.count = o.count;
                    c.dynamic = o.dynamic;
                    c.last.clone_from(&o.last);
                    c.duration = o.duration;
                    c.since = o.since;
                    // One running in the old machine reports there: check again now.
                    c.due = if o.running { now } else { o.due };
                }
                // A check a reload adds counts its retries (keepalived sets them aside only
                // when it starts).
                None => c.count.retries = 0,
            }
        }
        let quorum: HashMap<&str, bool> = old
            .pools
            .iter()
            .map(|p| (p.pool.name.as_str(), p.quorum_up))
            .collect();
        for f in &mut self.files {
            if let Some(o) = old.files.iter().find(|o| o.path == f.path) {
                f.value = o.value;
                f.fault = if (o.weight, o.reverse) == (f.weight, f.reverse) {
                    o.fault
                } else {
                    f.judge(o.value).0
                };
            }
        }
        for p in 0..self.pools.len() {
            for r in 0..self.pools[p].real.len() {
                let alive = self.is_alive(p, r);
                self.pools[p].real[r].alive = alive;
            }
            if let Some(&up) = quorum.get(self.pools[p].pool.name.as_str()) {
                self.pools[p].quorum_up = up;
            }
        }
        for p in 0..self.pools.len() {
            self.update_quorum(p, now);
        }
        self.reschedule();
    }
}
