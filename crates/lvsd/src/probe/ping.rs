//! `PING_CHECK`: an ICMP echo request (ICMPv6 for an IPv6 real server) that must be answered
//! within connect_timeout (check_ping.c).
//!
//! keepalived sends an 8-byte header and 56 bytes of "keepalived check - " repeated, on a
//! datagram ICMP socket, where the kernel picks the ID and only lets the replies to it in.
//! When the host's net.ipv4.ping_group_range does not allow that socket, lvsd uses a raw one
//! (root) and keeps only echo replies with its own ID and sequence; keepalived gives up then.

use super::connect::{io_reason, seconds, Target};
use super::Outcome;
use socket2::{Protocol, Type};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use tokio::net::UdpSocket;

const PAYLOAD: usize = 56;

/// Sequence numbers, one per request, as keepalived counts them.
static SEQUENCE: AtomicU16 = AtomicU16::new(0);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PingProbe {
    target: Target,
}

impl PingProbe {
    pub fn new(target: Target) -> PingProbe {
        PingProbe { target }
    }

    pub fn timeout(&self) -> std::time::Duration {
        self.target.timeout
    }

    pub async fn run(&self) -> Outcome {
        let dst = SocketAddr::new(self.target.dst.ip(), 0);
        let v4 = dst.is_ipv4();
        let protocol = if v4 {
            Protocol::ICMPV4
        } else {
            Protocol::ICMPV6
        };
        let (socket, raw) = match self.target.socket(Type::DGRAM, protocol) {
            Ok(s) => (s, false),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM)) => {
                match self.target.socket(Type::RAW, protocol) {
                    Ok(s) => (s, true),
                    Err(e) => return Outcome::Down(format!("cannot open an ICMP socket: {e}")),
                }
            }
            Err(e) => return Outcome::Down(format!("cannot open an ICMP socket: {e}")),
        };
        // tokio's UDP socket only sends and receives datagrams: an ICMP socket's too.
        let socket = match UdpSocket::from_std(socket.into()) {
            Ok(s) => s,
            Err(e) => return Outcome::Down(format!("cannot open an ICMP socket: {e}")),
        };
        let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        // A raw socket's requests carry the ID themselves; the kernel sets it on a datagram one.
        let id = std::process::id() as u16;
        let request = echo_request(v4, id, seq);
        let exchange = async {
            socket
                .send_to(&request, dst)
                .await
                .map_err(|e| format!("cannot send the echo request: {}", io_reason(&e)))?;
            let mut buf = [0u8; 1500];
            loop {
                let n = socket.recv(&mut buf).await.map_err(|e| io_reason(&e))?;
                if is_reply(&buf[..n], v4, raw, id, seq) {
                    return Ok(());
                }
            }
        };
        match tokio::time::timeout(self.target.timeout, exchange).await {
            Ok(Ok(())) => Outcome::Up { weight: None },
            Ok(Err(reason)) => Outcome::Down(reason),
            Err(_) => Outcome::Down(format!(
                "no echo reply within {}",
                seconds(self.target.timeout)
            )),
        }
    }
}

fn echo_request(v4: bool, id: u16, seq: u16) -> Vec<u8> {
    let mut p = vec![if v4 { 8 } else { 128 }, 0, 0, 0];
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend(super::udp::filler(PAYLOAD));
    if v4 {
        // The kernel sums ICMPv6 and datagram ICMP itself, but not raw ICMP.
        let sum = checksum(&p);
        p[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    p
}

/// Whether a packet is the echo reply wanted. A raw IPv4 socket gives the IP header too.
fn is_reply(packet: &[u8], v4: bool, raw: bool, id: u16, seq: u16) -> bool {
    let icmp = if v4 && raw {
        let Some(first) = packet.first() else {
            return false;
        };
        match packet.get(usize::from(first & 0x0f) * 4..) {
            Some(rest) => rest,
            None => return false,
        }
    } else {
        packet
    };
    if icmp.len() < 8 || icmp[0] != if v4 { 0 } else { 129 } {
        return false;
    }
    !raw || (icmp[4..6] == id.to_be_bytes() && icmp[6..8] == seq.to_be_bytes())
}

/// The Internet checksum.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
