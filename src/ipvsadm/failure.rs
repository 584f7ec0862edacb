//! How an ipvsadm command ends when it does not succeed.

use std::io::{self, Write};

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

    pub fn report(&self) -> i32 {
        if !self.message.is_empty() {
            let _ = writeln!(io::stderr().lock(), "{}", self.message);
        }
        self.status
    }
}

