//! The command line on a machine without IPVS: what must work before lvsadm talks to the
//! kernel (help, version, every parsing error), and what it says when it cannot.

use std::process::{Command, Output};

fn lvsadm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lvsadm"))
        .args(args)
        .output()
        .expect("run lvsadm")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn help_and_version_need_no_ipvs() {
    let out = lvsadm(&["-h"]);
    assert_eq!(out.status.code(), Some(0));
    let help = include_str!("fixtures/ipvsadm-help.txt").replace(
        "  ipvsadm ",
        &format!("  {} ", env!("CARGO_BIN_EXE_lvsadm")),
    );
    assert_eq!(text(&out.stdout), help);
    let out = lvsadm(&["-v", "--bogus"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n"
    );
}

#[test]
fn version_names_lvsadm_unless_it_runs_as_ipvsadm() {
    let out = lvsadm(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        format!(
            "lvsadm {} (compatible with ipvsadm 1.31)\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    let dir = std::env::temp_dir().join(format!("lvsadm-as-ipvsadm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("ipvsadm");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_lvsadm"), &link).unwrap();
    let out = Command::new(&link).arg("--version").output().unwrap();
    assert_eq!(
        text(&out.stdout),
        "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn parsing_errors_need_no_ipvs() {
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["-A", "-t", "1.2.3.4:80", "-b", ","],
            2,
            "invalid scheduler flag `,'\n",
        ),
        (
            &["-A", "-t", "1.2.3.4:80", "-b", ",,"],
            2,
            "invalid scheduler flag `,,'\n",
        ),
        (&["-L", "--bogus"], 255, "--bogus: unknown option\n"),
        (
            &["-A", "-f", "7", "-6", "-t", "1.2.3.4:80"],
            2,
            "multiple 'service-address' options specified\n",
        ),
        (
            &["-a", "-t", "1.2.3.4:80"],
            2,
            "You need to supply the 'real-server' option for the 'add-server' command\n",
        ),
        (
            &["-A", "-t", "1.2.3.4:0"],
            2,
            "Zero port specified for non-persistent service\n",
        ),
    ];
    for (args, status, stderr) in cases {
        let out = lvsadm(args);
        assert_eq!(out.status.code(), Some(*status), "{args:?}");
        assert_eq!(text(&out.stderr), *stderr, "{args:?}");
        assert!(out.stdout.is_empty());
    }
    let out = lvsadm(&["-nL"]);
    let prog = env!("CARGO_BIN_EXE_lvsadm");
    assert_eq!(
        text(&out.stderr),
        format!("Try `{prog} -h' or '{prog} --help' for more information.\n")
    );
}

/// This machine's kernel has no IPVS (CI's and the development machines' do not), so a
/// command that needs it fails the way ipvsadm does, after trying to load the module.
#[test]
fn without_ipvs_the_message_is_ipvsadms() {
    if std::path::Path::new("/proc/net/ip_vs").exists() {
        eprintln!("this kernel has IPVS; the VM suite covers this machine's case");
        return;
    }
    let out = lvsadm(&["-L", "-n"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).ends_with(
            "Can't initialize ipvs: Protocol not available\n\
             Are you sure that IP Virtual Server is built in the kernel or as module?\n"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn restore_reports_every_bad_line_before_touching_the_kernel() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_lvsadm"))
        .arg("-R")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"# web\n-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.1.1.1 -w x\n\n-A -u 10.0.0.1:53 -s\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(
        text(&out.stderr),
        "line 3: illegal weight specified\nline 5: -s: missing argument\nnothing was restored\n"
    );
}
