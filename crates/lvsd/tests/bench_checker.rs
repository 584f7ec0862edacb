//! The checker benchmark (not a test): run inside the VM by `tests/bench/lvsd`, it runs
//! keepalived 2.2.7's checker (`keepalived -C`) and `lvsd -C` on the same configurations, one
//! at a time, each in a network namespace of its own, and prints a Markdown report. See
//! BENCHMARKS.md, "lvsd against keepalived: health checks and reload".
//!
//! Arguments (all optional): `--reals N` (real servers under HTTP_GET, default 10000),
//! `--delay-loop S` (their delay_loop, default 30: under the VM's emulation keepalived spends
//! about half a CPU on 200 checks a second, so 10,000 real servers at delay_loop 1 cannot be
//! checked on 2 vCPUs), `--small N` (the second size memory is measured at, default 2500),
//! `--window S` (seconds of checking measured, default 60), `--failures K` (failure reactions
//! timed per daemon, default 3), `--reload-services N` (virtual servers of 20 real servers in
//! the reload measurement, default 2000), `--timeout S` (the longest a daemon may take to
//! settle, to stop, or to apply a reload, default 600).
//!
//! Progress goes to stderr prefixed with `bench: `; the report goes to stdout.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ipvs::{Client, Protocol, ServiceKey};

const KEEPALIVED: &str = "/usr/sbin/keepalived";
const LVSD: &str = "/work/bin/lvsd";
const IPVSADM: &str = "/usr/sbin/ipvsadm";
const IP: &str = "/usr/bin/ip";
/// Real servers per virtual server.
const PER_VS: usize = 20;
/// The HTTP_GET settings of the brief; the failure bound follows from them and delay_loop.
const RETRY: u64 = 1;
const DELAY_BEFORE_RETRY: u64 = 1;
const CONNECT_TIMEOUT: u64 = 2;
/// How often the table is read while waiting for a change.
const POLL: Duration = Duration::from_millis(10);
/// Threads answering the real servers' checks: enough that a slow client never holds up the
/// others for long, few enough not to matter on 2 CPUs.
const RESPONDERS: usize = 8;
/// Seconds of checking let pass after the table is full and every real server was checked
/// once, so that the window measures the steady state, not the first round's burst.
const WARM_UP: Duration = Duration::from_secs(5);

struct Options {
    reals: usize,
    delay_loop: u64,
    small: usize,
    window: Duration,
    failures: usize,
    reload_services: usize,
    timeout: Duration,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        reals: 10_000,
        delay_loop: 30,
        small: 2_500,
        window: Duration::from_secs(60),
        failures: 3,
        reload_services: 2_000,
        timeout: Duration::from_secs(600),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let [flag, value] = pair else {
            return Err(format!("{} needs a value", pair[0]));
        };
        let n: usize = value
            .parse()
            .map_err(|_| format!("{flag}: {value} is not a number"))?;
        match flag.as_str() {
            "--reals" => o.reals = n,
            "--delay-loop" => o.delay_loop = n as u64,
            "--small" => o.small = n,
            "--window" => o.window = Duration::from_secs(n as u64),
            "--failures" => o.failures = n,
            "--reload-services" => o.reload_services = n,
            "--timeout" => o.timeout = Duration::from_secs(n as u64),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    // Every real server has an address of its own in 198.18.0.0/16 (the local route), plus
    // one new address per changed virtual server in the reload.
    let most = o
        .reals
        .max(o.reload_services * PER_VS + o.reload_services / 100);
    let multiples = o.reals % PER_VS == 0 && o.small % PER_VS == 0 && o.small > 0;
    if most >= 65_000 || !multiples || o.delay_loop == 0 {
        return Err(format!(
            "sizes must be multiples of {PER_VS} real servers and fit 198.18.0.0/16"
        ));
    }
    Ok(o)
}

fn progress(what: &str) {
    eprintln!("bench: {what}");
}

fn real_addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::from(0xc612_0001 + i as u32) // 198.18.0.1 on
}

fn virtual_addr(v: usize) -> Ipv4Addr {
    Ipv4Addr::from(0xc613_0001 + v as u32) // 198.19.0.1 on
}

