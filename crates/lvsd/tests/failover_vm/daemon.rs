//! A director's program: the real keepalived or lvsd, started as keepalived is (`-n -l -G -f
//! CONF -p PID`, both the checker and the VRRP parts, since the file has both) in the
//! director's namespace, with pid files (and, for lvsd, a control socket) of its own so that
//! clusters run side by side. It can be stopped, killed and started again; its log collects
//! every run.

use crate::net::read_pid;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
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

    fn path(self) -> String {
        match self {
            Program::Keepalived => "/usr/sbin/keepalived".into(),
            Program::Lvsd => std::env::var("LVSD").unwrap_or_else(|_| "/work/bin/lvsd".into()),
        }
    }
}

pub struct Daemon {
    /// "director 1 (lvsd)".
    pub label: String,
    pub program: Program,
    ns: String,
    dir: PathBuf,
    child: Option<Child>,
}

impl Daemon {
    pub fn new(label: &str, program: Program, ns: &str, dir: PathBuf) -> Daemon {
        std::fs::create_dir_all(&dir).unwrap();
        Daemon {
            label: format!("{label} ({})", program.name()),
            program,
            ns: ns.to_string(),
            dir,
            child: None,
        }
    }

    pub fn conf(&self) -> PathBuf {
        self.dir.join("keepalived.conf")
    }

    fn pid_file(&self, part: &str) -> PathBuf {
        self.dir.join(format!("{part}.pid"))
    }

    /// Starts the program and waits for its pid file.
    pub fn start(&mut self) -> Instant {
        assert!(self.child.is_none(), "{} started twice", self.label);
        // A pid file left by a killed run would satisfy the wait below at once.
        for part in ["keepalived", "vrrp", "checkers", "bfd"] {
            let _ = std::fs::remove_file(self.pid_file(part));
        }
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_file())
            .unwrap();
        writeln!(log, "---- test: starting {} ----", self.label).unwrap();
        let started = Instant::now();
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.ns, &self.program.path()])
            .args(["-n", "-l", "-G", "-f"])
            .arg(self.conf());
        for (flag, part) in [
            ("-p", "keepalived"),
            ("-r", "vrrp"),
            ("-c", "checkers"),
            ("-b", "bfd"),
        ] {
            command.arg(flag).arg(self.pid_file(part));
        }
        if self.program == Program::Lvsd {
            command.arg(format!("--control={}", self.dir.join("control").display()));
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.program.path()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while read_pid(&self.pid_file("keepalived")).is_none() {
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

    /// Whether the program was started and has not been stopped or killed since.
    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    /// SIGTERM to the main process, as an init script stops it, and waits for it to exit;
    /// returns when the signal was sent.
    pub fn stop(&mut self) -> Instant {
        let pid = read_pid(&self.pid_file("keepalived"))
            .unwrap_or_else(|| panic!("{}: no pid file", self.label));
        let at = Instant::now();
        kill(Pid::from_raw(pid), Signal::SIGTERM)
            .unwrap_or_else(|e| panic!("SIGTERM to {}: {e}", self.label));
        self.wait_exit();
        at
    }

    /// SIGKILL to every process of the program, the VRRP one first (keepalived's children
    /// would otherwise outlive their parent and go on): nothing is said on the way out.
    /// Returns when the first was killed.
    pub fn kill(&mut self) -> Instant {
        let at = Instant::now();
        for part in ["vrrp", "checkers"] {
            if let Some(pid) = read_pid(&self.pid_file(part)) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
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
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // No panic here: this runs while a failure unwinds.
        if self.child.is_some() {
            for part in ["vrrp", "checkers"] {
                if let Some(pid) = read_pid(&self.pid_file(part)) {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
            }
            let mut child = self.child.take().unwrap();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
