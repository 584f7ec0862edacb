//! The probes against servers the tests run, each test in a network namespace of its own:
//! what passes and fails as in keepalived, hostile servers that must not hold a check past
//! its timeout, input that must not make a probe panic, and `lvsd genhash` (against
//! keepalived's own `-T` when it is installed).

mod probe_support;

use lvsd::probe::Outcome;
use probe_support::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const UP: Outcome = Outcome::Up { weight: None };

fn down(o: &Outcome) -> &str {
    match o {
        Outcome::Down(r) => r,
        Outcome::Up { .. } => panic!("up, expected down"),
    }
}

fn http_get(urls: &str) -> String {
    format!("HTTP_GET {{\n connect_timeout 1\n {urls}\n }}")
}

#[test]
fn http_status_codes() {
    in_netns(|| async {
        let (ok, _) = http_server(V4, response("200 OK", "fine"));
        assert_eq!(
            run_timed(&probe(ok, &http_get("url { path /health }"))).await,
            UP
        );
        let (err, _) = http_server(V4, response("500 Internal Server Error", "oops"));
        let o = run_timed(&probe(err, &http_get("url { path /health }"))).await;
        assert_eq!(down(&o), "HTTP 500 from /health");
        // A listed code passes, ranges included.
        let listed = http_get("url { path /health\n status_code 500 }");
        assert_eq!(run_timed(&probe(err, &listed)).await, UP);
        let (nc, _) = http_server(V4, response("204 No Content", ""));
        let range = http_get("url { path /\n status_code 200-204 }");
        assert_eq!(run_timed(&probe(nc, &range)).await, UP);
        let other = http_get("url { path /\n status_code 200-203 301 }");
        assert_eq!(
            down(&run_timed(&probe(nc, &other)).await),
            "HTTP 204 from /"
        );
        // 2xx by default, 3xx not.
        let (moved, _) = http_server(V4, response("301 Moved", ""));
        assert_eq!(
            down(&run_timed(&probe(moved, &http_get("url { path / }"))).await),
            "HTTP 301 from /"
        );
    });
}

#[test]
fn http_digest() {
    in_netns(|| async {
        let body = "the body of the page\n";
        let (port, _) = http_server(V4, response("200 OK", body));
        let good = http_get(&format!(
            "url {{ path /\n digest {} }}",
            md5_hex(body.as_bytes())
        ));
        assert_eq!(run_timed(&probe(port, &good)).await, UP);
        let bad = http_get(&format!("url {{ path /\n digest {} }}", md5_hex(b"other")));
        assert_eq!(
            down(&run_timed(&probe(port, &bad)).await),
            "digest mismatch on /"
        );
        // Only Content-Length bytes count, as in keepalived.
        let (short, _) = http_server(
            V4,
            b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nbodyEXTRA".to_vec(),
        );
        let four = http_get(&format!("url {{ path /\n digest {} }}", md5_hex(b"body")));
        assert_eq!(run_timed(&probe(short, &four)).await, UP);
    });
}

