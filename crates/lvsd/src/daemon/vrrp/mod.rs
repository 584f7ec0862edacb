//! keepalived's VRRP process: the [`vrrp::Machine`] of the file's instances, fed the adverts
//! read off each interface, the state of the links and the results of the `vrrp_script`s;
//! what it asks for is done here: adverts sent, virtual addresses added and removed through
//! `hostnet` (marked as lvsd's), announced, notify scripts run one after another, the IPVS
//! sync daemon switched. SIGHUP reads the file again and carries every instance's state over;
//! SIGTERM sends priority 0 and gives the addresses back.

mod fifo;
mod net;
mod track;

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hostnet::addr::{AddressSpec, Owner, Presence, Scope};
use hostnet::rtnl::Rtnl;
use hostnet::{IfName, Label};
use keepalived::vrrp::Address;
use keepalived::{Config, Options};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;
use vrrp::config::{plan, Plan, Tracked};
use vrrp::packet::Advert;
use vrrp::receive::{check, unicast_source, Expect, Peer, Reason, Received, Unicast, Verdict};
use vrrp::{Action, Machine, Micros, State, Subject};

use super::log::Log;
use super::ready::{Ready, Reloads};
use super::scripts::Runner;
use super::status::{Instance as StatusLine, SharedVrrp, Status};

/// keepalived's multicast groups.
const GROUP4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
const GROUP6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

/// How often the same kind of dropped advert from the same sender is said in the log.
const DROP_LOG_EVERY: Duration = Duration::from_secs(10);
/// The most (instance, sender, reason) kept for that; forged sources are many.
const DROP_LOG_KEYS: usize = 4096;

fn is_v6(i: &keepalived::vrrp::Instance) -> bool {
    i.ipv6 == Some(true)
}

/// The multicast group of an instance: its `mcast_dst_ip`, else `vrrp_mcast_group4/6`, else
/// the standard one of its family.
fn group(config: &Config, i: &keepalived::vrrp::Instance) -> IpAddr {
    let g = &config.global;
    let default = match (is_v6(i), g.vrrp_mcast_group4, g.vrrp_mcast_group6) {
        (false, Some(a @ IpAddr::V4(_)), _) => a,
        (false, ..) => IpAddr::V4(GROUP4),
        (true, _, Some(a @ IpAddr::V6(_))) => a,
        (true, ..) => IpAddr::V6(GROUP6),
    };
    i.mcast_dst_ip
        .filter(|a| a.is_ipv6() == is_v6(i) && a.is_multicast())
        .unwrap_or(default)
}

/// A configuration's VRRP part, ready to run.
struct Loaded {
    plan: Plan,
    config: Config,
    machine: Machine,
}

/// Whether lvsd runs `config`'s instances, or why not.
pub fn runs(config: &Config) -> Result<(), String> {
    load(config.clone()).map(|_| ())
}

/// Makes the machine of `config`'s instances, or says why lvsd cannot run them.
fn load(config: Config) -> Result<Loaded, String> {
    let plan = plan(&config.vrrp).map_err(|refused| {
        let lines: Vec<_> = refused.iter().map(|u| u.what.clone()).collect();
        format!(
            "lvsd does not do what the file asks here: {}",
            lines.join("; ")
        )
    })?;
    let names = plan.tracked.iter().map(Tracked::describe).collect();
    let machine = Machine::new(plan.instances.clone(), plan.groups.clone(), names);
    Ok(Loaded {
        plan,
        config,
        machine,
    })
}