/// Virtual servers with their real servers and weights.
type Layout = Vec<(Ipv4Addr, Vec<(Ipv4Addr, u32)>)>;

/// `services` virtual servers of 20 real servers each; with `changed`, the 1 % change of the
/// reload: every hundredth virtual server loses its first real server, gives its second
/// weight 2 and gets a real server at a new address.
fn layout(services: usize, changed: bool) -> Layout {
    (0..services)
        .map(|v| {
            let mut reals: Vec<(Ipv4Addr, u32)> = (0..PER_VS)
                .map(|j| (real_addr(v * PER_VS + j), 1))
                .collect();
            if changed && v % 100 == 0 {
                reals.remove(0);
                reals[0].1 = 2;
                reals.push((real_addr(services * PER_VS + v / 100), 1));
            }
            (virtual_addr(v), reals)
        })
        .collect()
}

/// keepalived.conf for a layout, every real server under the brief's HTTP_GET or unchecked.
fn config(layout: &Layout, delay_loop: u64, checked: bool) -> String {
    let check = format!(
        "    HTTP_GET {{\n      url {{\n        path /\n        status_code 200\n      }}\n      \
         connect_timeout {CONNECT_TIMEOUT}\n      retry {RETRY}\n      \
         delay_before_retry {DELAY_BEFORE_RETRY}\n    }}\n"
    );
    let mut s = String::from("global_defs {\n  router_id bench\n}\n");
    for (vip, reals) in layout {
        s += &format!(
            "virtual_server {vip} 80 {{\n  delay_loop {delay_loop}\n  lb_algo rr\n  \
             lb_kind NAT\n  protocol TCP\n"
        );
        for (rip, weight) in reals {
            s += &format!("  real_server {rip} 80 {{\n    weight {weight}\n");
            if checked {
                s += &check;
            }
            s += "  }\n";
        }
        s += "}\n";
    }
    s
}

/// The layout as `ipvsadm -S -n` lists it, sorted.
fn expected_table(layout: &Layout) -> Vec<String> {
    let mut lines = Vec::new();
    for (vip, reals) in layout {
        lines.push(format!("-A -t {vip}:80 -s rr"));
        for (rip, weight) in reals {
            lines.push(format!("-a -t {vip}:80 -r {rip}:80 -m -w {weight}"));
        }
    }
    lines.sort();
    lines
}

/// Runs a program to completion; its stdout, or why it failed.
fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Waits until `done` says yes, checking every `every`; how long that took, or an error
/// naming `what` once `timeout` has passed. `done` may fail, which ends the wait at once.
fn wait_until(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut done: impl FnMut() -> Result<bool, String>,
) -> Result<Duration, String> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if done()? {
            return Ok(started.elapsed());
        }
        std::thread::sleep(every);
    }
    Err(format!("{what}: not within {} s", timeout.as_secs()))
}

/// A network namespace with the real servers' range routed to its loopback; deleted on drop.
struct Netns {
    name: String,
    handle: File,
}

impl Netns {
    fn new(name: &str) -> Result<Netns, String> {
        run(Command::new(IP).args(["netns", "add", name]))?;
        // From here on, Drop deletes it even if the rest fails.
        let handle =
            File::open(format!("/run/netns/{name}")).map_err(|e| format!("{name}: {e}"))?;
        let ns = Netns {
            name: name.to_string(),
            handle,
        };
        run(Command::new(IP).args(["-n", name, "link", "set", "lo", "up"]))?;
        run(Command::new(IP).args([
            "-n",
            name,
            "route",
            "add",
            "local",
            "198.18.0.0/16",
            "dev",
            "lo",
        ]))?;
        Ok(ns)
    }

    /// A command run in the namespace: cheaper than `ip netns exec` (no mount namespace,
    /// no remount of /sys), which matters for ipvsadm started every 10 ms.
    fn command(&self, program: &str) -> Command {
        let fd = self.handle.as_raw_fd();
        let mut cmd = Command::new(program);
        // SAFETY: setns is a plain system call, safe between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(fd, libc::CLONE_NEWNET) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
        cmd
    }

    /// `ipvsadm -S -n [ARGS]` in the namespace.
    fn table(&self, args: &[&str]) -> Result<String, String> {
        run(self.command(IPVSADM).args(["-S", "-n"]).args(args))
    }

