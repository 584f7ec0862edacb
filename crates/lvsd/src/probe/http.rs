//! `HTTP_GET` and `SSL_GET`: a GET of each `url`, in order, on a connection of its own; every
//! one must answer with a listed status code and, with `digest`, a body of that MD5.
//!
//! What keepalived 2.2.7 does (check_http.c, lib/html.c), and lvsd with it:
//! - the request is `GET <path> HTTP/1.0` (`HTTP/1.1` with `http_protocol 1.1`), then
//!   `User-Agent: KeepAliveClient`, `Connection: close` for `1.1` and `1.0C`, and `Host:` the
//!   url's, checker's, real server's or virtual server's `virtualhost`, else the address
//!   (IPv6 in brackets) and `:port` (`http_request_thread`);
//! - the response is read until the server closes; the headers must end (`\r\n\r\n`) within
//!   the first 4095 bytes (keepalived's buffer), the status is the three digits after the
//!   first space (`extract_status_code`), and the MD5 covers the body, up to
//!   `Content-Length:` bytes when the headers give one (`http_process_response`);
//! - over TLS, any end of the stream after the headers, clean or not, ends the response
//!   (`ssl_read_thread`); over TCP a read error fails the check (`http_read_thread`).
//!
//! Differences: keepalived times each step (connect, write, each read) with connect_timeout;
//! lvsd bounds the whole check, every url included, by it, so a server sending a byte a
//! second fails. `Content-Length:` is looked for in the headers only (keepalived searches the
//! first read, body included). keepalived's `regex` is not supported: [`HttpProbe::new`]
//! refuses it.

use super::connect::{io_reason, seconds, Stage, Target};
use super::tls::Tls;
use super::Outcome;
use keepalived::check::checker::{Http, HttpProtocol};
use keepalived::check::{RealServer, VirtualServer};
use md5::{Digest, Md5};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// keepalived's response buffer, less the byte kept for a terminating NUL: the headers must
/// end within it.
const HEADERS_MAX: usize = 4095;

/// One `HTTP_GET` or `SSL_GET` checker.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HttpProbe {
    target: Target,
    tls: Option<Tls>,
    urls: Vec<UrlCheck>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct UrlCheck {
    path: String,
    request: String,
    /// The name sent as SNI.
    sni: Option<String>,
    digest: Option<[u8; 16]>,
    status: Vec<(u16, u16)>,
}

impl HttpProbe {
    pub fn new(
        vs: &VirtualServer,
        rs: &RealServer,
        http: &Http,
        target: Target,
        ssl: Option<&keepalived::check::Ssl>,
    ) -> Result<HttpProbe, String> {
        let protocol = http.http_protocol.unwrap_or(HttpProtocol::V1_0);
        let mut urls = Vec::new();
        for u in &http.urls {
            let path = u.path.clone().ok_or("a url block without a path")?;
            if u.regex.is_some() {
                return Err(format!(
                    "url {path}: regex is not supported by lvsd (only status_code and digest)"
                ));
            }
            let vhost = u
                .virtualhost
                .as_ref()
                .or(http.virtualhost.as_ref())
                .or(rs.virtualhost.as_ref())
                .or(vs.virtualhost.as_ref());
            // keepalived's SNI skips the real server's virtualhost (check_ssl.c, ssl_connect).
            let sni = u
                .virtualhost
                .as_ref()
                .or(http.virtualhost.as_ref())
                .or(vs.virtualhost.as_ref())
                .filter(|_| http.enable_sni == Some(true))
                .cloned();
            urls.push(UrlCheck {
                request: request(&path, vhost.map(String::as_str), target.dst, protocol),
                path,
                sni,
                digest: u.digest,
                status: u.status_codes.iter().map(|r| (r.first, r.last)).collect(),
            });
        }
        let tls = if http.ssl { Some(Tls::new(ssl)?) } else { None };
        Ok(HttpProbe { target, tls, urls })
    }

    pub fn timeout(&self) -> Duration {
        self.target.timeout
    }