struct Vrrpd {
    path: PathBuf,
    options: Options,
    log: Log,
    loaded: Loaded,
    rtnl: Rtnl,
    /// By interface index and family (IPv6 or not).
    links: BTreeMap<(u32, bool), net::Link>,
    /// Per instance: the index of its interface.
    ifindex: Vec<u32>,
    /// Per instance name: packets dropped, by reason (kept across reloads: counters only
    /// grow).
    drops: BTreeMap<String, BTreeMap<&'static str, u64>>,
    /// Per instance: the address-list difference last logged.
    mismatch: Vec<String>,
    runner: Runner,
    notify: mpsc::UnboundedSender<tokio::process::Command>,
    started: Instant,
    started_wall: SystemTime,
    track: track::Tracker,
    /// The links as the tracking thread last read them.
    links_now: track::Links,
    /// What `lvsd status` shows of the instances.
    shared: SharedVrrp,
    /// Failures of work done off the daemon's thread, to log.
    warnings: mpsc::UnboundedSender<String>,
    fifos: Vec<fifo::Fifo>,
    /// When a drop was last said, by instance name, sender and reason.
    drops_said: HashMap<(String, IpAddr, &'static str), Instant>,
    /// Per instance name: a round of paced announcements goes on while this is what it was
    /// when the round began (a new round, or the addresses' release, moves it on).
    announcing: BTreeMap<String, Arc<AtomicU64>>,
}

/// Where the VRRP part answers `lvsd status` and Prometheus, when the checker does not run.
pub struct Endpoints {
    pub control: PathBuf,
    pub metrics: Option<String>,
}

/// What the VRRP part starts with.
pub struct Start {
    /// The file, for reloads, and how to read it.
    pub path: PathBuf,
    pub options: Options,
    /// The file as read at start.
    pub config: Config,
    pub log: Log,
    pub shared: SharedVrrp,
    pub endpoints: Option<Endpoints>,
    pub ready: Ready,
    /// `-V` (`--dont-release-vrrp`): leave the VIPs in place at stop.
    pub keep_vips: bool,
    /// Requests to read the file again (SIGHUP).
    pub reloads: Reloads,
}

/// Runs the VRRP instances of `start`'s file until SIGTERM, keeping its `shared` view up to
/// date for `lvsd status`, and answering that and the scrapes at its endpoints when given.
pub async fn serve(start: Start) -> ExitCode {
    let Start {
        path,
        options,
        config,
        mut log,
        shared,
        endpoints,
        ready,
        keep_vips,
        mut reloads,
    } = start;
    let control = endpoints.as_ref().map(|e| e.control.clone());
    let listener = match control.as_deref().map(super::control::listen).transpose() {
        Ok(l) => l,
        Err(e) => {
            log.line(&e);
            return ExitCode::from(1);
        }
    };
    let scrapes = match endpoints.and_then(|e| e.metrics) {
        Some(a) => match super::metrics::listen(&a).await {
            Ok(l) => Some(l),
            Err(e) => {
                log.line(&e);
                return ExitCode::from(1);
            }
        },
        None => None,
    };
    let runner = Runner::new(&config);
    let loaded = match load(config) {
        Ok(l) => l,
        Err(e) => {
            log.line(&e);
            return ExitCode::from(1);
        }
    };
    let rtnl = match Rtnl::open() {
        Ok(r) => r,
        Err(e) => {
            log.line(&format!("cannot open rtnetlink: {e}"));
            return ExitCode::from(1);
        }
    };
    let (notify, queue) = mpsc::unbounded_channel();
    let (warnings, mut warned) = mpsc::unbounded_channel();
    let notifier = tokio::task::spawn_local(track::run_in_order(queue));
    let mut d = Vrrpd {
        path,
        options,
        log,
        loaded,
        rtnl,
        links: BTreeMap::new(),
        ifindex: Vec::new(),
        drops: BTreeMap::new(),
        mismatch: Vec::new(),
        runner,
        notify,
        started: Instant::now(),
        started_wall: SystemTime::now(),
        track: track::Tracker::default(),
        links_now: track::Links::default(),
        shared,
        warnings,
        announcing: BTreeMap::new(),
        drops_said: HashMap::new(),
        fifos: Vec::new(),
    };
    // Bounded, as a socket's buffer is: a flood of packets is dropped, not kept.
    let (tx, mut rx) = mpsc::channel(net::QUEUE);
    if let Err(e) = d.open(&tx) {
        d.log.line(&e);
        return ExitCode::from(1);
    }
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        d.log.line("cannot catch signals");
        return ExitCode::from(1);
    };
    d.log.line(&format!(
        "lvsd {} VRRP started on {}: {} instances",
        env!("CARGO_PKG_VERSION"),
        d.path.display(),
        d.loaded.machine.instances()
    ));
    d.release_leftovers();
    d.open_fifos();
    let (changes, mut changed) = mpsc::unbounded_channel();
    d.start_tracking(&changes);
    let now = d.now();
    d.loaded.machine.start(now);
    d.carry_out();
    d.sync_daemons(true);
    ready.part_ready();
    loop {
        let now = d.now();
        d.loaded.machine.tick(now);
        d.carry_out();
        let wake = d
            .loaded
            .machine
            .next_due()
            .map_or(Duration::from_secs(3600), |t| {
                Duration::from_micros(t.saturating_sub(d.now()))
            });
        tokio::select! {
            _ = tokio::time::sleep(wake) => {}
            Some(incoming) = rx.recv() => d.received(incoming),
            Some((generation, track, value)) = changed.recv() => {
                if generation == d.track.generation() {
                    d.relink(&tx);
                    let now = d.now();
                    d.loaded.machine.track(now, track, value);
                    d.carry_out();
                }
            }
            Some(line) = warned.recv() => d.log.line(&line),
            Some(ack) = reloads.recv() => {
                d.reload(&tx, &changes);
                let _ = ack.send(());
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
            Some(stream) = accept(listener.as_ref()) => {
                let status = Status::vrrp_only(&d.shared);
                tokio::task::spawn_local(super::control::answer(stream, status));
            }
            Some(stream) = super::metrics::accept(scrapes.as_ref()) => {
                let status = Status::vrrp_only(&d.shared);
                tokio::task::spawn_local(super::metrics::answer(stream, status));
            }
        }
    }
    ready.stopping();
    let now = d.now();
    d.loaded.machine.stop(now);
    let mut actions = d.loaded.machine.take_actions();
    // The sync daemons are stopped below, not switched to backup on the way out.
    actions.retain(|a| !matches!(a, Action::SyncDaemon { .. }));
    if keep_vips {
        // -V (--dont-release-vrrp): the addresses stay, and no priority 0 hurries the
        // backup; the notifications still go out.
        actions.retain(|a| !matches!(a, Action::Send { .. } | Action::Addresses { .. }));
    }
    d.carry(actions);
    ready.released();
    if !keep_vips {
        d.sync_daemons(false);
    }
    d.log.line("VRRP stopped");
    // The queued notify scripts (notify_stop among them) run before the daemon goes, for
    // a few seconds at most.
    let Vrrpd { notify, .. } = d;
    drop(notify);
    let _ = tokio::time::timeout(Duration::from_secs(5), notifier).await;
    if let Some(control) = control {
        let _ = std::fs::remove_file(control);
    }
    ExitCode::SUCCESS
}

/// Counts an advert of instance `name` dropped for `reason`.
fn count(
    drops: &mut BTreeMap<String, BTreeMap<&'static str, u64>>,
    name: &str,
    reason: &'static str,
) {
    *drops
        .entry(name.to_string())
        .or_default()
        .entry(reason)
        .or_default() += 1;
}

/// The next connection to the control socket, if this part answers it.
async fn accept(listener: Option<&tokio::net::UnixListener>) -> Option<tokio::net::UnixStream> {
    match listener {
        Some(l) => l.accept().await.ok().map(|(s, _)| s),
        None => std::future::pending().await,
    }
}

impl Vrrpd {
    fn now(&self) -> Micros {
        self.started.elapsed().as_micros() as Micros
    }

