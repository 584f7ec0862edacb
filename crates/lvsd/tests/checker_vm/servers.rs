//! The real servers, written here so that the test decides what they answer: an HTTP server
//! per address and port whose pages can change and which can stop and start listening, and
//! the status a MISC_CHECK script exits with.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sched::{setns, CloneFlags};

type Pages = Arc<Mutex<HashMap<String, (u16, String)>>>;
/// Connections accepted, by peer address.
type Accepted = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// An HTTP server on one address and port of a namespace. Its thread enters the namespace,
/// so the sockets it makes belong there. Also what a TCP_CHECK connects to.
pub struct HttpServer {
    addr: SocketAddr,
    pages: Pages,
    accepted: Accepted,
    /// `listen(true|false)` requests, each acknowledged once done, so that when `start` or
    /// `stop` returns connections are accepted or refused.
    control: Option<Sender<(bool, Sender<()>)>>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Listens on `addr` in namespace `ns` and serves `/` as 200 "ok".
    pub fn new(ns: &str, addr: SocketAddr) -> HttpServer {
        let pages: Pages = Arc::default();
        pages.lock().unwrap().insert("/".into(), (200, "ok".into()));
        let (tx, rx) = mpsc::channel();
        let netns = File::open(format!("/run/netns/{ns}")).expect("open the namespace");
        let accepted: Accepted = Arc::default();
        let (shared, counts) = (pages.clone(), accepted.clone());
        let thread = std::thread::spawn(move || {
            setns(netns.as_fd(), CloneFlags::CLONE_NEWNET).expect("enter the namespace");
            serve(addr, &shared, &counts, &rx);
        });
        let server = HttpServer {
            addr,
            pages,
            accepted,
            control: Some(tx),
            thread: Some(thread),
        };
        server.listen(true);
        server
    }

    /// Sets what a GET of `path` answers.
    pub fn page(&self, path: &str, status: u16, body: &str) {
        self.pages
            .lock()
            .unwrap()
            .insert(path.into(), (status, body.into()));
    }

    /// Closes the listening socket: connections are refused.
    pub fn stop(&self) {
        self.listen(false);
    }

    /// Listens again.
    pub fn start(&self) {
        self.listen(true);
    }

    /// Waits until both directors have connected again: for a step where the table must not
    /// change, proof that the checks which could have changed it did run.
    pub fn await_checks(&self) {
        let from = [0, 1].map(|i| crate::net::director_addr(i, self.addr.ip()));
        let count = |a| self.accepted.lock().unwrap().get(a).copied().unwrap_or(0);
        let before = from.each_ref().map(count);
        let deadline = Instant::now() + Duration::from_secs(10);
        while from.iter().zip(before).any(|(a, n)| count(a) <= n) {
            assert!(
                Instant::now() < deadline,
                "{} was not checked by both directors",
                self.addr
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn listen(&self, on: bool) {
        let (ack, done) = mpsc::channel();
        let control = self.control.as_ref().expect("server running");
        control.send((on, ack)).expect("server thread alive");
        done.recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|_| panic!("the server on {} did not (un)bind", self.addr));
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        // Closing the channel ends the thread within one poll interval.
        self.control = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    addr: SocketAddr,
    pages: &Pages,
    accepted: &Accepted,
    control: &Receiver<(bool, Sender<()>)>,
) {
    let mut listener: Option<TcpListener> = None;
    loop {
        let request = match &listener {
            // Not listening: only a request can change anything.
            None => match control.recv() {
                Ok(r) => Some(r),
                Err(_) => return,
            },
            Some(l) => {
                // Wakes up every 50 ms to look at the control channel.
                let mut fds = [PollFd::new(l.as_fd(), PollFlags::POLLIN)];
                if poll(&mut fds, PollTimeout::from(50u16)).unwrap_or(0) > 0 {
                    if let Ok((stream, peer)) = l.accept() {
                        *accepted.lock().unwrap().entry(peer.ip()).or_default() += 1;
                        answer(stream, pages);
                    }
                }
                match control.try_recv() {
                    Ok(r) => Some(r),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
        };
        if let Some((on, ack)) = request {
            listener = None;
            if on {
                // std sets SO_REUSEADDR, so the port binds again at once after a close.
                let l = TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
                l.set_nonblocking(true).unwrap();
                listener = Some(l);
            }
            let _ = ack.send(());
        }
    }
}

/// Answers one request, HTTP/1.0 style (one response, then close). A connection that sends
/// nothing (TCP_CHECK) is closed after a second at most.
fn answer(mut stream: TcpStream, pages: &Pages) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16384 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request);
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = pages
        .lock()
        .unwrap()
        .get(path)
        .cloned()
        .unwrap_or((404, "not found".into()));
    let _ = write!(
        stream,
        "HTTP/1.0 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A MISC_CHECK whose script exits with the number in a file the test writes.
pub struct Misc {
    status: PathBuf,
    script: PathBuf,
}

impl Misc {
    /// The script and its status file `name` in `work`, exiting with `status` to begin with.
    pub fn new(work: &Path, name: &str, status: u8) -> Misc {
        let script = work.join("misc.sh");
        std::fs::write(&script, "#!/bin/sh\nexit $(cat \"$1\")\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let misc = Misc {
            status: work.join(name),
            script,
        };
        misc.set(status);
        misc
    }

    pub fn set(&self, status: u8) {
        std::fs::write(&self.status, format!("{status}\n")).unwrap();
    }

    /// The `misc_path` of the configuration.
    pub fn path(&self) -> String {
        format!("{} {}", self.script.display(), self.status.display())
    }
}

/// The MD5 of `body` as keepalived's `digest` wants it (busybox's md5sum, in the VM).
pub fn md5(body: &str) -> String {
    let mut child = std::process::Command::new("md5sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run md5sum");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}
