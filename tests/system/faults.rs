//! Faults: the IPVS module missing, a setuid copy, a signal in the middle of an atomic change,
//! a table changing under a listing, and a table of 100,000 destinations.

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{fresh, ipvsadm, lv, lv_ok, run, state, write_rules};
use crate::rig::{lvsadm, shell, spawn, Spawn, IPVSADM};

const NOBODY: u32 = 65534;

/// Puts the module, modprobe and the loaded modules back however the test ends.
struct ModuleRig {
    module: String,
}

const MODPROBE_LOG: &str = "/tmp/modprobe.log";

impl ModuleRig {
    fn new() -> ModuleRig {
        let found = Command::new("/bin/busybox")
            .args(["find", "/lib/modules", "-name", "ip_vs.ko*"])
            .output()
            .expect("find");
        let module = String::from_utf8_lossy(&found.stdout).trim().to_string();
        assert!(!module.is_empty(), "the ip_vs module file is in the image");
        // modprobe as lvsadm and ipvsadm call it, each call logged.
        fs::remove_file("/sbin/modprobe").expect("remove the modprobe link");
        fs::write(
            "/sbin/modprobe",
            format!(
                "#!/bin/sh\necho \"$*\" >> {MODPROBE_LOG}\nexec /bin/busybox modprobe \"$@\"\n"
            ),
        )
        .unwrap();
        fs::set_permissions("/sbin/modprobe", fs::Permissions::from_mode(0o755)).unwrap();
        ModuleRig { module }
    }

