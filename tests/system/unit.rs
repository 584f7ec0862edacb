//! systemd/lvsadm.service: its start, reload and stop commands, run as systemd would run them
//! (with its ${RULES} substituted), restore, apply and save the table.

use std::process::Command;

use crate::rig::{fresh_namespace, lvsadm, IPVSADM};

const UNIT: &str = include_str!("../../systemd/lvsadm.service");

/// The unit's `key=` command lines, with the rules file and the binary under test put in.
fn commands(key: &str, rules: &str) -> Vec<String> {
    UNIT.lines()
        .filter_map(|l| l.strip_prefix(key))
        .map(|c| {
            c.replace("${RULES}", rules)
                .replace("/usr/sbin/lvsadm", &lvsadm())
        })
        .collect()
}

/// Runs an Exec line: systemd splits it into words, honouring single quotes.
fn exec(line: &str) -> bool {
    let words: Vec<String> = match line.split_once(" -c '") {
        Some((program, script)) => vec![
            program.to_string(),
            "-c".to_string(),
            script.trim_end_matches('\'').to_string(),
        ],
        None => line.split_whitespace().map(String::from).collect(),
    };
    Command::new(&words[0])
        .args(&words[1..])
        .status()
        .expect("run an Exec line")
        .success()
}

fn saved() -> String {
    let out = Command::new(IPVSADM).args(["-S", "-n"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn unit_restores_at_start_and_saves_at_stop() {
    fresh_namespace().unwrap();
    let rules = "/tmp/unit-test.rules";
    let start = commands("ExecStart=", rules);
    let stop = commands("ExecStop=", rules);
    assert_eq!((start.len(), stop.len()), (1, 2), "{UNIT}");

    // No file yet: start succeeds with an empty table.
    let _ = std::fs::remove_file(rules);
    assert!(exec(&start[0]));
    assert_eq!(saved(), "");

    let table = "-A -t 192.0.2.60:80 -s rr\n-a -t 192.0.2.60:80 -r 198.51.100.2:80 -g -w 1\n";
    std::fs::write(rules, table).unwrap();
    assert!(exec(&start[0]));
    assert_eq!(saved(), table);

    // A reload applies the file as it is now, without a flush; a broken file fails it and
    // changes nothing.
    let reload = commands("ExecReload=", rules);
    assert_eq!(reload.len(), 1, "{UNIT}");
    let edited = format!("{table}-a -t 192.0.2.60:80 -r 198.51.100.3:80 -g -w 2\n");
    std::fs::write(rules, &edited).unwrap();
    assert!(exec(&reload[0]));
    let reloaded = saved();
    assert_eq!(reloaded.lines().count(), 3, "{reloaded}");
    assert!(reloaded.contains("-r 198.51.100.3:80 -g -w 2"), "{reloaded}");
    std::fs::write(rules, format!("{edited}-a -t 192.0.2.60:80 -r\n")).unwrap();
    assert!(!exec(&reload[0]));
    assert_eq!(saved(), reloaded);
    std::fs::write(rules, table).unwrap();
    assert!(exec(&reload[0]));
    assert_eq!(saved(), table);

    assert!(Command::new(lvsadm())
        .args(["-A", "-u", "192.0.2.60:53", "-s", "wlc"])
        .status()
        .unwrap()
        .success());
    let with_dns = saved();
    for line in &stop {
        assert!(exec(line), "{line}");
    }
    assert_eq!(std::fs::read_to_string(rules).unwrap(), with_dns);
    assert_eq!(saved(), "", "stop clears the table");

    // A restart restores what stop saved; a file the kernel refuses fails and changes nothing.
    assert!(exec(&start[0]));
    assert_eq!(saved(), with_dns);
    assert!(exec(&stop[1]));
    std::fs::write(
        rules,
        format!("{with_dns}-a -t 192.0.2.99:80 -r 198.51.100.2\n"),
    )
    .unwrap();
    assert!(!exec(&start[0]));
    assert_eq!(saved(), "");
    std::fs::remove_file(rules).unwrap();
}
