//! The web: an HTTP server per real server (a thread in its namespace answering every
//! request with a page naming the server, as the guide's httpd pages do), and the client, a
//! thread in the client's namespace fetching http://VIP/ over and over, recording when each
//! fetch ended and which server answered. The client gives up on a connection quickly, so
//! an outage is measured to about its timeout.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::net;

/// How long it waits for the page once connected.
const READ_TIMEOUT: Duration = Duration::from_secs(1);
/// How often the threads look at their stop flag.
const POLL: Duration = Duration::from_millis(20);

/// One fetch: when it ended, and the server that answered (None: it failed).
#[derive(Clone, Debug)]
pub struct Fetch {
    pub at: Instant,
    pub server: Option<String>,
}

/// How the client fetches.
#[derive(Clone, Copy)]
pub struct Client {
    /// The pause after a successful fetch (none after a failed one).
    pub interval: Duration,
    /// A connection not made within this is abandoned (its SYN went to a director that is
    /// gone, or to one not yet holding the VIP) and the next tried: the resolution of an
    /// outage.
    pub connect_timeout: Duration,
    /// Fetching threads, side by side. A fetch whose connection was made through the old
    /// master just before it failed waits out its read timeout (IPVS's connection state is
    /// not shared between the directors): with two threads, the other goes on trying.
    pub threads: usize,
}

/// The servers and the client; every thread stops and is joined on drop.
pub struct Web {
    stop: Arc<AtomicBool>,
    fetches: Arc<Mutex<Vec<Fetch>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Web {
    /// Starts a server in each of `reals` (named rs1, rs2...) and the client's threads in
    /// namespace `ns`, their fetches recorded together.
    pub fn new(reals: &[String], ns: &str, client: Client) -> Web {
        let mut web = Web {
            stop: Arc::default(),
            fetches: Arc::default(),
            threads: Vec::new(),
        };
        for (i, ns) in reals.iter().enumerate() {
            let (tx, rx) = std::sync::mpsc::channel();
            let (ns, page, stop) = (ns.clone(), format!("rs{}\n", i + 1), web.stop.clone());
            web.threads.push(std::thread::spawn(move || {
                net::enter(&ns);
                let listener = TcpListener::bind("0.0.0.0:80").expect("bind port 80");
                // Non-blocking, to see the stop flag between connections.
                listener.set_nonblocking(true).unwrap();
                tx.send(()).unwrap();
                serve(&listener, &page, &stop);
            }));
            rx.recv_timeout(Duration::from_secs(5))
                .expect("a web server did not start");
        }
        for _ in 0..client.threads.max(1) {
            let (ns, stop, fetches) = (ns.to_string(), web.stop.clone(), web.fetches.clone());
            web.threads.push(std::thread::spawn(move || {
                net::enter(&ns);
                let vip: SocketAddr = format!("{}:80", net::VIP).parse().unwrap();
                while !stop.load(Ordering::Relaxed) {
                    let server = fetch(vip, client.connect_timeout);
                    let ok = server.is_some();
                    let at = Instant::now();
                    fetches.lock().unwrap().push(Fetch { at, server });
                    // A failed fetch is retried at once: the outage ends with the first answer.
                    if ok {
                        std::thread::sleep(client.interval);
                    }
                }
            }));
        }
        web
    }

    pub fn fetches(&self) -> Vec<Fetch> {
        self.fetches.lock().unwrap().clone()
    }

    /// Waits for a successful fetch ending after `since`, `limit` at most after `since`.
    pub fn wait_fetch(&self, since: Instant, limit: Duration) -> Option<Fetch> {
        let deadline = since + limit;
        loop {
            let found = self
                .fetches()
                .into_iter()
                .find(|f| f.at > since && f.server.is_some());
            if found.is_some() || Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(POLL);
        }
    }

    /// The longest time between two successful fetches that ended within `from..=to`
    /// (the last success before `from` counts as the start): the client's outage.
    pub fn outage(&self, from: Instant, to: Instant) -> Duration {
        let ok: Vec<Instant> = self
            .fetches()
            .into_iter()
            .filter(|f| f.server.is_some())
            .map(|f| f.at)
            .collect();
        let first = ok.iter().rposition(|&at| at <= from).unwrap_or(0);
        ok[first..]
            .windows(2)
            .filter(|w| w[1] <= to)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or_default()
    }
}

impl Drop for Web {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// GET / from `vip`: the page's first line (the server's name), or None.
fn fetch(vip: SocketAddr, connect_timeout: Duration) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&vip, connect_timeout).ok()?;
    s.set_read_timeout(Some(READ_TIMEOUT)).ok()?;
    s.set_write_timeout(Some(READ_TIMEOUT)).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: 192.0.2.50\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.0 200")
        .then(|| body.lines().next().unwrap_or("").to_string())
}

/// Answers every connection with `page` until `stop`.
fn serve(listener: &TcpListener, page: &str, stop: &AtomicBool) {
    let answer = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{page}",
        page.len()
    );
    while !stop.load(Ordering::Relaxed) {
        // Waits for a connection, waking up to look at `stop`: an answer is never delayed
        // by a sleep, which would show in the measured outages.
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        if !matches!(poll(&mut fds, PollTimeout::from(50u16)), Ok(n) if n > 0) {
            continue;
        }
        // Another thread's connection, or one reset before it was accepted, is no error.
        if let Ok((s, _)) = listener.accept() {
            // A thread a connection: one whose request never comes (sent through a director
            // that has just failed) must not hold up the others.
            let answer = answer.clone();
            std::thread::spawn(move || answer_one(s, &answer));
        }
    }
}

/// Reads a request to its blank line (health checks and the client send short ones), then
/// answers it and closes.
fn answer_one(mut s: TcpStream, answer: &str) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(READ_TIMEOUT));
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let _ = s.write_all(answer.as_bytes());
}
