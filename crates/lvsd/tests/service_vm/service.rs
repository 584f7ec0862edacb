//! lvsd.service run as systemd runs it, in a namespace: `ExecStartPre=` then `ExecStart=` with
//! NOTIFY_SOCKET, `ExecReload=` with MAINPID, `ExecStop=` or else SIGTERM. Each command line
//! is expanded from the unit's environment; a failing command ends its step, as in systemd,
//! unless its line says `-`.
//!
//! Two paths of the unit are the host's and are mapped: /usr/sbin/lvsd to the binary under
//! test, and the `EnvironmentFile=` to the test's own file, which is the shipped
//! systemd/lvsd.default with the lines an administrator would add for this director.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::notify::Notify;
use crate::unit::{self, Env, Unit};

/// The lvsd under test, as the VM rig installs it.
pub const LVSD: &str = "/work/bin/lvsd";

/// How long the daemon may take to say READY=1, RELOADING=1...: its first checks included.
pub const NOTICE: Duration = Duration::from_secs(20);

/// systemd's PATH for services.
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// One command a step ran, for the report of a failed step.
#[derive(Debug)]
pub struct Ran {
    pub argv: Vec<String>,
    pub status: ExitStatus,
    pub output: String,
}

pub struct Service {
    unit: Unit,
    ns: String,
    /// Paths of the unit mapped to the test's.
    paths: BTreeMap<String, PathBuf>,
    notify: Notify,
    log: PathBuf,
    main: Option<Child>,
}

impl Service {
    /// The shipped unit, for a director in namespace `ns`, with its files in `work`; the
    /// administrator's lines `admin` go at the end of the environment file.
    pub fn new(ns: &str, work: &Path, admin: &str) -> Service {
        let unit = Unit::parse(&crate::read_shipped("lvsd.service"));
        assert_eq!(unit.kind, "notify", "the runner speaks Type=notify only");
        let default = work.join("default");
        std::fs::write(
            &default,
            crate::read_shipped("lvsd.default") + "# This director's:\n" + admin,
        )
        .unwrap();
        let paths = BTreeMap::from([
            ("/usr/sbin/lvsd".to_string(), PathBuf::from(LVSD)),
            ("/etc/default/lvsd".to_string(), default),
        ]);
        Service {
            unit,
            ns: ns.to_string(),
            paths,
            notify: Notify::bind(&work.join("notify")),
            log: work.join("lvsd.log"),
            main: None,
        }
    }

    fn map<'a>(&'a self, path: &'a str) -> &'a Path {
        self.paths
            .get(path)
            .map_or(Path::new(path), PathBuf::as_path)
    }

    /// Environment= then each EnvironmentFile= over it, as systemd builds it.
    pub fn environment(&self) -> Env {
        let mut env = self.unit.environment.clone();
        for (path, optional) in &self.unit.environment_files {
            match std::fs::read_to_string(self.map(path)) {
                Ok(text) => unit::read_environment_file(&text, &mut env),
                Err(e) => assert!(optional, "EnvironmentFile={path}: {e}"),
            }
        }
        env
    }

    pub fn main_pid(&self) -> i32 {
        self.main.as_ref().expect("the service runs").id() as i32
    }

    pub fn notify(&self) -> &Notify {
        &self.notify
    }

    /// The command `argv` as systemd would start it: a clean environment (the unit's, PATH,
    /// NOTIFY_SOCKET), in the director's namespace, its output to `output`.
    fn spawn(&self, argv: &[String], env: &Env, output: File) -> Child {
        assert!(!argv.is_empty(), "an empty command line");
        let mut command = Command::new(self.map(&argv[0]));
        command
            .args(&argv[1..])
            .env_clear()
            .env("PATH", PATH)
            .envs(env)
            .env("NOTIFY_SOCKET", &self.notify.path)
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output);
        let ns = self.ns.clone();
        crate::net::within(&ns, move || command.spawn())
            .unwrap_or_else(|e| panic!("start {argv:?}: {e}"))
    }

    /// Runs the `key` lines in order, each to its end; stops at the first that fails (not
    /// marked `-`). Returns what ran, and whether the step succeeded.
    fn step(&self, key: &str) -> (Vec<Ran>, bool) {
        let mut env = self.environment();
        if let Some(main) = &self.main {
            env.insert("MAINPID".into(), main.id().to_string());
        }
        let mut ran = Vec::new();
        for exec in self.unit.exec(key) {
            let argv = unit::expand(&exec.line, &env);
            let out_path = self.log.with_extension("step");
            let child = self.spawn(&argv, &env, File::create(&out_path).unwrap());
            let status = wait(child, Duration::from_secs(30), &argv);
            ran.push(Ran {
                argv,
                status,
                output: std::fs::read_to_string(&out_path).unwrap_or_default(),
            });
            if !status.success() && !exec.ignore_failure {
                return (ran, false);
            }
        }
        (ran, true)
    }

    /// ExecStartPre= (which must pass), then ExecStart=, the main process, until it says
    /// READY=1.
    pub fn start(&mut self) {
        let (ran, ok) = self.step("ExecStartPre");
        assert!(ok, "ExecStartPre failed: {ran:#?}");
        let start = self.unit.exec("ExecStart");
        assert_eq!(start.len(), 1, "Type=notify has one ExecStart");
        let argv = unit::expand(&start[0].line, &self.environment());
        let log = File::create(&self.log).unwrap();
        self.main = Some(self.spawn(&argv, &self.environment(), log));
        let main = self.main_pid();
        let before = self.notify.expect(main, "READY=1", NOTICE);
        assert!(before.is_empty(), "said before READY=1: {before:?}");
    }

    /// ExecReload=: what ran, and whether it succeeded.
    pub fn reload(&self) -> (Vec<Ran>, bool) {
        self.step("ExecReload")
    }

    /// ExecStop= if the unit has it, else SIGTERM to the main process, as systemd's default
    /// KillMode; returns the main process's exit status.
    pub fn stop(&mut self) -> ExitStatus {
        if self.unit.exec("ExecStop").is_empty() {
            kill(Pid::from_raw(self.main_pid()), Signal::SIGTERM).unwrap();
        } else {
            let (ran, ok) = self.step("ExecStop");
            assert!(ok, "ExecStop failed: {ran:#?}");
        }
        let main = self.main.take().unwrap();
        wait(main, Duration::from_secs(20), &["the main process".into()])
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // A failed test leaves the daemon running: it would keep its namespace's table.
        if let Some(mut main) = self.main.take() {
            let _ = main.kill();
            let _ = main.wait();
        }
    }
}

/// Waits for `child` to exit within `within`.
fn wait(mut child: Child, within: Duration, argv: &[String]) -> ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{argv:?} did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
