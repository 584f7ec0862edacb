//! Script security in the checker's part: keepalived refuses to run `MISC_CHECK` scripts
//! and the real and virtual servers' notify scripts without `enable_script_security` (`-t`
//! exits 6), and with it needs a user to run them as.
//!
//! keepalived looks at the scripts on disk (those it cannot find do not count: Debian's
//! samples name scripts that do not exist and pass `-t`) and at the system's users; lvsd
//! does no I/O here, so the caller says how to find a script ([`ScriptFlags::script_found`],
//! else every script counts) and whether the user `keepalived_script` exists.

use super::{after_reading, cmd_str, Checker, Method};
use crate::check::Script;
use crate::problem::{Kind, Problem, Problems};
use crate::Config;

/// The global settings script security depends on, by keepalived's keyword names.
#[derive(Clone, Debug, Default)]
pub struct ScriptFlags {
    /// `enable_script_security`.
    pub enable_script_security: bool,
    /// `script_user`: user and group scripts run as by default.
    pub script_user: Option<(String, Option<String>)>,
    /// `notify_fifo_script` and `lvs_notify_fifo_script`: they count as the checker's scripts.
    pub notify_fifo_script: Option<Script>,
    pub lvs_notify_fifo_script: Option<Script>,
    /// Not a keyword: whether the system has the user `keepalived_script`, keepalived's
    /// default script user (lvsd reads no system database, so the caller says).
    pub keepalived_script_user_exists: bool,
    /// Not a keyword: whether keepalived would find a command (its first word): a name
    /// without `/` searched in `PATH`, else the path resolved and `stat`ed. `None` counts
    /// every script as found.
    pub script_found: Option<fn(&str) -> bool>,
    /// Not a keyword: whether the system has a user (and group, if given), for a
    /// MISC_CHECK's `user`. `None` takes every user as there.
    pub user_found: Option<fn(&str, Option<&str>) -> bool>,
}

/// Whether keepalived runs a script as another user than root, which makes `keepalived -t`
/// end itself (it checks the script as that user, then finds it has no parent).
fn runs_as_other(user: Option<&str>) -> bool {
    user.is_some_and(|u| u != "root" && u != "0")
}

/// Whether a command only tests that a file opens (`</path`): keepalived runs no script.
fn is_file_test(args: &[String]) -> bool {
    args.first().is_none_or(|a| {
        a.starts_with('<') && a[1..].trim_start_matches([' ', '\t']).starts_with('/')
    })
}

/// keepalived counts a command as a script unless it is a file test, or it cannot find it.
fn is_script(args: &[String], flags: &ScriptFlags) -> bool {
    !is_file_test(args)
        && args
            .first()
            .is_some_and(|a| flags.script_found.is_none_or(|found| found(a)))
}

/// Reports what keepalived says about the checker's scripts once the file is read: the MISC
/// scripts without a user to run as (keepalived drops them) and a SECURITY VIOLATION when
/// scripts would run without `enable_script_security`.
pub fn script_security(config: &Config, flags: &ScriptFlags, problems: &mut Problems) {
    let mut first_script: Option<Problem> = None;
    let mut note = |p: Problem| {
        if first_script.is_none() {
            first_script = Some(p);
        }
    };
    let mut default_user_failed = false;
    let mut killed = false;
    for vs in &config.check.virtual_servers {
        for rs in &vs.real_servers {
            for c in &rs.checkers {
                let Method::Misc(m) = &c.method else {
                    continue;
                };
                let Some(script) = &m.script else {
                    continue;
                };
                if let (Some((u, g)), Some(found)) = (&m.user, flags.user_found) {
                    if !found(u, g.as_deref()) {
                        let mut p = Problem::new(
                            m.user_at.or(Some(c.at)),
                            Kind::General,
                            format!(
                                "Failed to set uid/gid for misc checker script {} - removing",
                                cmd_str(&script.args)
                            ),
                        )
                        .effect("keepalived drops the checker and ignores the rest of its block");
                        p.hint = Some(format!("the user {u} (or its group) does not exist"));
                        problems.push(p);
                        continue;
                    }
                }
                let user = m
                    .user
                    .as_ref()
                    .or(flags.script_user.as_ref())
                    .map(|(u, _)| u.as_str());
                if m.user.is_none()
                    && flags.script_user.is_none()
                    && flags.enable_script_security
                    && !flags.keepalived_script_user_exists
                {
                    misc_without_user(c, &script.args, &mut default_user_failed, problems);
                    continue;
                }
                // keepalived changes to the script's user before it looks for a command with
                // a `/`, so even a missing one ends `-t`.
                let looked_at = !is_file_test(&script.args)
                    && script.args.first().is_some_and(|a| a.contains('/'))
                    || is_script(&script.args, flags);
                if looked_at && runs_as_other(user) && !killed {
                    killed = true;
                    problems.push(
                        after_reading(
                            c,
                            Kind::Advice,
                            format!(
                                "keepalived -t checks {} as user {} and then ends itself (SIGTERM, exit status 143)",
                                cmd_str(&script.args),
                                user.unwrap_or_default()
                            ),
                        )
                        .effect("only keepalived -t: the daemon runs the checker"),
                    );
                }
                if is_script(&script.args, flags) {
                    note(after_reading(c, Kind::Security, String::new()));
                }
            }
        }
    }
    for vs in &config.check.virtual_servers {
        let mut scripts: Vec<&Script> = Vec::new();
        scripts.extend(vs.quorum_up.iter().chain(vs.quorum_down.iter()));
        for rs in &vs.real_servers {
            scripts.extend(rs.notify_up.iter().chain(rs.notify_down.iter()));
        }
        for s in scripts.into_iter().filter(|s| is_script(&s.args, flags)) {
            let mut p = Problem::new(Some(s.at), Kind::Security, String::new());
            p.keepalived_names_line = false;
            note(p);
        }
    }
    if config.check.virtual_servers.is_empty() {
        return;
    }
    for s in [&flags.notify_fifo_script, &flags.lvs_notify_fifo_script]
        .into_iter()
        .flatten()
        .filter(|s| is_script(&s.args, flags))
    {
        let mut p = Problem::new(Some(s.at), Kind::Security, String::new());
        p.keepalived_names_line = false;
        note(p);
    }
    if flags.enable_script_security {
        return;
    }
    if let Some(mut p) = first_script {
        p.message = "SECURITY VIOLATION - check scripts are being executed but script_security \
                     not enabled."
            .to_string();
        p.effect = Some("keepalived -t exits with status 6; the daemon runs the scripts".into());
        p.hint = Some(
            "add enable_script_security to global_defs (and script_user, or a user \
             keepalived_script)"
                .into(),
        );
        problems.push(p);
    }
}

/// keepalived's complaints, at the end of a MISC_CHECK block, when it has no user to run the
/// script as: the first only once.
fn misc_without_user(
    c: &Checker,
    args: &[String],
    failed_before: &mut bool,
    problems: &mut Problems,
) {
    let at = c.end.or(Some(c.at));
    if !*failed_before {
        *failed_before = true;
        problems.push(
            Problem::new(
                at,
                Kind::General,
                "Unable to set default user keepalived_script for script",
            )
            .hint("add script_user to global_defs, or user to the MISC_CHECK"),
        );
    }
    problems.push(
        Problem::new(
            at,
            Kind::General,
            format!(
                "Unable to set default user for misc script {} - removing",
                cmd_str(args)
            ),
        )
        .effect("keepalived drops the checker"),
    );
}
