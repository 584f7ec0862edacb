//! Observation of a scenario, by event rather than by polling a daemon:
//!
//! * who holds a VIP: an `ip -o monitor address` per director namespace, each line stamped
//!   when read, so that a takeover is timed to the address appearing and an overlap of two
//!   holders is measured, however short, rather than sampled;
//! * what goes over the link: a packet socket on the switch's bridge (promiscuous, so every
//!   forwarded frame passes it) records VRRP adverts (both versions, both families) and
//!   announcements (gratuitous ARP, unsolicited neighbour advertisements).
//!
//! The waits poll these in-memory records every 10 ms, each against a deadline.

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::socket::{
    recvfrom, setsockopt, socket, sockopt, AddressFamily, LinkAddr, SockFlag, SockProtocol,
    SockType,
};
use nix::sys::time::TimeVal;

use crate::net::{self, Net};

pub const POLL: Duration = Duration::from_millis(10);

/// An address appearing on or leaving a director.
#[derive(Clone, Debug)]
pub struct AddrEvent {
    pub at: Instant,
    pub director: usize,
    pub added: bool,
    pub addr: IpAddr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum What {
    Advert {
        version: u8,
        vrid: u8,
        priority: u8,
    },
    /// Gratuitous ARP or unsolicited neighbour advertisement for `ip`.
    Announce {
        ip: IpAddr,
    },
}

/// A frame seen on the bridge.
#[derive(Clone, Debug)]
pub struct Packet {
    pub at: Instant,
    /// The director whose MAC sent it, if any.
    pub from: Option<usize>,
    pub what: What,
}

pub struct Watch {
    events: Arc<Mutex<Vec<AddrEvent>>>,
    packets: Arc<Mutex<Vec<Packet>>>,
    stop: Arc<AtomicBool>,
    monitors: Vec<Child>,
    threads: Vec<JoinHandle<()>>,
    namespaces: Vec<String>,
}

impl Watch {
    /// Starts watching `net`; returns once every watcher is known to be listening.
    pub fn new(net: &Net) -> Watch {
        let mut watch = Watch {
            events: Arc::default(),
            packets: Arc::default(),
            stop: Arc::default(),
            monitors: Vec::new(),
            threads: Vec::new(),
            namespaces: net.directors.clone(),
        };
        for (i, ns) in net.directors.iter().enumerate() {
            let mut child = Command::new("ip")
                .args(["-n", ns, "-o", "monitor", "address"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("run ip monitor");
            let out = child.stdout.take().unwrap();
            let events = watch.events.clone();
            watch.threads.push(std::thread::spawn(move || {
                // Ends when the monitor is killed (end of file).
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if let Some((added, addr)) = parse_monitor(&line) {
                        let at = Instant::now();
                        let event = AddrEvent {
                            at,
                            director: i,
                            added,
                            addr,
                        };
                        events.lock().unwrap().push(event);
                    }
                }
            }));
            watch.monitors.push(child);
        }
        // A monitor subscribes some time after it starts: an address added and seen proves
        // it listens (a marker on lo, never a VIP); added again until seen, since one
        // added before the subscription is never reported.
        let marker: IpAddr = "192.0.2.254".parse().unwrap();
        for (i, ns) in net.directors.iter().enumerate() {
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                net::ip(
                    &["-n", ns, "addr", "add", "192.0.2.254/32", "dev", "lo"],
                    "",
                );
                let tried = Instant::now();
                while tried.elapsed() < Duration::from_millis(200)
                    && !watch
                        .events()
                        .iter()
                        .any(|e| e.director == i && e.addr == marker)
                {
                    std::thread::sleep(POLL);
                }
                net::ip(
                    &["-n", ns, "addr", "del", "192.0.2.254/32", "dev", "lo"],
                    "",
                );
                if watch
                    .events()
                    .iter()
                    .any(|e| e.director == i && e.addr == marker)
                {
                    break;
                }
                assert!(Instant::now() < deadline, "{ns}: ip monitor saw nothing");
            }
        }
        let macs: Vec<[u8; 6]> = net.directors.iter().map(|ns| mac(ns)).collect();
        let (ready, listening) = mpsc::channel();
        let (switch, packets, stop) = (
            net.switch.clone(),
            watch.packets.clone(),
            watch.stop.clone(),
        );
        watch.threads.push(std::thread::spawn(move || {
            net::enter(&switch);
            listen(&macs, &packets, &stop, ready);
        }));
        listening
            .recv_timeout(Duration::from_secs(5))
            .expect("the packet watcher did not start");
        watch
    }

