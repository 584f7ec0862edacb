//! lvsadm: administration of the Linux kernel's IPVS load balancer. Run with ipvsadm's
//! options it is ipvsadm 1.31, byte for byte (see `docs/compatibility.md`); its own commands
//! are words (`lvsadm apply FILE`), which ipvsadm never accepts as a first argument.

mod apply;
mod compat;
mod flags;
mod lock;
mod resolve;
mod table;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "lvsadm",
    version,
    about = "Linux Virtual Server administration"
)]
struct Cli {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Subcommand)]
enum Sub {
    /// Make the kernel's table equal to FILE (as -S writes it; - for stdin) with the fewest
    /// changes: unchanged services and destinations keep their connections.
    Apply {
        /// Print the changes as ipvsadm command lines instead of making them.
        #[arg(long)]
        dry_run: bool,
        file: String,
    },
    /// Print the changes `apply` would make; exit 0 if there are none, 1 if there are.
    Diff { file: String },
}

const SUBCOMMANDS: &[&str] = &["apply", "diff"];

fn main() {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let invoked_as_ipvsadm = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .is_some_and(|name| name == "ipvsadm");
    let status = match args.get(1) {
        // ipvsadm's `--version` line names ipvsadm; under its own name lvsadm names itself
        // (`-v` keeps ipvsadm's line).
        Some(word) if word == "--version" && args.len() == 2 && !invoked_as_ipvsadm => {
            use std::io::Write;
            let version = env!("CARGO_PKG_VERSION");
            let line = format!("lvsadm {version} (compatible with ipvsadm 1.31)");
            match writeln!(std::io::stdout(), "{line}") {
                Ok(()) => 0,
                Err(_) => 1,
            }
        }
        Some(word) if SUBCOMMANDS.contains(&word.as_str()) => {
            let cli = Cli::parse_from(&args);
            let result = match cli.command {
                Sub::Apply { dry_run, file } => apply::apply(&file, dry_run),
                Sub::Diff { file } => apply::diff(&file),
            };
            result.unwrap_or_else(|e| {
                use std::io::Write;
                let _ = writeln!(std::io::stderr(), "lvsadm: {e:#}");
                2
            })
        }
        _ => compat::main(&args),
    };
    std::process::exit(status);
}
