//! Where a probe connects from and to (keepalived's `conn_opts_t`), the sockets it opens, and
//! the one deadline a whole check runs under.

use keepalived::check::checker::Connection;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream, UdpSocket};

/// The resolved connection settings of one checker.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    pub dst: SocketAddr,
    /// `bindto` with `bind_port`; keepalived ignores a `bind_port` without `bindto`.
    pub bind: Option<SocketAddr>,
    pub bind_if: Option<String>,
    pub fwmark: Option<u32>,
    pub timeout: Duration,
}

impl Target {
    pub fn new(conn: &Connection) -> Result<Target, String> {
        let ip = conn.connect_ip.ok_or(
            "the checker has no address to connect to (keepalived could not read its connect_ip)",
        )?;
        let mut dst = SocketAddr::new(ip, conn.connect_port.unwrap_or(conn.port_at_start));
        if let (SocketAddr::V6(d), Some(name)) = (&mut dst, &conn.bind_if) {
            // A link-local destination is only reachable through the interface named.
            if d.ip().segments()[0] & 0xffc0 == 0xfe80 {
                let index = nix::net::if_::if_nametoindex(name.as_str())
                    .map_err(|e| format!("bind_if {name}: {e}"))?;
                d.set_scope_id(index);
            }
        }
        let bind = conn
            .bindto
            .map(|a| SocketAddr::new(a, conn.bind_port.unwrap_or(0)));
        if let Some(b) = bind {
            if b.is_ipv4() != dst.is_ipv4() {
                return Err(format!(
                    "bindto {} is not of the family of {}",
                    b.ip(),
                    dst.ip()
                ));
            }
        }
        Ok(Target {
            dst,
            bind,
            bind_if: conn.bind_if.clone(),
            fwmark: conn.fwmark.filter(|m| *m != 0),
            timeout: Duration::from_micros(conn.connect_timeout.unwrap_or(0)),
        })
    }

    /// A socket of the destination's family with the source settings applied.
    pub fn socket(&self, ty: Type, protocol: Protocol) -> io::Result<Socket> {
        let socket = Socket::new(Domain::for_address(self.dst), ty, Some(protocol))?;
        self.prepare(&socket)?;
        Ok(socket)
    }

    /// Applies fwmark, bind_if and bindto, in keepalived's order.
    pub fn prepare(&self, socket: &Socket) -> io::Result<()> {
        socket.set_nonblocking(true)?;
        if let Some(mark) = self.fwmark {
            socket.set_mark(mark)?;
        }
        if let Some(name) = &self.bind_if {
            socket.bind_device(Some(name.as_bytes()))?;
        }
        if let Some(bind) = self.bind {
            socket.bind(&SockAddr::from(bind))?;
        }
        Ok(())
    }

    /// A TCP connection to the destination; the caller bounds the wait.
    pub async fn tcp(&self) -> Result<TcpStream, String> {
        let socket = self
            .socket(Type::STREAM, Protocol::TCP)
            .map_err(|e| format!("cannot set up the socket: {e}"))?;
        let socket = TcpSocket::from_std_stream(std::net::TcpStream::from(socket));
        socket.connect(self.dst).await.map_err(|e| io_reason(&e))
    }

    /// A UDP socket connected to the destination, reporting ICMP errors (as keepalived's
    /// `udp_bind_connect` asks for with IP_RECVERR).
    pub fn udp(&self) -> Result<UdpSocket, String> {
        let setup = || -> io::Result<UdpSocket> {
            let socket = self.socket(Type::DGRAM, Protocol::UDP)?;
            set_recverr(&socket, self.dst.ip())?;
            socket.connect(&SockAddr::from(self.dst))?;
            UdpSocket::from_std(socket.into())
        };
        setup().map_err(|e| format!("cannot set up the socket: {e}"))
    }
}

/// IP_RECVERR / IPV6_RECVERR, so that an ICMP error fails the next receive.
fn set_recverr(socket: &Socket, dst: IpAddr) -> io::Result<()> {
    use nix::sys::socket::{setsockopt, sockopt};
    match dst {
        IpAddr::V4(_) => setsockopt(socket, sockopt::Ipv4RecvErr, &true),
        IpAddr::V6(_) => setsockopt(socket, sockopt::Ipv6RecvErr, &true),
    }
    .map_err(io::Error::from)
}

/// A short reason for a socket error: "connection refused", "no route to host", ...
pub fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset".into(),
        io::ErrorKind::UnexpectedEof => "connection closed".into(),
        _ => match e.raw_os_error() {
            // The OS's words, without Rust's " (os error N)".
            Some(code) => nix::errno::Errno::from_raw(code).desc().to_lowercase(),
            None => e.to_string(),
        },
    }
}

/// What a check is doing, named in the reason when its deadline passes. (A mutex, not a
/// cell, so that a check's future can move between threads.)
pub struct Stage<T: Copy = &'static str>(std::sync::Mutex<T>);

impl<T: Copy> Stage<T> {
    pub fn new(first: T) -> Stage<T> {
        Stage(std::sync::Mutex::new(first))
    }

    pub fn set(&self, now: T) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }

    pub fn get(&self) -> T {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs `work` until it ends or `limit` passes; then the reason names the stage it was at,
/// e.g. "connect timeout after 3 s". Dropping `work` closes its sockets.
pub async fn bounded<T>(
    limit: Duration,
    stage: &Stage,
    work: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, work).await {
        Ok(r) => r,
        Err(_) => Err(format!("{} timeout after {}", stage.get(), seconds(limit))),
    }
}

/// A duration as keepalived's configuration gives it: "3 s", "0.5 s".
pub fn seconds(d: Duration) -> String {
    let micros = d.as_micros();
    if micros.is_multiple_of(1_000_000) {
        format!("{} s", micros / 1_000_000)
    } else {
        let text = format!("{:.6}", d.as_secs_f64());
        format!("{} s", text.trim_end_matches('0'))
    }
}
