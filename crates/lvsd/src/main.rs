//! lvsd: the keepalived half of an LVS director. It reads keepalived.conf as keepalived 2.2.7
//! does, and with `-t` says what is wrong with it, where, and what keepalived would do.
//! `lvsd genhash` is keepalived's genhash (`keepalived -T`). Without `-t` it is keepalived's
//! checker process (`-C`); `lvsd status` asks a running one what it knows.

mod daemon;
mod host;
mod report;

use lvsd::args::{self, Args};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    // keepalived's genhash has a command line of its own: `keepalived -T ...` (-T first), or
    // keepalived run by the name genhash.
    let words: Vec<_> = std::env::args_os().collect();
    let words_from = |first: usize| -> Vec<String> {
        words[first..]
            .iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect()
    };
    let named_genhash = words
        .first()
        .and_then(|w| std::path::Path::new(w).file_name())
        .is_some_and(|n| n == "genhash");
    let genhash_word = words
        .get(1)
        .is_some_and(|w| w == "genhash" || w == "-T" || w == "--genhash");
    if named_genhash || genhash_word {
        let rest = words_from(if named_genhash { 1 } else { 2 });
        return ExitCode::from(lvsd::probe::genhash::main(&rest));
    }
    if words.get(1).is_some_and(|w| w == "status") {
        return daemon::status_command(&words_from(2));
    }
    let args = match Args::parse(std::env::args_os()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("lvsd: {e}\nTry 'lvsd --help' for more information.");
            return ExitCode::from(1);
        }
    };
    if args.help {
        print!("{}", args::help());
        return ExitCode::SUCCESS;
    }
    if args.version {
        println!(
            "lvsd {} (reads keepalived.conf as Keepalived v2.2.7 does)",
            env!("CARGO_PKG_VERSION")
        );
        return ExitCode::SUCCESS;
    }
    if let Some(ns) = &args.namespace {
        if let Err(e) = enter_namespace(ns) {
            eprintln!("lvsd: network namespace {ns}: {e}");
            return ExitCode::from(4);
        }
    }
    let options = keepalived::Options {
        config_id: args.config_id.clone().or_else(node_name),
        unicode_blanks: true,
        interfaces: host::interfaces(),
        all_config: args.all_config,
    };
    match &args.config_test {
        Some(log) => config_test(&args, options, log.as_ref()),
        None => daemon::run(&args, options),
    }
}

fn config_test(args: &Args, options: keepalived::Options, log: Option<&PathBuf>) -> ExitCode {
    let path = args
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from(args::DEFAULT_CONFIG));
    let reading = keepalived::read(&path, &options);
    let text = report::problems(&reading);
    let written = match log {
        Some(file) => {
            std::fs::write(file, &text).map_err(|e| format!("cannot write {}: {e}", file.display()))
        }
        None => std::io::stderr()
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string()),
    };
    if let Err(e) = written {
        eprintln!("lvsd: {e}");
        return ExitCode::from(1);
    }
    let mut out = String::new();
    let starts = reading.keepalived_starts();
    if args.print {
        if !starts {
            out.push_str("# keepalived would not start with this configuration (see the report)\n");
        }
        out.push_str(&keepalived::print::effective(&reading.config));
        out.push_str("\n# The IPVS rules programmed at start (lvsadm -S -n):\n");
    }
    // A configuration keepalived stops on, or crashes on, programs nothing.
    if (args.print || args.print_rules) && starts {
        out.push_str(&checker::rules(&reading.config));
    }
    if std::io::stdout().write_all(out.as_bytes()).is_err() {
        return ExitCode::from(1);
    }
    if args.runnable {
        // What the daemon decides at start and at each reload.
        return match daemon::would_run(&reading, &path) {
            Ok(()) => ExitCode::SUCCESS,
            Err(why) => {
                // The report above lists the problems; the refusal's first line says why.
                eprintln!("lvsd: {}", why.lines().next().unwrap_or_default());
                ExitCode::from(1)
            }
        };
    }
    ExitCode::from(reading.exit_status() as u8)
}

/// keepalived's default config id: the node name's first label.
fn node_name() -> Option<String> {
    // keepalived takes the node name up to its first dot.
    let name = nix::unistd::gethostname().ok()?.into_string().ok()?;
    Some(name.split('.').next().unwrap_or_default().to_string())
}

fn enter_namespace(name: &str) -> Result<(), String> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err("not a namespace name".into());
    }
    let path = PathBuf::from("/run/netns").join(name);
    let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| e.to_string())
}
