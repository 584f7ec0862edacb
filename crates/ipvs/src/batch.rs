//! Pipelined batches: many requests over the one socket, each answered separately.
//!
//! Requests go out in chunks, several per `send`. Only the last request of a chunk asks for an
//! ACK: the kernel answers every failing request with an error message anyway, so the
//! chunk's ACK marks the point where every earlier request has been processed, and a request
//! with no error before it succeeded. A chunk never holds more requests than the receive
//! buffer can answer with errors (the window), since answers that do not fit are dropped.

use std::borrow::Borrow;
use std::sync::atomic::{AtomicBool, Ordering};

use neli::consts::nl::NlmF;

use crate::client::{Client, IPVS_GENL_VERSION};
use crate::error::{Error, Op, Result};
use crate::request::Request;
use crate::wire::{frame_request, Messages, RequestHeader, NLMSG_ERROR};

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

    /// Sends `reqs` pipelined and returns each one's outcome, in order. While this thread
    /// sends a chunk and reads its answers (the kernel does its work during the send), a
    /// second thread frames the next chunk.
    pub fn batch(&mut self, reqs: &[Request], on_error: OnError) -> Vec<Result<()>> {
        self.batch_until(reqs, on_error, &AtomicBool::new(false))
    }

    /// [`batch`](Client::batch) that also stops sending, between two chunks, once `stop` is
    /// set (by a signal handler, say): the requests not sent are [`Error::NotSent`].
    ///
    /// The requests may be made as they are framed, on the framing thread: a caller with a
    /// great many of them need not hold them all in memory at once.
    pub fn batch_until<I>(
        &mut self,
        reqs: I,
        on_error: OnError,
        stop: &AtomicBool,
    ) -> Vec<Result<()>>
    where
        I: IntoIterator,
        I::Item: Borrow<Request> + Send,
        I::IntoIter: Send,
    {
        let reqs = reqs.into_iter();
        let mut results: Vec<Result<()>> = Vec::with_capacity(reqs.size_hint().0);
        let mut framer = Framer {
            reqs: reqs.peekable(),
            family: self.family,
            next_seq: self.seq.wrapping_add(1),
            window: self.live_window(),
        };
        let first = framer.frame(Vec::new());
        let mut not_sent: Vec<Op> = Vec::new();
        let halt = &AtomicBool::new(false);
        let mut framer = std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(2);
            // Sent chunks' buffers go back to the framer: fresh memory for every chunk costs a
            // page fault per 4 KiB, which is slow under emulation.
            let (recycle, recycled) = std::sync::mpsc::channel::<Vec<u8>>();
            // The framer, or the thread that has it. A thread costs milliseconds to start under
            // emulation: none for a single chunk.
            let framing = match framer.reqs.peek() {
                Some(_) => Err(scope.spawn(move || {
                    while !halt.load(Ordering::SeqCst) {
                        let Some(chunk) = framer.frame(recycled.try_recv().unwrap_or_default())
                        else {
                            break;
                        };
                        // The receiver is gone once the batch is over.
                        if tx.send(chunk).is_err() {
                            break;
                        }
                    }
                    framer
                })),
                None => {
                    drop(tx);
                    Ok(framer)
                }
            };
            let mut chunks = first.into_iter().chain(&rx);
            for chunk in chunks.by_ref() {
                if stop.load(Ordering::SeqCst) {
                    not_sent.extend(chunk.ops);
                    break;
                }
                let outcomes = self.exchange(&chunk);
                let failed = outcomes.iter().any(Result::is_err);
                let lost = outcomes
                    .iter()
                    .any(|r| matches!(r, Err(Error::Unknown { .. })));
                results.extend(outcomes);
                // The framer may have finished already.
                let _ = recycle.send(chunk.buf);
                // After an overflow the socket's state is unknown: stop rather than guess.
                if lost || (failed && on_error == OnError::Stop) {
                    break;
                }
            }
            // Whatever was framed but not sent is reported as such.
            halt.store(true, Ordering::SeqCst);
            not_sent.extend(chunks.flat_map(|chunk| chunk.ops));
            match framing {
                Ok(framer) => framer,
                Err(thread) => thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            }
        });
        self.seq = framer.next_seq.wrapping_sub(1);
        let never_framed = framer.reqs.by_ref().map(|r| r.borrow().op());
        let not_sent = not_sent.into_iter().chain(never_framed);
        results.extend(not_sent.map(|op| Err(Error::NotSent { op })));
        results
    }

    /// Sends one framed chunk and collects the outcome of each of its requests.
    fn exchange(&mut self, chunk: &Chunk) -> Vec<Result<()>> {
        let ops = &chunk.ops;
        let op_of = |i: usize| ops[i];
        if let Err(e) = self.send(&chunk.buf, op_of(0)) {
            let errno = e.errno();
            return (0..ops.len())
                .map(|i| {
                    Err(match errno {
                        Some(errno) => Error::Io {
                            op: op_of(i),
                            source: std::io::Error::from_raw_os_error(errno),
                        },
                        None => Error::NotSent { op: op_of(i) },
                    })
                })
                .collect();
        }
        let mut outcomes: Vec<Option<Result<()>>> = ops.iter().map(|_| None).collect();
        let index_of = |seq: u32| seq.wrapping_sub(chunk.first_seq) as usize;
        // Set once answers were dropped (ENOBUFS) or the socket failed: from then on a request
        // without an answer may or may not have been applied. None is sent again, so none is
        // applied twice.
        let mut answers_lost = false;
        'recv: loop {
            let received = match answers_lost {
                false => self.recv(op_of(0)),
                true => self.recv_nowait(op_of(0)),
            };
            let n = match received {
                Ok(n) => n,
                Err(e) if e.errno() == Some(libc::ENOBUFS) => {
                    // The kernel handled every request of the chunk during the send, so
                    // whatever answers survived are already queued: read them without
                    // waiting for those that will never come.
                    answers_lost = true;
                    continue;
                }
                // Drained after an overflow (EAGAIN), or a dead socket.
                Err(_) => {
                    answers_lost = true;
                    break;
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
                if msg.seq == chunk.last_seq {
                    break 'recv;
                }
            }
        }
        // Otherwise no answer means success.
        outcomes
            .into_iter()
            .enumerate()
            .map(|(i, o)| match (o, answers_lost) {
                (Some(outcome), _) => outcome,
                (None, false) => Ok(()),
                (None, true) => Err(Error::Unknown { op: op_of(i) }),
            })
            .collect()
    }
}

