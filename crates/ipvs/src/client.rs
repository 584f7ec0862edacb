//! The client: one generic-netlink socket, the IPVS family resolved once, and the request /
//! reply loop every operation goes through.

use std::os::fd::{AsRawFd, BorrowedFd};

use neli::consts::genl::{CtrlAttr, CtrlCmd};
use neli::consts::nl::{GenlId, NlmF};
use neli::consts::socket::{Msg, NlFamily};
use neli::socket::NlSocket;
use neli::utils::Groups;
use nix::sys::socket::{getsockopt, setsockopt, sockopt};

use crate::attr::{emit_attrs, service_key_attrs, CmdAttr};
use crate::error::{Error, Op, Result};
use crate::model::{Daemon, DaemonState, Destination, Info, Service, ServiceKey, Timeouts};
use crate::reply;
use crate::request::{cmd, Request};
use crate::wire::{
    frame_request, u16_of, AttrWriter, Attrs, DecodeError, Messages, RequestHeader, GENL_HDRLEN,
    NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_DUMP_INTR,
};

/// `IPVS_GENL_VERSION`.
pub(crate) const IPVS_GENL_VERSION: u8 = 1;
/// Large enough for any single datagram the kernel sends (dump skbs are capped at 32 KiB).
const RECV_BUF: usize = 64 * 1024;
/// What the client asks for as its receive buffer; the kernel may grant less.
const WANTED_RCVBUF: usize = 8 << 20;
/// A dump datagram this large may have ended because it was full (the kernel fills them to
/// at least 16 KiB less one entry).
const FULL_DATAGRAM: usize = 8 * 1024;
/// Receive sizes of the sockets that verify a multi-pass dump: each gives other pass
/// boundaries.
/// (The first run's datagrams are 32 KiB, so the first verification uses another size.)
const VERIFY_RECV_LENS: [usize; 3] = [16 * 1024, 4096, 32 * 1024];
/// How often an interrupted or inconsistent dump is retried before giving up.
const DUMP_ATTEMPTS: usize = 16;

/// What a request's replies came to.
pub(crate) struct Replies<T> {
    pub items: Vec<T>,
    /// The replies may have come from more than one pass of the kernel's dump callback: data
    /// arrived in more than one datagram, or in one large enough that the pass may have
    /// stopped because the datagram was full.
    pub multipart: bool,
}

/// A connection to the kernel's IPVS. Everything goes through one socket.
pub struct Client {
    pub(crate) sock: NlSocket,
    pub(crate) family: u16,
    pub(crate) seq: u32,
    pub(crate) rbuf: Vec<u8>,
    /// How much of `rbuf` a receive offers. The kernel sizes dump datagrams after the largest
    /// receive a socket has made, so this also sets how many entries one dump pass holds.
    recv_len: usize,
    /// The largest number of requests a batch keeps in flight: bounded by what the receive
    /// buffer can hold if every one of them fails (an error echoes its request).
    pub(crate) window: usize,
}

impl Client {
    /// Opens the socket and resolves the `IPVS` family. [`Error::NoFamily`] means the kernel has
    /// no IPVS (or the module is not loaded).
    pub fn connect() -> Result<Client> {
        let io = |source| Error::Io {
            op: Op::Connect,
            source,
        };
        let sock = NlSocket::connect(NlFamily::Generic, None, Groups::empty()).map_err(io)?;
        sock.block().map_err(io)?;
        grow_receive_buffer(&sock);
        let rcvbuf = receive_buffer(&sock);
        let mut client = Client {
            sock,
            family: 0,
            seq: initial_seq(),
            rbuf: vec![0; RECV_BUF],
            recv_len: RECV_BUF,
            window: window_for(rcvbuf).max(8),
        };
        client.family = client.resolve_family()?;
        Ok(client)
    }