    pub async fn run(&self) -> Outcome {
        let step = Stage::new(Step::Connect);
        let path = Stage::new(0);
        let all = async {
            for (i, url) in self.urls.iter().enumerate() {
                path.set(i);
                let fetched = exchange(
                    &self.target,
                    self.tls.as_ref(),
                    url.sni.as_deref(),
                    url.request.as_bytes(),
                    None,
                    &step,
                    &mut |_| {},
                )
                .await;
                url.judge(fetched, self.target.timeout)?;
            }
            Ok(())
        };
        match tokio::time::timeout(self.target.timeout, all).await {
            Ok(Ok(())) => Outcome::Up { weight: None },
            Ok(Err(reason)) => Outcome::Down(reason),
            Err(_) => {
                let on = self.urls.get(path.get()).map_or("", |u| u.path.as_str());
                Outcome::Down(step.get().timeout(self.target.timeout, on))
            }
        }
    }
}

impl UrlCheck {
    fn judge(&self, fetched: Result<Response, Failure>, limit: Duration) -> Result<(), String> {
        let path = &self.path;
        let r = match fetched {
            Ok(r) => r,
            Err(Failure::Timeout(step)) => return Err(step.timeout(limit, path)),
            Err(Failure::Connect(e) | Failure::Tls(e)) => return Err(e),
            Err(Failure::Send(e)) => return Err(format!("cannot send the GET of {path}: {e}")),
            Err(Failure::Read(e)) => return Err(format!("{e} while reading {path}")),
            Err(Failure::Empty { full: true }) => {
                return Err(format!(
                    "the headers from {path} do not end within {HEADERS_MAX} bytes"
                ))
            }
            Err(Failure::Empty { full: false } | Failure::TlsClosedEmpty) => {
                return Err(format!("no HTTP response from {path}"))
            }
        };
        if r.status == 0 {
            return Err(format!("malformed status line from {path}"));
        }
        if !self
            .status
            .iter()
            .any(|&(a, b)| (a..=b).contains(&r.status))
        {
            return Err(format!("HTTP {} from {path}", r.status));
        }
        if self.digest.is_some_and(|d| d != r.digest) {
            return Err(format!("digest mismatch on {path}"));
        }
        Ok(())
    }
}

/// keepalived's GET request.
pub fn request(path: &str, vhost: Option<&str>, dst: SocketAddr, protocol: HttpProtocol) -> String {
    let host = match (vhost, dst) {
        // A virtualhost is sent as given, without the port.
        (Some(v), _) => v.to_string(),
        (None, SocketAddr::V4(a)) => format!("{}:{}", a.ip(), a.port()),
        (None, SocketAddr::V6(a)) => format!("[{}]:{}", a.ip(), a.port()),
    };
    let minor = if protocol == HttpProtocol::V1_1 { 1 } else { 0 };
    let close = match protocol {
        HttpProtocol::V1_0 => "",
        HttpProtocol::V1_1 | HttpProtocol::V1_0C => "Connection: close\r\n",
    };
    format!(
        "GET {path} HTTP/1.{minor}\r\nUser-Agent: KeepAliveClient\r\n{close}Host: {host}\r\n\r\n"
    )
}

/// Where an exchange is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Connect,
    Handshake,
    Send,
    /// Waiting for the first bytes of the response.
    FirstRead,
    Read,
}

impl Step {
    fn timeout(self, limit: Duration, path: &str) -> String {
        let after = seconds(limit);
        match self {
            Step::Connect => format!("connect timeout after {after}"),
            Step::Handshake => format!("TLS handshake timeout after {after}"),
            Step::Send => format!("timeout after {after} sending the GET of {path}"),
            Step::FirstRead => format!("no reply to the GET of {path} within {after}"),
            Step::Read => format!("timeout after {after} reading the response from {path}"),
        }
    }
}

/// Why an exchange gave no response.
#[derive(Debug)]
pub enum Failure {
    /// A step took longer than the exchange's per-step limit.
    Timeout(Step),
    Connect(String),
    Tls(String),
    Send(String),
    Read(String),
    /// The stream ended before the headers did; `full`: they filled keepalived's buffer.
    Empty {
        full: bool,
    },
    /// A TLS stream closed cleanly before the headers ended.
    TlsClosedEmpty,
}

/// What an exchange read.
#[derive(Debug)]
pub struct Response {
    /// 0 when the status line has no status keepalived can read.
    pub status: u16,
    pub digest: [u8; 16],
}

