//! Write locks, one per network namespace for each thing that programs on a host change
//! together: the IPVS table, and the records of what was set up on the host. A change to one
//! namespace never waits for a change to another, and a VIP being added never waits behind a
//! restore of a large table.
//!
//! The locks are `flock`s on files under /run (which only root can write, so nobody can plant
//! a link in their place), named by the namespace's cookie. The holder writes its process id
//! into the file, so that a waiter can say whom it waits for.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

const DIR: &str = "/run/lvsadm/locks";

/// What a lock guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guarded {
    /// The IPVS table of the namespace.
    IpvsTable,
    /// The host set-up records of the namespace (VIPs, real-server settings).
    HostRecords,
}

impl Guarded {
    fn file_stem(self) -> &'static str {
        match self {
            Guarded::IpvsTable => "ipvs",
            Guarded::HostRecords => "host",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Guarded::IpvsTable => "the IPVS table",
            Guarded::HostRecords => "the host set-up records",
        }
    }
}

/// Who holds a lock another process waits for: its process id and command line, as far as
/// they could be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub pid: Option<u32>,
    pub command: Option<String>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.pid, &self.command) {
            (Some(pid), Some(cmd)) => write!(f, "process {pid} ({cmd})"),
            (Some(pid), None) => write!(f, "process {pid}"),
            _ => write!(f, "another process"),
        }
    }
}

/// A lock held until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: Flock<File>,
}

/// How long a waiter waits before it says whom it waits for.
pub const PATIENCE: Duration = Duration::from_secs(1);
/// How often a waiter tries again meanwhile.
const RETRY: Duration = Duration::from_millis(20);

impl Lock {
    /// Takes the lock of `what` in the calling thread's network namespace, waiting as long as
    /// it takes. When that is more than [`PATIENCE`], `waiting` is told once who holds it.
    pub fn acquire(what: Guarded, waiting: impl FnOnce(&Holder)) -> io::Result<Lock> {
        let path = path(what)?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(DIR)?;
        let mut file = open(&path)?;
        let started = Instant::now();
        let mut waiting = Some(waiting);
        loop {
            let arg = match waiting.is_some() {
                true => FlockArg::LockExclusiveNonblock,
                false => FlockArg::LockExclusive,
            };
            match Flock::lock(file, arg) {
                Ok(mut locked) => {
                    record_holder(&mut locked)?;
                    return Ok(Lock { _file: locked });
                }
                Err((f, Errno::EWOULDBLOCK)) | Err((f, Errno::EINTR)) => file = f,
                Err((_, errno)) => return Err(errno.into()),
            }
            if started.elapsed() >= PATIENCE {
                if let Some(tell) = waiting.take() {
                    tell(&holder(&mut file));
                }
            } else {
                std::thread::sleep(RETRY);
            }
        }
    }
}

fn path(what: Guarded) -> io::Result<String> {
    let cookie = crate::netns::cookie()?;
    Ok(format!("{DIR}/netns-{cookie}.{}.lock", what.file_stem()))
}

fn open(path: &str) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

fn record_holder(file: &mut File) -> io::Result<()> {
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{}", std::process::id())
}

/// The holder of the lock on `file`, from the process id it wrote there.
fn holder(file: &mut File) -> Holder {
    let mut text = String::new();
    let pid = file
        .rewind()
        .and_then(|()| file.take(32).read_to_string(&mut text))
        .ok()
        .and_then(|_| text.trim().parse::<u32>().ok());
    let command = pid.and_then(|pid| {
        let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let words: Vec<String> = raw
            .split(|&b| b == 0)
            .filter(|w| !w.is_empty())
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        (!words.is_empty()).then(|| words.join(" "))
    });
    Holder { pid, command }
}