    fn destinations(&self) -> Result<usize, String> {
        Ok(self
            .table(&[])?
            .lines()
            .filter(|l| l.starts_with("-a "))
            .count())
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = run(Command::new(IP).args(["netns", "del", &self.name]));
    }
}

/// A netlink client of IPVS made inside a namespace (a socket stays in the namespace it was
/// made in): a service's destinations in well under a millisecond, where starting ipvsadm
/// under emulation takes tens of them, so a 10 ms poll means 10 ms.
struct Watcher {
    client: Client,
}

impl Watcher {
    fn new(ns: &Netns) -> Result<Watcher, String> {
        let client = in_namespace(ns, || Client::connect().map_err(|e| e.to_string()))?;
        Ok(Watcher { client })
    }

    /// The destinations of virtual server `vip` port 80 with their weights, sorted; empty
    /// when there is no such service.
    fn reals(&mut self, vip: Ipv4Addr) -> Vec<(Ipv4Addr, u32)> {
        let key = ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: vip.into(),
            port: 80,
        };
        let mut out: Vec<(Ipv4Addr, u32)> = self
            .client
            .destinations(&key)
            .unwrap_or_default()
            .iter()
            .filter_map(|d| match d.addr {
                std::net::IpAddr::V4(a) => Some((a, d.weight)),
                std::net::IpAddr::V6(_) => None,
            })
            .collect();
        out.sort();
        out
    }
}

/// Runs `make` on a short-lived thread moved into the namespace, so that what it opens
/// (sockets) belongs there while the benchmark itself stays where it is.
fn in_namespace<T: Send>(
    ns: &Netns,
    make: impl FnOnce() -> Result<T, String> + Send,
) -> Result<T, String> {
    let fd = ns.handle.as_raw_fd();
    std::thread::scope(|s| {
        s.spawn(move || {
            // SAFETY: setns moves only the calling thread, which ends after `make`.
            if unsafe { libc::setns(fd, libc::CLONE_NEWNET) } != 0 {
                return Err(format!("setns: {}", std::io::Error::last_os_error()));
            }
            make()
        })
        .join()
        .unwrap_or_else(|_| Err("a thread in the namespace panicked".to_string()))
    })
}

/// What the responders share: a count of the requests answered, and the real server
/// addresses that answer 500.
struct Shared {
    stop: AtomicBool,
    requests: AtomicU64,
    failing: RwLock<HashSet<Ipv4Addr>>,
}

/// The one HTTP/1.0 responder behind every real server, bound to 0.0.0.0:80 in a namespace
/// where 198.18.0.0/16 is local.
struct Responder {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Responder {
    fn start(ns: &Netns) -> Result<Responder, String> {
        let listener = bind_in(ns)?;
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            failing: RwLock::new(HashSet::new()),
        });
        let mut threads = Vec::new();
        for _ in 0..RESPONDERS {
            let listener = listener.try_clone().map_err(|e| e.to_string())?;
            let shared = Arc::clone(&shared);
            threads.push(std::thread::spawn(move || accept_loop(&listener, &shared)));
        }
        Ok(Responder { shared, threads })
    }

    fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    fn fail(&self, addr: Ipv4Addr) {
        if let Ok(mut f) = self.shared.failing.write() {
            f.insert(addr);
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The listening socket on 0.0.0.0:80 in the namespace.
fn bind_in(ns: &Netns) -> Result<TcpListener, String> {
    let listen = || -> std::io::Result<TcpListener> {
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
        sock.set_reuse_address(true)?;
        sock.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, 80)).into())?;
        // A round of checks may arrive at once: a backlog as deep as the kernel allows.
        sock.listen(4096)?;
        // accept() honours the receive timeout: the responders see `stop` within it.
        sock.set_read_timeout(Some(Duration::from_millis(200)))?;
        Ok(sock.into())
    };
    in_namespace(ns, || {
        listen().map_err(|e| format!("the responder cannot listen on 0.0.0.0:80: {e}"))
    })
}

