//! What the instances track: links and `vrrp_track_file`s (read every tenth of a second by a
//! thread of its own: a dump of the links can take milliseconds on a loaded machine, and the
//! daemon's thread must keep its timers) and `vrrp_script`s (run on their interval, with
//! their timeout, counted against `rise` and `fall`); and the queue that runs notify scripts
//! one after another.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hostnet::rtnl::{Link, Rtnl};
use keepalived::Config;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use vrrp::config::{Plan, Tracked};
use vrrp::{TrackId, TrackValue};

use super::super::scripts::Runner;

/// The links as last read, for the daemon to find its devices without a dump of its own.
pub type Links = Arc<Mutex<Vec<Link>>>;

/// Sends each tracked object's value when it changes, with the generation of the tracking
/// that read it: a value read for the configuration before a reload names an object of that
/// configuration, and must not reach the new one's.
pub type Changes = mpsc::UnboundedSender<(u64, TrackId, TrackValue)>;

#[derive(Default)]
pub struct Tracker {
    scripts: Vec<JoinHandle<()>>,
    /// Tells the polling thread of the running configuration to stop.
    poller: Option<Arc<AtomicBool>>,
    /// Counts the configurations tracked.
    generation: u64,
}

impl Drop for Tracker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A link or a file, as the polling thread reads it.
#[derive(Clone)]
enum Watch {
    Link(String),
    File(Option<PathBuf>),
}

impl Watch {
    /// The value now; `None` for a file holding a number out of keepalived's range, which it
    /// ignores (the value before stays).
    fn read(&self, links: &[Link]) -> Option<TrackValue> {
        match self {
            Watch::Link(name) => Some(TrackValue::Up(
                links.iter().any(|l| &l.name == name && l.up),
            )),
            Watch::File(None) => Some(TrackValue::Number(0)),
            Watch::File(Some(path)) => {
                super::super::files::read_value(&path.to_string_lossy()).map(TrackValue::Number)
            }
        }
    }
}

impl Tracker {
    /// The generation of the running tracking, which its values carry.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Stops what tracks the running configuration.
    fn stop(&mut self) {
        for task in self.scripts.drain(..) {
            task.abort();
        }
        if let Some(stop) = self.poller.take() {
            stop.store(true, Ordering::Relaxed);
        }
    }

