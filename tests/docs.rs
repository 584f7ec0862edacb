//! The generated man page and completion scripts are in step with the flags, and the bash
//! completion completes what an operator types.

use std::path::Path;
use std::process::Command;

const GENERATED: &[(&str, &str)] = &[
    ("man", "man/lvsadm.8"),
    ("bash", "completions/lvsadm.bash"),
    ("zsh", "completions/_lvsadm"),
    ("fish", "completions/lvsadm.fish"),
];

fn generate(what: &str) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_lvsadm"))
        .args(["generate", what])
        .output()
        .expect("run lvsadm generate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Set LVSADM_BLESS=1 to rewrite the files instead.
#[test]
fn man_page_and_completions_are_not_stale() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (what, file) in GENERATED {
        let fresh = generate(what);
        let path = root.join(file);
        if std::env::var_os("LVSADM_BLESS").is_some() {
            std::fs::write(&path, &fresh).unwrap();
            continue;
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{file} is stale: regenerate with LVSADM_BLESS=1 cargo test --test docs"
        );
    }
}

#[test]
fn man_page_renders_every_section() {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("man/lvsadm.8");
    let out = Command::new("man")
        .env("MANWIDTH", "80")
        .arg("-l")
        .arg(&page)
        .output()
        .expect("run man");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "COMMANDS",
        "IPVSADM COMMANDS",
        "VIRTUAL SERVICE",
        "IPVSADM OPTIONS",
        "SYNC DAEMON",
        "EXTENSIONS TO IPVSADM",
        "THE IPVSADM-COMPATIBLE MODE",
        "EXIT STATUS",
        "FILES",
        "DIFFERENCES FROM IPVSADM",
        "EXAMPLES",
        "SEE ALSO",
    ] {
        assert!(
            text.lines().any(|l| l == section),
            "no {section} section in:\n{text}"
        );
    }
    for command in [
        "lvsadm apply",
        "lvsadm vip add",
        "lvsadm realserver status",
        "lvsadm show",
    ] {
        assert!(text.contains(command), "{command} is not documented");
    }
}

/// What bash offers for the last word of `line`, through the generated completion function,
/// with the words split as bash splits them (':' is a word break).
fn complete(line: &str) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/lvsadm.bash");
    let program = format!(
        r#"source "{script}"
line='{line}'
COMP_LINE="$line"; COMP_POINT=${{#line}}
read -r -a COMP_WORDS <<< "$(printf '%s' "$line" | sed 's/:/ : /g')"
[[ "$line" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
_lvsadm lvsadm "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        script = script.display()
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn bash_completes_schedulers_commands_and_modes() {
    let schedulers = complete("lvsadm -A -t 1.2.3.4:80 -s ");
    for s in ["rr", "wrr", "lc", "wlc", "sh", "mh"] {
        assert!(
            schedulers.contains(&s.to_string()),
            "{s} not offered: {schedulers:?}"
        );
    }
    assert_eq!(complete("lvsadm -A -t 1.2.3.4:80 -s wl"), ["wlc"]);
    let words = complete("lvsadm ");
    for w in ["apply", "diff", "show", "vip", "realserver"] {
        assert!(words.contains(&w.to_string()), "{w} not offered: {words:?}");
    }
    assert!(
        !words.contains(&"generate".to_string()),
        "a hidden command is offered"
    );
    let forwarding = complete("lvsadm -a -t 1.2.3.4:80 -r 10.0.0.1 --");
    for f in ["--gatewaying", "--ipip", "--masquerading"] {
        assert!(forwarding.contains(&f.to_string()), "{f} not offered");
    }
    assert_eq!(
        complete("lvsadm realserver setup 192.0.2.1 --mode "),
        ["dr", "tun", "nat"]
    );
    assert_eq!(
        complete("lvsadm realserver setup --mode nat --g"),
        ["--gateway"]
    );
    assert_eq!(complete("lvsadm vip a"), ["add"]);
}
