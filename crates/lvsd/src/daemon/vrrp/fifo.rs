//! keepalived's notify FIFOs (`notify_fifo`, `vrrp_notify_fifo`): each state change written
//! as a line (`INSTANCE "VI_1" MASTER 150`), to a FIFO made if missing and opened without
//! blocking, so that a reader that stalls never holds up the daemon (lines it misses are
//! dropped); its `*_script` is started first with the FIFO's name as its last argument.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use nix::sys::stat::Mode;

pub struct Fifo {
    file: File,
    path: PathBuf,
    /// Made by this daemon, so removed by it when it stops.
    made: bool,
}

impl Fifo {
    /// Makes (if need be) and opens the FIFO `name`; the script to start first, if any, is
    /// returned with the name added to its arguments.
    pub fn open(name: &str, script: Option<&str>) -> Result<(Fifo, Option<Vec<String>>), String> {
        let path = PathBuf::from(name);
        let made = match nix::unistd::mkfifo(&path, Mode::from_bits_truncate(0o644)) {
            Ok(()) => true,
            Err(nix::errno::Errno::EEXIST) => false,
            Err(e) => return Err(format!("cannot make the notify fifo {name}: {e}")),
        };
        let script = match script.map(keepalived::script::quoted_escaped) {
            Some(Some(mut args)) => {
                args.push(name.to_string());
                Some(args)
            }
            Some(None) => return Err(format!("cannot split the fifo script of {name} into words")),
            None => None,
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| {
                if made {
                    let _ = std::fs::remove_file(&path);
                }
                format!("cannot open the notify fifo {name}: {e}")
            })?;
        Ok((Fifo { file, path, made }, script))
    }

    /// `INSTANCE "VI_1" MASTER 150`, `GROUP "G" BACKUP 0`.
    pub fn write(&mut self, kind: &str, name: &str, state: &str, priority: u8) {
        let line = format!("{kind} \"{name}\" {state} {priority}\n");
        // A full FIFO (nobody reading) loses the line rather than stopping the daemon.
        let _ = self.file.write_all(line.as_bytes());
    }
}

impl Drop for Fifo {
    fn drop(&mut self) {
        if self.made {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
