//! What the tests that run the real keepalived share: a network namespace of their own with
//! `lo` and an `eth0`, for a script of many runs.

use std::path::Path;
use std::process::Command;

/// The lines a script starts with: `lo` up and an `eth0` (a bridge where the kernel has no
/// dummy module).
pub const NAMESPACE_SETUP: &str = "ip link set lo up\n\
     ip link add eth0 type dummy 2>/dev/null || ip link add eth0 type bridge || exit 1\n\
     ip link set eth0 up\n";

/// Runs `script` (after [`NAMESPACE_SETUP`]) with sh in a new network namespace, from a file
/// in `work`.
pub fn in_namespace(work: &Path, script: &str) {
    let file = work.join("run.sh");
    std::fs::write(&file, format!("{NAMESPACE_SETUP}{script}true\n")).unwrap();
    let run = Command::new("unshare")
        .args(["--net", "--", "sh"])
        .arg(&file)
        .output()
        .expect("run unshare");
    assert!(
        run.status.success(),
        "could not run in a network namespace of its own (the test needs root): {}",
        String::from_utf8_lossy(&run.stderr)
    );
}
