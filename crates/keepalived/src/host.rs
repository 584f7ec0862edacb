//! The few things keepalived looks up on the host while it checks a configuration, and whose
//! answers change `-t`'s exit status: whether a script's command exists, and whether users
//! and groups do. They are read from the file system and `/etc/passwd` and `/etc/group`, as a
//! plain file read; the interfaces, which need a netlink request, come from the caller
//! ([`crate::Options::interfaces`]).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Whether keepalived would find a script's command: a bare name is searched in `PATH` (or
/// `/bin:/usr/bin`) for an executable file, a path must lead to a file.
pub fn script_found(command: &str) -> bool {
    if command.is_empty() {
        return false;
    }
    if command.contains('/') {
        return std::fs::canonicalize(command).is_ok_and(|p| p.is_file());
    }
    let path = std::env::var("PATH").unwrap_or_else(|_| "/bin:/usr/bin".to_string());
    path.split(':').any(|dir| {
        let dir = if dir.is_empty() { "." } else { dir };
        std::fs::metadata(Path::new(dir).join(command))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// Whether a file can be opened for reading.
pub fn file_readable(path: &str) -> bool {
    std::fs::File::open(path).is_ok_and(|f| f.metadata().is_ok_and(|m| m.is_file()))
}

/// Whether the system knows the user, and the group when one is given, by name or number.
pub fn user_found(user: &str, group: Option<&str>) -> bool {
    known("/etc/passwd", user) && group.is_none_or(|g| known("/etc/group", g))
}

fn known(database: &str, name: &str) -> bool {
    if name.parse::<u32>().is_ok() {
        return true;
    }
    std::fs::read_to_string(database)
        .is_ok_and(|text| text.lines().any(|l| l.split(':').next() == Some(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_the_system_has() {
        assert!(script_found("/bin/sh"));
        assert!(script_found("sh"));
        assert!(!script_found("/nonexistent/script"));
        assert!(!script_found(""));
        assert!(user_found("root", Some("root")));
        assert!(user_found("0", None));
        assert!(!user_found("no-such-user-here", None));
    }
}