/// What an exchange shows as it goes, for `genhash -v`.
pub enum Event<'a> {
    /// A read while the headers have not ended.
    HeaderRead,
    Headers(&'a [u8]),
    /// The first read after the headers has body bytes.
    BodyStart,
    /// Body bytes counted in the digest.
    Body(&'a [u8]),
    /// The stream ended cleanly; the digest.
    Digest(&'a [u8; 16]),
}

/// Connects, sends `request` and reads the response to its end. `per_step` bounds each step
/// as keepalived does (genhash); without it the caller bounds the whole. `step` tells where
/// the exchange is.
pub async fn exchange(
    target: &Target,
    tls: Option<&Tls>,
    sni: Option<&str>,
    request: &[u8],
    per_step: Option<Duration>,
    step: &Stage<Step>,
    trace: &mut (dyn FnMut(Event<'_>) + Send),
) -> Result<Response, Failure> {
    async fn bounded<T>(
        per_step: Option<Duration>,
        step: Step,
        f: impl std::future::Future<Output = Result<T, Failure>>,
    ) -> Result<T, Failure> {
        match per_step {
            Some(d) => tokio::time::timeout(d, f)
                .await
                .unwrap_or(Err(Failure::Timeout(step))),
            None => f.await,
        }
    }
    step.set(Step::Connect);
    let tcp = bounded(per_step, Step::Connect, async {
        target.tcp().await.map_err(Failure::Connect)
    })
    .await?;
    match tls {
        None => converse(tcp, false, request, per_step, step, trace).await,
        Some(tls) => {
            step.set(Step::Handshake);
            let stream = bounded(per_step, Step::Handshake, async {
                tls.handshake(tcp, sni, target.dst.ip())
                    .await
                    .map_err(Failure::Tls)
            })
            .await?;
            converse(stream, true, request, per_step, step, trace).await
        }
    }
}

/// Sends the request and reads the response, as keepalived reads it.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    tls: bool,
    request: &[u8],
    per_step: Option<Duration>,
    step: &Stage<Step>,
    trace: &mut (dyn FnMut(Event<'_>) + Send),
) -> Result<Response, Failure> {
    step.set(Step::Send);
    let send = async {
        stream.write_all(request).await?;
        stream.flush().await
    };
    match per_step {
        Some(d) => match tokio::time::timeout(d, send).await {
            Ok(r) => r,
            Err(_) => return Err(Failure::Timeout(Step::Send)),
        },
        None => send.await,
    }
    .map_err(|e| Failure::Send(io_reason(&e)))?;

    step.set(Step::FirstRead);
    let mut body = Body::default();
    let mut head = vec![0u8; HEADERS_MAX];
    let mut len = 0;
    let mut chunk = vec![0u8; HEADERS_MAX + 1];
    let mut headers_end = None;
    loop {
        let buf = match headers_end {
            // keepalived reads nothing more into a full buffer, which it takes for the end.
            None if len == HEADERS_MAX => return Err(Failure::Empty { full: true }),
            None => &mut head[len..],
            Some(_) => &mut chunk[..],
        };
        let read = match per_step {
            Some(d) => match tokio::time::timeout(d, stream.read(buf)).await {
                Ok(r) => r,
                Err(_) => return Err(Failure::Timeout(step.get())),
            },
            None => stream.read(buf).await,
        };
        let n = match read {
            Ok(0) => {
                if headers_end.is_none() {
                    return Err(if tls {
                        Failure::TlsClosedEmpty
                    } else {
                        Failure::Empty { full: false }
                    });
                }
                let digest = body.finish();
                trace(Event::Digest(&digest));
                return Ok(Response {
                    status: body.status,
                    digest,
                });
            }
            // Over TLS keepalived takes any error for the end of the stream.
            Err(_) if tls && headers_end.is_some() => {
                return Ok(Response {
                    status: body.status,
                    digest: body.finish(),
                })
            }
            Err(_) if tls => return Err(Failure::Empty { full: false }),
            Err(e) => return Err(Failure::Read(io_reason(&e))),
            Ok(n) => n,
        };
        step.set(Step::Read);
        match headers_end {
            None => {
                trace(Event::HeaderRead);
                len += n;
                if let Some(end) = find_headers_end(&head[..len]) {
                    headers_end = Some(end);
                    body.status = status_code(&head[..len]);
                    body.length = content_length(&head[..end]);
                    trace(Event::Headers(&head[..end]));
                    let rest = &head[end..len];
                    if !rest.is_empty() && body.length != Some(0) {
                        trace(Event::BodyStart);
                    }
                    body.add(rest, trace);
                }
            }
            Some(_) => body.add(&chunk[..n], trace),
        }
    }
}

/// The body as it is read: its MD5, up to the length the headers give.
#[derive(Default)]
struct Body {
    status: u16,
    length: Option<u64>,
    received: u64,
    md5: Md5,
}

impl Body {
    fn add(&mut self, bytes: &[u8], trace: &mut (dyn FnMut(Event<'_>) + Send)) {
        let counted = match self.length {
            Some(l) => {
                let left = l.saturating_sub(self.received);
                &bytes[..bytes.len().min(usize::try_from(left).unwrap_or(usize::MAX))]
            }
            None => bytes,
        };
        if !counted.is_empty() {
            self.md5.update(counted);
            trace(Event::Body(counted));
        }
        self.received += bytes.len() as u64;
    }

    fn finish(&mut self) -> [u8; 16] {
        std::mem::take(&mut self.md5).finalize().into()
    }
}

/// Where the body begins: after the first blank line.
fn find_headers_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// keepalived's `extract_status_code`: the three digits between the first space (before any
/// `\r`) and the next space; 0 when there are none.
fn status_code(buf: &[u8]) -> u16 {
    let Some(sp) = buf.iter().position(|&b| b == b' ' || b == b'\r') else {
        return 0;
    };
    if buf[sp] != b' ' {
        return 0;
    }
    match buf.get(sp + 1..sp + 5) {
        Some([a, b, c, b' ']) if [a, b, c].iter().all(|d| d.is_ascii_digit()) => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => 0,
    }
}

/// keepalived's `extract_content_length`: the number after the first `Content-Length:`
/// (case as written), when a line end follows it.
fn content_length(headers: &[u8]) -> Option<u64> {
    const TAG: &[u8] = b"Content-Length:";
    let at = headers.windows(TAG.len()).position(|w| w == TAG)? + TAG.len();
    let rest = &headers[at..];
    // strtoul skips white space, line ends included.
    let start = rest
        .iter()
        .position(|b| !b" \t\n\x0b\x0c\r".contains(b))
        .unwrap_or(rest.len());
    let digits = rest[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    // Without digits strtoul ends where it began, just after the colon.
    let end = if digits == 0 { 0 } else { start + digits };
    match rest.get(end) {
        None | Some(b'\r' | b'\n') => {}
        Some(_) => return None,
    }
    if digits == 0 {
        return Some(0);
    }
    std::str::from_utf8(&rest[start..end]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(status_code(b"HTTP/1.0 200 OK\r\n"), 200);
        assert_eq!(status_code(b"HTTP/1.1 404 \r\n"), 404);
        assert_eq!(status_code(b"HTTP/1.1 2000 OK\r\n"), 0);
        assert_eq!(status_code(b"HTTP/1.1 200\r\n"), 0);
        assert_eq!(status_code(b"HTTP/1.1\r\n 200 OK"), 0);
        assert_eq!(status_code(b"\xff\xfe 2x0 "), 0);
        assert_eq!(status_code(b""), 0);
    }

    #[test]
    fn content_lengths() {
        assert_eq!(
            content_length(b"A: b\r\nContent-Length: 12\r\n\r\n"),
            Some(12)
        );
        assert_eq!(content_length(b"Content-Length: 12x\r\n"), None);
        assert_eq!(content_length(b"content-length: 12\r\n"), None);
        assert_eq!(content_length(b"Content-Length:\r\nDate: x\r\n"), Some(0));
        assert_eq!(
            content_length(b"Content-Length: 99999999999999999999999\r\n"),
            None
        );
    }

    #[test]
    fn requests() {
        let a: SocketAddr = "192.0.2.1:80".parse().unwrap();
        assert_eq!(
            request("/x", None, a, HttpProtocol::V1_0),
            "GET /x HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 192.0.2.1:80\r\n\r\n"
        );
        let b: SocketAddr = "[2001:db8::1]:8080".parse().unwrap();
        assert_eq!(
            request("/", Some("www.example.com"), b, HttpProtocol::V1_1),
            "GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example.com\r\n\r\n"
        );
        assert_eq!(
            request("/", None, b, HttpProtocol::V1_0C),
            "GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: [2001:db8::1]:8080\r\n\r\n"
        );
    }
}
