//! The daemon: keepalived's checker process. It runs each real server's checks on their
//! timers, feeds the outcomes to the [`checker::Machine`], and keeps the kernel's IPVS table
//! as the machine says, repairing drift every `delay_loop`; SIGHUP reloads the file as a
//! difference, SIGTERM removes what it added (unless `-I`), and `lvsd status` asks it over
//! its control socket what it knows.
//!
//! Everything runs on one thread: the checks are asynchronous I/O, the IPVS requests are
//! few and quick (a health change is a request or two; the periodic read of the table is one
//! dump).

mod control;
mod files;
mod kernel;
mod log;
mod metrics;
mod paths;
mod ready;
mod scripts;
mod status;
mod vrrp;

pub use control::status_command;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use checker::{Event, Machine, Micros};
use keepalived::check::checker::Method;
use keepalived::{Options, Reading};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use kernel::{Kernel, Owned};
use log::Log;
use lvsd::args::Args;
use lvsd::probe::Probe;

type Checker = Machine<Arc<Probe>>;

/// A configuration ready to run: the checker made from it.
struct Loaded {
    machine: Checker,
    /// What the file asks for that lvsd does not do, to log.
    not_done: Vec<String>,
    /// The shortest `delay_loop`: how often the whole table is read again.
    resync: Duration,
}

struct Daemon {
    config: PathBuf,
    options: Options,
    log: Log,
    kernel: Kernel,
    loaded: Loaded,
    /// Bumped on each reload: outcomes of checks started before it are dropped.
    generation: u64,
    started: Instant,
    started_wall: SystemTime,
    scripts: scripts::Runner,
    /// `lvs_flush`.
    flush_at_start: bool,
    /// `lvs_flush_on_stop` without `VS`: the whole table goes at stop.
    flush_at_stop: bool,
    /// `lvs_timeouts`, as the configuration gives them.
    timeouts: keepalived::global::LvsTimeouts,
    /// What the VRRP part (if it runs) says of its instances.
    vrrp_status: status::SharedVrrp,
    ready: ready::Ready,
    /// `--metrics`: where to serve Prometheus's scrapes.
    metrics: Option<String>,
}