    /// Opens the sockets of the instances' interfaces and fills in their source addresses;
    /// on failure the instances' interfaces stay as they were.
    fn open(&mut self, tx: &mpsc::Sender<net::Incoming>) -> Result<(), String> {
        let links = self
            .rtnl
            .links()
            .map_err(|e| format!("cannot list interfaces: {e}"))?;
        let mut ifindex = Vec::new();
        for i in &self.loaded.config.vrrp.instances {
            let name = i.interface.clone().unwrap_or_default();
            let link = links
                .iter()
                .find(|l| l.name == name)
                .ok_or_else(|| format!("({}) interface {name} does not exist", i.name))?;
            ifindex.push(link.index);
            let v6 = is_v6(i);
            let group = group(&self.loaded.config, i);
            match self.links.entry((link.index, v6)) {
                Entry::Vacant(e) => {
                    e.insert(net::Link::open(&name, link.index, group, tx.clone())?);
                }
                Entry::Occupied(mut e) => e.get_mut().join(group)?,
            }
        }
        // Sockets no instance uses any more (their interface gone, or made again with
        // another index) are closed.
        let used: Vec<(u32, bool)> = self
            .loaded
            .config
            .vrrp
            .instances
            .iter()
            .zip(&ifindex)
            .map(|(i, x)| (*x, is_v6(i)))
            .collect();
        self.links.retain(|key, _| used.contains(key));
        let count = ifindex.len();
        self.ifindex = ifindex;
        self.mismatch = vec![String::new(); count];
        for id in 0..count {
            self.find_source(id);
        }
        Ok(())
    }

    /// Opens the sockets anew when an instance's interface has another index than its
    /// socket's: the interface was deleted and made again under the same name (a VLAN, a
    /// bond), and the old socket hears and sends nothing.
    fn relink(&mut self, tx: &mpsc::Sender<net::Incoming>) {
        let moved = {
            let Ok(links) = self.links_now.lock() else {
                return;
            };
            self.loaded
                .config
                .vrrp
                .instances
                .iter()
                .zip(&self.ifindex)
                .any(|(i, index)| {
                    let name = i.interface.as_deref().unwrap_or_default();
                    links
                        .iter()
                        .find(|l| l.name == name)
                        .is_some_and(|l| l.index != *index)
                })
        };
        if moved {
            match self.open(tx) {
                Ok(()) => self
                    .log
                    .line("an interface was made again: its VRRP sockets are opened anew"),
                Err(e) => self.log.line(&e),
            }
        }
    }

