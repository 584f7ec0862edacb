//! The NOTIFY_SOCKET systemd binds for a `Type=notify` service: a datagram socket that hears
//! the daemon's `READY=1`, `RELOADING=1`, `STOPPING=1`, with the sender's pid (SO_PASSCRED),
//! since systemd (`NotifyAccess=main`, the default) heeds the main process alone.

use std::io::IoSliceMut;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::socket::{recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, UnixAddr};

pub struct Notify {
    pub path: PathBuf,
    socket: UnixDatagram,
}

/// What one datagram said, and who sent it.
#[derive(Debug)]
pub struct Said {
    pub pid: i32,
    pub text: String,
}

impl Notify {
    pub fn bind(path: &Path) -> Notify {
        let _ = std::fs::remove_file(path);
        let socket = UnixDatagram::bind(path).unwrap();
        setsockopt(&socket, sockopt::PassCred, &true).unwrap();
        Notify {
            path: path.to_path_buf(),
            socket,
        }
    }

    /// The next datagram, if one comes before `deadline`.
    pub fn next(&self, deadline: Instant) -> Option<Said> {
        let left = deadline.checked_duration_since(Instant::now())?;
        self.socket
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        let mut buf = [0u8; 4096];
        let (n, pid) = {
            let mut iov = [IoSliceMut::new(&mut buf)];
            let mut space = nix::cmsg_space!(nix::sys::socket::UnixCredentials);
            let msg = match recvmsg::<UnixAddr>(
                self.socket.as_raw_fd(),
                &mut iov,
                Some(&mut space),
                MsgFlags::empty(),
            ) {
                Ok(m) => m,
                Err(nix::errno::Errno::EAGAIN) => return None,
                Err(e) => panic!("read NOTIFY_SOCKET: {e}"),
            };
            let mut pid = 0;
            for c in msg.cmsgs().unwrap() {
                if let ControlMessageOwned::ScmCredentials(cred) = c {
                    pid = cred.pid();
                }
            }
            (msg.bytes, pid)
        };
        Some(Said {
            pid,
            text: String::from_utf8_lossy(&buf[..n]).into_owned(),
        })
    }

    /// Waits for `main` to say `state` (a line such as `READY=1`) within `within`, and
    /// returns what was said before it; anything from another process fails, as systemd would
    /// ignore it.
    pub fn expect(&self, main: i32, state: &str, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        let mut before = Vec::new();
        loop {
            let Some(said) = self.next(deadline) else {
                panic!("no {state} within {within:?} (heard before: {before:?})");
            };
            assert_eq!(
                said.pid, main,
                "{said:?} came from another process than the main one, {main}"
            );
            if said.text.lines().any(|l| l == state) {
                return before;
            }
            before.push(said.text);
        }
    }

    /// Asserts that nothing is said for `quiet`.
    pub fn expect_silence(&self, quiet: Duration) {
        if let Some(said) = self.next(Instant::now() + quiet) {
            panic!("expected no notification, heard {said:?}");
        }
    }
}