fn accept_loop(listener: &TcpListener, shared: &Shared) {
    while !shared.stop.load(Ordering::Relaxed) {
        // Time-outs, and errors such as a full file table, are retried until told to stop.
        if let Ok((stream, _)) = listener.accept() {
            answer(stream, shared);
        }
    }
}

/// Reads one request (up to its blank line) and answers 200, or 500 for a failing address.
fn answer(mut stream: TcpStream, shared: &Shared) {
    let limit = Some(Duration::from_secs(2));
    if stream.set_read_timeout(limit).is_err() || stream.set_write_timeout(limit).is_err() {
        return;
    }
    let mut buf = [0u8; 4096];
    let mut len = 0;
    while !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf[len..]) {
            Ok(0) | Err(_) => return,
            Ok(n) => len += n,
        }
        if len == buf.len() {
            return;
        }
    }
    let failing = match stream.local_addr() {
        Ok(SocketAddr::V4(a)) => shared.failing.read().is_ok_and(|f| f.contains(a.ip())),
        _ => false,
    };
    let reply: &[u8] = if failing {
        b"HTTP/1.0 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nfail"
    } else {
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"
    };
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let _ = stream.write_all(reply);
}

#[derive(Clone, Copy, PartialEq)]
enum Program {
    Keepalived,
    Lvsd,
}

impl Program {
    fn name(self) -> &'static str {
        match self {
            Program::Keepalived => "keepalived",
            Program::Lvsd => "lvsd",
        }
    }
}

/// A checker daemon started in a namespace with `ip netns exec`, in the foreground; stopped
/// (its whole process tree) on drop if it was not stopped before.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(ns: &Netns, program: Program, conf: &str, tag: &str) -> Result<Daemon, String> {
        let pid = format!("/tmp/{tag}.pid");
        let log = PathBuf::from(format!("/tmp/{tag}.log"));
        let out = File::create(&log).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(IP);
        cmd.args(["netns", "exec", &ns.name]);
        match program {
            Program::Keepalived => {
                let checker = format!("/tmp/{tag}.checker.pid");
                cmd.args([KEEPALIVED, "-C", "-n", "-l", "-G", "-f", conf])
                    .args(["-p", &pid, "-c", &checker])
            }
            Program::Lvsd => cmd.args([LVSD, "-C", "-n", "-l", "-G", "-f", conf, "-p", &pid]),
        };
        // `ip netns exec` executes the daemon in its own place: the child is the daemon.
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("{}: {e}", program.name()))?;
        Ok(Daemon { child, log })
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// An error with the end of the daemon's log if it has exited.
    fn alive(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!("the daemon exited ({status}):\n{}", self.tail())),
            Err(e) => Err(e.to_string()),
        }
    }

    fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid, which we have not reaped.
        unsafe { libc::kill(self.pid(), sig) };
    }

    /// SIGTERM and a wait for the exit (the daemons remove their table first); SIGKILL for
    /// the whole tree after `timeout`.
    fn stop(&mut self, timeout: Duration) -> Result<Duration, String> {
        let tree = process_tree(self.pid());
        self.signal(libc::SIGTERM);
        let waited = wait_until("stop after SIGTERM", timeout, POLL, || {
            Ok(self.child.try_wait().map_err(|e| e.to_string())?.is_some())
        });
        if waited.is_err() {
            kill_all(&tree);
            let _ = self.child.wait();
        }
        waited
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            kill_all(&process_tree(self.pid()));
            let _ = self.child.wait();
        }
    }
}

fn kill_all(pids: &[i32]) {
    for &p in pids {
        // SAFETY: kill(2); the pids are the daemon's tree, read just before.
        unsafe { libc::kill(p, libc::SIGKILL) };
    }
}

/// A process and its descendants, from /proc/PID/task/TID/children.
fn process_tree(root: i32) -> Vec<i32> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let pid = out[i];
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten();
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            out.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<i32>().ok()),
            );
        }
        i += 1;
    }
    out
}

/// CPU time in seconds, split as the kernel accounts it.
#[derive(Clone, Copy, Default)]
struct Cpu {
    user: f64,
    system: f64,
}

