//! keepalived's command line, read as its `getopt_long` reads it, so that a unit file or a
//! script written for keepalived runs lvsd unchanged.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

/// keepalived's default configuration file.
pub const DEFAULT_CONFIG: &str = "/etc/keepalived/keepalived.conf";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Takes {
    Nothing,
    Value,
    /// Only attached: `-tFILE` or `--config-test=FILE`.
    Optional,
}

/// One option of keepalived's: its letter (if any), its long name, what it takes and its help.
struct Spec {
    short: Option<char>,
    long: &'static str,
    takes: Takes,
    help: &'static str,
}

const fn spec(short: Option<char>, long: &'static str, takes: Takes, help: &'static str) -> Spec {
    Spec {
        short,
        long,
        takes,
        help,
    }
}

use Takes::{Nothing, Optional, Value};

/// Every option keepalived 2.2.7 accepts, in the order of its help.
const SPECS: &[Spec] = &[
    spec(
        Some('f'),
        "use-file",
        Value,
        "=FILE  read the configuration from FILE (default /etc/keepalived/keepalived.conf)",
    ),
    spec(Some('P'), "vrrp", Nothing, "run VRRP only"),
    spec(Some('C'), "check", Nothing, "run the health checkers only"),
    spec(Some('B'), "no_bfd", Nothing, "do not run BFD"),
    spec(
        None,
        "all",
        Nothing,
        "run every part, even one with no configuration",
    ),
    spec(Some('l'), "log-console", Nothing, "log to the console"),
    spec(Some('D'), "log-detail", Nothing, "detailed log messages"),
    spec(
        Some('S'),
        "log-facility",
        Value,
        "=FACILITY  syslog facility: 0-7, local0-7, user or daemon",
    ),
    spec(Some('g'), "log-file", Optional, "[=FILE]  log to FILE"),
    spec(
        None,
        "flush-log-file",
        Nothing,
        "flush the log file after each line",
    ),
    spec(Some('G'), "no-syslog", Nothing, "do not log through syslog"),
    spec(
        Some('u'),
        "umask",
        Value,
        "=MASK  umask for the files created",
    ),
    spec(
        Some('X'),
        "release-vips",
        Nothing,
        "drop the VIPs on a transition from a signal",
    ),
    spec(
        Some('V'),
        "dont-release-vrrp",
        Nothing,
        "leave the VRRP VIPs in place on stop",
    ),
    spec(
        Some('I'),
        "dont-release-ipvs",
        Nothing,
        "leave the IPVS table in place on stop",
    ),
    spec(
        Some('R'),
        "dont-respawn",
        Nothing,
        "do not restart a part that dies",
    ),
    spec(Some('n'), "dont-fork", Nothing, "stay in the foreground"),
    spec(Some('d'), "dump-conf", Nothing, "dump the configuration"),
    spec(Some('p'), "pid", Value, "=FILE  pid file"),
    spec(
        Some('r'),
        "vrrp_pid",
        Value,
        "=FILE  pid file of the VRRP part",
    ),
    spec(Some('T'), "genhash", Nothing, "genhash mode (first option)"),
    spec(
        Some('c'),
        "checkers_pid",
        Value,
        "=FILE  pid file of the checkers",
    ),
    spec(
        Some('a'),
        "address-monitoring",
        Nothing,
        "report every address change",
    ),
    spec(
        Some('b'),
        "bfd_pid",
        Value,
        "=FILE  pid file of the BFD part",
    ),
    spec(Some('x'), "snmp", Nothing, "SNMP (not supported by lvsd)"),
    spec(
        Some('A'),
        "snmp-agent-socket",
        Value,
        "=FILE  SNMP master agent socket",
    ),
    spec(
        Some('s'),
        "namespace",
        Value,
        "=NAME  run in network namespace NAME",
    ),
    spec(
        Some('m'),
        "core-dump",
        Nothing,
        "dump core on abnormal termination",
    ),
    spec(
        Some('M'),
        "core-dump-pattern",
        Optional,
        "[=PATTERN]  core pattern",
    ),
    spec(
        Some('e'),
        "all-config",
        Nothing,
        "error if an included file is missing",
    ),
    spec(
        Some('i'),
        "config-id",
        Value,
        "=ID  keep '@ID' lines and drop '@^ID' ones (default: the host name)",
    ),
    spec(
        None,
        "signum",
        Value,
        "=SIGFUNC  print the number of a signal",
    ),
    spec(
        Some('t'),
        "config-test",
        Optional,
        "[=LOG_FILE]  check the configuration, report to stderr (or LOG_FILE)",
    ),
    spec(
        None,
        "print",
        Nothing,
        "with -t: print the effective configuration and its IPVS rules",
    ),
    spec(
        None,
        "print-rules",
        Nothing,
        "with -t: print only the IPVS rules, as `lvsadm -S -n` writes them",
    ),
    spec(
        None,
        "runnable",
        Nothing,
        "with -t: exit 0 if lvsd runs the file as it is written, 1 if it refuses it",
    ),
    spec(
        None,
        "metrics",
        Value,
        "=ADDRESS:PORT  serve Prometheus metrics on http://ADDRESS:PORT/metrics (off by default)",
    ),
    spec(
        None,
        "control",
        Value,
        "=SOCKET  the daemon's control socket (default: /run/lvsd[/NAMESPACE]/control)",
    ),
    spec(Some('v'), "version", Nothing, "print the version"),
    spec(Some('h'), "help", Nothing, "print this help"),
];

