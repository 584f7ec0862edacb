//! What the probe tests share: a network namespace of the test's own (so that no packet
//! leaves it), with `lo` up and 192.0.2.1/24 and 2001:db8::1/64 on it and 203.0.113.0/24
//! routed to nowhere, a tokio runtime in it, and probes built from keepalived.conf text.
#![allow(dead_code)] // each test file uses a part

use lvsd::probe::Probe;
use std::future::Future;
use std::process::Command;
use std::time::Duration;

pub const V4: &str = "192.0.2.1";
pub const V6: &str = "2001:db8::1";
/// An address no one answers.
pub const BLACKHOLE: &str = "203.0.113.9";

/// Runs `test` on a thread of its own in a new network namespace, with a current-thread
/// tokio runtime.
pub fn in_netns<F, Fut>(test: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let thread = std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
            .expect("a network namespace of the test's own (the tests need root)");
        for args in [
            "link set lo up",
            "addr add 192.0.2.1/24 dev lo",
            "addr add 2001:db8::1/64 dev lo nodad",
            // Where a SYN goes unanswered: out through lo, and dropped there, not ours.
            "route add 203.0.113.0/24 dev lo",
        ] {
            let status = Command::new("ip")
                .args(args.split(' '))
                .status()
                .expect("run ip");
            assert!(status.success(), "ip {args}");
        }
        // Datagram ICMP sockets, as keepalived's PING_CHECK uses, for root too.
        std::fs::write("/proc/sys/net/ipv4/ping_group_range", "0 2147483647")
            .expect("ping_group_range");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(test());
    });
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

/// A configuration with one virtual server (`protocol` TCP or UDP) and one real server at
/// `rs` `port` with `checker`; the extra lines go in the virtual and real server blocks.
pub fn service(
    rs: &str,
    port: u16,
    protocol: &str,
    vs_extra: &str,
    rs_extra: &str,
    checker: &str,
) -> String {
    let vip = if rs.contains(':') {
        "2001:db8::100"
    } else {
        "192.0.2.100"
    };
    format!(
        "virtual_server {vip} {port} {{\n  delay_loop 3\n  lb_kind NAT\n  protocol {protocol}\n\
         {vs_extra}\n  real_server {rs} {port} {{\n{rs_extra}\n{checker}\n  }}\n}}\n"
    )
}

/// The probe of the first checker of the first real server of `conf`.
pub fn probe_of(conf: &str) -> Probe {
    try_probe_of(conf).expect("Probe::new")
}

pub fn try_probe_of(conf: &str) -> Result<Probe, String> {
    let dir = std::env::temp_dir().join(format!(
        "lvsd-probe-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keepalived.conf");
    std::fs::write(&path, conf).unwrap();
    let reading = keepalived::read(&path, &keepalived::Options::default());
    let _ = std::fs::remove_dir_all(&dir);
    let check = &reading.config.check;
    let vs = check.virtual_servers.first().expect("a virtual server");
    let rs = vs.real_servers.first().expect("a real server");
    let checker = rs.checkers.first().unwrap_or_else(|| {
        panic!(
            "no checker read from:\n{conf}\n{:?}",
            reading
                .problems
                .iter()
                .map(|p| &p.message)
                .collect::<Vec<_>>()
        )
    });
    Probe::new(vs, rs, checker, check.ssl.as_ref())
}

/// A probe on 192.0.2.1 `port` (TCP service).
pub fn probe(port: u16, checker: &str) -> Probe {
    probe_of(&service(V4, port, "TCP", "", "", checker))
}

/// Runs `p` and checks it returned within its timeout and 200 ms.
pub async fn run_timed(p: &Probe) -> lvsd::probe::Outcome {
    let start = std::time::Instant::now();
    let outcome = p.run().await;
    let took = start.elapsed();
    assert!(
        took <= p.timeout() + Duration::from_millis(200),
        "took {took:?}, timeout {:?}: {outcome:?}",
        p.timeout()
    );
    outcome
}

/// The number of open file descriptors of the process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The process's resident set, in kB.
pub fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Serves TCP on `addr` (a free port): `handler` gets each connection. Returns the port.
pub fn serve<F, Fut>(addr: &str, handler: F) -> u16
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = std::net::TcpListener::bind((addr, 0)).expect("bind");
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    let handler = std::sync::Arc::new(handler);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(handler(stream));
        }
    });
    port
}

/// Reads a request up to its blank line (or 64 kB, or the end).
pub async fn read_request(s: &mut tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 65536 {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    req
}

/// Waits until the peer closes (or 10 s), so that a server holds its end no longer than the
/// client.
pub async fn until_closed(s: &mut tokio::net::TcpStream) {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// An HTTP server that answers every request with `response` and closes; the requests it got
/// are in the returned list.
pub fn http_server(
    addr: &str,
    response: Vec<u8>,
) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let port = serve(addr, move |mut s| {
        let response = response.clone();
        let log = log.clone();
        async move {
            use tokio::io::AsyncWriteExt;
            let req = read_request(&mut s).await;
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&req).into_owned());
            let _ = s.write_all(&response).await;
        }
    });
    (port, seen)
}

/// An HTTP response with `status` and `body`.
pub fn response(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.0 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A server that accepts and never answers (until the client goes).
pub fn silent_server(addr: &str) -> u16 {
    serve(addr, |mut s| async move { until_closed(&mut s).await })
}

/// A server that resets the connection after part of a response.
pub fn resetting_server(addr: &str) -> u16 {
    serve(addr, |mut s| async move {
        use tokio::io::AsyncWriteExt;
        let _ = read_request(&mut s).await;
        let _ = s.write_all(b"HTTP/1.0 200 OK\r\nContent-Le").await;
        // Linger 0: the close sends a reset.
        let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
    })
}

/// The MD5 of `bytes`, as a `digest` line gives it.
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