/// The CPU time of the processes, all their threads, and their children already reaped:
/// utime + cutime and stime + cstime of /proc/PID/stat.
fn cpu(pids: &[i32]) -> Cpu {
    // SAFETY: sysconf has no preconditions.
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let mut total = Cpu::default();
    for p in pids {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        // The fields after the command name, which may hold spaces, end with ')'; the
        // state (field 3) is the first, so utime (field 14) is at index 11.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<f64> = rest
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(0.0))
            .collect();
        if f.len() > 14 {
            total.user += (f[11] + f[13]) / tick;
            total.system += (f[12] + f[14]) / tick;
        }
    }
    total
}

/// The sum over the processes of a /proc/PID/status field in KiB (VmHWM, VmRSS).
fn memory(pids: &[i32], field: &str) -> u64 {
    pids.iter()
        .map(|p| {
            let status = std::fs::read_to_string(format!("/proc/{p}/status")).unwrap_or_default();
            status
                .lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
}

/// What one daemon did under the checking load.
struct Load {
    settle: Duration,
    checks_per_second: f64,
    /// The most requests the responder answered in one second of the window.
    busiest: u64,
    cpu_per_minute: Cpu,
    peak_kib: u64,
    in_table_after: usize,
    /// Time from the first 500 to the destination's removal, `None` when not removed in time.
    reactions: Vec<Option<Duration>>,
}

/// Starts `program` on `reals` real servers under HTTP_GET, waits until it settles, measures
/// a window of checking, then times `failures` failure reactions.
fn check_load(
    program: Program,
    reals: usize,
    failures: usize,
    o: &Options,
) -> Result<Load, String> {
    let tag = format!("{}-{reals}", program.name());
    progress(&format!("{tag}: checking load"));
    let ns = Netns::new(&tag)?;
    let responder = Responder::start(&ns)?;
    let mut watcher = Watcher::new(&ns)?;
    let services = reals / PER_VS;
    let plan = layout(services, false);
    let conf = format!("/tmp/{tag}.conf");
    std::fs::write(&conf, config(&plan, o.delay_loop, true)).map_err(|e| e.to_string())?;
    let mut daemon = Daemon::start(&ns, program, &conf, &tag)?;
    // Settled: every real server in the table and checked at least once. (A poll a second:
    // ipvsadm -S -n of the whole table takes seconds under emulation.)
    let what = format!("{tag}: settling");
    let settle = wait_until(&what, o.timeout, Duration::from_secs(1), || {
        daemon.alive()?;
        Ok(responder.requests() >= reals as u64 && ns.destinations()? == reals)
    })?;
    std::thread::sleep(WARM_UP);
    daemon.alive()?;
    let tree = process_tree(daemon.pid());
    let (cpu0, requests0, t0) = (cpu(&tree), responder.requests(), Instant::now());
    let busiest = busiest_second(&responder, o.window);
    let (cpu1, requests1, elapsed) = (cpu(&tree), responder.requests(), t0.elapsed());
    daemon.alive()?;
    let minutes = elapsed.as_secs_f64() / 60.0;
    let peak_kib = memory(&process_tree(daemon.pid()), "VmHWM:");
    let in_table_after = ns.destinations()?;
    let mut reactions = Vec::new();
    for k in 0..failures {
        let v = k * services / failures;
        reactions.push(reaction(&mut watcher, &responder, &plan[v], k, o)?);
    }
    let load = Load {
        settle,
        checks_per_second: (requests1 - requests0) as f64 / elapsed.as_secs_f64(),
        busiest,
        cpu_per_minute: Cpu {
            user: (cpu1.user - cpu0.user) / minutes,
            system: (cpu1.system - cpu0.system) / minutes,
        },
        peak_kib,
        in_table_after,
        reactions,
    };
    daemon.stop(o.timeout)?;
    progress(&format!(
        "{tag}: settled in {:.1} s, {:.0} checks/s, {:.2} CPU s/min, reactions {:?}",
        load.settle.as_secs_f64(),
        load.checks_per_second,
        load.cpu_per_minute.user + load.cpu_per_minute.system,
        load.reactions
    ));
    Ok(load)
}

/// Waits `window` (whole seconds) and returns the most requests answered in one of them:
/// whether the checks are spread over delay_loop or come in bursts.
fn busiest_second(responder: &Responder, window: Duration) -> u64 {
    let started = Instant::now();
    let mut last = responder.requests();
    let mut most = 0;
    for second in 1..=window.as_secs() {
        // Sleeps to the next whole second of the window, so the seconds do not drift.
        let next = Duration::from_secs(second);
        std::thread::sleep(next.saturating_sub(started.elapsed()));
        let now = responder.requests();
        most = most.max(now - last);
        last = now;
    }
    most
}

/// The failure bound: a failure is seen at the next check (within delay_loop), then retried
/// `retry` times `delay_before_retry` apart. The responder answers 500 at once, so the
/// connect timeout never runs.
fn bound(o: &Options) -> Duration {
    Duration::from_secs(o.delay_loop + RETRY * DELAY_BEFORE_RETRY)
}

/// Makes real server `k` (modulo 20) of a virtual server answer 500 and times how long until
/// it is gone from the service's destinations.
fn reaction(
    watcher: &mut Watcher,
    responder: &Responder,
    (vip, reals): &(Ipv4Addr, Vec<(Ipv4Addr, u32)>),
    k: usize,
    o: &Options,
) -> Result<Option<Duration>, String> {
    let rip = reals[k % reals.len()].0;
    let present = |w: &mut Watcher| w.reals(*vip).iter().any(|(a, _)| *a == rip);
    if !present(watcher) {
        return Err(format!("{rip} is not in {vip}:80 before it fails"));
    }
    responder.fail(rip);
    let limit = bound(o) * 2 + Duration::from_secs(10);
    Ok(wait_until("removal", limit, POLL, || Ok(!present(watcher))).ok())
}

/// What one daemon did with the reload.
struct Reload {
    start: Duration,
    reload: Duration,
    /// Whether the whole table was right when the changed services first were.
    whole_at_once: bool,
    rss_before: u64,
    rss_after: u64,
    peak: u64,
}

/// `ipvsadm -S -n` sorted, and whether it is `expected`.
fn table_is(ns: &Netns, expected: &[String]) -> Result<bool, String> {
    let mut lines: Vec<String> = ns.table(&[])?.lines().map(str::to_string).collect();
    lines.sort();
    Ok(lines == expected)
}

/// Starts `program` on the reload's table (unchecked real servers), rewrites the file with
/// the 1 % change and times SIGHUP until the kernel's table is the new one.
fn reload(program: Program, o: &Options) -> Result<Reload, String> {
    let tag = format!("{}-reload", program.name());
    progress(&format!("{tag}: {} virtual servers", o.reload_services));
    let ns = Netns::new(&tag)?;
    let mut watcher = Watcher::new(&ns)?;
    let (before, after) = (
        layout(o.reload_services, false),
        layout(o.reload_services, true),
    );
    let conf = format!("/tmp/{tag}.conf");
    std::fs::write(&conf, config(&before, o.delay_loop, false)).map_err(|e| e.to_string())?;
    let first = expected_table(&before);
    let mut daemon = Daemon::start(&ns, program, &conf, &tag)?;
    let every = Duration::from_secs(1);
    let start = wait_until(&format!("{tag}: start"), o.timeout, every, || {
        daemon.alive()?;
        table_is(&ns, &first)
    })
    .map_err(|e| format!("{e}\n{}", diff_sample(&ns, &first)))?;
    // Let start-up work that does not show in the table (first resyncs, logs) finish.
    std::thread::sleep(Duration::from_secs(3));
    let rss_before = memory(&process_tree(daemon.pid()), "VmRSS:");
    // Renamed into place: the daemon never reads a half-written file.
    let next = format!("{conf}.new");
    std::fs::write(&next, config(&after, o.delay_loop, false)).map_err(|e| e.to_string())?;
    std::fs::rename(&next, &conf).map_err(|e| e.to_string())?;
    let changed: Vec<_> = after.iter().step_by(100).collect();
    let second = expected_table(&after);
    daemon.signal(libc::SIGHUP);
    let sighup = Instant::now();
    // The changed services polled through netlink every 10 ms; then the whole table through
    // ipvsadm (seconds per read at this size), polled in turn if it is not right yet.
    wait_until(&format!("{tag}: reload"), o.timeout, POLL, || {
        daemon.alive()?;
        Ok(changed.iter().all(|(vip, reals)| {
            let mut want = reals.clone();
            want.sort();
            watcher.reals(*vip) == want
        }))
    })?;
    let mut reload = sighup.elapsed();
    let whole_at_once = table_is(&ns, &second)?;
    if !whole_at_once {
        wait_until(&format!("{tag}: reload"), o.timeout, POLL, || {
            table_is(&ns, &second)
        })
        .map_err(|e| format!("{e}\n{}", diff_sample(&ns, &second)))?;
        reload = sighup.elapsed();
    }
    std::thread::sleep(Duration::from_secs(3));
    let tree = process_tree(daemon.pid());
    let (rss_after, peak) = (memory(&tree, "VmRSS:"), memory(&tree, "VmHWM:"));
    daemon.stop(o.timeout)?;
    progress(&format!(
        "{tag}: started in {:.2} s, reloaded in {:.2} s (whole table right at once: {whole_at_once})",
        start.as_secs_f64(),
        reload.as_secs_f64()
    ));
    Ok(Reload {
        start,
        reload,
        whole_at_once,
        rss_before,
        rss_after,
        peak,
    })
}

/// A few lines that differ between the table and what was expected, for the error message.
fn diff_sample(ns: &Netns, expected: &[String]) -> String {
    let Ok(text) = ns.table(&[]) else {
        return "(the table cannot be read)".to_string();
    };
    let have: HashSet<&str> = text.lines().collect();
    let want: HashSet<&str> = expected.iter().map(String::as_str).collect();
    let missing = want.difference(&have).take(5).copied().collect::<Vec<_>>();
    let extra = have.difference(&want).take(5).copied().collect::<Vec<_>>();
    format!(
        "{} lines in the table, {} expected; missing e.g. {missing:?}; unexpected e.g. {extra:?}",
        have.len(),
        want.len()
    )
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn ratio(theirs: f64, ours: f64) -> String {
    if ours > 0.0 {
        format!("{:.2}×", theirs / ours)
    } else {
        "–".to_string()
    }
}

fn row(metric: &str, theirs: &str, ours: &str, ratio: &str) {
    println!("| {metric} | {theirs} | {ours} | {ratio} |");
}

/// Median and largest of the reactions, and how many were not acted on in time (twice the
/// bound and 10 s, when the benchmark stops waiting).
fn reactions(r: &[Option<Duration>]) -> (String, f64) {
    let mut done: Vec<Duration> = r.iter().flatten().copied().collect();
    done.sort();
    let missed = r.len() - done.len();
    let (Some(median), Some(max)) = (done.get(done.len() / 2), done.last()) else {
        return (format!("none of {} removed in time", r.len()), 0.0);
    };
    let mut s = format!("{} / {}", secs(*median), secs(*max));
    if missed > 0 {
        s += &format!(" ({missed} of {} not removed in time)", r.len());
    }
    (s, max.as_secs_f64())
}

fn report(
    o: &Options,
    ka: &Load,
    ours: &Load,
    ka_small: &Load,
    ours_small: &Load,
    reloads: [&Reload; 2],
) {
    let n = o.reals;
    let cpu = |l: &Load| l.cpu_per_minute.user + l.cpu_per_minute.system;
    let split = |l: &Load| {
        format!(
            "{:.2} s ({:.2} user + {:.2} sys)",
            cpu(l),
            l.cpu_per_minute.user,
            l.cpu_per_minute.system
        )
    };
    let bound = bound(o).as_secs();
    println!("| metric | keepalived 2.2.7 | lvsd | keepalived / lvsd |\n|---|---|---|---|");
    row(
        &format!("settle: {n} real servers in the table, each checked once"),
        &secs(ka.settle),
        &secs(ours.settle),
        &ratio(ka.settle.as_secs_f64(), ours.settle.as_secs_f64()),
    );
    row(
        &format!(
            "checks per second at the responder ({n} real servers, delay_loop {})",
            o.delay_loop
        ),
        &format!("{:.0}", ka.checks_per_second),
        &format!("{:.0}", ours.checks_per_second),
        &ratio(ka.checks_per_second, ours.checks_per_second),
    );
    row(
        "the most checks the responder answered in one second of the window",
        &ka.busiest.to_string(),
        &ours.busiest.to_string(),
        &ratio(ka.busiest as f64, ours.busiest as f64),
    );
    row(
        &format!(
            "CPU seconds per minute of checking, {n} real servers ({} s window)",
            o.window.as_secs()
        ),
        &split(ka),
        &split(ours),
        &ratio(cpu(ka), cpu(ours)),
    );
    row(
        &format!(
            "CPU seconds per minute of checking, {} real servers",
            o.small
        ),
        &split(ka_small),
        &split(ours_small),
        &ratio(cpu(ka_small), cpu(ours_small)),
    );
    row(
        &format!("real servers still in the table after the window (of {n})"),
        &ka.in_table_after.to_string(),
        &ours.in_table_after.to_string(),
        "",
    );
    for (size, a, b) in [(o.small, ka_small, ours_small), (n, ka, ours)] {
        row(
            &format!("peak RSS (VmHWM, summed over the processes), {size} real servers"),
            &mib(a.peak_kib),
            &mib(b.peak_kib),
            &ratio(a.peak_kib as f64, b.peak_kib as f64),
        );
    }
    let slope = |big: &Load, small: &Load| {
        (big.peak_kib as f64 - small.peak_kib as f64) * 1024.0 / (n - o.small) as f64
    };
    row(
        &format!("memory per real server between {} and {n} (bytes)", o.small),
        &format!("{:.0}", slope(ka, ka_small)),
        &format!("{:.0}", slope(ours, ours_small)),
        &ratio(slope(ka, ka_small), slope(ours, ours_small)),
    );
    let (ka_r, ka_max) = reactions(&ka.reactions);
    let (our_r, our_max) = reactions(&ours.reactions);
    row(
        &format!(
            "failure reaction, median / max of {} (bound {bound} s: delay_loop + retry × delay_before_retry)",
            o.failures
        ),
        &ka_r,
        &our_r,
        &ratio(ka_max, our_max),
    );
    let [a, b] = reloads;
    let reals = o.reload_services * PER_VS;
    row(
        &format!(
            "start: {} × {PER_VS} = {reals} real servers, unchecked, in the table",
            o.reload_services
        ),
        &secs(a.start),
        &secs(b.start),
        &ratio(a.start.as_secs_f64(), b.start.as_secs_f64()),
    );
    let at_once = |r: &Reload| {
        if r.whole_at_once {
            ""
        } else {
            " (whole table later)"
        }
    };
    row(
        "reload (1 % changed): SIGHUP until the table is the new one",
        &format!("{}{}", secs(a.reload), at_once(a)),
        &format!("{}{}", secs(b.reload), at_once(b)),
        &ratio(a.reload.as_secs_f64(), b.reload.as_secs_f64()),
    );
    for (what, x, y) in [
        (
            "RSS (VmRSS, summed) before the reload",
            a.rss_before,
            b.rss_before,
        ),
        ("RSS after the reload", a.rss_after, b.rss_after),
        ("peak RSS (VmHWM, summed) after the reload", a.peak, b.peak),
    ] {
        row(
            &format!("{what}, {reals} real servers"),
            &mib(x),
            &mib(y),
            &ratio(x as f64, y as f64),
        );
    }
}

fn bench(o: &Options) -> Result<(), String> {
    let ka = check_load(Program::Keepalived, o.reals, o.failures, o)?;
    let ours = check_load(Program::Lvsd, o.reals, o.failures, o)?;
    let ka_small = check_load(Program::Keepalived, o.small, 0, o)?;
    let ours_small = check_load(Program::Lvsd, o.small, 0, o)?;
    let ka_reload = reload(Program::Keepalived, o)?;
    let our_reload = reload(Program::Lvsd, o)?;
    report(
        o,
        &ka,
        &ours,
        &ka_small,
        &ours_small,
        [&ka_reload, &our_reload],
    );
    Ok(())
}

fn main() {
    let started = Instant::now();
    let result = options().and_then(|o| bench(&o));
    progress(&format!("done in {:.0} s", started.elapsed().as_secs_f64()));
    if let Err(e) = result {
        eprintln!("bench_checker: {e}");
        std::process::exit(1);
    }
}