    pub fn events(&self) -> Vec<AddrEvent> {
        self.events.lock().unwrap().clone()
    }

    pub fn packets(&self) -> Vec<Packet> {
        self.packets.lock().unwrap().clone()
    }

    /// The directors holding `vip` now, by the monitors.
    pub fn holders(&self, vip: IpAddr) -> Vec<usize> {
        holders_after(&self.events(), vip, None)
    }

    /// Waits until exactly `expected` hold `vip`; returns when the last change that made it
    /// so happened, or None after `limit`.
    pub fn wait_holders(
        &self,
        vip: IpAddr,
        expected: &[usize],
        limit: Duration,
    ) -> Option<Instant> {
        let deadline = Instant::now() + limit;
        loop {
            let events = self.events();
            if holders_after(&events, vip, None) == expected {
                let last = events.iter().rev().find(|e| e.addr == vip);
                return Some(last.map_or_else(Instant::now, |e| e.at));
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(POLL);
        }
    }

    /// The longest time since `since` during which two or more directors held `vip`.
    pub fn overlap(&self, vip: IpAddr, since: Instant) -> Duration {
        let events = self.events();
        let mut held: Vec<usize> = holders_after(&events, vip, Some(since));
        let mut both_since = (held.len() > 1).then_some(since);
        let mut longest = Duration::ZERO;
        for e in events.iter().filter(|e| e.addr == vip && e.at > since) {
            apply(&mut held, e);
            match (held.len() > 1, both_since) {
                (true, None) => both_since = Some(e.at),
                (false, Some(from)) => {
                    longest = longest.max(e.at - from);
                    both_since = None;
                }
                _ => {}
            }
        }
        if let Some(from) = both_since {
            longest = longest.max(from.elapsed());
        }
        longest
    }

    /// Whether director `d` held `vip` at any time since `since`.
    pub fn held_since(&self, vip: IpAddr, d: usize, since: Instant) -> bool {
        let events = self.events();
        holders_after(&events, vip, Some(since)).contains(&d)
            || events
                .iter()
                .any(|e| e.at > since && e.addr == vip && e.director == d && e.added)
    }

    /// The holders of `vip` as `ip -j addr show` reads them now: the monitors' picture,
    /// checked.
    pub fn read_holders(&self, vip: IpAddr) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, ns) in self.namespaces.iter().enumerate() {
            let json = net::ip(&["-n", ns, "-j", "addr", "show"], "");
            let links: serde_json::Value = serde_json::from_str(&json).expect("ip -j addr");
            let has = links
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|l| l["addr_info"].as_array().cloned().unwrap_or_default())
                .any(|a| a["local"].as_str().and_then(|s| s.parse().ok()) == Some(vip));
            if has {
                out.push(i);
            }
        }
        out
    }

    /// Waits for the first packet after `since` that `want` accepts.
    pub fn wait_packet(
        &self,
        since: Instant,
        limit: Duration,
        want: impl Fn(&Packet) -> bool,
    ) -> Option<Packet> {
        let deadline = Instant::now() + limit;
        loop {
            let found = self.packets().into_iter().find(|p| p.at > since && want(p));
            if found.is_some() || Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(POLL);
        }
    }

    /// What was seen, for a failure's report.
    pub fn describe(&self, start: Instant) -> String {
        let mut out = String::from("address events:\n");
        for e in self.events() {
            let sign = if e.added { '+' } else { '-' };
            let t = (e.at - start).as_secs_f64();
            out += &format!("  {t:8.3} s  {} {sign}{}\n", e.director, e.addr);
        }
        out += "adverts and announcements on the bridge (last 40):\n";
        let packets = self.packets();
        for p in packets.iter().skip(packets.len().saturating_sub(40)) {
            let t = p.at.saturating_duration_since(start).as_secs_f64();
            out += &format!("  {t:8.3} s  from {:?}: {:?}\n", p.from, p.what);
        }
        out
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for m in &mut self.monitors {
            let _ = m.kill();
            let _ = m.wait();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn apply(held: &mut Vec<usize>, e: &AddrEvent) {
    held.retain(|&d| d != e.director);
    if e.added {
        held.push(e.director);
        held.sort();
    }
}

/// Who held `vip` just after `at` (or now), replaying the events.
fn holders_after(events: &[AddrEvent], vip: IpAddr, at: Option<Instant>) -> Vec<usize> {
    let mut held = Vec::new();
    for e in events
        .iter()
        .filter(|e| e.addr == vip && at.is_none_or(|at| e.at <= at))
    {
        apply(&mut held, e);
    }
    held
}

/// `2: eth0    inet 192.0.2.100/32 scope global eth0\ ...`, with `Deleted ` before it when the
/// address goes.
fn parse_monitor(line: &str) -> Option<(bool, IpAddr)> {
    let mut words = line.split_whitespace();
    let added = !line.starts_with("Deleted");
    words.find(|w| *w == "inet" || *w == "inet6")?;
    let addr = words.next()?.split('/').next()?.parse().ok()?;
    Some((added, addr))
}

/// The MAC of `eth0` in namespace `ns`.
fn mac(ns: &str) -> [u8; 6] {
    let json = net::ip(&["-n", ns, "-j", "link", "show", "eth0"], "");
    let links: serde_json::Value = serde_json::from_str(&json).expect("ip -j link");
    let text = links[0]["address"].as_str().expect("eth0's address");
    let mut mac = [0; 6];
    for (byte, hex) in mac.iter_mut().zip(text.split(':')) {
        *byte = u8::from_str_radix(hex, 16).unwrap();
    }
    mac
}

/// Records the frames that pass up through br0 until `stop`.
fn listen(
    macs: &[[u8; 6]],
    packets: &Mutex<Vec<Packet>>,
    stop: &AtomicBool,
    ready: mpsc::Sender<()>,
) {
    let br0 = nix::net::if_::if_nametoindex("br0").expect("br0") as usize;
    let fd: OwnedFd = socket(
        AddressFamily::Packet,
        SockType::Raw,
        SockFlag::empty(),
        SockProtocol::EthAll,
    )
    .expect("packet socket");
    // Wakes up to look at `stop`.
    setsockopt(&fd, sockopt::ReceiveTimeout, &TimeVal::new(0, 50_000)).unwrap();
    ready.send(()).unwrap();
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, Some(addr))) = recvfrom::<LinkAddr>(fd.as_raw_fd(), &mut buf) else {
            continue;
        };
        // The same frame is also seen as it enters by a port: only br0's copy counts.
        if addr.ifindex() != br0 {
            continue;
        }
        let frame = &buf[..n];
        if let Some(what) = parse_frame(frame) {
            let src: [u8; 6] = frame[6..12].try_into().unwrap();
            let from = macs.iter().position(|m| *m == src);
            let at = Instant::now();
            packets.lock().unwrap().push(Packet { at, from, what });
        }
    }
}

