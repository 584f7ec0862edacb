//! The ipvsadm-compatible command line: the same commands, options, output, messages and
//! exit statuses as ipvsadm 1.31, with the deliberate differences listed in
//! `docs/compatibility.md`.

mod conns;
mod exec;
mod help;
mod restore;

use crate::ipvsadm::{parse, Command};

pub use help::text as help_text;

/// Runs one ipvsadm command line (`args[0]` is the program name) and returns the exit status.
pub fn main(args: &[String]) -> i32 {
    let prog = args.first().map_or("ipvsadm", String::as_str);
    let posix = ["POSIXLY_CORRECT", "POSIX_ME_HARDER"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    let rest = args.get(1..).unwrap_or_default();
    let cmd = if rest.is_empty() {
        Ok(Command::List(
            crate::ipvsadm::Listing::Table,
            crate::ipvsadm::Format::default(),
        ))
    } else {
        parse(prog, rest, false, posix)
    };
    let result = cmd.and_then(|cmd| match cmd {
        Command::Restore { atomic } => exec::with_stdout(|out| {
            restore::restore(prog, posix, atomic, std::io::stdin().lock(), out)
        }),
        cmd => exec::carry_out(prog, cmd),
    });
    match result {
        Ok(()) => 0,
        Err(f) => f.report(),
    }
}