    /// keepalived's default source, for an instance without `unicast_src_ip`/`mcast_src_ip`:
    /// looked for again until the interface has one.
    fn find_source(&mut self, id: usize) {
        if self.loaded.machine.settings(id).source.is_some() {
            return;
        }
        let v6 = is_v6(&self.loaded.config.vrrp.instances[id]);
        if let Some(&index) = self.ifindex.get(id) {
            let source = net::primary(&self.rtnl, index, v6);
            self.loaded.machine.set_source(id, source);
        }
    }

    /// A VIP of ours left on an interface by an lvsd that was killed must not stay there
    /// while this router starts as backup: the master has it.
    fn release_leftovers(&mut self) {
        let Ok(present) = self.rtnl.addresses() else {
            return;
        };
        for id in 0..self.loaded.config.vrrp.instances.len() {
            for (a, dev) in self.addresses(id) {
                let ours = present
                    .iter()
                    .any(|p| p.net.addr() == a.address && p.owner == Owner::Lvsd);
                if ours && hostnet::addr::ensure_absent(&self.rtnl, a.address, None, &dev).is_ok() {
                    self.log.line(&format!(
                        "removed {} from {dev}: left by an earlier lvsd",
                        a.address
                    ));
                }
            }
        }
    }

    fn received(&mut self, incoming: net::Incoming) {
        let payload = &incoming.vrrp[..];
        let Some(&vrid) = payload.get(1) else {
            return;
        };
        let now = self.now();
        for id in 0..self.loaded.machine.instances() {
            let s = self.loaded.machine.settings(id);
            let family = is_v6(&self.loaded.config.vrrp.instances[id]) == incoming.src.is_ipv6();
            if self.ifindex.get(id) != Some(&incoming.ifindex) || s.vrid != vrid || !family {
                continue;
            }
            let i = &self.loaded.config.vrrp.instances[id];
            let peers: Vec<Peer> = i
                .unicast_peers
                .iter()
                .filter_map(|p| {
                    Some(Peer {
                        address: p.address?,
                        min_ttl: p.min_ttl.min(255) as u8,
                        max_ttl: p.max_ttl.min(255) as u8,
                    })
                })
                .collect();
            let unicast = (i.unicast_configured || !peers.is_empty()).then(|| Unicast {
                peers: &peers,
                check_source: i.check_unicast_src
                    || i.unicast_peers
                        .iter()
                        .any(|p| p.min_ttl != 0 || p.max_ttl != 255),
            });
            let mut expect = Expect {
                version: s.version,
                vrid: s.vrid,
                auth: s.auth,
                interval: advert_interval(s),
                addresses: &s.addresses,
                check_addresses: true,
                unicast,
            };
            let rx = Received {
                src: incoming.src,
                dst: incoming.dst,
                ttl: incoming.ttl,
            };
            let mut verdict = check(&expect, &rx, payload);
            // keepalived drops an advert whose addresses differ from ours, so a backup
            // reloaded with one more VIP takes the master for dead and becomes a second master
            // (#1603). lvsd logs the difference and follows the advert, if it comes from a
            // peer it would follow otherwise.
            if let Verdict::Drop(Reason::AddressCount { .. } | Reason::AddressMissing(_)) = verdict
            {
                expect.check_addresses = false;
                verdict = match check(&expect, &rx, payload) {
                    Verdict::Accept(advert) => match unicast_source(&expect, &rx) {
                        Ok(()) => Verdict::Accept(advert),
                        Err(reason) => Verdict::Drop(reason),
                    },
                    other => other,
                };
                if let Verdict::Accept(advert) = &verdict {
                    count(&mut self.drops, &s.name, "addr_list_differs");
                    let show = |list: Vec<&IpAddr>| {
                        list.iter()
                            .map(|a| a.to_string())
                            .collect::<Vec<_>>()
                            .join(" ")
                    };
                    let lacks = show(
                        s.addresses
                            .iter()
                            .filter(|a| !advert.addresses.contains(a))
                            .collect(),
                    );
                    let extra = show(
                        advert
                            .addresses
                            .iter()
                            .filter(|a| !s.addresses.contains(a))
                            .collect(),
                    );
                    let line = format!(
                        "({}) the adverts of {} list other addresses than ours (lacking: {}; more: {}): followed all the same, keepalived would take the master for dead; make the files agree",
                        s.name,
                        incoming.src,
                        if lacks.is_empty() { "none" } else { &lacks },
                        if extra.is_empty() { "none" } else { &extra },
                    );
                    // Once per difference, not once per advert.
                    if self.mismatch.get(id) != Some(&line) {
                        self.log.line(&line);
                        if let Some(slot) = self.mismatch.get_mut(id) {
                            *slot = line;
                        }
                    }
                }
            }
            match verdict {
                Verdict::Accept(advert) => {
                    self.loaded.machine.advert(now, id, incoming.src, &advert);
                }
                Verdict::NotMine => {}
                Verdict::Drop(reason) => {
                    let counter = reason.counter().unwrap_or("other_drops");
                    count(&mut self.drops, &s.name, counter);
                    // Counted each time; said once in a while per sender and reason, so a
                    // stream of bad packets does not flood the log.
                    let key = (s.name.clone(), incoming.src, counter);
                    let said = self.drops_said.get(&key);
                    if said.is_none_or(|at| at.elapsed() >= DROP_LOG_EVERY) {
                        if self.drops_said.len() >= DROP_LOG_KEYS {
                            self.drops_said.clear();
                        }
                        self.drops_said.insert(key, Instant::now());
                        let line = format!(
                            "({}) dropped an advert from {}: {reason} (more such are counted in lvsd status, and said again after {} s)",
                            s.name,
                            incoming.src,
                            DROP_LOG_EVERY.as_secs()
                        );
                        self.log.line(&line);
                    }
                }
            }
        }
        self.carry_out();
    }