/// The command line, read.
#[derive(Debug, Default)]
pub struct Args {
    pub config: Option<PathBuf>,
    pub config_test: Option<Option<PathBuf>>,
    pub print: bool,
    pub print_rules: bool,
    /// `--runnable`: -t's status says whether the daemon runs the file, not keepalived's.
    pub runnable: bool,
    pub config_id: Option<String>,
    pub namespace: Option<String>,
    pub all_config: bool,
    pub version: bool,
    pub help: bool,
    /// Options read and accepted, with their values, that only the daemon uses.
    pub daemon: Vec<(&'static str, Option<String>)>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Args {
    pub fn parse(argv: impl IntoIterator<Item = OsString>) -> Result<Args, Error> {
        let argv: Vec<String> = argv
            .into_iter()
            .skip(1)
            .map(|a| {
                a.into_string()
                    .map_err(|a| Error(format!("argument {a:?} is not valid UTF-8")))
            })
            .collect::<Result<_, _>>()?;
        let mut args = Args::default();
        let mut i = 0;
        while i < argv.len() {
            let a = &argv[i];
            i += 1;
            if a == "--" {
                if let Some(extra) = argv.get(i) {
                    return Err(Error(format!("unexpected argument '{extra}'")));
                }
                break;
            }
            if let Some(long) = a.strip_prefix("--") {
                let (name, attached) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (long, None),
                };
                let s = find_long(name)?;
                let value = match (s.takes, attached) {
                    (Nothing, Some(_)) => {
                        return Err(Error(format!(
                            "option '--{}' doesn't allow an argument",
                            s.long
                        )))
                    }
                    (Nothing, None) => None,
                    (Optional, v) => v,
                    (Value, Some(v)) => Some(v),
                    (Value, None) => match argv.get(i) {
                        Some(v) => {
                            i += 1;
                            Some(v.clone())
                        }
                        None => {
                            return Err(Error(format!(
                                "option '--{}' requires an argument",
                                s.long
                            )))
                        }
                    },
                };
                args.set(s, value)?;
            } else if let Some(shorts) = a.strip_prefix('-').filter(|s| !s.is_empty()) {
                for (at, c) in shorts.char_indices() {
                    let s = SPECS
                        .iter()
                        .find(|s| s.short == Some(c))
                        .ok_or_else(|| Error(format!("invalid option -- '{c}'")))?;
                    let rest = &shorts[at + c.len_utf8()..];
                    let value = match s.takes {
                        Nothing => None,
                        Optional => Some(rest.to_string()).filter(|r| !r.is_empty()),
                        Value if !rest.is_empty() => Some(rest.to_string()),
                        Value => match argv.get(i) {
                            Some(v) => {
                                i += 1;
                                Some(v.clone())
                            }
                            None => {
                                return Err(Error(format!("option requires an argument -- '{c}'")))
                            }
                        },
                    };
                    args.set(s, value)?;
                    if s.takes != Nothing {
                        break;
                    }
                }
            } else {
                return Err(Error(format!("unexpected argument '{a}'")));
            }
        }
        if (args.print || args.print_rules || args.runnable) && args.config_test.is_none() {
            return Err(Error(
                "--print, --print-rules and --runnable go with -t (--config-test)".into(),
            ));
        }
        Ok(args)
    }

