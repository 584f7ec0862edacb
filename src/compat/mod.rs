//! The ipvsadm-compatible command line: the same commands, options, output, messages and
//! exit statuses as ipvsadm 1.31, with the deliberate differences listed in
//! `docs/compatibility.md`.

mod conns;
mod exec;
mod fast;
mod help;
mod messages;
mod parse;
mod popt;
mod render;
mod restore;
mod revive;
#[cfg(test)]
mod save_roundtrip;

use std::io::{self, Write};

pub use exec::Session;
pub use help::text as help_text;
pub use messages::describe;
pub use parse::{parse, Command};
pub use render::request_line;
pub use render::{mask_text, sched_flag_names};

/// The commands of a rules file (as `-S` writes it), each with its line number, or every
/// line that is wrong.
pub fn parse_rules<'t>(
    prog: &str,
    text: &'t [u8],
) -> Result<impl Iterator<Item = (usize, Command)> + 't, restore::Numbered<Failure>> {
    restore::parse_rules(prog, text, false)
}

/// How a command ends when it does not succeed: ipvsadm's exit status and its message.
#[derive(Debug, PartialEq, Eq)]
pub struct Failure {
    pub status: i32,
    /// Printed to stderr with a newline; nothing is printed when empty.
    pub message: String,
}

impl Failure {
    pub fn new(status: i32, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    /// Writing the output failed. A closed pipe (`lvsadm -Ln | head`) is not an error.
    pub fn output(err: &io::Error) -> Failure {
        if err.kind() == io::ErrorKind::BrokenPipe {
            Failure::new(0, "")
        } else {
            Failure::new(1, format!("cannot write the output: {err}"))
        }
    }

    /// For the subcommands, which report errors their own way.
    pub fn into_error(self) -> anyhow::Error {
        anyhow::anyhow!("{}", self.message.trim_end())
    }

    fn report(&self) -> i32 {
        if !self.message.is_empty() {
            let _ = writeln!(io::stderr().lock(), "{}", self.message);
        }
        self.status
    }
}

/// Runs one ipvsadm command line (`args[0]` is the program name) and returns the exit status.
pub fn main(args: &[String]) -> i32 {
    let prog = args.first().map_or("ipvsadm", String::as_str);
    let posix = ["POSIXLY_CORRECT", "POSIX_ME_HARDER"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    let rest = args.get(1..).unwrap_or_default();
    let cmd = if rest.is_empty() {
        Ok(Command::List(
            parse::Listing::Table,
            parse::Format::default(),
        ))
    } else {
        parse(prog, rest, false, posix)
    };
    let result = cmd.and_then(|cmd| exec::run(prog, cmd, posix));
    match result {
        Ok(()) => 0,
        Err(f) => f.report(),
    }
}
