//! `lvsd -t` against the real `keepalived -t` (Debian's 2.2.7 package, which `tests/setup`
//! installs) on a corpus: the sample configurations the package ships, the classic LVS guide's
//! configuration as a reader assembles it (with the page's no-break spaces and with plain
//! spaces), and lvsd's own variations in `tests/corpus/`. For each file both must exit with
//! the same status, and every line keepalived complains about must be named by lvsd.
//!
//! Both run in a network namespace of their own with `lo` and an `eth0`, so that the
//! interfaces the files name are the same on every machine. Where keepalived crashes (it
//! does on an `HTTP_GET` left without a `url`), lvsd must exit 5 and name the same lines. Needs root (for the namespace)
//! and keepalived: without them the test fails and says so, it is never skipped.

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const SAMPLES: &str = "/usr/share/doc/keepalived/samples";
const KEEPALIVED: &str = "/usr/sbin/keepalived";

fn here() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// Debian's sample with the guide's two fragments in place of its `virtual_ipaddress` and
/// `virtual_server` blocks, as the guide tells its readers to do.
fn guide(sample: &str) -> String {
    let dir = here().join("guide");
    let vip = std::fs::read_to_string(dir.join("virtual_ipaddress.fragment")).unwrap();
    let vs = std::fs::read_to_string(dir.join("virtual_server.fragment")).unwrap();
    let start = sample
        .find("    virtual_ipaddress {")
        .expect("the sample has a virtual_ipaddress block");
    let end = start + sample[start..].find('}').unwrap() + 1;
    let with_vip = format!(
        "{}{}{}",
        &sample[..start],
        vip.trim_end_matches('\n'),
        &sample[end..]
    );
    let at = with_vip
        .find("virtual_server 10.10.10.2")
        .expect("the sample has a virtual_server block");
    format!("{}{}", &with_vip[..at], vs)
}

fn corpus(work: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut samples: Vec<PathBuf> = std::fs::read_dir(SAMPLES)
        .unwrap_or_else(|e| panic!("{SAMPLES}: {e}: install Debian's keepalived package"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("keepalived.conf.") && !n.ends_with(".gz"))
        })
        .collect();
    samples.sort();
    assert_eq!(
        samples.len(),
        25,
        "Debian's package ships 25 sample configurations"
    );
    let sample =
        std::fs::read_to_string(Path::new(SAMPLES).join("keepalived.conf.sample")).unwrap();
    let guide = guide(&sample);
    let copied = work.join("guide-as-printed.conf");
    std::fs::write(&copied, &guide).unwrap();
    let plain = work.join("guide-plain-spaces.conf");
    std::fs::write(&plain, guide.replace('\u{a0}', " ")).unwrap();
    files.extend(samples);
    files.push(copied);
    files.push(plain);
    let mut own: Vec<PathBuf> = std::fs::read_dir(here().join("corpus"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    own.sort();
    files.extend(own);
    files
}

/// The lines a report names in `file`: keepalived's `(FILE: Line N)` and `(Line N)` (the
/// main file), lvsd's `FILE:N:` and `FILE:N:COLUMN:`.
fn keepalived_lines(report: &str, main: &Path) -> BTreeSet<(String, u32)> {
    let main_name = base(main);
    let mut out = BTreeSet::new();
    for line in report.lines() {
        let Some(rest) = line.strip_prefix('(') else {
            continue;
        };
        let Some((head, _)) = rest.split_once(')') else {
            continue;
        };
        let (file, number) = match head.rsplit_once(": Line ") {
            Some((f, n)) => (base(Path::new(f)), n),
            None => match head.strip_prefix("Line ") {
                Some(n) => (main_name.clone(), n),
                None => continue,
            },
        };
        if let Ok(n) = number.trim().parse() {
            out.insert((file, n));
        }
    }
    out
}

fn lvsd_lines(report: &str) -> BTreeSet<(String, u32)> {
    let mut out = BTreeSet::new();
    for line in report.lines().filter(|l| !l.starts_with(' ')) {
        let mut parts = line.splitn(3, ':');
        let (Some(file), Some(number)) = (parts.next(), parts.next()) else {
            continue;
        };
        if let Ok(n) = number.parse() {
            out.insert((base(Path::new(file)), n));
        }
    }
    out
}

fn base(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

#[test]
fn lvsd_test_agrees_with_keepalived_on_the_corpus() {
    assert!(
        Path::new(KEEPALIVED).exists(),
        "{KEEPALIVED} is missing: install Debian's keepalived package (tests/setup does)"
    );
    let work = std::env::temp_dir().join(format!("lvsd-differential-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let files = corpus(&work);
    let lvsd = env!("CARGO_BIN_EXE_lvsd");
    let mut script = String::from("set -u\n");
    for (i, f) in files.iter().enumerate() {
        let dir = f.parent().unwrap_or(Path::new("/"));
        let out = work.join(i.to_string());
        let _ = writeln!(
            script,
            "cd {dir} && timeout 20 {KEEPALIVED} -t -f {f} 2>{o}.ka >/dev/null; echo $? >{o}.ka-status",
            dir = sh_quote(dir),
            f = sh_quote(f),
            o = sh_quote(&out)
        );
        let _ = writeln!(
            script,
            "cd {dir} && timeout 20 {lvsd} -t -f {f} 2>{o}.lvsd >/dev/null; echo $? >{o}.lvsd-status",
            dir = sh_quote(dir),
            lvsd = sh_quote(Path::new(lvsd)),
            f = sh_quote(f),
            o = sh_quote(&out)
        );
    }
    common::in_namespace(&work, &script);
    let mut failures = String::new();
    for (i, f) in files.iter().enumerate() {
        let read = |suffix: &str| {
            std::fs::read_to_string(work.join(format!("{i}.{suffix}"))).unwrap_or_default()
        };
        let (ka, lv) = (read("ka"), read("lvsd"));
        let (ka_status, lv_status) = (read("ka-status"), read("lvsd-status"));
        let named_by_keepalived = keepalived_lines(&ka, f);
        let named_by_lvsd = lvsd_lines(&lv);
        let missing: Vec<_> = named_by_keepalived.difference(&named_by_lvsd).collect();
        // keepalived crashes on some files (an HTTP_GET left without a url): lvsd must then
        // report the problem and fail, as keepalived's -t would if it did not crash.
        let crashed = ka_status.trim().parse::<i32>().is_ok_and(|s| s >= 128);
        let statuses_agree = if crashed {
            lv_status.trim() == "5"
        } else {
            ka_status.trim() == lv_status.trim()
        };
        if !statuses_agree || !missing.is_empty() {
            let _ = writeln!(
                failures,
                "\n== {}: keepalived exits {}, lvsd {}; lines keepalived names and lvsd does not: {missing:?}\n-- keepalived -t:\n{ka}-- lvsd -t:\n{lv}",
                f.display(),
                ka_status.trim(),
                lv_status.trim()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    assert!(
        failures.is_empty(),
        "lvsd -t disagrees with keepalived -t on {} of {} files:{failures}",
        failures.matches("\n== ").count(),
        files.len()
    );
}