    fn set(&mut self, s: &'static Spec, value: Option<String>) -> Result<(), Error> {
        match s.long {
            "use-file" => self.config = value.map(PathBuf::from),
            "config-test" => self.config_test = Some(value.map(PathBuf::from)),
            "print" => self.print = true,
            "print-rules" => self.print_rules = true,
            "runnable" => self.runnable = true,
            "config-id" => self.config_id = value,
            "namespace" => self.namespace = value,
            "all-config" => self.all_config = true,
            "version" => self.version = true,
            "help" => self.help = true,
            "genhash" => {
                return Err(Error(
                    "-T (--genhash) must be the first option (or run lvsd genhash ...)".into(),
                ))
            }
            "snmp" | "snmp-agent-socket" => {
                return Err(Error(format!(
                    "--{} : lvsd has no SNMP; drop the option",
                    s.long
                )))
            }
            "umask" => {
                let v = value.unwrap_or_default();
                if u32::from_str_radix(&v, 8).map_or(true, |m| m > 0o777) {
                    return Err(Error(format!(
                        "invalid umask '{v}': give it in octal, e.g. 022"
                    )));
                }
                self.daemon.push((s.long, Some(v)));
            }
            _ => self.daemon.push((s.long, value)),
        }
        Ok(())
    }
}

impl Args {
    /// Whether a daemon option was given.
    pub fn has(&self, long: &str) -> bool {
        self.daemon.iter().any(|(l, _)| *l == long)
    }

    /// The value of a daemon option (the last given).
    pub fn value(&self, long: &str) -> Option<&str> {
        self.daemon
            .iter()
            .rev()
            .find(|(l, _)| *l == long)
            .and_then(|(_, v)| v.as_deref())
    }
}

fn find_long(name: &str) -> Result<&'static Spec, Error> {
    if let Some(s) = SPECS.iter().find(|s| s.long == name) {
        return Ok(s);
    }
    // getopt_long accepts an unambiguous prefix.
    let matches: Vec<&Spec> = SPECS.iter().filter(|s| s.long.starts_with(name)).collect();
    match matches.as_slice() {
        [one] if !name.is_empty() => Ok(one),
        [] | [_] => Err(Error(format!("unrecognized option '--{name}'"))),
        _ => Err(Error(format!("option '--{name}' is ambiguous"))),
    }
}

/// The help text.
pub fn help() -> String {
    let mut out = String::from(
        "Usage: lvsd [OPTION...]\n\
         The keepalived half of an LVS director: reads keepalived.conf as keepalived 2.2.7 does.\n\n",
    );
    for s in SPECS {
        let short = s.short.map_or("    ".to_string(), |c| format!("-{c}, "));
        let (value, text) = match s.help.split_once("  ") {
            Some((v, t)) if v.starts_with(['=', '[']) => (v, t),
            _ => ("", s.help),
        };
        let left = format!("  {short}--{}{value}", s.long);
        out.push_str(&format!("{left:<34} {text}\n"));
    }
    out
}

/// The manual page, lvsd(8), in roff: the options from the same table as the parser and
/// the help.
pub fn manual(version: &str) -> String {
    let mut out = format!(
        ".TH LVSD 8 \"\" \"lvsd {version}\" \"System Administration\"\n\
         .SH NAME\nlvsd \\- health checks and VRRP for an LVS director, from keepalived.conf\n\
         .SH SYNOPSIS\n.B lvsd\n[\\fIOPTION\\fR...]\n.br\n.B lvsd status\n\
         [\\fB\\-\\-json\\fR] [\\fB\\-s\\fR \\fINAMESPACE\\fR] [\\fB\\-\\-control\\fR \\fISOCKET\\fR]\n\
         .br\n.B lvsd genhash\n\\fIOPTION\\fR...\n"
    );
    for (head, text) in MANUAL {
        out.push_str(&format!(".SH {head}\n"));
        for para in text.split("\n\n") {
            out.push_str(&format!(".PP\n{}\n", roff(para)));
        }
        if *head == "DESCRIPTION" {
            out.push_str(".SH OPTIONS\n");
            for s in SPECS {
                let short = s
                    .short
                    .map_or(String::new(), |c| format!("\\fB\\-{c}\\fR, "));
                let (value, text) = match s.help.split_once("  ") {
                    Some((v, t)) if v.starts_with(['=', '[']) => (v, t),
                    _ => ("", s.help),
                };
                out.push_str(&format!(
                    ".TP\n{short}\\fB\\-\\-{}\\fR{}\n{}\n",
                    roff(s.long),
                    roff(value),
                    roff(text)
                ));
            }
        }
    }
    out
}

