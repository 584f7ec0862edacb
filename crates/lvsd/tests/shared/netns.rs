//! What the namespace rigs of lvsd's tests share (vrrp_interop on the host; failover_vm,
//! checker_vm and service_vm in the VM): running iproute2, entering a namespace, and waiting
//! for a daemon to exit. Each rig uses part of it.
#![allow(dead_code)]

use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sched::{setns, CloneFlags};

/// Runs iproute2's ip with `args` (and `input` on its stdin, for -batch); its stdout. Run
/// directly, not from a script, as the VM's busybox sh would run its own ip applet.
pub fn ip(args: &[&str], input: &str) -> String {
    let mut child = Command::new("ip")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ip");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "ip {args:?} {input}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Moves the calling thread into namespace `ns`: the sockets it makes and the
/// /proc/sys/net files it opens are then that namespace's.
pub fn enter(ns: &str) {
    let file = File::open(format!("/run/netns/{ns}"))
        .unwrap_or_else(|e| panic!("open namespace {ns}: {e}"));
    setns(file.as_fd(), CloneFlags::CLONE_NEWNET)
        .unwrap_or_else(|e| panic!("enter namespace {ns}: {e}"));
}

/// Runs `f` on a thread of its own in namespace `ns`. Cheaper than `ip netns exec`, which
/// also makes a mount namespace.
pub fn within<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let ns = ns.to_string();
    std::thread::spawn(move || {
        enter(&ns);
        f()
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Deletes namespace `ns`, killing first whatever still runs in it (a daemon a failed test
/// left, its children, monitors): a namespace with processes in it would outlive
/// `ip netns del`.
pub fn delete(ns: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in text(&out.stdout).split_whitespace() {
            if let Ok(pid) = pid.parse() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
    let _ = Command::new("ip").args(["netns", "del", ns]).output();
}

/// The pid a pid file names.
pub fn read_pid(file: &Path) -> Option<i32> {
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

/// Waits for `child` (the daemon `label`) to exit: ten seconds, then it is killed and the
/// test fails.
pub fn wait_exit(mut child: Child, label: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{label} did not exit within 10 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