    /// Connects as ipvsadm does, and asks the kernel about itself: when that fails (the
    /// module is not loaded, say), runs `/sbin/modprobe -- ip_vs` once and tries again. The
    /// error is the first attempt's when modprobe fails.
    pub fn open() -> Result<(Client, Info)> {
        fn attempt() -> Result<(Client, Info)> {
            let mut client = Client::connect()?;
            let info = client.info()?;
            Ok((client, info))
        }
        attempt().or_else(|first| {
            let loaded = std::process::Command::new("/sbin/modprobe")
                .args(["--", "ip_vs"])
                .status()
                .is_ok_and(|s| s.success());
            if loaded {
                attempt()
            } else {
                Err(first)
            }
        })
    }

    /// The numeric id the kernel gave the IPVS family.
    pub fn family_id(&self) -> u16 {
        self.family
    }

    fn resolve_family(&mut self) -> Result<u16> {
        let mut w = AttrWriter::default();
        w.put_string(CtrlAttr::FamilyName.into(), "IPVS");
        let op = Op::ResolveFamily;
        let ids = self
            .roundtrip(
                GenlId::Ctrl.into(),
                CtrlCmd::Getfamily.into(),
                w.buf,
                false,
                op,
                |_, attrs| {
                    let id: u16 = CtrlAttr::FamilyId.into();
                    for a in Attrs::new(attrs) {
                        let a = a?;
                        if a.kind == id {
                            return u16_of(a);
                        }
                    }
                    Err(DecodeError::new("family reply without an id"))
                },
            )
            .map(|r| r.items)
            .map_err(|e| match e.errno() {
                Some(libc::ENOENT) => Error::NoFamily,
                _ => e,
            })?;
        ids.into_iter().next().ok_or(Error::Decode {
            op,
            source: DecodeError::new("no reply to the family lookup"),
        })
    }

    pub(crate) fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    pub(crate) fn send(&self, buf: &[u8], op: Op) -> Result<()> {
        self.sock
            .send(buf, Msg::empty())
            .map(|_| ())
            .map_err(|source| Error::Io { op, source })
    }

    /// Receives one datagram into the client's buffer and returns its length.
    pub(crate) fn recv(&mut self, op: Op) -> Result<usize> {
        self.recv_flags(op, Msg::empty())
    }

    /// [`recv`](Client::recv) that fails with `EAGAIN` instead of waiting.
    pub(crate) fn recv_nowait(&mut self, op: Op) -> Result<usize> {
        self.recv_flags(op, Msg::DONTWAIT)
    }

    fn recv_flags(&mut self, op: Op, flags: Msg) -> Result<usize> {
        self.sock
            .recv(&mut self.rbuf[..self.recv_len], flags)
            .map(|(n, _)| n)
            .map_err(|source| Error::Io { op, source })
    }

    /// The window for the receive buffer the socket has now: someone holding the descriptor
    /// may have shrunk it since [`connect`](Client::connect).
    pub(crate) fn live_window(&self) -> usize {
        let granted = receive_buffer(&self.sock);
        self.window.min(window_for(granted))
    }

