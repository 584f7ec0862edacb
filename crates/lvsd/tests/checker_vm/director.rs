//! The two directors: the real keepalived's checker and the program under test, started the
//! same way on the same configuration, each in its own namespace, and their IPVS tables read
//! with the real ipvsadm.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::net::{self, Net};

/// What runs a director.
#[derive(Clone, Copy)]
pub enum Program {
    Keepalived,
    Lvsd,
}

/// Director B. Director A is always keepalived: with B lvsd the comparison is lvsd's health
/// checking against keepalived's (with B a second keepalived it proves the rig itself).
pub const DIRECTOR_B: Program = Program::Lvsd;

impl Program {
    fn name(self) -> &'static str {
        match self {
            Program::Keepalived => "keepalived",
            Program::Lvsd => "lvsd",
        }
    }

    /// lvsd's control socket in the director's directory, so that tests run side by side.
    fn own_args(self, dir: &Path) -> Vec<String> {
        match self {
            Program::Keepalived => Vec::new(),
            Program::Lvsd => vec![format!("--control={}", control(dir).display())],
        }
    }

    fn path(self) -> &'static str {
        match self {
            Program::Keepalived => "/usr/sbin/keepalived",
            Program::Lvsd => "/work/bin/lvsd",
        }
    }
}

/// How long a table must stay the same to count as settled: two rounds of checks.
const STABLE: Duration = Duration::from_millis((2000.0 * crate::DELAY_LOOP) as u64);
/// How long an event may take to show: a failing check, its retry, and the stable time.
const DEADLINE: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(100);

/// `ipvsadm -S -n`'s lines, sorted (the order of real servers is the kernel's).
pub type Table = Vec<String>;

pub struct Director {
    /// "A (keepalived)", "B (lvsd)".
    label: String,
    ns: String,
    dir: PathBuf,
    child: Child,
}