#[test]
fn http_request_as_keepalived_sends_it() {
    in_netns(|| async {
        let (port, seen) = http_server(V4, response("200 OK", ""));
        let p = probe(port, &http_get("url { path /a?b=c }"));
        assert_eq!(run_timed(&p).await, UP);
        assert_eq!(
            seen.lock().unwrap().pop().unwrap(),
            format!(
                "GET /a?b=c HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 192.0.2.1:{port}\r\n\r\n"
            )
        );
        // virtualhost: the url's, else the checker's, else the real server's, else the
        // virtual server's, without a port.
        let levels = [
            (
                "",
                "",
                "virtualhost c.example\n url { path /\n virtualhost u.example }",
                "u.example",
            ),
            (
                "",
                "virtualhost r.example",
                "virtualhost c.example\n url { path / }",
                "c.example",
            ),
            (
                "virtualhost v.example",
                "virtualhost r.example",
                "url { path / }",
                "r.example",
            ),
            ("virtualhost v.example", "", "url { path / }", "v.example"),
        ];
        for (vs, rs, checker, host) in levels {
            let conf = service(V4, port, "TCP", vs, rs, &http_get(checker));
            assert_eq!(run_timed(&probe_of(&conf)).await, UP);
            let req = seen.lock().unwrap().pop().unwrap();
            assert!(req.contains(&format!("\r\nHost: {host}\r\n")), "{req}");
        }
        let p11 = probe(port, &http_get("http_protocol 1.1\n url { path / }"));
        assert_eq!(run_timed(&p11).await, UP);
        assert_eq!(
            seen.lock().unwrap().pop().unwrap(),
            format!(
                "GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 192.0.2.1:{port}\r\n\r\n"
            )
        );
        // An IPv6 address in brackets.
        let (port6, seen6) = http_server(V6, response("200 OK", ""));
        let conf = service(V6, port6, "TCP", "", "", &http_get("url { path / }"));
        assert_eq!(run_timed(&probe_of(&conf)).await, UP);
        let req = seen6.lock().unwrap().pop().unwrap();
        assert!(
            req.contains(&format!("\r\nHost: [2001:db8::1]:{port6}\r\n")),
            "{req}"
        );
    });
}

#[test]
fn http_every_url_must_pass() {
    in_netns(|| async {
        let port = serve(V4, |mut s| async move {
            let req = read_request(&mut s).await;
            let reply = if req.starts_with(b"GET /missing ") {
                response("404 Not Found", "")
            } else {
                response("200 OK", "")
            };
            let _ = s.write_all(&reply).await;
        });
        let both = http_get("url { path /one }\n url { path /two }");
        assert_eq!(run_timed(&probe(port, &both)).await, UP);
        let one_bad = http_get("url { path /one }\n url { path /missing }\n url { path /two }");
        assert_eq!(
            down(&run_timed(&probe(port, &one_bad)).await),
            "HTTP 404 from /missing"
        );
    });
}

#[test]
fn http_regex_is_refused() {
    let conf = service(
        V4,
        80,
        "TCP",
        "",
        "",
        &http_get("url { path /\n regex ok }"),
    );
    let e = probe_support::try_probe_of(&conf).unwrap_err();
    assert!(e.contains("regex is not supported"), "{e}");
}

/// A rustls server with a self-signed certificate; each connection's SNI is recorded.
fn tls_server(body: &'static str) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<Option<String>>>>) {
    let cert = rcgen::generate_simple_self_signed(vec!["www.example.com".into()]).unwrap();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der());
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key.into())
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let names = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = names.clone();
    let port = serve(V4, move |s| {
        let acceptor = acceptor.clone();
        let log = log.clone();
        async move {
            let Ok(mut tls) = acceptor.accept(s).await else {
                return;
            };
            log.lock()
                .unwrap()
                .push(tls.get_ref().1.server_name().map(str::to_string));
            let mut buf = [0u8; 2048];
            let _ = tls.read(&mut buf).await;
            let _ = tls.write_all(&response("200 OK", body)).await;
            let _ = tls.shutdown().await;
        }
    });
    (port, names)
}

#[test]
fn ssl_get() {
    in_netns(|| async {
        let body = "secure\n";
        let (port, names) = tls_server(body);
        let checker = format!(
            "SSL_GET {{\n connect_timeout 1\n url {{ path /\n digest {} }}\n }}",
            md5_hex(body.as_bytes())
        );
        // The self-signed certificate is accepted, as keepalived accepts any.
        assert_eq!(run_timed(&probe(port, &checker)).await, UP);
        assert_eq!(names.lock().unwrap().pop(), Some(None));
        let sni = "SSL_GET {\n connect_timeout 1\n enable_sni\n virtualhost www.example.com\n url { path / }\n }";
        assert_eq!(run_timed(&probe(port, sni)).await, UP);
        assert_eq!(
            names.lock().unwrap().pop(),
            Some(Some("www.example.com".into()))
        );
        // TLS to a server that speaks plain HTTP: it waits for a request that never comes.
        let (plain, _) = http_server(V4, response("200 OK", body));
        let o = run_timed(&probe(
            plain,
            "SSL_GET {\n connect_timeout 1\n url { path / }\n }",
        ))
        .await;
        assert_eq!(down(&o), "TLS handshake timeout after 1 s");
    });
}

