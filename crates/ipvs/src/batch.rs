//! Pipelined batches: many requests over the one socket, each answered separately.
//!
//! Requests go out in chunks, several per `send`. Only the last request of a chunk asks for an
//! ACK: the kernel answers every failing request with an error message anyway, so the
//! chunk's ACK marks the point where every earlier request has been processed, and a request
//! with no error before it succeeded. A chunk never holds more requests than the receive
//! buffer can answer with errors (the window), since answers that do not fit are dropped.

use neli::consts::nl::NlmF;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::request::Request;
use crate::wire::{GenlFrame, Messages, NLMSG_ERROR};

/// The most bytes sent in one datagram; the socket's send buffer (about 208 KiB by default)
/// refuses larger ones.
const MAX_CHUNK_BYTES: usize = 64 * 1024;
/// Offset of `nlmsg_flags` in a netlink header.
const FLAGS_OFFSET: usize = 6;

/// What a batch does after a request fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnError {
    /// Send everything; report each failure.
    #[default]
    Continue,
    /// Send nothing after the chunk that held the first failure. Requests of that chunk were
    /// all processed (and report their own outcome); later ones are [`Error::NotSent`].
    Stop,
}

impl Client {
    /// How many requests a batch keeps in flight at most.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Limits the requests in flight (at least 1, at most what the receive buffer allows).
    pub fn set_window(&mut self, window: usize) {
        self.window = window.clamp(1, self.window);
    }

    /// Sends `reqs` pipelined and returns each one's outcome, in order.
    pub fn batch(&mut self, reqs: &[Request], on_error: OnError) -> Vec<Result<()>> {
        let mut results: Vec<Result<()>> = Vec::with_capacity(reqs.len());
        let mut buf = Vec::with_capacity(MAX_CHUNK_BYTES + 1024);
        let mut next = 0;
        while next < reqs.len() {
            if on_error == OnError::Stop && results.iter().any(Result::is_err) {
                results.extend(
                    reqs[next..]
                        .iter()
                        .map(|r| Err(Error::NotSent { op: r.op() })),
                );
                break;
            }
            let chunk = self.send_chunk(&reqs[next..], &mut buf);
            let sent = chunk.len();
            let lost = chunk
                .iter()
                .any(|r| matches!(r, Err(Error::Unknown { .. })));
            results.extend(chunk);
            next += sent;
            if lost {
                // After an overflow the socket's state is unknown: stop rather than guess.
                results.extend(
                    reqs[next..]
                        .iter()
                        .map(|r| Err(Error::NotSent { op: r.op() })),
                );
                break;
            }
        }
        results
    }

    /// Sends as many of `reqs` as fit in one chunk and collects their outcomes.
    fn send_chunk(&mut self, reqs: &[Request], buf: &mut Vec<u8>) -> Vec<Result<()>> {
        buf.clear();
        let first_seq = self.seq.wrapping_add(1);
        let mut outcomes: Vec<Option<Result<()>>> = Vec::new();
        let mut last_start = None;
        for req in reqs {
            if outcomes.len() >= self.window || buf.len() >= MAX_CHUNK_BYTES {
                break;
            }
            let seq = self.next_seq();
            let (cmd, attrs) = req.encode();
            let frame = GenlFrame {
                cmd,
                version: 1,
                attrs,
            };
            let start = buf.len();
            let family = self.family;
            match self.encode(buf, family, NlmF::REQUEST, seq, frame, req.op()) {
                Ok(()) => {
                    last_start = Some(start);
                    outcomes.push(None);
                }
                Err(e) => outcomes.push(Some(Err(e))),
            }
        }
        let Some(last_start) = last_start else {
            return outcomes.into_iter().flatten().collect();
        };
        // The chunk's last request asks for the ACK that closes the chunk.
        let flags_at = last_start + FLAGS_OFFSET;
        let flags = u16::from_ne_bytes([buf[flags_at], buf[flags_at + 1]]) | NlmF::ACK.bits();
        buf[flags_at..flags_at + 2].copy_from_slice(&flags.to_ne_bytes());
        let last_seq = u32::from_ne_bytes([
            buf[last_start + 8],
            buf[last_start + 9],
            buf[last_start + 10],
            buf[last_start + 11],
        ]);

        let op_of = |i: usize| reqs[i].op();
        if let Err(e) = self.send(buf, op_of(0)) {
            let errno = e.errno();
            return (0..outcomes.len())
                .map(|i| match outcomes[i].take() {
                    Some(r) => r,
                    None => Err(match errno {
                        Some(errno) => Error::Io {
                            op: op_of(i),
                            source: std::io::Error::from_raw_os_error(errno),
                        },
                        None => Error::NotSent { op: op_of(i) },
                    }),
                })
                .collect();
        }

        let index_of = |seq: u32| seq.wrapping_sub(first_seq) as usize;
        'recv: loop {
            let n = match self.recv(op_of(0)) {
                Ok(n) => n,
                Err(_) => {
                    // ENOBUFS (answers were dropped) or a dead socket: the requests not yet
                    // answered may or may not have been applied.
                    return outcomes
                        .into_iter()
                        .enumerate()
                        .map(|(i, o)| o.unwrap_or(Err(Error::Unknown { op: op_of(i) })))
                        .collect();
                }
            };
            for msg in Messages::new(&self.rbuf[..n]) {
                let Ok(msg) = msg else { continue };
                let i = index_of(msg.seq);
                if msg.kind != NLMSG_ERROR || i >= outcomes.len() {
                    continue;
                }
                let code = msg.error_code().unwrap_or(0);
                if code != 0 {
                    outcomes[i] = Some(Err(Error::Kernel {
                        op: op_of(i),
                        errno: code.saturating_neg(),
                    }));
                }
                if msg.seq == last_seq {
                    break 'recv;
                }
            }
        }
        outcomes.into_iter().map(|o| o.unwrap_or(Ok(()))).collect()
    }
}
