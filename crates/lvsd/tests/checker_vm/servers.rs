//! The real servers, written here so that the test decides what they answer: a server per
//! address and port (HTTP, HTTPS, SMTP, or UDP answering as DNS) which can stop and start listening
//! and whose answers can change, and the status a MISC_CHECK script exits with.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

#[derive(Clone, Copy, Debug)]
pub enum Protocol {
    /// What HTTP_GET gets (one request a connection); also what TCP_CHECK connects to.
    Http,
    /// The same over TLS, with a self-signed certificate, for SSL_GET.
    Https,
    /// The greeting, HELO and QUIT of SMTP_CHECK.
    Smtp,
    /// Every datagram is answered with itself made a DNS response (QR set, the RCODE of
    /// [`Server::dns_rcode`]): what DNS_CHECK wants, and a reply for UDP_CHECK.
    Udp,
}

/// What the server answers, and whom it heard from.
struct State {
    pages: HashMap<String, (u16, String)>,
    dns_rcode: u8,
    /// Connections accepted or datagrams received, by peer address.
    contacts: HashMap<IpAddr, usize>,
}

type Shared = Arc<Mutex<State>>;
/// A request to (stop) listening, acknowledged once done.
type Control = (bool, Sender<()>);

/// A server on one address and port of a namespace. Its thread enters the namespace, so the
/// sockets it makes belong there.
pub struct Server {
    addr: SocketAddr,
    state: Shared,
    /// Closed on drop, which ends the thread.
    control: Option<Sender<Control>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on `addr` in namespace `ns`; an HTTP server serves `/` as 200 "ok".
    pub fn new(ns: &str, protocol: Protocol, addr: SocketAddr) -> Server {
        let state: Shared = Arc::new(Mutex::new(State {
            pages: HashMap::from([("/".into(), (200, "ok".into()))]),
            dns_rcode: 0,
            contacts: HashMap::new(),
        }));
        let (tx, rx) = mpsc::channel();
        let (shared, ns) = (state.clone(), ns.to_string());
        let thread = std::thread::spawn(move || {
            crate::net::enter(&ns);
            serve(protocol, addr, &shared, &rx);
        });
        let server = Server {
            addr,
            state,
            control: Some(tx),
            thread: Some(thread),
        };
        server.listen(true);
        server
    }

    /// Sets what an HTTP GET of `path` answers.
    pub fn page(&self, path: &str, status: u16, body: &str) {
        let mut state = self.state.lock().unwrap();
        state.pages.insert(path.into(), (status, body.into()));
    }

    /// Sets the RCODE of a UDP server's answers (0 NOERROR, 2 SERVFAIL).
    pub fn dns_rcode(&self, rcode: u8) {
        self.state.lock().unwrap().dns_rcode = rcode;
    }

    /// Closes the socket: TCP connections are refused, UDP datagrams draw an ICMP error.
    pub fn stop(&self) {
        self.listen(false);
    }

    /// Listens again.
    pub fn start(&self) {
        self.listen(true);
    }

    /// How many connections (or datagrams) came from `peer` so far.
    pub fn contacts_from(&self, peer: IpAddr) -> usize {
        let state = self.state.lock().unwrap();
        state.contacts.get(&peer).copied().unwrap_or(0)
    }

