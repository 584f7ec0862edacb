//! The write lock: lvsadm processes that change the table (restore, apply, every other
//! change) take it, so that two of them never interleave their requests.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

/// Under /run, which only root can write, so nobody can plant a symlink in its place.
pub const PATH: &str = "/run/lvsadm.lock";

/// Held until dropped.
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Waits until no other lvsadm holds the lock.
    pub fn acquire() -> io::Result<Lock> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(PATH)?;
        loop {
            // SAFETY: flock on a descriptor this function owns.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(Lock { _file: file });
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}
