//! Test rig: a fresh network namespace per test, the real ipvsadm, and iproute2's ip.

use std::process::{Command, Stdio};

use ipvs::Client;

/// Moves the calling thread (one test) into a new network namespace, whose IPVS table is
/// empty, and connects to it. Processes the test starts inherit the namespace.
pub fn fresh() -> Client {
    // SAFETY: unshare only changes this thread's namespace membership.
    let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    assert_eq!(
        rc,
        0,
        "unshare(CLONE_NEWNET): {}",
        std::io::Error::last_os_error()
    );
    sh(&["/usr/bin/ip", "link", "set", "lo", "up"]);
    Client::connect().expect("connect to IPVS")
}

pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

pub fn run(argv: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(argv[0])
        .args(&argv[1..])
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", argv[0]));
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Output {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code().unwrap_or(-1),
    }
}

/// Runs a command that must succeed; returns its stdout.
pub fn sh(argv: &[&str]) -> String {
    let out = run(argv, None);
    assert_eq!(
        out.status, 0,
        "{argv:?} failed: {}{}",
        out.stdout, out.stderr
    );
    out.stdout
}

/// The real ipvsadm; must succeed.
pub fn ipvsadm(args: &[&str]) -> String {
    let mut argv = vec!["/usr/sbin/ipvsadm"];
    argv.extend_from_slice(args);
    sh(&argv)
}

/// Feeds rules to `ipvsadm -R`; must succeed.
pub fn ipvsadm_restore(rules: &str) {
    let out = run(&["/usr/sbin/ipvsadm", "-R"], Some(rules));
    assert_eq!(out.status, 0, "ipvsadm -R failed: {}", out.stderr);
}

/// `ipvsadm -S -n`, the kernel's table as ipvsadm saves it.
pub fn saved() -> String {
    ipvsadm(&["-S", "-n"])
}

pub fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}