    /// Sends one request and parses every reply message with `parse` until the request is
    /// finished: its ACK, or `NLMSG_DONE` for a dump. A dump the kernel marks as interrupted
    /// (the table changed under it) is run again from the start.
    pub(crate) fn roundtrip<T>(
        &mut self,
        nl_type: u16,
        command: u8,
        attrs: Vec<u8>,
        dump: bool,
        op: Op,
        mut parse: impl FnMut(u8, &[u8]) -> Result<T, DecodeError>,
    ) -> Result<Replies<T>> {
        let flags = if dump {
            NlmF::REQUEST | NlmF::DUMP
        } else {
            NlmF::REQUEST | NlmF::ACK
        };
        let decode = |source| Error::Decode { op, source };
        for _ in 0..DUMP_ATTEMPTS {
            let seq = self.next_seq();
            let header = RequestHeader {
                nl_type,
                flags: flags.bits(),
                seq,
                version: IPVS_GENL_VERSION,
            };
            let mut buf = Vec::with_capacity(NLMSG_HDRLEN + GENL_HDRLEN + attrs.len());
            frame_request(&mut buf, header, |w| {
                w.buf.extend_from_slice(&attrs);
                command
            });
            self.send(&buf, op)?;
            let mut out = Vec::new();
            let mut interrupted = false;
            let mut data_datagrams = 0;
            let mut largest = 0;
            'recv: loop {
                let n = self.recv(op)?;
                let before = out.len();
                for msg in Messages::new(&self.rbuf[..n]) {
                    let msg = msg.map_err(decode)?;
                    if msg.seq != seq {
                        continue;
                    }
                    interrupted |= msg.flags & NLM_F_DUMP_INTR != 0;
                    match msg.kind {
                        NLMSG_ERROR => match msg.error_code().map_err(decode)? {
                            0 => break 'recv,
                            code => {
                                return Err(Error::Kernel {
                                    op,
                                    errno: code.saturating_neg(),
                                })
                            }
                        },
                        NLMSG_DONE => {
                            // A dump that failed part-way says so in its DONE message.
                            match msg.error_code() {
                                Ok(code) if code < 0 => {
                                    return Err(Error::Kernel {
                                        op,
                                        errno: code.saturating_neg(),
                                    })
                                }
                                _ => break 'recv,
                            }
                        }
                        kind if kind < 16 => {} // NOOP, OVERRUN and other control messages
                        _ => {
                            let (cmd, attrs) = msg.genl().map_err(decode)?;
                            out.push(parse(cmd, attrs).map_err(decode)?);
                        }
                    }
                }
                if out.len() > before {
                    data_datagrams += 1;
                    largest = largest.max(n);
                }
            }
            if !interrupted {
                return Ok(Replies {
                    items: out,
                    multipart: data_datagrams > 1 || largest > FULL_DATAGRAM,
                });
            }
        }
        Err(Error::Decode {
            op,
            source: DecodeError::new(format!(
                "the dump was interrupted {DUMP_ATTEMPTS} times in a row"
            )),
        })
    }

    pub(crate) fn ipvs<T>(
        &mut self,
        command: u8,
        attrs: &[CmdAttr],
        dump: bool,
        op: Op,
        parse: impl FnMut(u8, &[u8]) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>> {
        let family = self.family;
        self.roundtrip(family, command, emit_attrs(attrs), dump, op, parse)
            .map(|r| r.items)
    }

    /// A dump that lists every entry once. IPVS never flags a dump as interrupted, and it
    /// resumes each pass of a dump by position in a table that every network namespace
    /// shares, so a service added or removed anywhere between two passes makes the next pass
    /// repeat or skip entries next to the pass boundary (ipvsadm then lists a service twice,
    /// or not at all). A dump taken in one pass is exact. A longer one is run again on fresh
    /// sockets whose smaller or larger datagrams put the boundaries elsewhere, and the runs
    /// are merged (each entry once, with its latest values) until a second run lists exactly
    /// what the first did, or two runs in a row add nothing. An entry deleted from this table
    /// between runs may therefore still be listed.
    fn stable_dump<T: Send, K: Eq + std::hash::Hash>(
        &mut self,
        command: u8,
        attrs: &[CmdAttr],
        op: Op,
        parse: impl Fn(u8, &[u8]) -> Result<T, DecodeError> + Sync,
        key: impl Fn(&T) -> K,
        likely_long: bool,
    ) -> Result<Vec<T>> {
        let family = self.family;
        let attrs = emit_attrs(attrs);
        let verify = |c: &mut Client| c.roundtrip(family, command, attrs.clone(), true, op, &parse);
        // A dump that is likely to take several passes is verified at the same time, on a
        // second socket in a second thread.
        let (first, early) = if likely_long {
            let recv_len = VERIFY_RECV_LENS[0];
            let (first, second) = std::thread::scope(|scope| {
                let second = scope.spawn(|| {
                    Client::scratch(family, recv_len, op).and_then(|mut c| verify(&mut c))
                });
                (verify(self), second.join())
            });
            let second = second.unwrap_or_else(|_| {
                Err(Error::Io {
                    op,
                    source: std::io::Error::other("a dump thread panicked"),
                })
            });
            (first?, Some(second?))
        } else {
            (verify(self)?, None)
        };
        if !first.multipart {
            return Ok(first.items);
        }
        let first_len = first.items.len();
        let mut merged = Merged::new(&key);
        merged.add(first.items);
        let mut quiet_runs = 0;
        let mut early = early;
        for attempt in 0..DUMP_ATTEMPTS {
            let run = match early.take() {
                Some(run) => run,
                None => Client::scratch(family, VERIFY_RECV_LENS[attempt % 3], op)
                    .and_then(|mut c| verify(&mut c))?,
            };
            let run_len = run.items.len();
            if merged.add(run.items) {
                quiet_runs = 0;
                continue;
            }
            quiet_runs += 1;
            // Two runs with other pass boundaries that list exactly the same entries, once
            // each, agree; otherwise wait for two runs in a row that add nothing.
            let agreed = run_len == merged.items.len() && first_len == run_len;
            if agreed || quiet_runs == 2 {
                return Ok(merged.items);
            }
        }
        Err(Error::Decode {
            op,
            source: DecodeError::new("the table kept changing during the dump"),
        })
    }

    /// A client of the same family on a new socket that receives at most `recv_len` bytes at
    /// a time.
    fn scratch(family: u16, recv_len: usize, op: Op) -> Result<Client> {
        let sock = NlSocket::connect(NlFamily::Generic, None, Groups::empty())
            .map_err(|source| Error::Io { op, source })?;
        Ok(Client {
            sock,
            family,
            seq: initial_seq(),
            rbuf: vec![0; RECV_BUF],
            recv_len,
            window: 8,
        })
    }

    /// The kernel's IPVS version and connection table size.
    pub fn info(&mut self) -> Result<Info> {
        let op = Op::GetInfo;
        let mut infos = self.ipvs(cmd::GET_INFO, &[], false, op, |_, a| reply::info(a))?;
        infos.pop().ok_or_else(|| no_reply(op))
    }

    /// Every virtual service, in the kernel's order.
    pub fn services(&mut self) -> Result<Vec<Service>> {
        self.stable_dump(
            cmd::GET_SERVICE,
            &[],
            Op::GetServices,
            |_, attrs| reply::service(attrs),
            |s| s.key,
            true,
        )
    }

    /// One virtual service; `ESRCH` when there is none.
    pub fn service(&mut self, key: &ServiceKey) -> Result<Service> {
        let op = Op::GetService;
        let req = [CmdAttr::Service(service_key_attrs(key))];
        let mut found = self.ipvs(cmd::GET_SERVICE, &req, false, op, |_, a| reply::service(a))?;
        found.pop().ok_or_else(|| no_reply(op))
    }

    /// The destinations of a service, in the kernel's order (newest first).
    pub fn destinations(&mut self, key: &ServiceKey) -> Result<Vec<Destination>> {
        let family = key.family();
        let req = [CmdAttr::Service(service_key_attrs(key))];
        self.stable_dump(
            cmd::GET_DEST,
            &req,
            Op::GetDests,
            |_, attrs| reply::destination(attrs, family),
            |d| (d.addr, d.port),
            false,
        )
    }

    /// The destinations of many services, in order, fetched over `workers` sockets at once
    /// (this client's and `workers - 1` more, each on a thread of its own; [`fetch_workers`]
    /// gives a good number). Listing a large
    /// table is bound by the kernel's work for each service's dump, which spreads over CPUs.
    pub fn destinations_of(
        &mut self,
        keys: &[ServiceKey],
        workers: usize,
    ) -> Result<Vec<Vec<Destination>>> {
        let workers = workers.clamp(1, 16).min(keys.len().max(1));
        let share = keys.len().div_ceil(workers).max(1);
        let mut parts = keys.chunks(share);
        let own = parts.next().unwrap_or_default();
        let family = self.family;
        std::thread::scope(|scope| {
            let others: Vec<_> = parts
                .map(|part| {
                    scope.spawn(move || -> Result<Vec<Vec<Destination>>> {
                        // The family is known: no need to look it up again.
                        let mut c = Client::scratch(family, RECV_BUF, Op::GetDests)?;
                        part.iter().map(|k| c.destinations(k)).collect()
                    })
                })
                .collect();
            let mut all = own
                .iter()
                .map(|k| self.destinations(k))
                .collect::<Result<Vec<_>>>()?;
            for worker in others {
                let part = worker.join().unwrap_or_else(|_| {
                    Err(Error::Io {
                        op: Op::GetDests,
                        source: std::io::Error::other("a listing thread panicked"),
                    })
                })?;
                all.extend(part);
            }
            Ok(all)
        })
    }

    /// The TCP, TCP FIN and UDP connection timeouts.
    pub fn timeouts(&mut self) -> Result<Timeouts> {
        let op = Op::GetTimeouts;
        let mut all = self.ipvs(cmd::GET_CONFIG, &[], false, op, |_, a| reply::timeouts(a))?;
        all.pop().ok_or_else(|| no_reply(op))
    }

    /// The running sync daemons (master first).
    pub fn daemons(&mut self) -> Result<Vec<Daemon>> {
        self.ipvs(cmd::GET_DAEMON, &[], true, Op::GetDaemons, |_, a| {
            reply::daemon(a)
        })
    }

    /// Sends any IPVS command and returns the raw replies: an escape hatch for commands or
    /// attributes this library does not model. `attrs` are the top-level attributes; `dump`
    /// asks for a dump (`NLM_F_DUMP`) rather than a single reply.
    pub fn raw(&mut self, command: u8, attrs: &[CmdAttr], dump: bool) -> Result<Vec<RawReply>> {
        self.ipvs(command, attrs, dump, Op::Raw, |cmd, attrs| {
            Ok(RawReply {
                cmd,
                attrs: attrs.to_vec(),
            })
        })
    }

    /// Sends one change and waits for the kernel's answer.
    pub fn execute(&mut self, req: &Request) -> Result<()> {
        let (command, attrs) = req.encode();
        let family = self.family;
        self.roundtrip(family, command, attrs, false, req.op(), |_, _| Ok(()))
            .map(drop)
    }

    pub fn add_service(&mut self, svc: &Service) -> Result<()> {
        self.execute(&Request::AddService(svc.clone()))
    }

    pub fn edit_service(&mut self, svc: &Service) -> Result<()> {
        self.execute(&Request::EditService(svc.clone()))
    }

    pub fn delete_service(&mut self, key: &ServiceKey) -> Result<()> {
        self.execute(&Request::DeleteService(*key))
    }

    pub fn add_destination(&mut self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.execute(&Request::AddDest(*key, dest.clone()))
    }

    pub fn edit_destination(&mut self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.execute(&Request::EditDest(*key, dest.clone()))
    }

    pub fn delete_destination(
        &mut self,
        key: &ServiceKey,
        addr: std::net::IpAddr,
        port: u16,
    ) -> Result<()> {
        self.execute(&Request::DeleteDest(*key, addr, port))
    }

    /// Deletes every service.
    pub fn flush(&mut self) -> Result<()> {
        self.execute(&Request::Flush)
    }

    /// Zeroes the counters of one service, or of every service.
    pub fn zero(&mut self, key: Option<&ServiceKey>) -> Result<()> {
        self.execute(&Request::Zero(key.copied()))
    }

    /// Sets the timeouts; a 0 leaves that one unchanged.
    pub fn set_timeouts(&mut self, t: &Timeouts) -> Result<()> {
        self.execute(&Request::SetTimeouts(*t))
    }

    pub fn start_daemon(&mut self, d: &Daemon) -> Result<()> {
        self.execute(&Request::StartDaemon(d.clone()))
    }

    pub fn stop_daemon(&mut self, state: DaemonState, syncid: u32) -> Result<()> {
        self.execute(&Request::StopDaemon(state, syncid))
    }
}

