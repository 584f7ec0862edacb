//! Where the daemon's lines go, chosen as keepalived's options choose: syslog unless `-G`,
//! the console with `-l`, a file with `-g FILE`.

use std::fs::File;
use std::io::Write;
use std::os::unix::net::UnixDatagram;

pub struct Log {
    console: bool,
    syslog: Option<(UnixDatagram, u8)>,
    file: Option<File>,
}

impl Log {
    /// `facility`: `-S`'s 0 to 7 (local0 to local7), or the daemon facility.
    pub fn new(
        console: bool,
        syslog: bool,
        facility: Option<u8>,
        file: Option<&str>,
    ) -> Result<Log, String> {
        let syslog = syslog
            .then(|| {
                let socket = UnixDatagram::unbound().ok()?;
                socket.connect("/dev/log").ok()?;
                // daemon = 3, local0..7 = 16..23; priority info = 6.
                let facility = facility.map_or(3, |n| 16 + n.min(7));
                Some((socket, facility * 8 + 6))
            })
            .flatten();
        let file = match file {
            Some(path) => Some(
                File::options()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("log file {path}: {e}"))?,
            ),
            None => None,
        };
        Ok(Log {
            console,
            syslog,
            file,
        })
    }

    pub fn line(&mut self, text: &str) {
        if self.console {
            eprintln!("{text}");
        }
        if let Some((socket, pri)) = &self.syslog {
            // A full or absent syslog must not stop the daemon.
            let _ = socket.send(format!("<{pri}>lvsd[{}]: {text}", std::process::id()).as_bytes());
        }
        if let Some(f) = &mut self.file {
            let _ = writeln!(f, "{text}");
        }
    }
}