#[test]
fn tcp_check() {
    in_netns(|| async {
        let open = silent_server(V4);
        let p = probe(open, "TCP_CHECK {\n connect_timeout 1\n }");
        assert_eq!(run_timed(&p).await, UP);
        let closed = std::net::TcpListener::bind((V4, 0)).unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let p = probe(port, "TCP_CHECK {\n connect_timeout 1\n }");
        assert_eq!(down(&run_timed(&p).await), "connection refused");
        // connect_ip and connect_port send the check elsewhere.
        let elsewhere = format!(
            "TCP_CHECK {{\n connect_timeout 1\n connect_ip {V6}\n connect_port {open6}\n bindto {V6}\n }}",
            open6 = silent_server(V6)
        );
        assert_eq!(run_timed(&probe(port, &elsewhere)).await, UP);
        // bindto, bind_port, bind_if and fwmark are applied to the socket.
        let peers = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = peers.clone();
        let seen = serve(V4, move |s| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(s.peer_addr().ok());
            }
        });
        let bound = format!(
            "TCP_CHECK {{\n connect_timeout 1\n bindto {V4}\n bind_port 40001\n bind_if lo\n fwmark 7\n }}"
        );
        assert_eq!(run_timed(&probe(seen, &bound)).await, UP);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            peers.lock().unwrap().pop(),
            Some(Some(format!("{V4}:40001").parse().unwrap()))
        );
        let no_such = "TCP_CHECK {\n connect_timeout 1\n bind_if nosuch0\n }";
        let o = run_timed(&probe(seen, no_such)).await;
        assert!(down(&o).starts_with("cannot set up the socket"), "{o:?}");
    });
}

fn misc(script: &str, extra: &str) -> lvsd::probe::Probe {
    probe(
        80,
        &format!("MISC_CHECK {{\n misc_path \"{script}\"\n {extra}\n }}"),
    )
}

#[test]
fn misc_check() {
    in_netns(|| async {
        assert_eq!(run_timed(&misc("/bin/true", "")).await, UP);
        assert_eq!(
            down(&run_timed(&misc("/bin/false", "")).await),
            "script exited with status 1"
        );
        let seven = misc("/bin/sh -c 'exit 7'", "misc_dynamic");
        assert_eq!(run_timed(&seven).await, Outcome::Up { weight: Some(5) });
        let zero = misc("/bin/sh -c 'exit 0'", "misc_dynamic");
        assert_eq!(run_timed(&zero).await, UP);
        // Without misc_dynamic, 7 is a failure.
        assert_eq!(
            down(&run_timed(&misc("/bin/sh -c 'exit 7'", "")).await),
            "script exited with status 7"
        );
        // The user given, its group.
        let nobody = misc("/bin/sh -c 'test $(id -u) = 65534'", "user nobody");
        assert_eq!(run_timed(&nobody).await, UP);
        // Never through a shell: the words are the program and its arguments.
        let o = run_timed(&misc("/nonexistent/check", "")).await;
        assert!(
            down(&o).starts_with("cannot run /nonexistent/check"),
            "{o:?}"
        );
    });
}

