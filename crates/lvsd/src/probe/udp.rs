//! `UDP_CHECK`: a datagram to the real server, and what comes back (check_udp.c,
//! core/layer4.c).
//!
//! keepalived sends the `payload`, or 32 bytes of "keepalived check - " repeated when none is
//! given (`udp_bind_connect`, `set_buf`). An ICMP error (port unreachable, ...) fails the
//! check. Without `require_reply` silence until connect_timeout is success; with it a reply
//! must come, and when `require_reply` gives bytes, the reply's length must be within
//! min_reply_length..=max_reply_length and its first bytes (as many as both have) must match
//! them, `X` nibbles aside (`check_udp_reply`).

use super::connect::{io_reason, seconds, Target};
use super::Outcome;
use keepalived::check::checker::{HexPattern, Udp};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UdpProbe {
    target: Target,
    payload: Vec<u8>,
    require_reply: bool,
    /// The expected reply and its wildcard bits.
    reply: Option<(Vec<u8>, Option<Vec<u8>>)>,
    min_len: usize,
    max_len: usize,
}

/// keepalived's payload when none is given.
pub fn filler(len: usize) -> Vec<u8> {
    b"keepalived check - "
        .iter()
        .copied()
        .cycle()
        .take(len)
        .collect()
}

impl UdpProbe {
    pub fn new(udp: &Udp, target: Target) -> UdpProbe {
        UdpProbe {
            target,
            payload: udp.payload.clone().unwrap_or_else(|| filler(32)),
            require_reply: udp.require_reply,
            reply: udp
                .reply
                .as_ref()
                .map(|HexPattern { data, mask }| (data.clone(), mask.clone())),
            min_len: usize::from(udp.min_reply_length.unwrap_or(0)),
            // resolve() gives keepalived's 255 when the block gives none.
            max_len: usize::from(udp.max_reply_length.unwrap_or(255)),
        }
    }

    pub fn timeout(&self) -> std::time::Duration {
        self.target.timeout
    }

    pub async fn run(&self) -> Outcome {
        let socket = match self.target.udp() {
            Ok(s) => s,
            Err(e) => return Outcome::Down(e),
        };
        if let Err(e) = socket.send(&self.payload).await {
            return Outcome::Down(format!("cannot send: {}", io_reason(&e)));
        }
        // One byte more than the longest reply allowed, to tell a longer one.
        let mut buf = vec![0u8; self.max_len + 1];
        match tokio::time::timeout(self.target.timeout, socket.recv(&mut buf)).await {
            Err(_) if self.require_reply => {
                Outcome::Down(format!("no reply within {}", seconds(self.target.timeout)))
            }
            Err(_) => Outcome::Up { weight: None },
            Ok(Err(e)) => Outcome::Down(io_reason(&e)),
            Ok(Ok(n)) => match self.mismatch(&buf[..n]) {
                Some(reason) => Outcome::Down(reason),
                None => Outcome::Up { weight: None },
            },
        }
    }

    /// Why a reply does not do, if it does not.
    fn mismatch(&self, got: &[u8]) -> Option<String> {
        let (data, mask) = self.reply.as_ref()?;
        if got.len() > self.max_len {
            return Some(format!("reply longer than {} bytes", self.max_len));
        }
        if got.len() < self.min_len {
            return Some(format!(
                "reply of {} bytes, shorter than {}",
                got.len(),
                self.min_len
            ));
        }
        let differs = got.iter().zip(data).enumerate().any(|(i, (g, d))| {
            let wild = mask.as_ref().and_then(|m| m.get(i)).copied().unwrap_or(0);
            (g ^ d) & !wild != 0
        });
        differs.then(|| "reply does not match".to_string())
    }
}
