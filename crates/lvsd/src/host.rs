//! What keepalived looks up on the host while it checks a configuration, and the reader
//! leaves to its caller: the interfaces that exist, whether a script's command is there, and
//! whether users and groups are known.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The network interfaces of the namespace lvsd runs in.
pub fn interfaces() -> Option<Vec<String>> {
    let list = nix::net::if_::if_nameindex().ok()?;
    Some(
        list.iter()
            .filter_map(|i| i.name().to_str().ok().map(str::to_string))
            .collect(),
    )
}

/// Whether keepalived would find a script's command: a bare name is searched in `PATH` for
/// an executable file, a path must resolve.
pub fn script_found(command: &str) -> bool {
    if command.is_empty() {
        return false;
    }
    if command.contains('/') {
        return std::fs::canonicalize(command).is_ok();
    }
    let path = std::env::var("PATH").unwrap_or_else(|_| "/bin:/usr/bin".to_string());
    path.split(':').any(|dir| {
        let candidate = Path::new(if dir.is_empty() { "." } else { dir }).join(command);
        std::fs::metadata(candidate)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// Whether the system knows the user, and the group when one is given (names or numbers).
pub fn user_found(user: &str, group: Option<&str>) -> bool {
    let known_user =
        user.parse::<u32>().is_ok() || nix::unistd::User::from_name(user).ok().flatten().is_some();
    let known_group = group.map_or(true, |g| {
        g.parse::<u32>().is_ok() || nix::unistd::Group::from_name(g).ok().flatten().is_some()
    });
    known_user && known_group
}