impl Director {
    /// Starts `program` as keepalived's checker alone (-C), in the foreground (-n) logging to
    /// its console only (-l -G), with pid files of its own so that several run at once.
    pub fn start(label: &str, program: Program, ns: &str, conf: &Path, dir: PathBuf) -> Director {
        std::fs::create_dir_all(&dir).unwrap();
        let log = File::create(dir.join("log")).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", ns, program.path()])
            .args(["-C", "-n", "-l", "-G", "-f"])
            .arg(conf)
            .arg("-p")
            .arg(dir.join("keepalived.pid"))
            .arg("-c")
            .arg(dir.join("checkers.pid"))
            .arg("-r")
            .arg(dir.join("vrrp.pid"))
            .arg("-b")
            .arg(dir.join("bfd.pid"))
            .args(program.own_args(&dir))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program.path()));
        let label = format!("{label} ({})", program.name());
        let mut director = Director {
            label: label.clone(),
            ns: ns.to_string(),
            dir,
            child,
        };
        // Signals go to the pid in the pid file, as an init script would send them; with -n
        // it is the process started here (ip netns exec execs it).
        let deadline = Instant::now() + Duration::from_secs(10);
        while director.pid().is_none() {
            let exited = director.child.try_wait().unwrap();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "director {label} wrote no pid file (exit: {exited:?}); its log:\n{}",
                director.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            director.pid(),
            Some(director.child.id() as i32),
            "director {label}: the pid file should name the foreground process"
        );
        director
    }

    fn pid(&self) -> Option<i32> {
        read_pid(&self.dir.join("keepalived.pid"))
    }

    pub fn signal(&self, signal: Signal) {
        let pid = self
            .pid()
            .unwrap_or_else(|| panic!("director {}: no pid file", self.label));
        kill(Pid::from_raw(pid), signal)
            .unwrap_or_else(|e| panic!("{signal} to director {}: {e}", self.label));
    }

    /// The table, as two reads in a row agree on it. IPVS resumes a dump by its position in
    /// a hash table all namespaces share, so while other tests change their tables a read
    /// can list an entry twice, or miss one; no table holds a line twice.
    pub fn table(&self) -> Table {
        let read = || {
            let out = net::within(&self.ns, || {
                Command::new("ipvsadm").args(["-S", "-n"]).output()
            })
            .expect("run ipvsadm");
            let mut lines: Table = net::text(&out.stdout).lines().map(str::to_string).collect();
            lines.sort();
            lines.dedup();
            lines
        };
        let mut last = read();
        for _ in 0..20 {
            let now = read();
            if now == last {
                break;
            }
            last = now;
        }
        last
    }

    /// Where the director keeps its files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// SIGTERM, then waits for the daemon to exit.
    pub fn stop(&mut self) {
        self.signal(Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "director {} did not exit on SIGTERM; its log:\n{}",
                self.label,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Director {
    fn drop(&mut self) {
        // A test that failed leaves its daemons running: kill them, and the checker process
        // keepalived forked, which a SIGKILLed parent cannot stop.
        if self.child.try_wait().ok().flatten().is_none() {
            let checkers = read_pid(&self.dir.join("checkers.pid"));
            let _ = self.child.kill();
            let _ = self.child.wait();
            if let Some(pid) = checkers {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }
}

/// The control socket of the lvsd whose files are in `dir`.
pub fn control(dir: &Path) -> PathBuf {
    dir.join("control")
}

fn read_pid(file: &Path) -> Option<i32> {
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

/// The two directors on one configuration file.
pub struct Pair {
    conf: PathBuf,
    directors: [Director; 2],
}

impl Pair {
    /// Writes `conf` to `work` and starts director A (keepalived) and B ([`DIRECTOR_B`]).
    pub fn start(net: &Net, work: &Path, conf: &str) -> Pair {
        let file = work.join("keepalived.conf");
        std::fs::write(&file, conf).unwrap();
        let [a, b] = &net.directors;
        let started = Instant::now();
        let pair = Pair {
            directors: [
                Director::start("A", Program::Keepalived, a, &file, work.join("a")),
                Director::start("B", DIRECTOR_B, b, &file, work.join("b")),
            ],
            conf: file,
        };
        println!("directors started in {:.1?}", started.elapsed());
        pair
    }

    /// Rewrites the configuration and sends both directors SIGHUP.
    pub fn reload(&self, conf: &str) {
        std::fs::write(&self.conf, conf).unwrap();
        for d in &self.directors {
            d.signal(Signal::SIGHUP);
        }
    }

    /// SIGTERM to both: each must exit and take its virtual servers with it. Nothing changes
    /// the tables once both have exited, so they are read once.
    pub fn stop(&mut self) {
        let stopping = Instant::now();
        for d in &mut self.directors {
            d.stop();
        }
        println!("directors stopped in {:.1?}", stopping.elapsed());
        let seen = self.directors.each_ref().map(|d| vec![d.table()]);
        assert!(
            seen.iter().all(|h| h[0].is_empty()),
            "{}",
            self.report("stopped", &[], &seen)
        );
    }

    /// Waits until director A's table is `expected` (so a rig where nothing happens fails),
    /// B's is the same, and neither has changed for [`STABLE`]. Returns every table each
    /// director went through meanwhile, for the steps that care about what came before.
    pub fn settle(&self, step: &str, expected: &[String]) -> [Vec<Table>; 2] {
        let mut expected = expected.to_vec();
        expected.sort();
        let start = Instant::now();
        let mut since = start;
        let mut seen: [Vec<Table>; 2] = [
            vec![self.directors[0].table()],
            vec![self.directors[1].table()],
        ];
        loop {
            let [a, b] = [&seen[0], &seen[1]].map(|h| h.last().unwrap());
            if *a == expected && a == b && since.elapsed() >= STABLE {
                // Shown with --nocapture: how long each kind of event takes.
                println!("step `{step}` settled after {:.1?}", since - start);
                return seen;
            }
            if start.elapsed() > DEADLINE {
                panic!("{}", self.report(step, &expected, &seen));
            }
            std::thread::sleep(POLL);
            for (d, history) in self.directors.iter().zip(&mut seen) {
                let now = d.table();
                if history.last() != Some(&now) {
                    history.push(now);
                    since = Instant::now();
                }
            }
        }
    }

    fn report(&self, step: &str, expected: &[String], seen: &[Vec<Table>; 2]) -> String {
        let mut out = format!(
            "step `{step}` failed (settling may take {DEADLINE:?})\nexpected (of A):\n    {}\n",
            expected.join("\n    ")
        );
        for (d, history) in self.directors.iter().zip(seen) {
            out += &format!(
                "director {} ({}), tables in order:\n{}\nits log:\n{}\n",
                d.label,
                d.ns,
                history
                    .iter()
                    .map(|t| format!("  ---\n    {}", t.join("\n    ")))
                    .collect::<Vec<_>>()
                    .join("\n"),
                d.log()
            );
        }
        out
    }
}