    /// Unloads IPVS and everything that uses it. Services that earlier tests left in
    /// namespaces still alive (named ones, the initial one) hold their schedulers' modules:
    /// every namespace's table is cleared first; those of ended tests go by themselves.
    fn unload(&self) {
        shell(
            "for ns in /proc/[0-9]*/ns/net /run/netns/*; do \
               [ -e \"$ns\" ] && /bin/busybox nsenter --net=\"$ns\" /usr/sbin/ipvsadm -C; \
             done 2>/dev/null; true",
        )
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let modules = fs::read_to_string("/proc/modules").unwrap();
            let loaded: Vec<&str> = modules
                .lines()
                .filter_map(|l| l.split(' ').next())
                .filter(|m| m.starts_with("ip_vs"))
                .collect();
            if loaded.is_empty() {
                return;
            }
            for m in loaded.iter().filter(|m| **m != "ip_vs").chain(&["ip_vs"]) {
                let _ = Command::new("/bin/busybox").args(["rmmod", m]).status();
            }
            assert!(Instant::now() < deadline, "ip_vs stays loaded: {loaded:?}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Where the module file is moved to so that modprobe cannot find it (the same file
    /// system: /tmp is another).
    fn hidden(&self) -> String {
        format!("{}.hidden", self.module)
    }

    /// The calls since the last look, but the kernel's own (it asks modprobe for the
    /// generic-netlink family by alias before lvsadm or ipvsadm gets its answer).
    fn modprobe_calls(&self) -> Vec<String> {
        let calls = fs::read_to_string(MODPROBE_LOG).unwrap_or_default();
        let _ = fs::remove_file(MODPROBE_LOG);
        calls
            .lines()
            .filter(|c| !c.contains("net-pf-16-proto-16-family-IPVS"))
            .map(String::from)
            .collect()
    }
}

impl Drop for ModuleRig {
    fn drop(&mut self) {
        let _ = fs::rename(self.hidden(), &self.module);
        let _ = fs::remove_file("/sbin/modprobe");
        let _ = std::os::unix::fs::symlink("/bin/busybox", "/sbin/modprobe");
        // As /init loads them: every module in dependency order.
        let _ = shell("while read -r ko; do insmod \"$ko\" 2>/dev/null; done < /etc/modules.order");
    }
}

#[test]
fn a_missing_ipvs_module_is_loaded_once_or_reported() {
    fresh();
    let rig = ModuleRig::new();
    rig.unload();
    rig.modprobe_calls();
    // The kernel loads the module by alias when asked for the family, or lvsadm does.
    let listed = lv(&["-L", "-n"], None);
    assert_eq!(listed.status, 0, "{}", listed.stderr);
    assert!(listed.stdout.starts_with("IP Virtual Server version"));
    assert!(rig.modprobe_calls().len() <= 1);
    assert!(fs::read_to_string("/proc/modules")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("ip_vs ")));

    // Now modprobe cannot load it: lvsadm says what ipvsadm says, after one try.
    rig.unload();
    fs::rename(&rig.module, rig.hidden()).unwrap();
    rig.modprobe_calls();
    let theirs = run(IPVSADM, &["-L", "-n"], None);
    assert_eq!(rig.modprobe_calls().len(), 1, "ipvsadm tries once too");
    let ours = lv(&["-L", "-n"], None);
    assert_eq!(rig.modprobe_calls(), ["-- ip_vs"]);
    assert_eq!(ours, theirs);
    assert_eq!(ours.status, 2);
    assert!(
        ours.stderr.ends_with(
            "Can't initialize ipvs: Protocol not available\n\
                        Are you sure that IP Virtual Server is built in the kernel or as module?\n"
        ),
        "{}",
        ours.stderr
    );
    let show = lv(&["show"], None);
    assert_eq!(show.status, 2);
    assert!(show
        .stderr
        .contains("lvsadm: Can't initialize ipvs: Protocol not available"));
}

#[test]
fn a_setuid_or_setgid_copy_refuses_to_run() {
    for mode in [0o4755, 0o2755] {
        let copy = "/tmp/lvsadm-raised";
        fs::copy(lvsadm(), copy).unwrap();
        fs::set_permissions(copy, fs::Permissions::from_mode(mode)).unwrap();
        for args in [&["-h"][..], &["-L", "-n"], &["show"]] {
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            let out = spawn(&Spawn {
                program: copy,
                args: &args,
                uid: Some(NOBODY),
                ..Spawn::default()
            })
            .unwrap();
            assert_eq!(out.status, 2, "mode {mode:o} {args:?}: {out:?}");
            assert!(out.stdout.is_empty());
            assert!(
                out.stderr
                    .starts_with("lvsadm: refusing to run with privileges raised by a setuid"),
                "{}",
                out.stderr
            );
        }
        fs::remove_file(copy).unwrap();
    }
}

/// Starts lvsadm with `args` and `input`, sends `signal` as soon as `witness` exists (looked up
/// alone, which costs the kernel little), and returns the exit status and what it said.
fn interrupt(args: &[&str], input: Option<&str>, signal: i32, witness: &str) -> (i32, String) {
    let witness = ipvs::ServiceKey::Addr {
        protocol: ipvs::Protocol::Tcp,
        addr: witness.parse().unwrap(),
        port: 80,
    };
    let mut child = Command::new(lvsadm())
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = input {
        use std::io::Write;
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(text.as_bytes()).unwrap();
    }
    let mut ipvs = ipvs::Client::connect().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while ipvs.service(&witness).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("lvsadm {args:?} ended ({status}) before the signal");
        }
        assert!(Instant::now() < deadline, "lvsadm {args:?} made no change");
        std::thread::sleep(Duration::from_millis(1));
    }
    // SAFETY: kill on the child's pid, which has not been reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    let out = child.wait_with_output().unwrap();
    let status = std::os::unix::process::ExitStatusExt::signal(&out.status)
        .map_or_else(|| out.status.code().unwrap_or(-1), |s| 128 + s);
    (status, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The 100th service of [`big_rules`]: once it exists, many changes are still to come.
const WITNESS: &str = "10.100.0.100";

/// `n` services of two destinations each, as rules lines.
fn big_rules(n: usize, scheduler: &str) -> String {
    let mut rules = String::new();
    for i in 0..n {
        let vip = format!(
            "10.{}.{}.{}:80",
            100 + i / 62500,
            i / 250 % 250,
            i % 250 + 1
        );
        rules += &format!("-A -t {vip} -s {scheduler}\n");
        for r in 1..=2 {
            rules += &format!("-a -t {vip} -r 192.168.7.{r}:8080 -m -w 1\n");
        }
    }
    rules
}

#[test]
fn a_signal_during_an_atomic_restore_or_apply_puts_the_table_back() {
    fresh();
    ipvsadm(
        &["-R"],
        Some("-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.1.1:80 -m -w 3\n"),
    );
    let before = state();
    let rules = big_rules(20000, "wrr");
    let (status, stderr) = interrupt(&["-R", "--atomic"], Some(&rules), libc::SIGINT, WITNESS);
    assert_eq!(
        (status, stderr.as_str()),
        (
            130,
            "interrupted by SIGINT; the table is as it was before the restore\n"
        )
    );
    assert_eq!(state(), before);

    let file = write_rules("interrupted.rules", &rules);
    let (status, stderr) = interrupt(&["apply", &file], None, libc::SIGTERM, WITNESS);
    assert_eq!(
        (status, stderr.as_str()),
        (
            143,
            "lvsadm: interrupted by SIGTERM; the table is as it was\n"
        )
    );
    assert_eq!(state(), before);
}

#[test]
fn listings_stay_consistent_while_another_process_changes_the_table() {
    fresh();
    let stable = big_rules(600, "rr");
    assert_eq!(lv(&["-R"], Some(&stable)).status, 0);
    // The rules are written as -S -n prints them. (ipvsadm's own listing is no reference
    // here: other tests change their namespaces' tables meanwhile, which makes its dumps skip
    // entries.)
    let want: HashSet<String> = stable.lines().map(String::from).collect();
    assert_eq!(want.len(), 1800);
    // Another process adds and deletes services of its own, in this namespace, all along.
    let churn = "i=0; while :; do i=$(( (i % 200) + 1 )); \
                 /usr/sbin/ipvsadm -A -t 10.200.0.$i:80; /usr/sbin/ipvsadm -D -t 10.200.0.$i:80; done";
    let mut child = Command::new("/bin/sh")
        .args(["-c", churn])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..10 {
        let saved = lv_ok(&["-S", "-n"]);
        let mut seen = HashSet::new();
        for line in saved.lines() {
            assert!(seen.insert(line.to_string()), "listed twice: {line}");
        }
        let missing: Vec<&String> = want.iter().filter(|l| !seen.contains(*l)).collect();
        assert!(missing.is_empty(), "missing from a listing: {missing:?}");
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs `program` with output to the file `out`; its peak resident memory in KiB. GNU time
/// measures it: a child of this test would inherit the test's own peak, since the kernel counts
/// the memory a process had before it executed the program. (busybox's `time` reports four
/// times the peak: it converts a count already in KiB as if it were pages.)
fn peak_rss(program: &str, args: &[&str], out: &str) -> u64 {
    let report = "/tmp/rss.txt";
    let status = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o", report, program])
        .args(args)
        .stdout(fs::File::create(out).unwrap())
        .status()
        .unwrap();
    assert!(status.success(), "{program} {args:?}");
    let text = fs::read_to_string(report).unwrap();
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("no peak in {text}"))
}

/// Rules for services `from..to` of 100 destinations each.
fn hundred_each(from: usize, to: usize) -> String {
    let mut rules = String::new();
    for s in from..to {
        let vip = format!("10.3.{}.{}:80", s / 250, s % 250 + 1);
        rules += &format!("-A -t {vip} -s wlc\n");
        for d in 0..100 {
            rules += &format!(
                "-a -t {vip} -r 192.168.{}.{}:8080 -m -w 1\n",
                d / 250,
                d % 250 + 1
            );
        }
    }
    rules
}

/// Peak memory of `-L -n` and `-S -n` by each tool, whose outputs must be the same.
fn listing_peaks() -> [(u64, u64); 2] {
    [&["-L", "-n"][..], &["-S", "-n"]].map(|args| {
        let ours = peak_rss(&lvsadm(), args, "/tmp/ours.txt");
        let theirs = peak_rss(IPVSADM, args, "/tmp/theirs.txt");
        let same = fs::read("/tmp/ours.txt").unwrap() == fs::read("/tmp/theirs.txt").unwrap();
        assert!(same, "lvsadm {args:?} differs from ipvsadm's");
        (ours, theirs)
    })
}

#[test]
fn listing_and_saving_100000_destinations_take_bounded_memory() {
    fresh();
    let restore = |rules: String| {
        let out = lv(&["-R"], Some(&rules));
        assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    };
    restore(hundred_each(0, 100));
    let small = listing_peaks();
    restore(hundred_each(100, 1000));
    let large = listing_peaks();
    let saved = fs::read_to_string("/tmp/ours.txt").unwrap();
    assert_eq!(saved.lines().count(), 101_000);
    eprintln!(
        "peak RSS in KiB (lvsadm, ipvsadm) of -L -n and -S -n: \
         10,000 destinations {small:?}, 100,000 destinations {large:?}"
    );
    for ((ours_small, _), (ours_large, _)) in small.iter().zip(&large) {
        // Ten times the table, not ten times the memory: a listing holds a block at a time.
        assert!(
            *ours_large < ours_small + ours_small / 2,
            "{small:?} then {large:?}"
        );
    }
}