/// Runs the daemon with `args` until SIGTERM; the exit status. `-P` runs VRRP only, `-C` the
/// checkers only; otherwise both run, on one thread, when the file has them.
pub fn run(args: &Args, options: Options) -> ExitCode {
    let fail = |message: String| {
        eprintln!("lvsd: {message}");
        ExitCode::from(1)
    };
    let config = args
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from(lvsd::args::DEFAULT_CONFIG));
    // A reload must find the file after the daemon has left the directory it started in.
    let config = std::path::absolute(&config).unwrap_or(config);
    let reading = keepalived::read(&config, &options);
    if let Some(refusal) = refusal(&reading, &config) {
        return fail(refusal);
    }
    let has_vrrp = !reading.config.vrrp.instances.is_empty();
    let run_vrrp = !args.has("check") && has_vrrp;
    let run_check = !args.has("vrrp")
        && (args.has("check") || !has_vrrp || !reading.config.check.virtual_servers.is_empty());
    let loaded = if run_check {
        match load(&reading, 0) {
            Ok(l) => Some(l),
            Err(e) => return fail(e),
        }
    } else {
        None
    };
    let facility = args.value("log-facility").and_then(|f| f.parse().ok());
    let open_log = || {
        Log::new(
            args.has("log-console"),
            !args.has("no-syslog"),
            facility,
            args.value("log-file"),
        )
    };
    let mut logs = Vec::new();
    for _ in 0..usize::from(run_check) + usize::from(run_vrrp) {
        match open_log() {
            Ok(l) => logs.push(l),
            Err(e) => return fail(e),
        }
    }
    let vrrp_log = if run_vrrp { logs.pop() } else { None };
    let check_log = logs.pop();
    let paths = paths::Paths::new(args);
    if !args.has("dont-fork") {
        // Before any thread exists: only the calling thread survives a fork.
        if let Err(e) = nix::unistd::daemon(false, args.has("log-console")) {
            return fail(format!("cannot go to the background: {e}"));
        }
    }
    let pid = match paths.write_pid() {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    for failure in files::init(&reading.config) {
        eprintln!("lvsd: {failure}");
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start: {e}")),
    };
    let vrrp_status = status::SharedVrrp::default();
    let ready = ready::Ready::new(
        usize::from(loaded.is_some()) + usize::from(vrrp_log.is_some()),
        vrrp_log.is_some(),
    );
    let checker = match loaded.zip(check_log) {
        Some((loaded, log)) => {
            let kernel = match Kernel::open() {
                Ok(k) => k,
                Err(e) => return fail(e),
            };
            Some(Daemon {
                config: config.clone(),
                options: options.clone(),
                log,
                kernel,
                loaded,
                generation: 0,
                started: Instant::now(),
                started_wall: SystemTime::now(),
                scripts: scripts::Runner::new(&reading.config),
                flush_at_start: reading.config.global.lvs_flush,
                flush_at_stop: reading.config.global.lvs_flush_on_stop.as_deref() == Some("all"),
                timeouts: reading.config.global.lvs_timeouts.clone(),
                vrrp_status: vrrp_status.clone(),
                ready: ready.clone(),
                metrics: args.value("metrics").map(str::to_string),
            })
        }
        None => None,
    };
    let vrrp_part = vrrp_log.map(|log| (reading.config, log));
    // The checks and adverts run on this one thread, so they need not be Send.
    let local = tokio::task::LocalSet::new();
    let keep_ipvs = args.has("dont-release-ipvs");
    // The checker part answers the control socket when it runs; otherwise the VRRP part does.
    let vrrp_endpoints = checker.is_none().then(|| vrrp::Endpoints {
        control: paths.control.clone(),
        metrics: args.value("metrics").map(str::to_string),
    });
    let (to_checker, checker_reloads) = mpsc::unbounded_channel();
    let (to_vrrp, vrrp_reloads) = mpsc::unbounded_channel();
    let mut reloaders = Vec::new();
    if checker.is_some() {
        reloaders.push(to_checker);
    }
    if vrrp_part.is_some() {
        reloaders.push(to_vrrp);
    }
    let status = runtime.block_on(local.run_until(async {
        let checks = async {
            match checker {
                Some(d) => d.serve(&paths, keep_ipvs, checker_reloads).await,
                None => ExitCode::SUCCESS,
            }
        };
        let adverts = async {
            match vrrp_part {
                Some((model, log)) => {
                    let shared = vrrp_status.clone();
                    let ready = ready.clone();
                    vrrp::serve(vrrp::Start {
                        path: config.clone(),
                        options: options.clone(),
                        config: model,
                        log,
                        shared,
                        endpoints: vrrp_endpoints,
                        ready,
                        keep_vips: args.has("dont-release-vrrp"),
                        reloads: vrrp_reloads,
                    })
                    .await
                }
                None => ExitCode::SUCCESS,
            }
        };
        let parts = async { tokio::join!(checks, adverts) };
        // The reload path runs as long as the parts do.
        let (a, b) = tokio::select! {
            done = parts => done,
            never = ready::reload_path(ready.clone(), reloaders) => match never {},
        };
        if a == ExitCode::SUCCESS {
            b
        } else {
            a
        }
    }));
    let _ = std::fs::remove_file(pid);
    status
}

/// Whether the daemon (both parts) runs the file at `path`, or why not: `lvsd -t --runnable`,
/// which a unit runs before a start or a reload.
pub fn would_run(reading: &Reading, path: &Path) -> Result<(), String> {
    if let Some(refusal) = refusal(reading, path) {
        return Err(refusal);
    }
    if !reading.config.vrrp.instances.is_empty() {
        vrrp::runs(&reading.config)?;
    }
    if !reading.config.check.virtual_servers.is_empty() {
        load(reading, 0)?;
    }
    Ok(())
}

/// Why lvsd will not run a file as read: problems that change its meaning, or a file
/// keepalived itself would not start with.
fn refusal(reading: &Reading, path: &Path) -> Option<String> {
    let refused = reading
        .problems
        .iter()
        .filter(|p| p.changes_meaning())
        .count();
    if refused == 0 && reading.keepalived_starts() {
        return None;
    }
    let report = crate::report::problems(reading);
    Some(format!(
        "{} does not read as it is written ({refused} problems keepalived would run with \
         another meaning); lvsd runs it once they are fixed:\n{report}",
        path.display(),
    ))
}