    /// Waits until both directors have been in touch again: for a step where the table must
    /// not change, proof that the checks which could have changed it did run.
    pub fn await_checks(&self) {
        let from = [0, 1].map(|i| crate::net::director_addr(i, self.addr.ip()));
        let count = |a| {
            self.state
                .lock()
                .unwrap()
                .contacts
                .get(a)
                .copied()
                .unwrap_or(0)
        };
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

impl Drop for Server {
    fn drop(&mut self) {
        // Closing the channel ends the thread within one poll interval.
        self.control = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

enum Socket {
    Tcp(TcpListener),
    Udp(UdpSocket),
}

impl Socket {
    fn bind(protocol: Protocol, addr: SocketAddr) -> Socket {
        // std sets SO_REUSEADDR on TCP listeners, so the port binds again at once after a close.
        let socket = match protocol {
            Protocol::Http | Protocol::Https | Protocol::Smtp => {
                TcpListener::bind(addr).map(Socket::Tcp)
            }
            Protocol::Udp => UdpSocket::bind(addr).map(Socket::Udp),
        };
        let socket = socket.unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        match &socket {
            Socket::Tcp(l) => l.set_nonblocking(true).unwrap(),
            Socket::Udp(s) => s.set_nonblocking(true).unwrap(),
        }
        socket
    }

    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Socket::Tcp(l) => l.as_fd(),
            Socket::Udp(s) => s.as_fd(),
        }
    }
}

fn serve(protocol: Protocol, addr: SocketAddr, state: &Shared, control: &Receiver<Control>) {
    let tls = matches!(protocol, Protocol::Https).then(tls_config);
    let mut socket: Option<Socket> = None;
    loop {
        let request = match &socket {
            // Not listening: only a request can change anything.
            None => match control.recv() {
                Ok(r) => Some(r),
                Err(_) => return,
            },
            Some(s) => {
                // Wakes up every 50 ms to look at the control channel.
                let mut fds = [PollFd::new(s.fd(), PollFlags::POLLIN)];
                if poll(&mut fds, PollTimeout::from(50u16)).unwrap_or(0) > 0 {
                    answer(protocol, s, state, tls.as_ref());
                }
                match control.try_recv() {
                    Ok(r) => Some(r),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
        };
        if let Some((on, ack)) = request {
            socket = None;
            if on {
                socket = Some(Socket::bind(protocol, addr));
            }
            let _ = ack.send(());
        }
    }
}

/// A server configuration with a certificate of its own: keepalived's SSL_GET verifies none.
fn tls_config() -> Arc<rustls::ServerConfig> {
    let made = rcgen::generate_simple_self_signed(vec!["rs.example".into()]).unwrap();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(made.key_pair.serialize_der());
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key.into())
        .unwrap();
    Arc::new(config)
}

fn answer(
    protocol: Protocol,
    socket: &Socket,
    state: &Shared,
    tls: Option<&Arc<rustls::ServerConfig>>,
) {
    let heard =
        |peer: SocketAddr| *state.lock().unwrap().contacts.entry(peer.ip()).or_default() += 1;
    match socket {
        Socket::Udp(s) => {
            let mut buf = [0u8; 512];
            if let Ok((n, peer)) = s.recv_from(&mut buf) {
                heard(peer);
                let reply = &mut buf[..n];
                if n >= 4 {
                    reply[2] |= 0x80;
                    reply[3] = (reply[3] & 0xf0) | state.lock().unwrap().dns_rcode;
                }
                let _ = s.send_to(reply, peer);
            }
        }
        Socket::Tcp(l) => {
            if let Ok((stream, peer)) = l.accept() {
                heard(peer);
                let _ = stream.set_nonblocking(false);
                // A connection that sends nothing (TCP_CHECK) is closed after a second at most.
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                match (protocol, tls) {
                    (Protocol::Smtp, _) => smtp(stream),
                    (_, Some(config)) => {
                        let tls = rustls::ServerConnection::new(config.clone()).unwrap();
                        http(rustls::StreamOwned::new(tls, stream), state);
                    }
                    _ => http(stream, state),
                }
            }
        }
    }
}

/// Answers one request, HTTP/1.0 style (one response, then close).
fn http(mut stream: impl Read + Write, state: &Shared) {
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
    let page = state.lock().unwrap().pages.get(path).cloned();
    let (status, body) = page.unwrap_or((404, "not found".into()));
    let _ = write!(
        stream,
        "HTTP/1.0 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

/// Greets, and answers each command with 250 until QUIT.
fn smtp(mut stream: TcpStream) {
    let _ = stream.write_all(b"220 rs ESMTP\r\n");
    let mut lines = BufReader::new(stream.try_clone().unwrap()).lines();
    while let Some(Ok(line)) = lines.next() {
        if line.to_ascii_uppercase().starts_with("QUIT") {
            let _ = stream.write_all(b"221 bye\r\n");
            return;
        }
        let _ = stream.write_all(b"250 ok\r\n");
    }
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
