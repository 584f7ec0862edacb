//! Runs a case through both tools and compares what they did.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use ipvs::Client;

use crate::cases::{Case, Step, Suite};
use crate::rig::{fresh_namespace, lvsadm, shell, spawn, Outcome, Spawn, IPVSADM};
use crate::table::Table;

/// Names the cases resolve, in both directions, next to the VM's localhost.
const HOSTS: &str = "\
# lvsadm compat suite
10.0.0.1\tvip1.example.com
192.168.1.1\trs1.example.com
192.168.1.2\trs2
10.0.0.9\ta-rather-long-host-name-for-truncation.internal.example.org
192.168.1.9\tanother-quite-long-real-server-name.example.org
2001:db8::10\tv6-real.example.com
10.10.0.2\tclient.example.com
";

pub fn prepare_host() -> std::io::Result<()> {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    if !hosts.contains("lvsadm compat suite") {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open("/etc/hosts")?
            .write_all(HOSTS.as_bytes())?;
    }
    Ok(())
}

/// The two sides of a case run at the same time, each in its own namespace, but IPVS
/// resumes a multi-part dump by position in a hash table all namespaces share: one side
/// adding services while the other's ipvsadm lists makes it print entries twice or skip
/// them. So a side holds this for writing while it changes its table, for reading while it
/// lists it.
static KERNEL_TABLE: RwLock<()> = RwLock::new(());

fn listing() -> RwLockReadGuard<'static, ()> {
    KERNEL_TABLE.read().unwrap_or_else(|e| e.into_inner())
}

fn changing() -> RwLockWriteGuard<'static, ()> {
    KERNEL_TABLE.write().unwrap_or_else(|e| e.into_inner())
}

/// Runs a setup's steps in the current namespace, the rules through the real ipvsadm.
fn apply_setup(suite: &Suite, name: &str) -> Result<(), String> {
    for step in &suite.setups[name].steps {
        match step {
            Step::Shell(cmd) => shell(cmd)?,
            Step::Rules(rules) => {
                let out = spawn(&Spawn {
                    program: IPVSADM,
                    args: &["-R".to_string()],
                    stdin: Some(rules),
                    env: &[],
                    conn: None,
                    uid: None,
                })?;
                if out.status != 0 || !out.stderr.is_empty() {
                    return Err(format!("setup rules failed: {}", out.stderr));
                }
            }
        }
    }
    Ok(())
}

/// Prepares a fresh namespace from a setup: its shell steps, then the table that the real
/// ipvsadm made from its rules the first time, copied through the library (replaying
/// ipvsadm -R for every case would cost most of the suite's time under emulation).
fn prepare(suite: &Suite, name: &str, tables: &Tables) -> Result<(), String> {
    fresh_namespace()?;
    for step in &suite.setups[name].steps {
        if let Step::Shell(cmd) = step {
            shell(cmd)?;
        }
    }
    let mut client = Client::connect().map_err(|e| e.to_string())?;
    let table = &tables[name];
    {
        let _changing = changing();
        table.replay(&mut client)?;
    }
    let copy = {
        let _listing = listing();
        Table::capture(&mut client)?
    };
    if copy != *table {
        return Err(format!(
            "copying the setup's table failed: {table:?} became {copy:?}"
        ));
    }
    Ok(())
}

/// What the kernel holds afterwards: the real ipvsadm's save, timeouts and daemons, as sorted
/// lines (the order of a save depends on the namespace's hash order when ipvsadm's
/// comparator wraps around).
pub fn snapshot() -> Result<String, String> {
    let _listing = listing();
    let out = spawn(&Spawn {
        program: IPVSADM,
        args: &["-S".to_string(), "-n".to_string()],
        stdin: None,
        env: &[],
        conn: None,
        uid: None,
    })?;
    let mut client = Client::connect().map_err(|e| e.to_string())?;
    let t = client.timeouts().map_err(|e| e.to_string())?;
    let daemons = client.daemons().map_err(|e| e.to_string())?;
    let mut lines: Vec<String> = out.stdout.lines().map(String::from).collect();
    lines.push(format!("timeouts {} {} {}", t.tcp, t.tcp_fin, t.udp));
    lines.extend(daemons.iter().map(|d| format!("{d:?}")));
    if !out.stderr.is_empty() {
        lines.push(format!("ipvsadm -Sn said: {}", out.stderr));
    }
    lines.sort();
    Ok(lines.join("\n") + "\n")
}

fn conn_file(suite: &Suite, name: &str) -> Result<String, String> {
    let path = format!("/tmp/compat-conn-{name}");
    std::fs::write(&path, &suite.texts[name]).map_err(|e| e.to_string())?;
    Ok(path)
}