/// The checker of a configuration read, or why it cannot run.
fn load(reading: &Reading, now: Micros) -> Result<Loaded, String> {
    let ssl = reading.config.check.ssl.as_ref();
    let script_user = &reading.config.global.script_user;
    let made = Machine::new(
        &reading.config,
        now,
        std::process::id().into(),
        |vs, rs, c| {
            match &c.method {
                Method::Smtp(smtp) if !smtp.hosts.is_empty() => Err(
                    "lvsd does not check SMTP_CHECK host blocks yet: give the server with \
                 connect_ip and connect_port"
                        .into(),
                ),
                // A MISC_CHECK without a user runs as script_user, as keepalived runs it.
                Method::Misc(misc) if misc.user.is_none() && script_user.is_some() => {
                    let mut c = c.clone();
                    if let Method::Misc(m) = &mut c.method {
                        m.user.clone_from(script_user);
                    }
                    Probe::new(vs, rs, &c, ssl).map(Arc::new)
                }
                _ => Probe::new(vs, rs, c, ssl).map(Arc::new),
            }
        },
    );
    let machine = made.map_err(|unsupported| {
        let lines: Vec<String> = unsupported
            .iter()
            .map(|u| {
                format!(
                    "{}:{}: {}",
                    reading.files.path(u.at).display(),
                    u.at.line,
                    u.message
                )
            })
            .collect();
        format!("lvsd cannot run these checkers:\n{}", lines.join("\n"))
    })?;
    let shortest = reading
        .config
        .check
        .virtual_servers
        .iter()
        .map(|vs| vs.delay_loop)
        .min()
        .unwrap_or(60_000_000);
    let mut not_done = Vec::new();
    for vs in &reading.config.check.virtual_servers {
        let at = format!("{}:{}", reading.files.path(vs.at).display(), vs.at.line);
        if vs.ha_suspend {
            not_done.push(format!(
                "{at}: ha_suspend is not acted on: the checks run whether the address is here or not"
            ));
        }
        if vs.smtp_alert == Some(true) {
            not_done.push(format!(
                "{at}: smtp_alert is not acted on: lvsd sends no mail"
            ));
        }
    }
    Ok(Loaded {
        machine,
        not_done,
        resync: Duration::from_micros(shortest.max(1_000_000)),
    })
}

/// The services and destinations a checker owns.
fn owned(m: &Checker) -> Owned {
    let mut out = Owned::new();
    for p in &m.pools {
        for key in &p.pool.keys {
            out.entry(*key).or_default().extend(p.named(key));
        }
    }
    out
}

impl Daemon {
    /// Microseconds since the daemon started: the machine's clock.
    fn now(&self) -> Micros {
        self.started.elapsed().as_micros() as Micros
    }