/// How many sockets should fetch the destinations of `services` services at once: one per
/// CPU (up to 4), for tables large enough to be worth the threads.
pub fn fetch_workers(services: usize) -> usize {
    if services < 64 {
        return 1;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// The socket's descriptor, for `poll` or socket options.
impl AsRawFd for Client {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.sock.as_raw_fd()
    }
}

/// Dump runs merged by key, in the order entries were first seen.
struct Merged<'k, T, K, F: Fn(&T) -> K> {
    key: &'k F,
    index: std::collections::HashMap<K, usize>,
    items: Vec<T>,
}

impl<'k, T, K: Eq + std::hash::Hash, F: Fn(&T) -> K> Merged<'k, T, K, F> {
    fn new(key: &'k F) -> Self {
        Merged {
            key,
            index: std::collections::HashMap::new(),
            items: Vec::new(),
        }
    }

    /// Adds a run; true if it had an entry not seen before.
    fn add(&mut self, run: Vec<T>) -> bool {
        let mut found_new = false;
        for item in run {
            match self.index.entry((self.key)(&item)) {
                std::collections::hash_map::Entry::Occupied(e) => self.items[*e.get()] = item,
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(self.items.len());
                    self.items.push(item);
                    found_new = true;
                }
            }
        }
        found_new
    }
}

