//! lvsd's reading of every `vrrp_instance` against keepalived's own: keepalived's VRRP process
//! (`-P`) starts with `-d` in a network namespace of its own, dumps the instances it made
//! (version, state it wants, interface, router id, priority, advert interval, preemption, the
//! VIPs and the devices they go on), and is stopped; `lvsd -t --print` must say the same of
//! each. The files are the differential corpus's (samples, the guide's configuration, lvsd's
//! own) that have instances. Needs root and keepalived, as the differential test does.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const SAMPLES: &str = "/usr/share/doc/keepalived/samples";
const KEEPALIVED: &str = "/usr/sbin/keepalived";

/// What both say of an instance.
#[derive(Debug, Default, PartialEq, Eq)]
struct Instance {
    version: String,
    state: String,
    interface: String,
    router_id: String,
    priority: String,
    advert: String,
    preempt: bool,
    vips: Vec<String>,
}

fn files() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for dir in [
        PathBuf::from(SAMPLES),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus"),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            panic!(
                "{}: missing (install Debian's keepalived package)",
                dir.display()
            );
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.ends_with(".gz")
                || !(name.ends_with(".conf") || name.starts_with("keepalived.conf."))
            {
                continue;
            }
            let different = DIFFERENT.iter().any(|(f, _)| *f == name);
            if !different && std::fs::read_to_string(&p).is_ok_and(|t| t.contains("vrrp_instance"))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// keepalived's dump of its instances (`-d`), by name.
fn from_dump(dump: &str) -> BTreeMap<String, Instance> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, Instance)> = None;
    let mut in_vips = false;
    for raw in dump.lines() {
        // Log lines start with a time stamp and a colon when written to the console.
        let line = match raw.find(": ") {
            Some(i) if raw[..i].contains(':') && raw.starts_with(char::is_alphabetic) => {
                &raw[i + 2..]
            }
            _ => raw,
        };
        if line.starts_with("------<") {
            in_vips = false;
            if let Some((n, i)) = current.take() {
                out.insert(n, i);
            }
            continue;
        }
        if let Some(name) = line.strip_prefix(" VRRP Instance = ") {
            if let Some((n, i)) = current.take() {
                out.insert(n, i);
            }
            current = Some((name.trim().to_string(), Instance::default()));
            in_vips = false;
            continue;
        }
        let Some((_, inst)) = current.as_mut() else {
            continue;
        };
        if in_vips {
            if let Some(vip) = line.strip_prefix("     ") {
                let mut words = vip.split_whitespace();
                let addr = words.next().unwrap_or("").to_string();
                let mut dev = String::new();
                while let Some(w) = words.next() {
                    if w == "dev" {
                        dev = words.next().unwrap_or("").to_string();
                    }
                }
                inst.vips
                    .push(format!("{} {dev}", addr.split('/').next().unwrap_or("")));
                continue;
            }
            in_vips = false;
        }
        let Some((key, value)) = line.trim_start().split_once(" = ") else {
            if line.trim_start().starts_with("Virtual IP (") {
                in_vips = true;
            }
            continue;
        };
        let value = value.trim().to_string();
        match key {
            "VRRP Version" => inst.version = value,
            "Wantstate" => inst.state = value,
            "Interface" => inst.interface = value,
            "Virtual Router ID" => inst.router_id = value,
            "Priority" => inst.priority = value,
            "Advert interval" => inst.advert = seconds(&value),
            "Preempt" => inst.preempt = value == "enabled",
            _ => {}
        }
    }
    if let Some((n, i)) = current.take() {
        out.insert(n, i);
    }
    for i in out.values_mut() {
        i.vips.sort();
    }
    out
}

/// keepalived's advert interval, "1 sec" (version 2) or "500 milli-sec" (version 3), in
/// seconds as lvsd prints it.
fn seconds(value: &str) -> String {
    if let Some(ms) = value
        .strip_suffix(" milli-sec")
        .and_then(|v| v.parse::<u64>().ok())
    {
        let s = format!("{}.{:03}", ms / 1000, ms % 1000);
        return s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    value.trim_end_matches(" sec").to_string()
}

/// Where lvsd deliberately reads otherwise (docs/keepalived.md).
const DIFFERENT: &[(&str, &str)] = &[(
    "191-vrrp-use-vmac.conf",
    "lvsd does not make VMAC interfaces (use_vmac is read, not acted on)",
)];

/// lvsd's effective configuration's instances, by name.
fn from_print(print: &str) -> BTreeMap<String, Instance> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, Instance)> = None;
    let mut block = String::new();
    for line in print.lines() {
        if let Some(rest) = line.strip_prefix("vrrp_instance ") {
            let name = rest.trim_end_matches(" {").to_string();
            current = Some((
                name,
                Instance {
                    preempt: true,
                    ..Instance::default()
                },
            ));
            continue;
        }
        if line == "}" {
            if let Some((n, i)) = current.take() {
                out.insert(n, i);
            }
            continue;
        }
        let Some((_, inst)) = current.as_mut() else {
            continue;
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["}"] => block.clear(),
            [b, "{"] => block = b.to_string(),
            [addr, rest @ ..] if block == "virtual_ipaddress" => {
                let dev = rest
                    .iter()
                    .position(|w| *w == "dev")
                    .and_then(|i| rest.get(i + 1))
                    .unwrap_or(&"");
                inst.vips
                    .push(format!("{} {dev}", addr.split('/').next().unwrap_or("")));
            }
            ["state", s] => inst.state = s.to_string(),
            ["interface", s] => inst.interface = s.to_string(),
            ["virtual_router_id", s] => inst.router_id = s.to_string(),
            ["priority", s] => inst.priority = s.to_string(),
            ["advert_int", s] => inst.advert = s.to_string(),
            ["version", s] => inst.version = s.to_string(),
            ["nopreempt"] => inst.preempt = false,
            _ => {}
        }
    }
    for i in out.values_mut() {
        i.vips.sort();
    }
    out
}