    async fn serve(
        mut self,
        paths: &paths::Paths,
        keep_ipvs: bool,
        mut reloads: ready::Reloads,
    ) -> ExitCode {
        let listener = match control::listen(&paths.control) {
            Ok(l) => l,
            Err(e) => {
                self.log.line(&e);
                return ExitCode::from(1);
            }
        };
        let scrapes = match &self.metrics {
            Some(a) => match metrics::listen(a).await {
                Ok(l) => Some(l),
                Err(e) => {
                    self.log.line(&e);
                    return ExitCode::from(1);
                }
            },
            None => None,
        };
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            self.log.line("cannot catch signals");
            return ExitCode::from(1);
        };
        self.log.line(&format!(
            "lvsd {} started on {}: {} virtual servers, {} checks",
            env!("CARGO_PKG_VERSION"),
            self.config.display(),
            self.loaded.machine.pools.len(),
            self.loaded.machine.checks.len()
        ));
        for line in self.loaded.not_done.clone() {
            self.log.line(&line);
        }
        self.read_files(true);
        if self.flush_at_start {
            if let Err(e) = self.kernel.flush() {
                self.log.line(&e);
            }
        }
        self.timeouts(false);
        self.resync("at start");
        self.after_change();
        self.ready.part_ready();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut resync = tokio::time::interval(self.loaded.resync);
        resync.reset();
        // keepalived is told of a changed file by inotify; reading them each second is as
        // good for a handful of files, and simpler.
        let mut watch = tokio::time::interval(Duration::from_secs(1));
        loop {
            let now = self.now();
            for id in self.loaded.machine.due(now) {
                let probe = Arc::clone(&self.loaded.machine.checks[id].probe);
                let (tx, generation, started) = (tx.clone(), self.generation, self.started);
                tokio::task::spawn_local(async move {
                    let outcome = probe.run().await;
                    // When it ended, not when the loop gets to it: the next check is timed
                    // from there, so a busy moment does not bunch the checks together.
                    let ended = started.elapsed().as_micros() as Micros;
                    let _ = tx.send((generation, id, outcome, ended));
                });
            }
            let wake = self
                .loaded
                .machine
                .next_due()
                .map_or(Duration::from_secs(3600), |due| {
                    Duration::from_micros(due.saturating_sub(now))
                });
            tokio::select! {
                _ = tokio::time::sleep(wake) => {}
                Some((generation, id, outcome, ended)) = rx.recv() => {
                    if generation == self.generation {
                        self.loaded.machine.finished(id, outcome, ended);
                        self.after_change();
                    }
                }
                _ = resync.tick() => self.resync("drift"),
                _ = watch.tick(), if !self.loaded.machine.files.is_empty() => {
                    self.read_files(false);
                    self.after_change();
                }
                Some(ack) = reloads.recv() => {
                    // A refused file leaves the running one: done either way.
                    self.reload();
                    let _ = ack.send(());
                    resync = tokio::time::interval(self.loaded.resync);
                    resync.reset();
                }
                _ = term.recv() => break,
                _ = int.recv() => break,
                accepted = listener.accept() => {
                    if let Ok((stream, _)) = accepted {
                        let status = status::Status::of(&self.loaded.machine, self.now(), self.started_wall, &self.vrrp_status);
                        // A slow client holds up nothing but its own answer.
                        tokio::task::spawn_local(control::answer(stream, status));
                    }
                }
                Some(stream) = metrics::accept(scrapes.as_ref()) => {
                    let status = status::Status::of(&self.loaded.machine, self.now(), self.started_wall, &self.vrrp_status);
                    tokio::task::spawn_local(metrics::answer(stream, status));
                }
            }
        }
        self.ready.stopping();
        self.ready.vrrp_released().await;
        self.stop(keep_ipvs);
        let _ = std::fs::remove_file(&paths.control);
        ExitCode::SUCCESS
    }

    /// Sets `lvs_timeouts`; on a reload that dropped them, the kernel's defaults again, as
    /// keepalived does.
    fn timeouts(&mut self, reload: bool) {
        let t = &self.timeouts;
        let set = match (t.tcp, t.tcpfin, t.udp) {
            (None, None, None) if reload => ipvs::Timeouts {
                tcp: 900,
                tcp_fin: 120,
                udp: 300,
            },
            (None, None, None) => return,
            (tcp, fin, udp) => ipvs::Timeouts {
                tcp: tcp.unwrap_or(0),
                tcp_fin: fin.unwrap_or(0),
                udp: udp.unwrap_or(0),
            },
        };
        if let Err(e) = self.kernel.set_timeouts(&set) {
            self.log.line(&e);
        }
    }

    /// Reads the files of the `FILE_CHECK`s into the machine.
    fn read_files(&mut self, start: bool) {
        let now = self.now();
        for id in 0..self.loaded.machine.files.len() {
            if let Some(v) = files::read_value(&self.loaded.machine.files[id].path) {
                self.loaded.machine.file_value(id, v, now, start);
            }
        }
    }

    /// Logs and runs what the machine said, and puts the pools that changed in the kernel.
    fn after_change(&mut self) {
        for event in self.loaded.machine.events() {
            match event {
                Event::Log(line) => self.log.line(&line),
                Event::Run(script) => {
                    if let Err(e) = self.scripts.run(&script) {
                        self.log.line(&e);
                    }
                }
            }
        }
        let dirty = self.loaded.machine.take_dirty();
        if dirty.is_empty() {
            return;
        }
        let machine = &self.loaded.machine;
        let entries: Vec<_> = dirty
            .iter()
            .flat_map(|&p| machine.pools[p].entries(&machine.checks, &machine.files))
            .collect();
        self.update(&entries, &[]);
    }

    /// Puts `entries` in the kernel and deletes the services `gone`, from what was last put
    /// in; reads the kernel and repairs it when a change is refused.
    fn update(&mut self, entries: &[ipvs::table::Entry], gone: &[ipvs::ServiceKey]) {
        if let Err(refused) = self.kernel.update(entries, gone) {
            for f in &refused.failures {
                self.log.line(&format!("IPVS refused a change: {f}"));
            }
            // The kernel is not what was last put in: read it and repair.
            self.resync("after a refused change");
        }
    }

    /// Reads the kernel's table and repairs what differs from what the checker says.
    fn resync(&mut self, why: &str) {
        let machine = &self.loaded.machine;
        let desired = machine.table();
        self.sync(&desired, &owned(machine), why);
    }

    fn sync(&mut self, desired: &[ipvs::table::Entry], owned: &Owned, why: &str) {
        match self.kernel.sync(desired, owned) {
            Ok(done) => {
                if done.requests > 0 && why == "drift" {
                    self.log.line(&format!(
                        "the IPVS table had drifted from the configuration: {} changes put it back",
                        done.requests
                    ));
                }
                for f in done.failures {
                    self.log
                        .line(&format!("IPVS refused a change ({why}): {f}"));
                }
            }
            Err(e) => self.log.line(&e),
        }
    }

    /// SIGHUP: the file read again and, if it reads cleanly, applied as a difference; else
    /// the running configuration stays.
    fn reload(&mut self) {
        let reading = keepalived::read(&self.config, &self.options);
        let now = self.now();
        let loaded = match refusal(&reading, &self.config) {
            Some(refusal) => Err(refusal),
            None => load(&reading, now),
        };
        let mut loaded = match loaded {
            Ok(l) => l,
            Err(e) => {
                self.log.line(&format!(
                    "reload refused, the running configuration stays: {e}"
                ));
                return;
            }
        };
        for failure in files::init(&reading.config) {
            self.log.line(&failure);
        }
        for line in &loaded.not_done {
            self.log.line(line);
        }
        loaded.machine.inherit(&self.loaded.machine, now);
        let new_owned = owned(&loaded.machine);
        let gone: Vec<_> = owned(&self.loaded.machine)
            .into_keys()
            .filter(|k| !new_owned.contains_key(k))
            .collect();
        self.loaded = loaded;
        self.generation += 1;
        self.scripts = scripts::Runner::new(&reading.config);
        self.flush_at_stop = reading.config.global.lvs_flush_on_stop.as_deref() == Some("all");
        let timeouts_changed = self.timeouts != reading.config.global.lvs_timeouts;
        self.timeouts = reading.config.global.lvs_timeouts.clone();
        if timeouts_changed {
            self.timeouts(true);
        }
        self.read_files(false);
        // The difference from what was put in last (every pool of the new machine is new to
        // it, so after_change puts each); the next drift check reads the kernel.
        self.update(&[], &gone);
        self.log.line(&format!(
            "reloaded {}: {} virtual servers, {} checks, {} services removed",
            self.config.display(),
            self.loaded.machine.pools.len(),
            self.loaded.machine.checks.len(),
            gone.len()
        ));
        self.after_change();
    }

    fn stop(&mut self, keep_ipvs: bool) {
        if keep_ipvs {
            self.log.line("stopping; the IPVS table stays (-I)");
            return;
        }
        if self.flush_at_stop {
            match self.kernel.flush() {
                Ok(()) => self
                    .log
                    .line("stopped: the IPVS table flushed (lvs_flush_on_stop)"),
                Err(e) => self.log.line(&e),
            }
            return;
        }
        let keys: Vec<_> = owned(&self.loaded.machine).into_keys().collect();
        let done = self.kernel.release(keys);
        for f in done.failures {
            self.log.line(&format!("IPVS refused a change (stop): {f}"));
        }
        self.log
            .line(&format!("stopped: {} services removed", done.requests));
    }
}