/// Text made safe for roff: backslashes and hyphens escaped, no line starting with a dot.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    escaped
        .lines()
        .map(|l| {
            if l.starts_with(['.', '\'']) {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The manual's sections besides the options, in order; paragraphs separated by blank
/// lines.
const MANUAL: &[(&str, &str)] = &[
    (
        "DESCRIPTION",
        "lvsd is the keepalived half of an LVS director. It reads keepalived.conf as keepalived 2.2.7 reads it (see lvsd-keepalived.conf(5)) and takes keepalived's command line, so a unit file or a script written for keepalived runs it unchanged.

With -C it is keepalived's checker process: the virtual_server blocks become IPVS services, each real server is checked on its timers and leaves the pool when it fails, and the kernel's table is read again every delay_loop and repaired when someone else changed it. With -P it is keepalived's VRRP process: the vrrp_instance blocks run on the wire with keepalived or another lvsd, the master holds and announces the virtual addresses, and the backup takes over within the master-down interval. Without either it runs both, as far as the file has them.

A file that keepalived would read otherwise than it is written is not run: lvsd -t lists its problems, and lvsd -t --runnable exits 0 only for a file the daemon runs. SIGHUP reads the file again and applies only the difference, keeping every real server's health and every VRRP instance's state; a refused file leaves the running configuration.",
    ),
    (
        "COMMANDS",
        "lvsd status [--json] [-s NAMESPACE] [--control SOCKET] asks the running daemon what it knows: each virtual server with its quorum, each real server alive or down with the reason its check failed, and each VRRP instance with its state, priorities, master and last transition.

lvsd genhash (or lvsd -T) is keepalived's genhash: it fetches a URL and prints the digest HTTP_GET and SSL_GET compare.",
    ),
    (
        "SIGNALS",
        "SIGHUP reloads the configuration. SIGTERM and SIGINT stop the daemon: VRRP masters send priority 0 and give their addresses back, and the checker removes the IPVS services it made (unless -I).",
    ),
    (
        "FILES",
        "/etc/keepalived/keepalived.conf, the configuration. /run/lvsd/lvsd.pid and /run/lvsd/control, the pid file and the control socket (under /run/lvsd/NAMESPACE/ with -s). /etc/default/lvsd, the options of lvsd.service.",
    ),
    (
        "EXIT STATUS",
        "With -t, keepalived's: 0 without complaint, 4 for missing files or interfaces, 5 for any other complaint, 6 for scripts without enable_script_security; with --runnable, 0 if the daemon runs the file and 1 if not. The daemon exits 0 when stopped and 1 when it cannot start.",
    ),
    (
        "SEE ALSO",
        "lvsd-keepalived.conf(5), lvsadm(8), keepalived(8), ipvsadm(8).",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(a: &[&str]) -> Result<Args, Error> {
        Args::parse(
            std::iter::once("lvsd")
                .chain(a.iter().copied())
                .map(OsString::from),
        )
    }

    #[test]
    fn reads_keepalived_command_lines() {
        let a = parse(&["-f", "/x.conf", "-t"]).unwrap();
        assert_eq!(a.config.as_deref(), Some(std::path::Path::new("/x.conf")));
        assert_eq!(a.config_test, Some(None));
        let a = parse(&["-nlD", "-f/y", "--config-test=/log", "-i", "node1"]).unwrap();
        assert_eq!(a.config.as_deref(), Some(std::path::Path::new("/y")));
        assert_eq!(a.config_test, Some(Some(PathBuf::from("/log"))));
        assert_eq!(a.config_id.as_deref(), Some("node1"));
        assert_eq!(a.daemon.len(), 3);
        let a = parse(&["--use-f", "z", "--dont-f"]).unwrap();
        assert_eq!(a.config.as_deref(), Some(std::path::Path::new("z")));
    }

    #[test]
    fn refuses_what_keepalived_refuses() {
        assert!(parse(&["-f"]).is_err());
        assert!(parse(&["-q"]).is_err());
        assert!(parse(&["--dont"]).is_err(), "ambiguous");
        assert!(parse(&["--vrrp=1"]).is_err());
        assert!(parse(&["stray"]).is_err());
        assert!(parse(&["--print"]).is_err());
        assert!(parse(&["--print-rules"]).is_err());
        assert!(parse(&["-t", "--print-rules"]).unwrap().print_rules);
    }
}