/// Requests framed for one send.
struct Chunk {
    buf: Vec<u8>,
    /// What each request does, for its outcome.
    ops: Vec<Op>,
    first_seq: u32,
    /// The sequence number of the chunk's last request, the one that asks for an ACK.
    last_seq: u32,
}

/// Frames a batch's requests into chunks, numbering them from `next_seq` on.
struct Framer<I: Iterator> {
    reqs: std::iter::Peekable<I>,
    family: u16,
    next_seq: u32,
    window: usize,
}

impl<I> Framer<I>
where
    I: Iterator,
    I::Item: Borrow<Request>,
{
    /// The next chunk: as many requests as the window and the datagram size allow, the last
    /// one asking for the ACK that closes the chunk; `None` when none are left. `buf` is a
    /// sent chunk's, to be written over.
    fn frame(&mut self, mut buf: Vec<u8>) -> Option<Chunk> {
        buf.clear();
        buf.reserve(MAX_CHUNK_BYTES + 1024);
        let first_seq = self.next_seq;
        let mut ops = Vec::new();
        let mut last_start = 0;
        while ops.len() < self.window && buf.len() < MAX_CHUNK_BYTES {
            let Some(req) = self.reqs.next() else { break };
            let req = req.borrow();
            let header = RequestHeader {
                nl_type: self.family,
                flags: NlmF::REQUEST.bits(),
                seq: self.next_seq,
                version: IPVS_GENL_VERSION,
            };
            last_start = buf.len();
            frame_request(&mut buf, header, |w| req.emit(w));
            ops.push(req.op());
            self.next_seq = self.next_seq.wrapping_add(1);
        }
        if ops.is_empty() {
            return None;
        }
        let flags_at = last_start + FLAGS_OFFSET;
        let flags = u16::from_ne_bytes([buf[flags_at], buf[flags_at + 1]]) | NlmF::ACK.bits();
        buf[flags_at..flags_at + 2].copy_from_slice(&flags.to_ne_bytes());
        Some(Chunk {
            buf,
            ops,
            first_seq,
            last_seq: self.next_seq.wrapping_sub(1),
        })
    }
}
