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
    // ipvsadm's text unchanged, then lvsadm's own commands.
    let ours = text(&out.stdout);
    let own = ours.strip_prefix(&help).expect("ipvsadm's help first");
    for word in ["apply", "diff", "show", "vip", "realserver", "help"] {
        assert!(
            own.lines().any(|l| l.starts_with(&format!("  {word} "))),
            "{word} in {own}"
        );
    }
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
    // Under ipvsadm's name, its help is ipvsadm's to the byte.
    for flag in ["-h", "--help"] {
        let out = Command::new(&link).arg(flag).output().unwrap();
        let help = include_str!("fixtures/ipvsadm-help.txt")
            .replace("  ipvsadm ", &format!("  {} ", link.display()));
        assert_eq!((out.status.code(), text(&out.stdout)), (Some(0), help));
    }
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

#[test]
fn help_names_every_command_and_shows_each() {
    let all = text(&lvsadm(&["help"]).stdout);
    assert_eq!(all, text(&lvsadm(&["--help"]).stdout));
    let own = all
        .split_once("\nlvsadm's own commands")
        .map(|(_, own)| own)
        .expect("a list of lvsadm's commands");
    // Every word listed is taken as a command, and has help of its own.
    let words: Vec<&str> = own
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(words.len() >= 6, "{own}");
    for word in words {
        let out = lvsadm(&["help", word]);
        assert_eq!(out.status.code(), Some(0), "help {word}");
        if word != "help" {
            assert!(
                text(&out.stdout).contains(&format!("Usage: lvsadm {word}")),
                "{word}: {}",
                text(&out.stdout)
            );
            let direct = lvsadm(&[word, "--help"]);
            assert_eq!(direct.status.code(), Some(0), "{word} --help");
        }
    }
    let out = lvsadm(&["help", "bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "lvsadm: no command \"bogus\": lvsadm help lists the commands\n"
    );
}
