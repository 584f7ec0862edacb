//! `--netns NAME`, as in `ip -n NAME`: everything lvsadm does afterwards (IPVS, addresses,
//! sysctls, the connection table) happens in the named network namespace.

use std::fs::File;
use std::os::unix::fs::MetadataExt;

use anyhow::{bail, Context, Result};
use nix::sched::{setns, CloneFlags};

/// Where `ip netns add` binds its namespaces.
const DIR: &str = "/run/netns";

/// Takes a leading `--netns NAME` or `--netns=NAME` off `args`; returns the name.
pub fn take(args: &mut Vec<String>) -> Result<Option<String>> {
    let Some(first) = args.get(1) else {
        return Ok(None);
    };
    let name = if let Some(name) = first.strip_prefix("--netns=") {
        let name = name.to_string();
        args.remove(1);
        name
    } else if first == "--netns" {
        if args.len() < 3 {
            bail!("--netns needs a namespace name");
        }
        args.remove(1);
        args.remove(1)
    } else {
        return Ok(None);
    };
    Ok(Some(name))
}

/// Moves the process, before it starts any thread, into namespace `name`.
pub fn enter(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        bail!("invalid network namespace name {name:?}");
    }
    let path = format!("{DIR}/{name}");
    let file = File::open(&path).with_context(|| {
        format!("network namespace {name} (looked for {path}, as ip netns add makes)")
    })?;
    // lvsadm has no other thread yet: the whole process moves.
    setns(&file, CloneFlags::CLONE_NEWNET)
        .map_err(std::io::Error::from)
        .with_context(|| format!("entering network namespace {name}"))
}

/// The name `ip netns add` gave the namespace this thread is in, if any (what `ip netns
/// identify` prints).
pub fn current_name() -> Option<String> {
    let here = std::fs::metadata("/proc/thread-self/ns/net").ok()?;
    std::fs::read_dir(DIR).ok()?.flatten().find_map(|entry| {
        let meta = std::fs::metadata(entry.path()).ok()?;
        (meta.dev() == here.dev() && meta.ino() == here.ino())
            .then(|| entry.file_name().into_string().ok())
            .flatten()
    })
}
