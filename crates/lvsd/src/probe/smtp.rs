//! `SMTP_CHECK`: the greeting must be 220, the answer to `HELO <helo_name>` 250, then `QUIT`
//! must be answered with a line, any line (check_smtp.c, `smtp_engine_thread`).
//!
//! keepalived reads each answer until a newline, keeps only the first line and drops what
//! follows in the same read; it reads a status as three digits followed by a space or the
//! line's end (`smtp_get_status`), so a multi-line greeting (`220-...`) or a status line
//! ending in `\r` right after the digits fails, as it does in keepalived. A line longer than
//! its 511-byte buffer is read on from the start of the buffer.
//!
//! A `host` block of an SMTP_CHECK is a checker of its own for keepalived: build its probe
//! from a copy of the checker whose `conn` is the host's connection.

use super::connect::{bounded, io_reason, Stage, Target};
use super::Outcome;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// keepalived's line buffer, less the byte for a terminating NUL.
const LINE_MAX: usize = 511;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SmtpProbe {
    target: Target,
    helo: String,
}

impl SmtpProbe {
    pub fn new(helo: &str, target: Target) -> SmtpProbe {
        SmtpProbe {
            target,
            helo: helo.to_string(),
        }
    }

    pub fn timeout(&self) -> std::time::Duration {
        self.target.timeout
    }

    pub async fn run(&self) -> Outcome {
        let stage = Stage::new("connect");
        let dialogue = async {
            let mut s = self.target.tcp().await?;
            stage.set("greeting");
            let banner = line(&mut s).await?;
            if status(&banner) != Some(220) {
                return Err(format!("bad greeting: {}", shown(&banner)));
            }
            stage.set("HELO");
            send(&mut s, format!("HELO {}\r\n", self.helo).as_bytes()).await?;
            let answer = line(&mut s).await?;
            if status(&answer) != Some(250) {
                return Err(format!("bad answer to HELO: {}", shown(&answer)));
            }
            stage.set("QUIT");
            send(&mut s, b"QUIT\r\n").await?;
            line(&mut s).await?;
            Ok(())
        };
        match bounded(self.target.timeout, &stage, dialogue).await {
            Ok(()) => Outcome::Up { weight: None },
            Err(reason) => Outcome::Down(reason),
        }
    }
}

async fn send(s: &mut TcpStream, bytes: &[u8]) -> Result<(), String> {
    s.write_all(bytes)
        .await
        .map_err(|e| format!("cannot send: {}", io_reason(&e)))
}

/// One answer's first line, without its newline.
async fn line(s: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; LINE_MAX];
    let mut len = 0;
    loop {
        if len == LINE_MAX {
            len = 0;
        }
        let n = s
            .read(&mut buf[len..])
            .await
            .map_err(|e| format!("{} while reading", io_reason(&e)))?;
        if n == 0 {
            return Err("connection closed by the server".into());
        }
        len += n;
        if let Some(nl) = buf[..len].iter().position(|&b| b == b'\n') {
            buf.truncate(nl);
            return Ok(buf);
        }
    }
}

/// keepalived's `smtp_get_status`.
fn status(line: &[u8]) -> Option<u16> {
    let code = line.get(..3)?;
    if !code.iter().all(u8::is_ascii_digit) || !matches!(line.get(3), None | Some(b' ')) {
        return None;
    }
    std::str::from_utf8(code).ok()?.parse().ok()
}

/// A line from the server for a reason: printable and short.
fn shown(line: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(line)
        .chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .take(80)
        .collect();
    format!("\"{text}\"")
}

#[cfg(test)]
mod tests {
    use super::status;

    #[test]
    fn statuses() {
        assert_eq!(status(b"220 mail ESMTP"), Some(220));
        assert_eq!(status(b"250"), Some(250));
        assert_eq!(status(b"220-first"), None);
        assert_eq!(status(b"220\r"), None);
        assert_eq!(status(b"22"), None);
    }
}