/// Runs a case's command line through `program` in the current namespace.
fn run_case(suite: &Suite, case: &Case, program: &str) -> Result<Outcome, String> {
    let conn = case
        .conn
        .as_deref()
        .map(|c| conn_file(suite, c))
        .transpose()?;
    spawn(&Spawn {
        program,
        args: &case.args,
        stdin: case.stdin.as_deref().map(|t| suite.texts[t].as_str()),
        env: &case.env,
        conn: conn.as_deref(),
        uid: None,
    })
}

fn side(
    suite: &Suite,
    tables: &Tables,
    case: &Case,
    program: &str,
) -> Result<(Outcome, String), String> {
    prepare(suite, &case.setup, tables)?;
    // A case may change its table and list it in one command.
    let out = {
        let _changing = changing();
        run_case(suite, case, program)?
    };
    Ok((out, snapshot()?))
}

fn show(label: &str, ipvsadm: &str, lvsadm: &str) -> String {
    if ipvsadm == lvsadm {
        return String::new();
    }
    let mut s = format!("{label} differs\n");
    let (a, b): (Vec<&str>, Vec<&str>) =
        (ipvsadm.split('\n').collect(), lvsadm.split('\n').collect());
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        if x == y {
            s.push_str(&format!("   {:?}\n", x.unwrap_or(&"")));
        } else {
            if let Some(x) = x {
                s.push_str(&format!(" - {x:?}\n"));
            }
            if let Some(y) = y {
                s.push_str(&format!(" + {y:?}\n"));
            }
        }
    }
    s
}

fn compare(a: &Outcome, b: &Outcome, states: Option<(&str, &str)>) -> Result<(), String> {
    let mut d = String::new();
    d += &show("stdout", &a.stdout, &b.stdout);
    d += &show("stderr", &a.stderr, &b.stderr);
    if a.status != b.status {
        d += &format!(
            "exit status differs: ipvsadm {} lvsadm {}\n",
            a.status, b.status
        );
    }
    if let Some((x, y)) = states {
        d += &show("resulting table", x, y);
    }
    if d.is_empty() {
        Ok(())
    } else {
        Err(format!("(- ipvsadm, + lvsadm)\n{d}"))
    }
}

/// The table each setup's rules make, as the real ipvsadm made it.
type Tables = HashMap<String, Table>;

#[derive(Default)]
pub struct Groups {
    live: Option<String>,
    tables: Tables,
}

impl Groups {
    pub fn run(&mut self, suite: &Suite, case: &Case) -> Result<(), String> {
        if case.live {
            return self.run_live(suite, case);
        }
        self.finish(suite);
        if !self.tables.contains_key(&case.setup) {
            fresh_namespace()?;
            apply_setup(suite, &case.setup)?;
            let mut client = Client::connect().map_err(|e| e.to_string())?;
            let table = Table::capture(&mut client)?;
            self.tables.insert(case.setup.clone(), table);
        }
        // Each side in a thread of its own, so in a namespace of its own, at the same time.
        let tables = &self.tables;
        let (ours, theirs) = std::thread::scope(|scope| {
            let ours = scope.spawn(|| side(suite, tables, case, &lvsadm()));
            let theirs = side(suite, tables, case, IPVSADM);
            (ours.join(), theirs)
        });
        let ours = ours.map_err(|_| "the lvsadm side panicked".to_string())?;
        let ((a, sa), (b, sb)) = (theirs?, ours?);
        compare(&a, &b, Some((&sa, &sb)))
    }

    /// Both tools read the same namespace; values that move (timers, rates) may change
    /// between two runs, so lvsadm must match ipvsadm run just before or just after it.
    fn run_live(&mut self, suite: &Suite, case: &Case) -> Result<(), String> {
        if self.live.as_deref() != Some(&case.setup) {
            self.finish(suite);
            fresh_namespace()?;
            self.live = Some(case.setup.clone());
            if let Err(e) = apply_setup(suite, &case.setup) {
                // Every case of the group then fails the same way, each in a new namespace.
                self.finish(suite);
                return Err(e);
            }
        }
        let run = |program: &str| run_case(suite, case, program);
        let mut last = Err(String::new());
        for _ in 0..5 {
            let before = run(IPVSADM)?;
            let ours = run(&lvsadm())?;
            let after = run(IPVSADM)?;
            last = compare(&before, &ours, None).or_else(|_| compare(&after, &ours, None));
            if last.is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        last
    }

    /// Undoes the current live setup's changes outside its namespace.
    pub fn finish(&mut self, suite: &Suite) {
        if let Some(name) = self.live.take() {
            for cmd in &suite.setups[&name].cleanup {
                let _ = shell(cmd);
            }
        }
    }
}
