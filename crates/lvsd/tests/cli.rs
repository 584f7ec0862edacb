//! lvsd's command line, as a unit file or a script written for keepalived uses it.

use std::path::PathBuf;
use std::process::{Command, Output};

fn lvsd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lvsd"))
        .args(args)
        .output()
        .expect("run lvsd")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn config(name: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lvsd-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

#[test]
fn help_and_version() {
    let out = lvsd(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for option in [
        "--use-file",
        "--config-test",
        "--namespace",
        "--config-id",
        "--print-rules",
    ] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
    let out = lvsd(&["-v"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).starts_with("lvsd "));
}

#[test]
fn a_wrong_command_line_says_what_is_wrong() {
    for (args, says) in [
        (&["-q"][..], "invalid option -- 'q'"),
        (&["-f"][..], "option requires an argument -- 'f'"),
        (
            &["--print"][..],
            "--print, --print-rules and --runnable go with -t",
        ),
        (&["-x"][..], "no SNMP"),
    ] {
        let out = lvsd(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn config_test_report_goes_to_the_file_named() {
    let conf = config("bad.conf", "no_such_keyword 1\n");
    let log = conf.with_file_name("report.log");
    let out = lvsd(&[
        "-f",
        conf.to_str().unwrap(),
        &format!("-t{}", log.display()),
    ]);
    assert_eq!(out.status.code(), Some(5));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let report = std::fs::read_to_string(&log).unwrap();
    assert!(
        report.contains("bad.conf:1: error: Unknown keyword 'no_such_keyword'"),
        "{report}"
    );
}

#[test]
fn a_missing_file_is_an_error() {
    // keepalived 2.2.7's -t exits 0 here; lvsd does not pass a file it cannot read.
    let out = lvsd(&["-t", "-f", "/nonexistent/keepalived.conf"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(text(&out.stderr).contains("/nonexistent/keepalived.conf"));
}

#[test]
fn config_id_selects_conditional_lines() {
    let conf = config("ids.conf", "@one bad_on_one 1\n@^one bad_elsewhere 1\n");
    let out = lvsd(&["-t", "-i", "one", "-f", conf.to_str().unwrap()]);
    let report = text(&out.stderr);
    assert!(
        report.contains("bad_on_one") && !report.contains("bad_elsewhere"),
        "{report}"
    );
}

/// `-s NAME` checks the interfaces of that namespace, as keepalived's does.
#[test]
fn namespace_option_reads_its_interfaces() {
    let ns = format!("lvsd-cli-{}", std::process::id());
    let ok = |args: &[&str]| {
        Command::new("ip")
            .args(args)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    assert!(
        ok(&["netns", "add", &ns]),
        "ip netns add (the test needs root)"
    );
    let made = ok(&["-n", &ns, "link", "add", "eth7", "type", "dummy"])
        || ok(&["-n", &ns, "link", "add", "eth7", "type", "bridge"]);
    let conf = config(
        "ns.conf",
        "vrrp_instance V {\n interface eth7\n virtual_router_id 9\n virtual_ipaddress {\n  192.0.2.9 dev eth7\n }\n}\n",
    );
    let inside = lvsd(&["-t", "-s", &ns, "-f", conf.to_str().unwrap()]);
    let outside = lvsd(&["-t", "-f", conf.to_str().unwrap()]);
    let missing = lvsd(&[
        "-t",
        "-s",
        "no-such-namespace",
        "-f",
        conf.to_str().unwrap(),
    ]);
    ok(&["netns", "del", &ns]);
    assert!(made, "could not add an interface to the namespace");
    assert_eq!(inside.status.code(), Some(0), "{}", text(&inside.stderr));
    assert_eq!(outside.status.code(), Some(5));
    assert!(text(&outside.stderr).contains("interface eth7 for vrrp_instance V doesn't exist"));
    assert_eq!(missing.status.code(), Some(4));
}

#[test]
fn runnable_says_whether_the_daemon_runs_the_file() {
    // keepalived's -t complains (exit 5: no lb_algo), yet lvsd runs the file as written.
    let benign = config(
        "benign.conf",
        "virtual_server 192.0.2.1 80 {\n    protocol TCP\n    lb_kind DR\n    real_server 192.0.2.2 80 {\n        TCP_CHECK {\n        }\n    }\n}\n",
    );
    let path = benign.to_str().unwrap();
    assert_eq!(lvsd(&["-t", "-f", path]).status.code(), Some(5));
    let out = lvsd(&["-t", "--runnable", "-f", path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // VRRP on a VMAC interface is not built: refused, and said why.
    let vmac = config(
        "vmac.conf",
        "vrrp_instance VI_1 {\n    interface lo\n    use_vmac\n    virtual_router_id 51\n    virtual_ipaddress {\n        192.0.2.100\n    }\n}\n",
    );
    let out = lvsd(&["-t", "--runnable", "-f", vmac.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("use_vmac"),
        "{}",
        text(&out.stderr)
    );
    // Without -t it is a mistake on the command line.
    assert!(!lvsd(&["--runnable"]).status.success());
}
