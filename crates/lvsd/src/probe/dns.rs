//! `DNS_CHECK`: one query over UDP, which must be answered without error (check_dns.c).
//!
//! The query asks for recursion, with a random ID, one question of the `type` and `name`
//! (`dns_make_query`). A datagram shorter than 8 bytes, with another ID or that is not a
//! response is ignored and the wait goes on; a response whose RCODE is not 0 fails the check,
//! and any other response passes it (`dns_recv_thread`).

use super::connect::{io_reason, seconds, Target};
use super::Outcome;
use keepalived::check::checker::{Dns, DnsType};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DnsProbe {
    target: Target,
    qtype: u16,
    /// The question's name, encoded.
    qname: Vec<u8>,
}

/// keepalived's receive buffer.
const BUFFER: usize = 768;

impl DnsProbe {
    pub fn new(dns: &Dns, target: Target) -> Result<DnsProbe, String> {
        let name = dns.name.as_deref().unwrap_or("");
        Ok(DnsProbe {
            target,
            qtype: type_code(dns.dns_type.unwrap_or(DnsType::Soa)),
            qname: encode_name(name)?,
        })
    }

    pub fn timeout(&self) -> std::time::Duration {
        self.target.timeout
    }

    pub async fn run(&self) -> Outcome {
        let socket = match self.target.udp() {
            Ok(s) => s,
            Err(e) => return Outcome::Down(e),
        };
        let id = random_id();
        let query = self.query(id);
        let wait = async {
            socket
                .send(&query)
                .await
                .map_err(|e| format!("cannot send the query: {}", io_reason(&e)))?;
            let mut buf = [0u8; BUFFER];
            loop {
                let n = socket.recv(&mut buf).await.map_err(|e| io_reason(&e))?;
                // keepalived compares with the size of a pointer, not of the header.
                if n < 8 || buf[..2] != id.to_be_bytes() || buf[2] & 0x80 == 0 {
                    continue;
                }
                return match buf[3] & 0x0f {
                    0 => Ok(()),
                    rcode => Err(format!("DNS answer with RCODE {rcode}")),
                };
            }
        };
        match tokio::time::timeout(self.target.timeout, wait).await {
            Ok(Ok(())) => Outcome::Up { weight: None },
            Ok(Err(reason)) => Outcome::Down(reason),
            Err(_) => Outcome::Down(format!(
                "no DNS answer within {}",
                seconds(self.target.timeout)
            )),
        }
    }

    fn query(&self, id: u16) -> Vec<u8> {
        let mut q = Vec::with_capacity(12 + self.qname.len() + 4);
        q.extend_from_slice(&id.to_be_bytes());
        // Only RD, recursion desired.
        q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        q.extend_from_slice(&self.qname);
        q.extend_from_slice(&self.qtype.to_be_bytes());
        q.extend_from_slice(&1u16.to_be_bytes());
        q
    }
}

fn type_code(t: DnsType) -> u16 {
    match t {
        DnsType::A => 1,
        DnsType::Ns => 2,
        DnsType::Cname => 5,
        DnsType::Soa => 6,
        DnsType::Mx => 15,
        DnsType::Txt => 16,
        DnsType::Aaaa => 28,
        DnsType::Rrsig => 46,
        DnsType::Dnskey => 48,
    }
}

/// The name in labels, as keepalived writes it: "" and "." are the root, a trailing dot is
/// allowed. keepalived writes a label's length in one byte unchecked; lvsd refuses a label
/// longer than DNS allows instead.
fn encode_name(name: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if !trimmed.is_empty() {
        for label in trimmed.split('.') {
            if label.len() > 63 {
                return Err(format!(
                    "DNS_CHECK name {name}: a label longer than 63 bytes"
                ));
            }
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
    }
    out.push(0);
    if out.len() > 255 {
        return Err(format!("DNS_CHECK name {name}: longer than 255 bytes"));
    }
    Ok(out)
}

/// A query ID no one on the path can guess: std's hasher keys are random per process, and
/// each new hasher's differ.
fn random_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish() as u16
}

#[cfg(test)]
mod tests {
    use super::encode_name;

    #[test]
    fn names() {
        assert_eq!(encode_name("").unwrap(), [0]);
        assert_eq!(encode_name(".").unwrap(), [0]);
        assert_eq!(encode_name("ex.com").unwrap(), b"\x02ex\x03com\x00");
        assert_eq!(encode_name("ex.com.").unwrap(), b"\x02ex\x03com\x00");
        assert!(encode_name(&"a".repeat(64)).is_err());
    }
}