    /// Starts tracking `plan`'s objects (stopping an earlier configuration's): a task per
    /// `vrrp_script`, and the polling thread for links and files, which keeps `links` up to
    /// date. Returns the links' and files' values now, for the machine to start with; later
    /// changes come on `tx`.
    pub fn start(
        &mut self,
        plan: &Plan,
        config: &Config,
        tx: &Changes,
        links: &Links,
    ) -> Vec<(TrackId, TrackValue)> {
        self.stop();
        self.generation += 1;
        let generation = self.generation;
        let watches: Vec<(TrackId, Watch)> = plan
            .tracked
            .iter()
            .enumerate()
            .filter_map(|(id, t)| match t {
                Tracked::Interface(name) => Some((id, Watch::Link(name.clone()))),
                Tracked::File(name) => {
                    let file = config.vrrp.track_files.iter().find(|f| &f.name == name);
                    Some((
                        id,
                        Watch::File(file.and_then(|f| f.file.clone()).map(PathBuf::from)),
                    ))
                }
                Tracked::Script(_) => None,
            })
            .collect();
        let now: Vec<(TrackId, TrackValue)> = {
            let current = links.lock().map(|l| l.clone()).unwrap_or_default();
            watches
                .iter()
                .map(|(id, w)| (*id, w.read(&current).unwrap_or(TrackValue::Number(0))))
                .collect()
        };
        let stop = Arc::new(AtomicBool::new(false));
        self.poller = Some(Arc::clone(&stop));
        let (tx_poll, links_poll) = (tx.clone(), Arc::clone(links));
        let mut last: BTreeMap<TrackId, TrackValue> = now.iter().copied().collect();
        let spawned = std::thread::Builder::new()
            .name("vrrp-track".into())
            .spawn(move || {
                let Ok(rtnl) = Rtnl::open() else {
                    return;
                };
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    let Ok(current) = rtnl.links() else {
                        continue;
                    };
                    let values: Vec<_> = watches
                        .iter()
                        .filter_map(|(id, w)| Some((*id, w.read(&current)?)))
                        .collect();
                    // The links first: the daemon looks at them when a change comes.
                    if let Ok(mut shared) = links_poll.lock() {
                        *shared = current;
                    }
                    for (id, value) in values {
                        if last.insert(id, value) != Some(value)
                            && tx_poll.send((generation, id, value)).is_err()
                        {
                            return;
                        }
                    }
                }
            });
        if spawned.is_err() {
            self.poller = None;
        }
        self.start_scripts(plan, config, tx, generation);
        now
    }

    /// A task per tracked `vrrp_script`, each sending its result when it changes.
    fn start_scripts(&mut self, plan: &Plan, config: &Config, tx: &Changes, generation: u64) {
        let runner = Runner::new(config);
        for (track, t) in plan.tracked.iter().enumerate() {
            let Tracked::Script(name) = t else {
                continue;
            };
            let Some(s) = config.vrrp.scripts.iter().find(|s| &s.name == name) else {
                continue;
            };
            let Some(args) = s
                .script
                .as_deref()
                .and_then(keepalived::script::quoted_escaped)
            else {
                continue;
            };
            let user = s.user.clone();
            let every = Duration::from_secs(u64::from(s.interval.max(1)));
            let timeout = Duration::from_secs(u64::from(s.timeout.unwrap_or(s.interval).max(1)));
            let (rise, fall) = (s.rise.max(1), s.fall.max(1));
            let runner = runner.clone();
            let tx = tx.clone();
            // `init_fail`: the script counts as failing until it has risen.
            let init_fail = s.init_fail;
            if init_fail {
                let _ = tx.send((generation, track, TrackValue::Up(false)));
            }
            self.scripts.push(tokio::task::spawn_local(async move {
                let mut state: Option<bool> = init_fail.then_some(false);
                let (mut good, mut bad) = (0u32, 0u32);
                let mut tick = tokio::time::interval(every);
                // A script slower than its interval runs again an interval after it ended,
                // not at once to catch up.
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let ok = match runner.command(&args, user.clone()) {
                        Ok(mut cmd) => match cmd.spawn() {
                            Ok(mut child) => {
                                match tokio::time::timeout(timeout, child.wait()).await {
                                    Ok(Ok(status)) => status.success(),
                                    Ok(Err(_)) => false,
                                    Err(_) => {
                                        let _ = child.kill().await;
                                        false
                                    }
                                }
                            }
                            Err(_) => false,
                        },
                        Err(_) => false,
                    };
                    if ok {
                        good += 1;
                        bad = 0;
                    } else {
                        bad += 1;
                        good = 0;
                    }
                    // A first result decides at once; afterwards rise or fall in a row.
                    let next = match state {
                        None => Some(ok),
                        Some(false) if good >= rise => Some(true),
                        Some(true) if bad >= fall => Some(false),
                        _ => None,
                    };
                    if let Some(next) = next {
                        state = Some(next);
                        if tx.send((generation, track, TrackValue::Up(next))).is_err() {
                            return;
                        }
                    }
                }
            }));
        }
    }
}

/// Runs the notify scripts queued, one at a time, in order (keepalived starts them all at
/// once, and a quick BACKUP can overtake a slow MASTER script: #1055). A script still running
/// after 30 s is left to finish, as keepalived leaves its scripts, and the next one starts.
pub async fn run_in_order(mut queue: mpsc::UnboundedReceiver<tokio::process::Command>) {
    while let Some(mut cmd) = queue.recv().await {
        if let Ok(mut child) = cmd.spawn() {
            let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
        }
    }
}