#[test]
fn misc_timeout_kills_the_process_group() {
    in_netns(|| async {
        let dir = std::env::temp_dir().join(format!("lvsd-misc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pidfile = dir.join("pid");
        let script = format!(
            "/bin/sh -c 'sleep 30 & echo $! > {}; wait'",
            pidfile.display()
        );
        let p = misc(&script, "misc_timeout 1");
        assert_eq!(p.timeout(), Duration::from_secs(1));
        assert_eq!(down(&run_timed(&p).await), "script timed out after 1 s");
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The grandchild is gone (or a zombie of init's for a moment).
        tokio::time::sleep(Duration::from_millis(100)).await;
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(
            state.is_empty() || state.contains(") Z "),
            "the script's child lives on: {state}"
        );
        let _ = std::fs::remove_dir_all(&dir);
        // Without misc_timeout, the virtual server's delay_loop.
        assert_eq!(misc("/bin/true", "").timeout(), Duration::from_secs(3));
    });
}

/// A UDP server answering each datagram with `reply`.
async fn udp_echo(addr: &str, reply: &'static [u8]) -> u16 {
    let socket = tokio::net::UdpSocket::bind((addr, 0)).await.unwrap();
    let port = socket.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((_, from)) = socket.recv_from(&mut buf).await {
            let _ = socket.send_to(reply, from).await;
        }
    });
    port
}

fn udp_probe(port: u16, checker: &str) -> lvsd::probe::Probe {
    probe_of(&service(V4, port, "UDP", "", "", checker))
}

#[test]
fn udp_check() {
    in_netns(|| async {
        let port = udp_echo(V4, b"\x01\x02pong").await;
        let exact =
            "UDP_CHECK {\n connect_timeout 1\n payload 0102\n require_reply 0102706f6e67\n }";
        assert_eq!(run_timed(&udp_probe(port, exact)).await, UP);
        let masked = "UDP_CHECK {\n connect_timeout 1\n require_reply 0X02\n }";
        assert_eq!(run_timed(&udp_probe(port, masked)).await, UP);
        let wrong = "UDP_CHECK {\n connect_timeout 1\n require_reply 0103\n }";
        assert_eq!(
            down(&run_timed(&udp_probe(port, wrong)).await),
            "reply does not match"
        );
        let long = "UDP_CHECK {\n connect_timeout 1\n require_reply 01\n max_reply_length 4\n }";
        assert_eq!(
            down(&run_timed(&udp_probe(port, long)).await),
            "reply longer than 4 bytes"
        );
        // Silence passes without require_reply, fails with it.
        let quiet = tokio::net::UdpSocket::bind((V4, 0)).await.unwrap();
        let qport = quiet.local_addr().unwrap().port();
        let silent = "UDP_CHECK {\n connect_timeout 1\n }";
        assert_eq!(run_timed(&udp_probe(qport, silent)).await, UP);
        let needed = "UDP_CHECK {\n connect_timeout 1\n require_reply\n }";
        assert_eq!(
            down(&run_timed(&udp_probe(qport, needed)).await),
            "no reply within 1 s"
        );
        // A closed port answers with ICMP port unreachable, unless the kernel's global ICMP
        // rate limit (shared by every namespace) drops it: a few tries.
        drop(quiet);
        let mut refused = false;
        for _ in 0..5 {
            if let Outcome::Down(r) = run_timed(&udp_probe(qport, silent)).await {
                assert_eq!(r, "connection refused");
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        assert!(refused, "no ICMP port unreachable came back");
    });
}

/// A DNS server answering every query with RCODE `rcode`, after a datagram of another ID.
async fn dns_server(rcode: u8) -> u16 {
    let socket = tokio::net::UdpSocket::bind((V4, 0)).await.unwrap();
    let port = socket.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            if n < 12 {
                continue;
            }
            let mut other = buf[..n].to_vec();
            other[0] ^= 0xff;
            other[2] |= 0x80;
            let _ = socket.send_to(&other, from).await;
            let mut answer = buf[..n].to_vec();
            answer[2] |= 0x80;
            answer[3] = (answer[3] & 0xf0) | rcode;
            let _ = socket.send_to(&answer, from).await;
        }
    });
    port
}

#[test]
fn dns_check() {
    in_netns(|| async {
        let ok = dns_server(0).await;
        let checker = "DNS_CHECK {\n connect_timeout 1\n type A\n name www.example.com\n }";
        assert_eq!(run_timed(&udp_probe(ok, checker)).await, UP);
        let refused = dns_server(5).await;
        assert_eq!(
            down(&run_timed(&udp_probe(refused, checker)).await),
            "DNS answer with RCODE 5"
        );
        let quiet = tokio::net::UdpSocket::bind((V4, 0)).await.unwrap();
        let qport = quiet.local_addr().unwrap().port();
        assert_eq!(
            down(&run_timed(&udp_probe(qport, checker)).await),
            "no DNS answer within 1 s"
        );
    });
}

