//! The programs a director runs: the real keepalived or lvsd, started the same way (VRRP
//! only, in the foreground, logging to the console) in the director's namespace, with pid
//! files of its own so that many run at once. A [`Daemon`] can be stopped, killed and
//! started again; its log collects every run.

use crate::net::read_pid;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Program {
    Keepalived,
    Lvsd,
}

impl Program {
    pub fn name(self) -> &'static str {
        match self {
            Program::Keepalived => "keepalived",
            Program::Lvsd => "lvsd",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Program::Keepalived => "/usr/sbin/keepalived",
            Program::Lvsd => env!("CARGO_BIN_EXE_lvsd"),
        }
    }
}

pub struct Daemon {
    /// "A (keepalived)".
    pub label: String,
    pub program: Program,
    /// More options for the next start.
    pub extra: Vec<String>,
    ns: String,
    /// The directory of its configuration, pid files and log.
    dir: PathBuf,
    child: Option<Child>,
}

impl Daemon {
    pub fn new(label: &str, program: Program, ns: &str, dir: PathBuf) -> Daemon {
        std::fs::create_dir_all(&dir).unwrap();
        Daemon {
            label: format!("{label} ({})", program.name()),
            program,
            extra: Vec::new(),
            ns: ns.to_string(),
            dir,
            child: None,
        }
    }

    pub fn conf(&self) -> PathBuf {
        self.dir.join("keepalived.conf")
    }

    /// lvsd's control socket, one per director: the default is per namespace name, and
    /// `ip netns exec` gives it none.
    fn own_args(&self) -> Vec<String> {
        match self.program {
            Program::Lvsd => vec!["--control".into(), self.control().display().to_string()],
            Program::Keepalived => Vec::new(),
        }
    }

    pub fn control(&self) -> PathBuf {
        self.dir.join("control")
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.join("keepalived.pid")
    }

    fn vrrp_pid_file(&self) -> PathBuf {
        self.dir.join("vrrp.pid")
    }

    /// Starts the program on [`Daemon::conf`] and waits for its pid file; returns when it
    /// was started.
    pub fn start(&mut self) -> Instant {
        assert!(self.child.is_none(), "{} started twice", self.label);
        // A pid file left by a killed run would satisfy the wait below at once.
        for f in [self.pid_file(), self.vrrp_pid_file()] {
            let _ = std::fs::remove_file(f);
        }
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_file())
            .unwrap();
        writeln!(log, "---- rig: starting {} ----", self.label).unwrap();
        let started = Instant::now();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns, self.program.path()])
            .args(["-P", "-n", "-l", "-G", "-f"])
            .arg(self.conf())
            .arg("-p")
            .arg(self.pid_file())
            .arg("-r")
            .arg(self.vrrp_pid_file())
            .arg("-c")
            .arg(self.dir.join("checkers.pid"))
            .arg("-b")
            .arg(self.dir.join("bfd.pid"))
            .args(self.own_args())
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.program.path()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.pid().is_none() {
            let exited = self.child.as_mut().unwrap().try_wait().unwrap();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "{} wrote no pid file (exit: {exited:?})",
                self.label
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        started
    }

    /// The main process, as its pid file names it (with -n, the process started here: ip
    /// netns exec execs it).
    fn pid(&self) -> Option<i32> {
        read_pid(&self.pid_file())
    }

    pub fn signal(&self, signal: Signal) -> Instant {
        let pid = self
            .pid()
            .unwrap_or_else(|| panic!("{}: no pid file", self.label));
        let at = Instant::now();
        kill(Pid::from_raw(pid), signal)
            .unwrap_or_else(|e| panic!("{signal} to {}: {e}", self.label));
        at
    }

    /// SIGTERM, as an init script stops it, and waits for it to exit; returns when the
    /// signal was sent.
    pub fn stop(&mut self) -> Instant {
        let at = self.signal(Signal::SIGTERM);
        self.wait_exit();
        at
    }

    /// SIGKILL, first to the VRRP process (keepalived's child, which would otherwise
    /// outlive its parent and go on advertising), then to the main one: nothing is sent on
    /// the way out. Returns when the VRRP process was killed.
    pub fn kill(&mut self) -> Instant {
        let at = Instant::now();
        if let Some(pid) = read_pid(&self.vrrp_pid_file()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        if let Some(child) = &mut self.child {
            let _ = child.kill();
        }
        self.wait_exit();
        at
    }

    fn wait_exit(&mut self) {
        let child = self
            .child
            .take()
            .unwrap_or_else(|| panic!("{} is not running", self.label));
        crate::net::wait_exit(child, &self.label);
    }

    fn log_file(&self) -> PathBuf {
        self.dir.join("log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // A failed scenario leaves its daemons running: kill them (and keepalived's VRRP
        // child). Net's drop then kills whatever else is left in the namespace.
        // No panic here: this runs while a failure unwinds.
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = read_pid(&self.vrrp_pid_file()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Writes an executable (0755) file: a tracking script.
pub fn write_script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let mut f = File::create(path).unwrap();
    f.write_all(body.as_bytes()).unwrap();
    f.set_permissions(std::fs::Permissions::from_mode(0o755))
        .unwrap();
}