/// An advert (IP protocol 112) or an announcement in an Ethernet frame.
fn parse_frame(frame: &[u8]) -> Option<What> {
    let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    let p = frame.get(14..)?;
    let advert = |v: &[u8]| {
        Some(What::Advert {
            version: v.first()? >> 4,
            vrid: *v.get(1)?,
            priority: *v.get(2)?,
        })
    };
    match ethertype {
        0x0800 => {
            let header = usize::from(p.first()? & 0x0f) * 4;
            (*p.get(9)? == 112).then(|| advert(p.get(header..)?))?
        }
        0x86dd => {
            let payload = p.get(40..)?;
            match *p.get(6)? {
                112 => advert(payload),
                // ICMPv6 neighbour advertisement: its target.
                58 if *payload.first()? == 136 => {
                    let target: [u8; 16] = payload.get(8..24)?.try_into().ok()?;
                    Some(What::Announce {
                        ip: Ipv6Addr::from(target).into(),
                    })
                }
                _ => None,
            }
        }
        0x0806 => {
            // Gratuitous: the sender's address is the one asked (or answered) for.
            let sender: [u8; 4] = p.get(14..18)?.try_into().ok()?;
            let target: [u8; 4] = p.get(24..28)?.try_into().ok()?;
            (sender == target).then(|| What::Announce {
                ip: Ipv4Addr::from(sender).into(),
            })
        }
        _ => None,
    }
}