/// The shell lines that run keepalived's VRRP process on `f` with `-d` into `w.dump`, and stop
/// it once it has dumped its instances and its output has stayed still for `still` × 20 ms
/// (its processes write to the one file, not always in order). Line buffering keeps the dump
/// whole when it is stopped (a full buffer would be lost with it).
fn dump_script(f: &Path, w: &Path, still: u32) -> String {
    let dir = f.parent().unwrap_or(Path::new("/")).display();
    format!(
        "cd '{dir}'; stdbuf -oL -eL {KEEPALIVED} -n -l -G -d -P -f '{f}' -p '{w}.pid' -r '{w}.vpid' -c '{w}.cpid' -b '{w}.bpid' >'{w}.dump' 2>&1 &\n\
         k=$!; n=0\n\
         while [ $n -lt 300 ] && kill -0 $k 2>/dev/null && ! grep -qs -- '------< Interfaces >------' '{w}.dump'; do sleep 0.02; n=$((n+1)); done\n\
         last=-1; same=0\n\
         while [ $n -lt 600 ] && [ $same -lt {still} ]; do s=$(stat -c %s '{w}.dump'); if [ \"$s\" = \"$last\" ]; then same=$((same+1)); else same=0; fi; last=$s; sleep 0.02; n=$((n+1)); done\n\
         kill -9 $k $(cat '{w}.vpid' '{w}.cpid' '{w}.bpid' 2>/dev/null) 2>/dev/null; wait $k 2>/dev/null\n",
        f = f.display(),
        w = w.display(),
    )
}

#[test]
fn lvsd_reads_vrrp_instances_as_keepalived_does() {
    assert!(
        Path::new(KEEPALIVED).exists(),
        "{KEEPALIVED} is missing: install Debian's keepalived package (tests/setup does)"
    );
    let files = files();
    assert!(
        files.len() >= 40,
        "only {} files with instances",
        files.len()
    );
    let work = std::env::temp_dir().join(format!("lvsd-vrrp-reading-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    // One namespace for all: eth0 exists (as the differential test's).
    let mut script = String::new();
    for (i, f) in files.iter().enumerate() {
        script += &dump_script(f, &work.join(i.to_string()), 10);
    }
    common::in_namespace(&work, &script);
    let lvsd = env!("CARGO_BIN_EXE_lvsd");
    let mut failures = Vec::new();
    let mut compared = 0;
    for (i, f) in files.iter().enumerate() {
        let dump = std::fs::read_to_string(work.join(format!("{i}.dump"))).unwrap_or_default();
        let theirs = from_dump(&dump);
        let out = Command::new("unshare")
            .args(["--net", "--", "sh", "-c"])
            .arg(format!(
                "ip link add eth0 type dummy 2>/dev/null || ip link add eth0 type bridge; cd '{}'; '{lvsd}' -t --print -f '{}'",
                f.parent().unwrap_or(Path::new("/")).display(),
                f.display()
            ))
            .output()
            .expect("run lvsd");
        let ours = from_print(&String::from_utf8_lossy(&out.stdout));
        // keepalived stops on some files before it makes an instance; lvsd says it would not
        // start, and prints what it read.
        if theirs.is_empty() && !dump.contains("VRRP Topology") {
            continue;
        }
        compared += 1;
        // A dump cut short (keepalived's processes write to one file, and a busy machine can
        // pause one for longer than the stillness waited for) is taken again, waiting longer.
        let theirs = if theirs == ours {
            theirs
        } else {
            let w = work.join(format!("{i}-again"));
            common::in_namespace(&work, &dump_script(f, &w, 50));
            let dump = std::fs::read_to_string(w.with_extension("dump")).unwrap_or_default();
            from_dump(&dump)
        };
        if theirs != ours {
            failures.push(format!(
                "{}:\n  keepalived: {theirs:?}\n  lvsd:       {ours:?}",
                f.display()
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    assert!(compared >= 40, "only {compared} files compared");
    assert!(
        failures.is_empty(),
        "{} of {compared} files read otherwise:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