/// An SMTP server giving `banner`, then `helo_reply` to HELO, then 221 to QUIT; the HELO line
/// it got is recorded.
fn smtp_server(
    banner: &'static str,
    helo_reply: &'static str,
) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let port = serve(V4, move |mut s| {
        let log = log.clone();
        async move {
            let _ = s.write_all(banner.as_bytes()).await;
            let mut buf = [0u8; 512];
            let n = s.read(&mut buf).await.unwrap_or(0);
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            let _ = s.write_all(helo_reply.as_bytes()).await;
            let n = s.read(&mut buf).await.unwrap_or(0);
            if buf[..n].starts_with(b"QUIT\r\n") {
                let _ = s.write_all(b"221 bye\r\n").await;
            }
        }
    });
    (port, seen)
}

#[test]
fn smtp_check() {
    in_netns(|| async {
        let (port, seen) = smtp_server("220 mail.example ESMTP\r\n", "250 hello\r\n");
        let checker = "SMTP_CHECK {\n connect_timeout 1\n helo_name probe.example\n }";
        assert_eq!(run_timed(&probe(port, checker)).await, UP);
        assert_eq!(
            seen.lock().unwrap().pop().unwrap(),
            "HELO probe.example\r\n"
        );
        let default = "SMTP_CHECK {\n connect_timeout 1\n }";
        assert_eq!(run_timed(&probe(port, default)).await, UP);
        assert_eq!(
            seen.lock().unwrap().pop().unwrap(),
            "HELO smtpchecker.keepalived.org\r\n"
        );
        let (busy, _) = smtp_server("554 go away\r\n", "250 hello\r\n");
        assert_eq!(
            down(&run_timed(&probe(busy, default)).await),
            "bad greeting: \"554 go away.\""
        );
        let (rude, _) = smtp_server("220 ok\r\n", "500 what\r\n");
        assert_eq!(
            down(&run_timed(&probe(rude, default)).await),
            "bad answer to HELO: \"500 what.\""
        );
    });
}

#[test]
fn ping_check() {
    in_netns(|| async {
        let checker = "PING_CHECK {\n connect_timeout 1\n }";
        let v4 = probe_of(&service(V4, 80, "TCP", "", "", checker));
        assert_eq!(run_timed(&v4).await, UP);
        let v6 = probe_of(&service(V6, 80, "TCP", "", "", checker));
        assert_eq!(run_timed(&v6).await, UP);
        // Where datagram ICMP sockets are not allowed, raw ones.
        std::fs::write("/proc/sys/net/ipv4/ping_group_range", "1 0").unwrap();
        assert_eq!(run_timed(&v4).await, UP);
        assert_eq!(run_timed(&v6).await, UP);
        // No route to it in the namespace.
        let nowhere = probe_of(&service("198.51.100.7", 80, "TCP", "", "", checker));
        let o = run_timed(&nowhere).await;
        assert!(down(&o).ends_with("network is unreachable"), "{o:?}");
    });
}

