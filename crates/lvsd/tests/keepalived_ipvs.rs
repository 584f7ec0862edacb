//! What lvsd understands of a configuration against what keepalived does with it on a real
//! IPVS kernel (run in the VM by tests/vm/suite): keepalived's checker (`-C`) starts in a
//! network namespace of its own and adds every virtual server and every real server before
//! its first check (a second after it starts); the table it made, as `ipvsadm -S -n` lists it,
//! must be what `lvsd -t --print-rules` says it would program.
//!
//! The configurations are the samples of Debian's keepalived package and lvsd's own corpus,
//! copied into the guest under /work/keepalived/, but for the few where lvsd deliberately
//! reads otherwise than keepalived's daemon ([`DIFFERENT`]).

use std::path::{Path, PathBuf};
use std::process::Command;

const KEEPALIVED: &str = "/usr/sbin/keepalived";
const LVSD: &str = "/work/bin/lvsd";
const CONFIGS: &str = "/work/keepalived";

/// Where lvsd deliberately does not do what keepalived's daemon does (docs/keepalived.md).
const DIFFERENT: &[(&str, &str)] = &[
    (
        "085-num-weight-nonnumeric.conf",
        "keepalived's daemon reads `weight heavy` as 0; lvsd refuses it, as keepalived -t does",
    ),
    (
        "098-num-fwmark-zero.conf",
        "keepalived programs `fwmark 0` as a UDP service on 255.255.255.255 port 0",
    ),
    (
        "099-num-fwmark-nonnumeric.conf",
        "keepalived's daemon reads `fwmark web` as 0, then as above",
    ),
];

fn configs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["samples", "corpus"] {
        let Ok(entries) = std::fs::read_dir(Path::new(CONFIGS).join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            let is_conf = p.extension().is_some_and(|x| x == "conf")
                || p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("keepalived.conf"));
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            let different = DIFFERENT.iter().any(|(f, _)| name.as_deref() == Some(f));
            if is_conf && text.contains("virtual_server") && !different {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The table keepalived makes for `conf` in a fresh namespace, read once it says it has
/// started (its checker sets the table up before that) or has stopped.
fn keepalived_table(conf: &Path, work: &Path) -> String {
    let script = format!(
        r#"
ip link set lo up
ip link add eth0 type dummy && ip link set eth0 up
cd '{dir}'
{KEEPALIVED} -C -n -l -G -f '{conf}' -p '{work}/ka.pid' -c '{work}/check.pid' -r '{work}/vrrp.pid' -b '{work}/bfd.pid' >'{work}/log' 2>&1 &
ka=$!
i=0
while [ $i -lt 500 ] && kill -0 $ka 2>/dev/null && ! grep -q "Startup complete" '{work}/log'; do
  usleep 10000
  i=$((i + 1))
done
# IPVS resumes a dump by position in a table all namespaces share: while other tests' tables
# change, a long listing can repeat or skip entries. Two listings that agree are the table.
prev=x; n=0
while [ $n -lt 20 ]; do
  cur=$(ipvsadm -S -n)
  [ "$cur" = "$prev" ] && break
  prev=$cur; n=$((n + 1))
done
printf '%s\n' "$cur"
kill -9 $ka $(cat '{work}/check.pid' '{work}/bfd.pid' 2>/dev/null) 2>/dev/null
wait
"#,
        dir = conf.parent().unwrap_or(Path::new("/")).display(),
        conf = conf.display(),
        work = work.display(),
    );
    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", &script])
        .output()
        .expect("unshare");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sorted(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// How keepalived's table for `conf` differs from lvsd's prediction, if it does.
fn compare(conf: &Path, work: &Path) -> Option<String> {
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work).unwrap();
    let kernel = sorted(&keepalived_table(conf, work));
    let lvsd = Command::new(LVSD)
        .args(["-t", "--print-rules", "-f"])
        .arg(conf)
        .current_dir(conf.parent().unwrap_or(Path::new("/")))
        .output()
        .expect("run lvsd");
    let predicted = sorted(&String::from_utf8_lossy(&lvsd.stdout));
    if kernel == predicted {
        return None;
    }
    let log = std::fs::read_to_string(work.join("log")).unwrap_or_default();
    Some(format!(
        "{}:\n  keepalived made:\n    {}\n  lvsd -t --print-rules says:\n    {}\n  keepalived's log:\n{log}",
        conf.display(),
        kernel.join("\n    "),
        predicted.join("\n    ")
    ))
}

#[test]
fn lvsd_print_rules_is_the_table_keepalived_programs() {
    let configs = configs();
    assert!(
        configs.len() >= 100,
        "only {} configurations under {CONFIGS}: tests/vm/suite copies them in",
        configs.len()
    );
    // The configurations run four at a time, each in a namespace of its own: most of the
    // time is keepalived starting under software emulation.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for worker in 0..4 {
            let (configs, next, failures) = (&configs, &next, &failures);
            scope.spawn(move || {
                let work = std::env::temp_dir().join(format!("keepalived-ipvs-{worker}"));
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(conf) = configs.get(n) else {
                        return;
                    };
                    if let Some(failure) = compare(conf, &work) {
                        failures.lock().unwrap().push(failure);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} configurations differ:\n{}",
        failures.len(),
        configs.len(),
        failures.join("\n")
    );
}
