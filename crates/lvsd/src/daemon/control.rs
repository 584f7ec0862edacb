//! The control socket: `lvsd status [--json]` asks the daemon what it knows. One request per
//! connection, a line (`status` or `status json`); the answer follows and the daemon closes.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream as StdStream;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use super::status::Status;

/// Binds the socket, replacing one no daemon answers on.
pub fn listen(path: &Path) -> Result<UnixListener, String> {
    if StdStream::connect(path).is_ok() {
        return Err(format!(
            "another lvsd answers on {}: stop it first, or give this one another --control \
             socket",
            path.display()
        ));
    }
    let _ = std::fs::remove_file(path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    UnixListener::bind(path).map_err(|e| format!("control socket {}: {e}", path.display()))
}

/// Answers one connection; a client that says nothing within a second gets nothing.
pub async fn answer(stream: UnixStream, status: Status) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut read = BufReader::new(read.take(256));
    let asked = tokio::time::timeout(Duration::from_secs(1), read.read_line(&mut line)).await;
    if !matches!(asked, Ok(Ok(_))) {
        return;
    }
    let text = match line.trim() {
        "status json" => status.json(),
        "status" => status.text(),
        other => format!("lvsd: unknown request {other:?}: ask 'status' or 'status json'\n"),
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write.write_all(text.as_bytes())).await;
}

/// `lvsd status [--json] [-s NAMESPACE] [--control SOCKET]`.
pub fn status_command(argv: &[String]) -> ExitCode {
    let mut json = false;
    let mut namespace = None;
    let mut control = None;
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" | "-j" => json = true,
            "-s" | "--namespace" => namespace = it.next().cloned(),
            "--control" => control = it.next().cloned(),
            "-h" | "--help" => {
                println!(
                    "Usage: lvsd status [--json] [-s NAMESPACE] [--control SOCKET]\n\
                     Asks the running daemon which real servers are alive, which check failed and why."
                );
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("lvsd status: unexpected argument '{other}'\nTry 'lvsd status --help'.");
                return ExitCode::from(2);
            }
        }
    }
    let path = super::paths::control_path(namespace.as_deref(), control.as_deref());
    let ask = || -> std::io::Result<String> {
        let mut s = StdStream::connect(&path)?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.write_all(if json { b"status json\n" } else { b"status\n" })?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        Ok(out)
    };
    match ask() {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "lvsd status: no daemon answers on {}: {e} (is lvsd running, and in which \
                 network namespace? -s NAMESPACE)",
                path.display()
            );
            ExitCode::from(1)
        }
    }
}
