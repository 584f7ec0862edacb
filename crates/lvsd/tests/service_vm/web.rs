//! The real servers (HTTP/1.0, answering every request with their own address, so that the
//! client can tell who served it) and the client fetching through the VIP.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// A server on `addr:80` in a namespace, until dropped.
pub struct Server {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start(ns: &str, addr: &str) -> Server {
        let addr: SocketAddr = format!("{addr}:80").parse().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (ns, stopped) = (ns.to_string(), stop.clone());
        // Bound before start returns: the first check must find the port open.
        let (bound, wait) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            crate::net::enter(&ns);
            let listener = TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
            listener.set_nonblocking(true).unwrap();
            bound.send(()).unwrap();
            while !stopped.load(Ordering::Relaxed) {
                // Wakes every 50 ms to see whether to stop.
                let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
                if poll(&mut fds, PollTimeout::from(50u16)).unwrap_or(0) == 0 {
                    continue;
                }
                if let Ok((stream, _)) = listener.accept() {
                    answer(stream, addr);
                }
            }
        });
        wait.recv_timeout(Duration::from_secs(5))
            .expect("the server did not bind");
        Server {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One request, one answer, then close. A connection that sends nothing (TCP_CHECK) ends at
/// its end of file, or after a second.
fn answer(mut stream: TcpStream, me: SocketAddr) {
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
    let body = me.ip().to_string();
    let _ = write!(
        stream,
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Fetches `http://addr/` `count` times from namespace `ns`, each on a connection of its own,
/// and returns each answer's body (the real server that gave it). Any failure fails the test.
pub fn fetch(ns: &str, addr: &str, count: usize) -> Vec<String> {
    let addr: SocketAddr = format!("{addr}:80").parse().unwrap();
    crate::net::within(ns, move || {
        (0..count)
            .map(|i| {
                let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
                    .unwrap_or_else(|e| panic!("fetch {i}: connect {addr}: {e}"));
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                s.write_all(b"GET / HTTP/1.0\r\nHost: vip\r\n\r\n").unwrap();
                let mut answer = String::new();
                s.read_to_string(&mut answer)
                    .unwrap_or_else(|e| panic!("fetch {i}: read: {e}"));
                let (head, body) = answer
                    .split_once("\r\n\r\n")
                    .unwrap_or_else(|| panic!("fetch {i}: not HTTP: {answer:?}"));
                assert!(head.starts_with("HTTP/1.0 200 "), "fetch {i}: {head}");
                body.to_string()
            })
            .collect()
    })
}