    /// Starts tracking the configuration's objects and gives the machine their values now.
    fn start_tracking(&mut self, changes: &track::Changes) {
        if let (Ok(now), Ok(mut links)) = (self.rtnl.links(), self.links_now.lock()) {
            *links = now;
        }
        let values = self.track.start(
            &self.loaded.plan,
            &self.loaded.config,
            changes,
            &self.links_now,
        );
        let now = self.now();
        for (track, value) in values {
            self.loaded.machine.track(now, track, value);
        }
        self.carry_out();
    }

    /// The interface named `dev`, from the links last read (a dump if it is not there).
    fn link(&self, dev: &str) -> Option<hostnet::rtnl::Link> {
        let cached = self
            .links_now
            .lock()
            .ok()?
            .iter()
            .find(|l| l.name == dev)
            .cloned();
        cached.or_else(|| self.rtnl.links().ok()?.into_iter().find(|l| l.name == dev))
    }

    /// The virtual addresses of instance `id`, excluded ones included, with their devices.
    fn addresses(&self, id: usize) -> Vec<(Address, IfName)> {
        let i = &self.loaded.config.vrrp.instances[id];
        i.vips
            .iter()
            .chain(&i.excluded_vips)
            .filter_map(|a| {
                let dev = a.dev.clone().or_else(|| i.interface.clone())?;
                Some((a.clone(), IfName::new(&dev).ok()?))
            })
            .collect()
    }

    fn carry_out(&mut self) {
        let actions = self.loaded.machine.take_actions();
        self.carry(actions);
    }

