//! What the instances track: links (read every poll), `vrrp_track_file`s (read every poll)
//! and `vrrp_script`s (run on their interval, with their timeout, counted against `rise` and
//! `fall`); and the queue that runs notify scripts one after another.

use std::collections::BTreeMap;
use std::time::Duration;

use hostnet::rtnl::Rtnl;
use keepalived::Config;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use vrrp::config::{Plan, Tracked};
use vrrp::{TrackId, TrackValue};

use super::super::scripts::Runner;

#[derive(Default)]
pub struct Tracker {
    scripts: Vec<JoinHandle<()>>,
    /// The value last given for each link and file, so that only changes go to the machine.
    last: BTreeMap<TrackId, TrackValue>,
}

impl Tracker {
    /// Starts a task per tracked `vrrp_script` (stopping those of an earlier configuration);
    /// each sends its track's result when it changes.
    pub fn start(
        &mut self,
        plan: &Plan,
        config: &Config,
        tx: &mpsc::UnboundedSender<(TrackId, bool)>,
    ) {
        for task in self.scripts.drain(..) {
            task.abort();
        }
        self.last.clear();
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
                let _ = tx.send((track, false));
            }
            self.scripts.push(tokio::task::spawn_local(async move {
                let mut state: Option<bool> = init_fail.then_some(false);
                let (mut good, mut bad) = (0u32, 0u32);
                let mut tick = tokio::time::interval(every);
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
                        if tx.send((track, next)).is_err() {
                            return;
                        }
                    }
                }
            }));
        }
    }

    /// The links and files whose value changed since the last poll.
    pub fn poll(
        &mut self,
        rtnl: &Rtnl,
        plan: &Plan,
        config: &Config,
    ) -> Vec<(TrackId, TrackValue)> {
        let links = rtnl.links().unwrap_or_default();
        let mut changed = Vec::new();
        for (track, t) in plan.tracked.iter().enumerate() {
            let value = match t {
                Tracked::Interface(name) => {
                    TrackValue::Up(links.iter().any(|l| &l.name == name && l.up))
                }
                Tracked::File(name) => {
                    let file = config.vrrp.track_files.iter().find(|f| &f.name == name);
                    let read = file
                        .and_then(|f| f.file.as_deref())
                        .and_then(super::super::files::read_value);
                    TrackValue::Number(read.unwrap_or(0))
                }
                Tracked::Script(_) => continue,
            };
            if self.last.insert(track, value) != Some(value) {
                changed.push((track, value));
            }
        }
        changed
    }
}

/// Runs the notify scripts queued, one at a time, in order (keepalived starts them all at
/// once, and a quick BACKUP can overtake a slow MASTER script: #1055).
pub async fn run_in_order(mut queue: mpsc::UnboundedReceiver<tokio::process::Command>) {
    while let Some(mut cmd) = queue.recv().await {
        if let Ok(mut child) = cmd.spawn() {
            let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
        }
    }
}
