//! `MISC_CHECK`: a script decides (check_misc.c, lib/notify.c `system_call_script`).
//!
//! The script's words are run directly, never through a shell, in a process group of its own,
//! with the `user` (and group) given, its standard streams on /dev/null, and killed when the
//! check is dropped. Exit status 0 is up; with `misc_dynamic` 2 to 255 are up too, with weight
//! status - 2; anything else, or death by a signal, is down. The time allowed is
//! `misc_timeout`, or the virtual server's delay_loop when it is absent or 0
//! (`misc_check_thread` passes `checker->vs->delay_loop`).
//!
//! Difference: at the timeout keepalived sends SIGTERM to the process group, and SIGKILL two
//! seconds later; lvsd sends SIGKILL to the group at once, so that a check returns within its
//! timeout. A script without a `user` runs as lvsd's user: the caller gives the script
//! `global_defs`' script_user when keepalived would.

use super::connect::seconds;
use super::Outcome;
use keepalived::check::checker::Misc;
use keepalived::check::VirtualServer;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::{Group, Pid, User};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MiscProbe {
    args: Vec<String>,
    uid: Option<u32>,
    gid: Option<u32>,
    dynamic: bool,
    timeout: Duration,
}

impl MiscProbe {
    pub fn new(vs: &VirtualServer, misc: &Misc) -> Result<MiscProbe, String> {
        let script = misc.script.as_ref().ok_or("MISC_CHECK without misc_path")?;
        if script.args.is_empty() {
            return Err("MISC_CHECK with an empty misc_path".into());
        }
        let (uid, gid) = match &script.user {
            Some(name) => {
                let user = User::from_name(name)
                    .map_err(|e| format!("user {name}: {e}"))?
                    .ok_or_else(|| format!("no user {name}"))?;
                let gid = match &script.group {
                    Some(g) => {
                        Group::from_name(g)
                            .map_err(|e| format!("group {g}: {e}"))?
                            .ok_or_else(|| format!("no group {g}"))?
                            .gid
                    }
                    None => user.gid,
                };
                (Some(user.uid.as_raw()), Some(gid.as_raw()))
            }
            None => (None, None),
        };
        let timeout = match misc.misc_timeout {
            Some(s) if s > 0 => Duration::from_secs(u64::from(s)),
            _ => Duration::from_micros(vs.delay_loop),
        };
        Ok(MiscProbe {
            args: script.args.clone(),
            uid,
            gid,
            dynamic: misc.misc_dynamic,
            timeout,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub async fn run(&self) -> Outcome {
        let mut cmd = Command::new(&self.args[0]);
        cmd.args(&self.args[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true);
        if let Some(gid) = self.gid {
            cmd.gid(gid);
        }
        if let Some(uid) = self.uid {
            cmd.uid(uid);
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return Outcome::Down(format!("cannot run {}: {e}", self.args[0])),
        };
        let status = match tokio::time::timeout(self.timeout, child.wait()).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Outcome::Down(format!("cannot wait for the script: {e}")),
            Err(_) => {
                if let Some(pid) = child.id() {
                    // The whole group: what the script started goes with it.
                    let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
                }
                // SIGKILL cannot be ignored: the wait is short.
                let _ = child.wait().await;
                return Outcome::Down(format!("script timed out after {}", seconds(self.timeout)));
            }
        };
        match (status.code(), status.signal()) {
            (Some(0), _) => Outcome::Up { weight: None },
            (Some(code @ 2..=255), _) if self.dynamic => Outcome::Up {
                weight: Some(code as u32 - 2),
            },
            (Some(code), _) => Outcome::Down(format!("script exited with status {code}")),
            (None, Some(sig)) => Outcome::Down(format!("script killed by signal {sig}")),
            (None, None) => Outcome::Down("script ended without a status".into()),
        }
    }
}