/// One reply message as the kernel sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawReply {
    pub cmd: u8,
    /// The attribute bytes after the generic-netlink header.
    pub attrs: Vec<u8>,
}

fn no_reply(op: Op) -> Error {
    Error::Decode {
        op,
        source: DecodeError::new("the kernel acknowledged without replying"),
    }
}

/// neli's socket as a borrowed descriptor, which nix's socket options take.
fn borrowed(sock: &NlSocket) -> BorrowedFd<'_> {
    // SAFETY: neli owns the descriptor and keeps it open as long as `sock` lives, which the
    // borrow's lifetime is tied to; neli only offers AsRawFd, not AsFd.
    unsafe { BorrowedFd::borrow_raw(sock.as_raw_fd()) }
}

/// Asks for a large receive buffer so that batches can keep many requests in flight: the
/// privileged `SO_RCVBUFFORCE` first (it may exceed `rmem_max`), the ordinary option if that is
/// refused.
fn grow_receive_buffer(sock: &NlSocket) {
    let fd = borrowed(sock);
    if setsockopt(&fd, sockopt::RcvBufForce, &WANTED_RCVBUF).is_err() {
        // Refused as well: batches then keep fewer requests in flight (see `window_for`).
        setsockopt(&fd, sockopt::RcvBuf, &WANTED_RCVBUF).unwrap_or(());
    }
}

/// The receive buffer the kernel granted the socket, in bytes of its accounting.
fn receive_buffer(sock: &NlSocket) -> usize {
    getsockopt(&borrowed(sock), sockopt::RcvBuf).unwrap_or(0)
}

/// How many requests may be in flight with `rcvbuf` bytes of receive buffer if every one of
/// them fails: an error echoes its request, and the kernel charges each queued answer well
/// under 2 KiB. The kernel queues an answer as long as the buffer is not yet over its size,
/// so one request in flight is always safe.
fn window_for(rcvbuf: usize) -> usize {
    (rcvbuf / 2048).clamp(1, 4096)
}

/// A sequence start that differs between processes, so that replies meant for an earlier
/// socket with the same port id are never mistaken for ours.
fn initial_seq() -> u32 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(0);
    now ^ std::process::id().rotate_left(16)
}
