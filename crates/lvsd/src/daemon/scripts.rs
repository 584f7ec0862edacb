//! The notify scripts (`notify_up`, `notify_down`, `quorum_up`, `quorum_down`): run with the
//! argument vector the file gives, never through a shell, as the user keepalived would run
//! them as (`script_user`, else root), and reaped when they end. As keepalived's
//! `enable_script_security` does, a script that another user than root could replace (it, or
//! a directory on its path, writable by others) is refused.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use keepalived::script::Script;
use keepalived::Config;
use nix::unistd::{Group, User};

#[derive(Clone)]
pub struct Runner {
    default_user: Option<(String, Option<String>)>,
}

impl Runner {
    pub fn new(config: &Config) -> Runner {
        Runner {
            default_user: config.global.script_user.clone(),
        }
    }

    /// Starts `script`; it runs on its own and is reaped by the runtime.
    pub fn run(&self, script: &Script) -> Result<(), String> {
        if script.args.is_empty() {
            return Ok(());
        }
        let user = script.user.clone().map(|u| (u, script.group.clone()));
        let mut child = self
            .command(&script.args, user)?
            .spawn()
            .map_err(|e| format!("cannot run script {}: {e}", script.args[0]))?;
        tokio::spawn(async move {
            let _ = child.wait().await;
        });
        Ok(())
    }

    /// The command that runs `args` as `user` (else `script_user`, else root), once the
    /// program is found safe to run.
    pub fn command(
        &self,
        args: &[String],
        user: Option<(String, Option<String>)>,
    ) -> Result<tokio::process::Command, String> {
        let Some(program) = args.first() else {
            return Err("an empty script".into());
        };
        secure(Path::new(program))?;
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(&args[1..])
            .stdin(std::process::Stdio::null())
            .kill_on_drop(false);
        if let Some((user, group)) = user.or_else(|| self.default_user.clone()) {
            let u = User::from_name(&user)
                .ok()
                .flatten()
                .ok_or_else(|| format!("script {program}: no user {user}"))?;
            let gid = match group {
                Some(g) => {
                    Group::from_name(&g)
                        .ok()
                        .flatten()
                        .ok_or_else(|| format!("script {program}: no group {g}"))?
                        .gid
                }
                None => u.gid,
            };
            cmd.uid(u.uid.as_raw()).gid(gid.as_raw());
        }
        Ok(cmd)
    }
}

/// Whether only root can change what `path` runs: the file and every directory above it
/// owned by root and writable by no one else, but for sticky directories (like /tmp), where
/// no one else can replace a file of root's.
fn secure(path: &Path) -> Result<(), String> {
    let path = path
        .canonicalize()
        .map_err(|e| format!("script {}: {e}", path.display()))?;
    for (depth, p) in path.ancestors().enumerate() {
        let m = std::fs::metadata(p).map_err(|e| format!("script {}: {e}", p.display()))?;
        let sticky = depth > 0 && m.mode() & 0o1000 != 0;
        if m.uid() != 0 || (m.mode() & 0o022 != 0 && !sticky) {
            return Err(format!(
                "refusing to run script {}: {} can be changed by another user than root \
                 (owner uid {}, mode {:o})",
                path.display(),
                p.display(),
                m.uid(),
                m.mode() & 0o7777
            ));
        }
    }
    Ok(())
}