    fn carry(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Send { instance, advert } => self.send(instance, &advert),
                Action::Addresses { instance, add } => self.set_addresses(instance, add),
                Action::Announce { instance, count } => self.announce(instance, count),
                Action::Notify {
                    subject,
                    state,
                    priority,
                } => self.notify(subject, state, priority),
                Action::NotifyLowerPriority { instance } => {
                    let i = &self.loaded.config.vrrp.instances[instance];
                    let (name, script) = (i.name.clone(), i.notify.master_rx_lower_pri.clone());
                    if let Some(script) = script {
                        self.queue_script(&script, &[]);
                    }
                    let priority = self.loaded.machine.status(instance).effective_priority;
                    for f in &mut self.fifos {
                        f.write("INSTANCE", &name, "MASTER_RX_LOWER_PRI", priority);
                    }
                }
                Action::SyncDaemon { instance, master } => self.sync_daemon(instance, master),
                Action::Log(line) => self.log.line(&line),
            }
        }
        self.publish();
    }

    /// Refreshes what `lvsd status` shows.
    fn publish(&self) {
        let m = &self.loaded.machine;
        let instances = (0..m.instances())
            .map(|id| {
                let st = m.status(id);
                let i = &self.loaded.config.vrrp.instances[id];
                let since = self.started_wall + Duration::from_micros(st.since);
                StatusLine {
                    name: i.name.clone(),
                    vrid: m.settings(id).vrid,
                    interface: i.interface.clone().unwrap_or_default(),
                    state: st.state.to_string(),
                    priority: st.priority,
                    effective_priority: st.effective_priority,
                    master: st.master.map(|a| a.to_string()),
                    since_unix: since.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
                    why: st.why,
                    dropped: self
                        .drops
                        .get(&i.name)
                        .map_or_else(Vec::new, |d| d.iter().map(|(k, n)| (*k, *n)).collect()),
                    transitions: st.transitions,
                }
            })
            .collect();
        *self.shared.borrow_mut() = instances;
    }

    fn send(&mut self, id: usize, advert: &Advert) {
        let i = &self.loaded.config.vrrp.instances[id];
        let v6 = is_v6(i);
        self.find_source(id);
        let i = &self.loaded.config.vrrp.instances[id];
        let Some(src) = self.loaded.machine.settings(id).source else {
            let family = if v6 { "link-local IPv6" } else { "IPv4" };
            let line = format!(
                "({}) has no {family} address on its interface to send from",
                i.name
            );
            self.log.line(&line);
            return;
        };
        let peers: Vec<IpAddr> = i
            .unicast_peers
            .iter()
            .filter_map(|p| p.address)
            .filter(|a| a.is_ipv6() == v6)
            .collect();
        let destinations = if i.unicast_configured || !peers.is_empty() {
            peers
        } else {
            vec![group(&self.loaded.config, i)]
        };
        let ttl = i.unicast_ttl.map_or(255, |t| t.min(255) as u8);
        let Some(link) = self.ifindex.get(id).and_then(|x| self.links.get(&(*x, v6))) else {
            return;
        };
        for dst in destinations {
            let bytes = advert.encode(src, dst);
            let ttl = if dst.is_multicast() { 255 } else { ttl };
            if let Err(e) = link.send(src, dst, ttl, &bytes) {
                let line = format!(
                    "({}) cannot send an advert to {dst} on {}: {e}",
                    i.name, link.name
                );
                self.log.line(&line);
            }
        }
    }

    fn set_addresses(&mut self, id: usize, add: bool) {
        let name = self.loaded.config.vrrp.instances[id].name.clone();
        if !add {
            // Announcing addresses given up would draw their traffic from the new master.
            self.announce_round(id);
        }
        for (a, dev) in self.addresses(id) {
            let Some(link) = self.link(dev.as_str()) else {
                self.log.line(&format!(
                    "({name}) there is no interface {dev} for {}",
                    a.address
                ));
                continue;
            };
            let result = if add {
                let spec = AddressSpec {
                    net: match ipnet::IpNet::new(a.address, a.prefix) {
                        Ok(n) => n,
                        Err(_) => continue,
                    },
                    dev: dev.clone(),
                    label: a.label.as_deref().and_then(|l| Label::new(l, &dev).ok()),
                    scope: scope(a.scope.as_deref()),
                    broadcast: match a.broadcast {
                        Some(IpAddr::V4(b)) => Some(b),
                        _ => None,
                    },
                    owner: Owner::Lvsd,
                };
                hostnet::addr::ensure_present_on(&self.rtnl, &link, &spec).map(|p| {
                    if let Presence::AlreadyThere { .. } = p {
                        self.log
                            .line(&format!("({name}) {} was on {dev} already", a.address));
                    }
                })
            } else {
                hostnet::addr::ensure_absent_on(&self.rtnl, &link, a.address, None).map(|_| ())
            };
            if let Err(e) = result {
                let verb = if add { "add" } else { "remove" };
                self.log.line(&format!(
                    "({name}) cannot {verb} {} on {dev}: {e}",
                    a.address
                ));
            }
        }
    }

    fn announce(&mut self, id: usize, count: u32) {
        let g = &self.loaded.config.global;
        let interval = |v: Option<u64>| Duration::from_micros(v.unwrap_or(0));
        let (garp, gna) = (
            interval(g.vrrp_garp_interval),
            interval(g.vrrp_gna_interval),
        );
        let (round, started) = self.announce_round(id);
        for (a, dev) in self.addresses(id) {
            let Some(link) = self.link(dev.as_str()) else {
                continue;
            };
            let every = if a.address.is_ipv4() { garp } else { gna };
            let addr = a.address;
            if every.is_zero() {
                if let Err(e) = hostnet::announce::announce(&link, addr, count, every) {
                    self.log
                        .line(&format!("cannot announce {addr} on {dev}: {e}"));
                }
                continue;
            }
            // Paced announcements sleep between packets: off the daemon's thread, each packet
            // sent only while the round is the instance's latest.
            let warn = self.warnings.clone();
            let round = round.clone();
            tokio::task::spawn_blocking(move || {
                for n in 0..count {
                    if n > 0 {
                        std::thread::sleep(every);
                    }
                    if round.load(Ordering::Relaxed) != started {
                        return;
                    }
                    if let Err(e) = hostnet::announce::announce(&link, addr, 1, Duration::ZERO) {
                        let _ = warn.send(format!("cannot announce {addr} on {dev}: {e}"));
                        return;
                    }
                }
            });
        }
    }

    /// Begins a new round of announcements for instance `id`, ending any round still paced:
    /// its counter and the round's value.
    fn announce_round(&mut self, id: usize) -> (Arc<AtomicU64>, u64) {
        let name = &self.loaded.config.vrrp.instances[id].name;
        let round = self.announcing.entry(name.clone()).or_default().clone();
        let started = round.fetch_add(1, Ordering::Relaxed) + 1;
        (round, started)
    }

    fn notify(&mut self, subject: Subject, state: State, priority: u8) {
        let (kind, name, scripts) = match subject {
            Subject::Instance(id) => {
                let i = &self.loaded.config.vrrp.instances[id];
                ("INSTANCE", i.name.clone(), i.notify.clone())
            }
            Subject::Group(g) => {
                let g = &self.loaded.config.vrrp.sync_groups[g];
                ("GROUP", g.name.clone(), g.notify.clone())
            }
        };
        let specific = match state {
            State::Master => scripts.master.clone(),
            State::Backup => scripts.backup.clone(),
            State::Fault => scripts.fault.clone(),
            State::Stop => scripts.stop.clone(),
            State::Init => None,
        };
        if let Some(s) = specific {
            self.queue_script(&s, &[]);
        }
        if let Some(s) = scripts.any {
            let args = [
                kind.to_string(),
                name.clone(),
                state.to_string(),
                priority.to_string(),
            ];
            self.queue_script(&s, &args);
        }
        for f in &mut self.fifos {
            f.write(kind, &name, &state.to_string(), priority);
        }
    }

    /// Opens the configuration's notify FIFOs (closing earlier ones) and starts their
    /// scripts.
    fn open_fifos(&mut self) {
        self.fifos.clear();
        let g = &self.loaded.config.global;
        let wanted: Vec<_> = [&g.notify_fifo, &g.vrrp_notify_fifo]
            .into_iter()
            .filter_map(|f| Some((f.name.clone()?, f.script.clone())))
            .collect();
        for (name, script) in wanted {
            match fifo::Fifo::open(&name, script.as_deref()) {
                Ok((f, script)) => {
                    if let Some(args) = script {
                        match self.runner.command(&args, None).and_then(|mut c| {
                            c.spawn()
                                .map(|_| ())
                                .map_err(|e| format!("cannot run {}: {e}", args[0]))
                        }) {
                            Ok(()) => {}
                            Err(e) => self.log.line(&e),
                        }
                    }
                    self.fifos.push(f);
                }
                Err(e) => self.log.line(&e),
            }
        }
    }

    /// Queues a notify script: they run one after another, in the order of the changes.
    fn queue_script(&mut self, text: &str, extra: &[String]) {
        let Some(mut args) = keepalived::script::quoted_escaped(text) else {
            self.log
                .line(&format!("cannot split script '{text}' into words"));
            return;
        };
        args.extend_from_slice(extra);
        match self.runner.command(&args, None) {
            Ok(cmd) => {
                let _ = self.notify.send(cmd);
            }
            Err(e) => self.log.line(&e),
        }
    }

    /// The instance `lvs_sync_daemon` follows, and the daemon it runs (as backup).
    fn sync_target(&self) -> Option<(usize, ipvs::Daemon)> {
        let sync = self.loaded.config.global.lvs_sync_daemon.as_ref()?;
        let instances = &self.loaded.config.vrrp.instances;
        // Without a name, the first instance; with none at all, no sync daemon.
        let id = match &sync.vrrp_instance {
            Some(name) => instances.iter().position(|i| &i.name == name)?,
            None if instances.is_empty() => return None,
            None => 0,
        };
        let syncid = sync
            .syncid
            .unwrap_or_else(|| u32::from(self.loaded.machine.settings(id).vrid));
        let mut d = ipvs::Daemon::new(ipvs::DaemonState::Backup, &sync.interface, syncid);
        if let Some(port) = sync.port {
            d.mcast_port = port.min(65535) as u16;
        }
        if let Some(ttl) = sync.ttl {
            d.mcast_ttl = ttl.min(255) as u8;
        }
        if let Some(maxlen) = sync.maxlen {
            d.sync_maxlen = maxlen.min(65535) as u16;
        }
        d.mcast_group = sync.group;
        Some((id, d))
    }

    /// IPVS's connection-sync daemon as master while instance `id` (the one `lvs_sync_daemon`
    /// names) is master, as backup otherwise, so a new master has its connections.
    fn sync_daemon(&mut self, id: usize, master: bool) {
        let Some((followed, mut d)) = self.sync_target() else {
            return;
        };
        if followed != id {
            return;
        }
        let from = if master {
            ipvs::DaemonState::Backup
        } else {
            ipvs::DaemonState::Master
        };
        if master {
            d.state = ipvs::DaemonState::Master;
        }
        let result = ipvs::Client::connect().and_then(|mut c| {
            let _ = c.stop_daemon(from, d.syncid);
            c.start_daemon(&d)
        });
        if let Err(e) = result {
            let state = if master { "master" } else { "backup" };
            self.log
                .line(&format!("cannot run the IPVS sync daemon as {state}: {e}"));
        }
    }

    /// At start every router runs the sync daemon as backup (keepalived's vrrp_init_state);
    /// at stop both daemons go.
    fn sync_daemons(&mut self, start: bool) {
        let Some((id, d)) = self.sync_target() else {
            return;
        };
        if start {
            if self.loaded.machine.status(id).state != State::Master {
                self.sync_daemon(id, false);
            }
            return;
        }
        // The kernel stops a sync thread when it next wakes: bounded, so that a slow one
        // never keeps the daemon from exiting.
        let (done, wait) = std::sync::mpsc::channel();
        let syncid = d.syncid;
        std::thread::spawn(move || {
            if let Ok(mut c) = ipvs::Client::connect() {
                for state in [ipvs::DaemonState::Master, ipvs::DaemonState::Backup] {
                    let _ = c.stop_daemon(state, syncid);
                }
            }
            let _ = done.send(());
        });
        if wait.recv_timeout(Duration::from_secs(2)).is_err() {
            self.log.line(
                "the IPVS sync daemons had not stopped after 2 s; leaving them to the kernel",
            );
        }
    }

    /// Reads the file again; a file lvsd cannot run leaves everything as it is.
    fn reload(&mut self, tx: &mpsc::Sender<net::Incoming>, scripts: &track::Changes) {
        self.log.line(&format!("reloading {}", self.path.display()));
        let reading = keepalived::read(&self.path, &self.options);
        if let Some(refusal) = super::refusal(&reading, &self.path) {
            self.log.line(&format!(
                "reload refused, still running the previous configuration: {refusal}"
            ));
            return;
        }
        let next = match load(reading.config) {
            Ok(l) => l,
            Err(e) => {
                self.log.line(&format!(
                    "reload refused, still running the previous configuration: {e}"
                ));
                return;
            }
        };
        let old = std::mem::replace(&mut self.loaded, next);
        let now = self.now();
        if let Err(e) = self.open(tx) {
            self.log.line(&format!("reload refused: {e}"));
            self.loaded = old;
            return;
        }
        // Addresses an instance held and no longer has go; the machine carries each kept
        // instance's state over, so nothing moves that the file did not move.
        let kept = self.loaded.machine.inherit(&old.machine, now);
        for (old_id, i) in old.config.vrrp.instances.iter().enumerate() {
            let still = self
                .loaded
                .config
                .vrrp
                .instances
                .iter()
                .position(|n| n.name == i.name);
            let held = old.machine.status(old_id).state == State::Master;
            if !held {
                continue;
            }
            let new_addresses: Vec<IpAddr> = still
                .map(|n| {
                    self.addresses(n)
                        .into_iter()
                        .map(|(a, _)| a.address)
                        .collect()
                })
                .unwrap_or_default();
            for a in i.vips.iter().chain(&i.excluded_vips) {
                if !new_addresses.contains(&a.address) {
                    let dev = a
                        .dev
                        .clone()
                        .or_else(|| i.interface.clone())
                        .unwrap_or_default();
                    if let Ok(dev) = IfName::new(&dev) {
                        let _ = hostnet::addr::ensure_absent(&self.rtnl, a.address, None, &dev);
                    }
                }
            }
        }
        for id in kept {
            if self.loaded.machine.status(id).state == State::Master {
                self.set_addresses(id, true);
            }
        }
        self.start_tracking(scripts);
        // keepalived closes its FIFOs at a reload and opens the file's anew.
        self.open_fifos();
        self.log.line("reloaded");
    }
}

/// The advert interval the instance expects of version-2 peers, in centiseconds.
fn advert_interval(s: &vrrp::Settings) -> u16 {
    (s.advert_int / 10_000).min(u64::from(u16::MAX)) as u16
}

fn scope(s: Option<&str>) -> Scope {
    match s {
        Some("host") => Scope::Host,
        Some("link") => Scope::Link,
        _ => Scope::Global,
    }
}