/// Servers that hold a client: each check must end, down, within its timeout.
#[test]
fn hostile_servers_cannot_hold_a_check() {
    in_netns(|| async {
        let silent = silent_server(V4);
        let slow = serve(V4, |mut s| async move {
            let _ = read_request(&mut s).await;
            for b in b"HTTP/1.0 200 OK\r\n\r\nslow body".iter() {
                if s.write_all(&[*b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        let endless_headers = serve(V4, |mut s| async move {
            let _ = read_request(&mut s).await;
            let _ = s.write_all(b"HTTP/1.0 200 OK\r\n").await;
            while s.write_all(b"X-More: yes\r\n").await.is_ok() {}
        });
        let endless_body = serve(V4, |mut s| async move {
            let _ = read_request(&mut s).await;
            let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\n").await;
            let chunk = vec![b'x'; 65536];
            while s.write_all(&chunk).await.is_ok() {}
        });
        let reset = resetting_server(V4);
        let garbage_tls = serve(V4, |mut s| async move {
            let _ = s.write_all(&[0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3]).await;
            let _ = s.write_all(&[0xde; 4096]).await;
            until_closed(&mut s).await;
        });
        let stalled_tls = serve(V4, |mut s| async move {
            // Reads the ClientHello and never answers it.
            until_closed(&mut s).await;
        });
        let http = |port| probe(port, &http_get("url { path / }"));
        let unanswered = |checker: &str| probe_of(&service(BLACKHOLE, 80, "TCP", "", "", checker));
        let ssl = |port| probe(port, "SSL_GET {\n connect_timeout 1\n url { path / }\n }");
        let cases = [
            (
                "unanswered SYN",
                unanswered("TCP_CHECK {\n connect_timeout 1\n }"),
                "connect timeout after 1 s",
            ),
            (
                "unanswered SYN, HTTP",
                unanswered(&http_get("url { path / }")),
                "connect timeout after 1 s",
            ),
            (
                "silent HTTP",
                http(silent),
                "no reply to the GET of / within 1 s",
            ),
            (
                "a byte a second",
                http(slow),
                "timeout after 1 s reading the response from /",
            ),
            (
                "endless headers",
                http(endless_headers),
                "the headers from / do not end within 4095 bytes",
            ),
            (
                "endless body",
                http(endless_body),
                "timeout after 1 s reading the response from /",
            ),
            ("reset", http(reset), "connection reset while reading /"),
            ("garbage TLS", ssl(garbage_tls), "TLS handshake failed"),
            (
                "stalled TLS",
                ssl(stalled_tls),
                "TLS handshake timeout after 1 s",
            ),
            (
                "silent SMTP",
                probe(silent, "SMTP_CHECK {\n connect_timeout 1\n }"),
                "greeting timeout after 1 s",
            ),
        ];
        let set = tokio::task::LocalSet::new();
        let runs: Vec<_> = cases
            .into_iter()
            .map(|(name, p, want)| {
                set.spawn_local(async move {
                    let o = run_timed(&p).await;
                    assert!(down(&o).starts_with(want), "{name}: {o:?}");
                })
            })
            .collect();
        set.run_until(async {
            for r in runs {
                r.await.unwrap();
            }
        })
        .await;
    });
}

/// The daemon may run checks on any thread.
#[test]
fn a_check_can_move_between_threads() {
    fn send<T: Send>(_: &T) {}
    let p = probe(80, &http_get("url { path / }"));
    send(&p.run());
}

/// Responses no HTTP server should give: the probe says down, and does not panic.
#[test]
fn malformed_responses_do_not_panic() {
    in_netns(|| async {
        let answers: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"\r\n\r\n".to_vec(),
            b"HTTP/1.0\r\n\r\n".to_vec(),
            b"HTTP/1.0 2000 OK\r\n\r\n".to_vec(),
            b"HTTP/1.0 20 OK\r\n\r\n".to_vec(),
            b"HTTP/1.0 -20 OK\r\n\r\n".to_vec(),
            b"HTTP/1.0 200\r\n\r\n".to_vec(),
            b"HTTP/1.0 200 OK\r\nContent-Length: -5\r\n\r\nbody".to_vec(),
            b"HTTP/1.0 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\nbody".to_vec(),
            b"HTTP/1.0 200 OK\r\nContent-Length:".to_vec(),
            (0..=255u8).cycle().take(10000).collect(),
            [b"HTTP/1.0 200 OK\r\nX: ".as_slice(), &[b'a'; 100_000]].concat(),
            [b"HTTP/1.0 200 OK\r\n\r\n".as_slice(), &[0u8; 100_000]].concat(),
        ];
        for answer in answers {
            let (port, _) = http_server(V4, answer.clone());
            let p = probe(
                port,
                &http_get(&format!("url {{ path /\n digest {} }}", md5_hex(b""))),
            );
            let o = run_timed(&p).await;
            let shown = String::from_utf8_lossy(&answer[..answer.len().min(40)]).into_owned();
            assert!(matches!(o, Outcome::Down(_)), "{shown:?}: {o:?}");
        }
        // SMTP lines of any kind.
        for banner in [
            "",
            "\r\n",
            "2",
            "220",
            "220\r\n",
            "\u{0}\u{ff}garbage\n",
            "220-more\r\n",
        ] {
            let (port, _) = smtp_server(banner, "250 ok\r\n");
            let o = run_timed(&probe(port, "SMTP_CHECK {\n connect_timeout 1\n }")).await;
            assert!(matches!(o, Outcome::Down(_)), "{banner:?}: {o:?}");
        }
    });
}

#[test]
fn file_and_bfd_checks_are_not_probes() {
    let conf = format!(
        "track_file f {{\n file /tmp/lvsd-none\n}}\n{}",
        service(V4, 80, "TCP", "", "", "FILE_CHECK {\n track_file f\n }")
    );
    let e = probe_support::try_probe_of(&conf).unwrap_err();
    assert!(e.contains("FILE_CHECK"), "{e}");
}

/// Same settings, same probe: the daemon can run it once.
#[test]
fn equal_probes_compare_equal() {
    let a = probe(80, &http_get("url { path / }"));
    let b = probe(80, &http_get("url { path / }"));
    let c = probe(80, &http_get("url { path /other }"));
    assert_eq!(a, b);
    assert_ne!(a, c);
    let set: std::collections::HashSet<_> = [a, b, c].into_iter().collect();
    assert_eq!(set.len(), 2);
}

fn genhash(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_lvsd"))
        .arg("genhash")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn genhash_prints_the_digest_as_keepalived() {
    in_netns(|| async {
        let body = "genhash body\n";
        let (port, _) = http_server(V4, response("200 OK", body));
        let port = port.to_string();
        let p = port.clone();
        // The child process blocks: let the runtime serve meanwhile.
        let out = tokio::task::spawn_blocking(move || genhash(&["-s", V4, "-p", &p, "-u", "/"]))
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{}\n", md5_hex(body.as_bytes()))
        );
        let keepalived = std::path::Path::new("/usr/sbin/keepalived");
        let (tls, _) = tls_server("over TLS\n");
        let tls = tls.to_string();
        let cases: Vec<Vec<String>> = vec![
            vec!["-S", "-s", V4, "-p", &tls, "-u", "/", "-t", "2"],
            vec!["-s", V4, "-p", &port, "-u", "/index.html"],
            vec![
                "-s",
                V4,
                "-p",
                &port,
                "-u",
                "/x",
                "-V",
                "www.example.com",
                "-P",
                "1.1",
            ],
            vec!["-s", V4, "-p", "1", "-u", "/", "-t", "1"],
            vec!["-s", BLACKHOLE, "-p", "80", "-u", "/", "-t", "1"],
            vec!["-s", V4, "-p", &port, "-u", "/", "extra"],
            vec!["-s", "www", "-p", &port, "-u", "/"],
            vec!["-s", V4, "-p", "70000", "-u", "/"],
            vec!["-s", V4, "-u", "/"],
        ]
        .into_iter()
        .map(|v| v.into_iter().map(str::to_string).collect())
        .collect();
        if !keepalived.exists() {
            eprintln!("keepalived is not installed: lvsd genhash not compared with it");
            return;
        }
        for case in cases {
            let c = case.clone();
            let (ours, theirs) = tokio::task::spawn_blocking(move || {
                let words: Vec<&str> = c.iter().map(String::as_str).collect();
                let ours = genhash(&words);
                let theirs = std::process::Command::new("/usr/sbin/keepalived")
                    .arg("-T")
                    .args(&words)
                    .output()
                    .unwrap();
                (ours, theirs)
            })
            .await
            .unwrap();
            assert_eq!(ours.status.code(), theirs.status.code(), "{case:?}");
            assert_eq!(
                String::from_utf8_lossy(&ours.stdout),
                String::from_utf8_lossy(&theirs.stdout),
                "{case:?}"
            );
            // keepalived names itself in its usage.
            assert_eq!(
                String::from_utf8_lossy(&ours.stderr),
                String::from_utf8_lossy(&theirs.stderr)
                    .replace("/usr/sbin/keepalived --genhash", "lvsd genhash"),
                "{case:?}"
            );
        }
    });
}
