//! systemd/lvsd.service read as systemd reads it: its `Exec*=` command lines, and the
//! environment they are expanded in (`Environment=`, then each `EnvironmentFile=` over it).
//! Only what the unit uses is understood, the rest of systemd's language is ignored; a unit
//! that came to need more (specifiers, `Environment=` with several quoted assignments, line
//! continuations) would fail [`tests`] here rather than be read wrongly in silence.

use std::collections::BTreeMap;

/// The variables a command line is expanded with.
pub type Env = BTreeMap<String, String>;

/// One `Exec*=` line.
#[derive(Clone, Debug, PartialEq)]
pub struct Exec {
    /// A `-` prefix: systemd goes on when the command fails.
    pub ignore_failure: bool,
    /// The command line after the prefixes, not yet expanded.
    pub line: String,
}

#[derive(Debug, Default)]
pub struct Unit {
    /// `Type=` of `[Service]`.
    pub kind: String,
    /// `Environment=`, in order.
    pub environment: Env,
    /// `EnvironmentFile=`: the path, and whether a `-` made a missing file acceptable.
    pub environment_files: Vec<(String, bool)>,
    /// `ExecStartPre=`, `ExecStart=`, `ExecReload=`, `ExecStop=`... each in order.
    pub exec: BTreeMap<String, Vec<Exec>>,
}

impl Unit {
    pub fn parse(text: &str) -> Unit {
        let mut unit = Unit::default();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with(['#', ';', '[']) {
                continue;
            }
            assert!(!line.ends_with('\\'), "a continued line: {line}");
            let Some((key, value)) = line.split_once('=') else {
                panic!("not a setting: {line}");
            };
            let (key, value) = (key.trim(), value.trim());
            match key {
                "Type" => unit.kind = value.to_string(),
                "Environment" => {
                    let (k, v) = value
                        .trim_matches('"')
                        .split_once('=')
                        .unwrap_or_else(|| panic!("Environment={value}"));
                    assert!(!v.contains(' '), "one assignment a line: {line}");
                    unit.environment.insert(k.to_string(), v.to_string());
                }
                "EnvironmentFile" => {
                    let optional = value.starts_with('-');
                    let path = value.trim_start_matches('-');
                    unit.environment_files.push((path.to_string(), optional));
                }
                k if k.starts_with("Exec") => {
                    // "@", ":", "+", "!" change how systemd runs the command; lvsd.service
                    // has no use for them, and running it otherwise would not be systemd's.
                    let rest = value.trim_start_matches('-');
                    assert!(
                        !rest.starts_with(['@', ':', '+', '!']),
                        "a prefix this runner does not know: {line}"
                    );
                    unit.exec.entry(k.to_string()).or_default().push(Exec {
                        ignore_failure: value.starts_with('-'),
                        line: rest.to_string(),
                    });
                }
                _ => {}
            }
        }
        unit
    }

    /// The `Exec*=` lines of `key`, none if the unit has none.
    pub fn exec(&self, key: &str) -> &[Exec] {
        self.exec.get(key).map_or(&[], Vec::as_slice)
    }
}

/// Reads an environment file over `env`: `KEY=VALUE` lines, `#` and `;` comments, a value in
/// double or single quotes taken without them.
pub fn read_environment_file(text: &str, env: &mut Env) {
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("not an assignment: {line}"));
        let v = v.trim();
        let v = ['"', '\'']
            .iter()
            .find_map(|q| v.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
            .unwrap_or(v);
        env.insert(k.trim().to_string(), v.to_string());
    }
}

/// A command line made argv as systemd makes it: words split at blanks (double quotes hold
/// one together), `${NAME}` replaced by the value within its word, a word that is `$NAME`
/// alone replaced by the value's words (none for an empty value), `$$` a dollar.
pub fn expand(line: &str, env: &Env) -> Vec<String> {
    let mut argv = Vec::new();
    for word in words(line) {
        if let Some(name) = word.strip_prefix('$') {
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                let value = env.get(name).map_or("", String::as_str);
                argv.extend(value.split_whitespace().map(str::to_string));
                continue;
            }
        }
        argv.push(braced(&word, env));
    }
    argv
}

fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            c if c.is_whitespace() && !quoted => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    assert!(!quoted, "an unclosed quote: {line}");
    words.extend(word);
    words
}

fn braced(word: &str, env: &Env) -> String {
    let mut out = String::new();
    let mut rest = word;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let Some(inner) = rest.strip_prefix("${") {
            let end = inner
                .find('}')
                .unwrap_or_else(|| panic!("an unclosed ${{ in {word}"));
            out.push_str(env.get(&inner[..end]).map_or("", String::as_str));
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped unit and defaults file, as a host with no /etc/default/lvsd changes runs
    /// them: the configuration at its usual place and no further options.
    #[test]
    fn the_shipped_unit_reads_as_intended() {
        let unit = Unit::parse(&crate::read_shipped("lvsd.service"));
        assert_eq!(unit.kind, "notify");
        let mut env = unit.environment.clone();
        assert_eq!(
            unit.environment_files,
            [("/etc/default/lvsd".to_string(), true)]
        );
        read_environment_file(&crate::read_shipped("lvsd.default"), &mut env);
        let argv = |key: &str| -> Vec<Vec<String>> {
            let mut env = env.clone();
            env.insert("MAINPID".into(), "42".into());
            unit.exec(key)
                .iter()
                .map(|e| expand(&e.line, &env))
                .collect()
        };
        let conf = "/etc/keepalived/keepalived.conf";
        assert_eq!(
            argv("ExecStartPre"),
            [["/usr/sbin/lvsd", "-t", "--runnable", "-f", conf]]
        );
        assert_eq!(
            argv("ExecStart"),
            [["/usr/sbin/lvsd", "--dont-fork", "-f", conf]]
        );
        assert_eq!(
            argv("ExecReload"),
            [
                vec!["/usr/sbin/lvsd", "-t", "--runnable", "-f", conf],
                vec!["/bin/kill", "-HUP", "42"]
            ]
        );
        assert!(unit.exec("ExecStop").is_empty(), "stopped by SIGTERM");
    }

    #[test]
    fn expansion_follows_systemd() {
        let env = Env::from([("A".into(), "one two".into()), ("E".into(), String::new())]);
        assert_eq!(
            expand("x $A ${A} $E y${A}z $$A \"q r\"", &env),
            ["x", "one", "two", "one two", "yone twoz", "$A", "q r"]
        );
        let mut env = Env::new();
        read_environment_file("#C=no\nC=yes\nD=\"\"\nF='a b'\n", &mut env);
        assert_eq!(
            env,
            Env::from([
                ("C".into(), "yes".into()),
                ("D".into(), String::new()),
                ("F".into(), "a b".into())
            ])
        );
    }
}
